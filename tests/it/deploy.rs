//! Deployment files: the CloudFormation templates pass cfn-lint, grant exactly what the
//! shipped IAM policies grant (which `policies.rs` holds to the code), and the Dockerfile
//! builds with the toolchain and command of a local release build.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::policies::{policy_actions, statement_actions};
use crate::support::{file_stems, python_command, repo_root, venv};

/// The templates in `deploy/cloudformation/`.
fn templates() -> Vec<std::path::PathBuf> {
    let dir = repo_root().join("deploy/cloudformation");
    file_stems(&dir, "json")
        .into_iter()
        .map(|name| dir.join(format!("{name}.json")))
        .collect()
}

fn load(name: &str) -> Value {
    let path = repo_root().join("deploy/cloudformation").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The actions that the permission policies (not the trust policy) of one resource grant.
/// A statement inside `Fn::If` counts with its "true" branch.
fn granted_by(template: &Value, resource: &str) -> BTreeSet<String> {
    fn statements(document: &Value, out: &mut BTreeSet<String>) {
        for statement in document["Statement"].as_array().unwrap() {
            let statement = match statement.get("Fn::If") {
                Some(branches) => &branches[1],
                None => statement,
            };
            assert_eq!(statement["Effect"], "Allow", "{statement}");
            out.extend(statement_actions(statement));
        }
    }
    let properties = &template["Resources"][resource]["Properties"];
    assert!(properties.is_object(), "no resource {resource}");
    let mut actions = BTreeSet::new();
    if let Some(document) = properties.get("PolicyDocument") {
        statements(document, &mut actions);
    }
    for policy in properties["Policies"].as_array().into_iter().flatten() {
        statements(&policy["PolicyDocument"], &mut actions);
    }
    actions
}

#[test]
fn every_template_passes_cfn_lint() {
    let files = templates();
    assert!(files.len() >= 4, "templates: {files:?}");
    let output = python_command()
        .arg(venv().join("bin/cfn-lint"))
        .args(&files)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cfn-lint:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_templates_grant_what_the_policies_grant() {
    let member = load("member-role.json");
    assert_eq!(
        granted_by(&member, "MemberRole"),
        policy_actions("member-read-policy.json")
    );
    assert_eq!(
        granted_by(&member, "OwnerTaggingPolicy"),
        policy_actions("member-tag-policy.json")
    );
    assert_eq!(
        member["Resources"]["OwnerTaggingPolicy"]["Condition"], "OwnerTagging",
        "tagging is optional"
    );
    let trust = &member["Resources"]["MemberRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"];
    assert_eq!(trust.as_array().unwrap().len(), 1);
    assert_eq!(
        trust[0]["Principal"]["AWS"]["Ref"], "ScannerRoleArn",
        "the member role trusts only the scanner's role"
    );

    // The scanner's task role: the scanner policy, plus KMS for an SSE-KMS lake (which S3
    // calls on the role's behalf; no orglake code calls KMS).
    let scanner = load("scanner.json");
    let task: BTreeSet<String> = granted_by(&scanner, "TaskRole")
        .into_iter()
        .filter(|a| !a.starts_with("kms:"))
        .collect();
    assert_eq!(task, policy_actions("scanner-policy.json"));
}

#[test]
fn the_dockerfile_builds_like_a_local_release_build() {
    let dockerfile = std::fs::read_to_string(repo_root().join("Dockerfile")).unwrap();
    let manifest = std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
    let rust_version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .unwrap()
        .trim_matches('"');
    assert!(
        dockerfile.contains(&format!("FROM rust:{rust_version}-")),
        "the builder uses Rust {rust_version}"
    );
    let builds: Vec<&str> = dockerfile
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && l.contains("cargo build"))
        .collect();
    assert!(!builds.is_empty());
    for build in builds {
        assert!(
            build.contains("cargo build --release --locked --bin orglake"),
            "{build}"
        );
    }
    // Every folder the code includes at compile time is copied into the builder.
    for folder in ["pipeline", "schemas", "queries", "examples"] {
        assert!(
            dockerfile.contains(&format!("COPY {folder} {folder}")),
            "{folder} not copied"
        );
    }
}
