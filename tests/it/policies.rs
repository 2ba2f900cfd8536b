//! The shipped IAM policies grant exactly the AWS actions the code calls: the scanner's
//! (Organizations, AssumeRole, the lake bucket) and the member role's (read-only inventory).
//!
//! Every AWS call in `pipeline/` names its action when it maps errors
//! (`aws.error("service:Action", ..)`); this test collects those names and compares them
//! with the policies in `deploy/iam/`.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::repo_root;

/// Actions that need no IAM permission.
const NEEDS_NO_PERMISSION: &[&str] = &["sts:GetCallerIdentity"];

fn actions_called_by_code() -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut stack = vec![repo_root().join("pipeline")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for piece in text.split('"').skip(1).step_by(2) {
                let Some((service, action)) = piece.split_once(':') else {
                    continue;
                };
                let known = ["organizations", "sts", "ec2", "iam", "glue", "sns"].contains(&service);
                if known
                    && !action.is_empty()
                    && action.chars().all(|c| c.is_ascii_alphanumeric())
                    && action.starts_with(|c: char| c.is_ascii_uppercase())
                {
                    found.insert(piece.to_string());
                }
            }
        }
    }
    found
}

/// The actions one policy statement grants.
pub fn statement_actions(statement: &Value) -> Vec<String> {
    match &statement["Action"] {
        Value::String(a) => vec![a.clone()],
        Value::Array(list) => list.iter().map(|a| a.as_str().unwrap().to_string()).collect(),
        other => panic!("unexpected Action {other}"),
    }
}

/// The actions a policy file of `deploy/iam/` grants.
pub fn policy_actions(file: &str) -> BTreeSet<String> {
    let policy: Value =
        serde_json::from_str(&std::fs::read_to_string(repo_root().join("deploy/iam").join(file)).unwrap()).unwrap();
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(statement_actions)
        .collect()
}

#[test]
fn the_policies_grant_exactly_the_actions_the_code_calls() {
    let called: BTreeSet<String> = actions_called_by_code()
        .into_iter()
        .filter(|a| !NEEDS_NO_PERMISSION.contains(&a.as_str()))
        .collect();
    assert!(
        called.contains("organizations:ListAccountsForParent"),
        "the collector finds calls: {called:?}"
    );
    let scanner = policy_actions("scanner-policy.json");
    let member = policy_actions("member-read-policy.json");
    let tagging = policy_actions("member-tag-policy.json");
    assert_eq!(
        tagging,
        BTreeSet::from(["ec2:CreateTags".to_string()]),
        "the optional tagging policy grants only CreateTags"
    );
    assert!(!member.contains("ec2:CreateTags"), "the read-only policy never writes");
    let both: Vec<_> = scanner.intersection(&member).collect();
    assert!(
        both.is_empty(),
        "granted to both the scanner and the member role: {both:?}"
    );
    let granted: BTreeSet<String> = scanner
        .iter()
        .chain(&member)
        .chain(&tagging)
        .filter(|a| !a.starts_with("s3:"))
        .cloned()
        .collect();
    let missing: Vec<_> = called.difference(&granted).collect();
    let unused: Vec<_> = granted.difference(&called).collect();
    assert!(
        missing.is_empty() && unused.is_empty(),
        "policy misses {missing:?}; grants unused {unused:?}"
    );
}

/// The actions a source file reports its calls under (`….error("service:Action", …)`).
fn actions_reported_in(file: &std::path::Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(file).unwrap();
    text.split("error(\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|action| action.contains(':'))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_member_policy_grants_what_the_registered_sources_declare_and_each_declares_what_it_calls() {
    let config = orglake::config::ConfigLayers::default().resolve().unwrap();
    let sources = orglake::sources::registry(&config, chrono::Utc::now());
    assert!(sources.len() >= 3, "the registry lists the sources");
    let mut declared = BTreeSet::new();
    for source in &sources {
        let actions: BTreeSet<String> = source.actions().iter().map(|a| a.to_string()).collect();
        let sources = repo_root().join("pipeline/sources");
        let module = sources.join(format!("{}.rs", source.name()));
        let mut called = actions_reported_in(&module);
        // A regional source also calls what the per-region multiplexer calls.
        if std::fs::read_to_string(&module).unwrap().contains("each_region(") {
            called.extend(actions_reported_in(&sources.join("regions.rs")));
        }
        assert_eq!(
            actions,
            called,
            "source {} declares exactly the calls of {}",
            source.name(),
            module.display()
        );
        for table in source.staged_tables() {
            assert!(
                orglake::schema::table(table).is_ok(),
                "{table} of {} has a schema",
                source.name()
            );
        }
        declared.extend(actions);
    }
    assert_eq!(
        declared,
        policy_actions("member-read-policy.json"),
        "the member read policy grants exactly what the sources declare"
    );
    let generated = crate::support::orglake().arg("member-policy").output().unwrap();
    let file = std::fs::read_to_string(repo_root().join("deploy/iam/member-read-policy.json")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&generated.stdout),
        file,
        "deploy/iam/member-read-policy.json is generated: run scripts/regenerate.sh"
    );
}
