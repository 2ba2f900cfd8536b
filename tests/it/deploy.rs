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
    // The build script (it embeds schemas/ and queries/) and every folder the code includes
    // at compile time are copied into the builder.
    assert!(
        dockerfile.contains("COPY Cargo.toml Cargo.lock build.rs ./"),
        "build.rs copied with the manifest"
    );
    for folder in ["pipeline", "schemas", "queries", "examples"] {
        assert!(
            dockerfile.contains(&format!("COPY {folder} {folder}")),
            "{folder} not copied"
        );
    }
}

/// The `Environment` entries of the orglake container in a template, `Fn::If` unwrapped.
fn orglake_environment(template: &Value) -> Vec<Value> {
    let resources = template["Resources"].as_object().unwrap();
    let environment = resources
        .values()
        .find_map(|r| match r["Type"].as_str() {
            Some("AWS::ECS::TaskDefinition") => Some(&r["Properties"]["ContainerDefinitions"][0]["Environment"]),
            Some("AWS::Batch::JobDefinition") => Some(&r["Properties"]["ContainerProperties"]["Environment"]),
            _ => None,
        })
        .expect("a task or job definition that runs orglake");
    environment
        .as_array()
        .unwrap()
        .iter()
        .map(|e| match e.get("Fn::If") {
            Some(branches) => branches[1].clone(),
            None => e.clone(),
        })
        .collect()
}

/// The cells of the README settings table's row for the environment variable `env`.
fn setting_row(env: &str) -> Option<Vec<String>> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    readme.lines().find_map(|line| {
        let cells: Vec<String> = line.split('|').map(|c| c.trim().to_string()).collect();
        let named = cells.len() > 4 && cells[2].split([',', ' ']).any(|name| name == format!("`{env}`"));
        named.then(|| cells[1..].to_vec())
    })
}

/// Parameters a value refers to with `Ref` or `${Name}` in `Fn::Sub`.
fn referenced_parameters(value: &Value, template: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(name)) = map.get("Ref") {
                if template["Parameters"].get(name).is_some() {
                    out.insert(name.clone());
                }
            }
            if let Some(Value::String(text)) = map.get("Fn::Sub") {
                for part in text.split("${").skip(1) {
                    let name = part.split('}').next().unwrap();
                    if template["Parameters"].get(name).is_some() {
                        out.insert(name.to_string());
                    }
                }
            }
            map.values().for_each(|v| referenced_parameters(v, template, out));
        }
        Value::Array(items) => items.iter().for_each(|v| referenced_parameters(v, template, out)),
        _ => {}
    }
}

#[test]
fn the_templates_that_run_orglake_pass_the_same_settings_from_the_same_parameters() {
    let scanner = load("scanner.json");
    let shards = load("shards-batch.json");
    let names = |t: &Value| -> BTreeSet<String> {
        orglake_environment(t)
            .iter()
            .map(|e| e["Name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&scanner), names(&shards), "both pass the same ORGLAKE_* settings");
    assert!(
        names(&shards).contains("ORGLAKE_EXTERNAL_ID"),
        "a member role with an external id works sharded"
    );

    for name in names(&scanner) {
        assert!(
            setting_row(&name).is_some(),
            "{name} is a setting in the README's table"
        );
    }

    // The warehouse is given as bucket + prefix to one and as a URL to the other; every other
    // setting comes from a parameter defined the same way in both.
    let where_the_lake_is = ["LakeBucket", "LakePrefix", "Warehouse"];
    for entry in orglake_environment(&scanner) {
        let name = entry["Name"].as_str().unwrap();
        let other = orglake_environment(&shards)
            .into_iter()
            .find(|e| e["Name"] == entry["Name"])
            .unwrap();
        let (mut mine, mut theirs) = (BTreeSet::new(), BTreeSet::new());
        referenced_parameters(&entry["Value"], &scanner, &mut mine);
        referenced_parameters(&other["Value"], &shards, &mut theirs);
        mine.retain(|p| !where_the_lake_is.contains(&p.as_str()));
        theirs.retain(|p| !where_the_lake_is.contains(&p.as_str()));
        assert_eq!(mine, theirs, "{name} comes from the same parameters");
        for parameter in &mine {
            assert_eq!(
                scanner["Parameters"][parameter], shards["Parameters"][parameter],
                "parameter {parameter} ({name}) is defined alike"
            );
        }
        if name != "ORGLAKE_WAREHOUSE" {
            assert_eq!(entry["Value"], other["Value"], "{name}");
        }
    }
}

/// What AWS Batch does with an attempt that ended with `exit_code` (or never ran, with
/// `status_reason`): the first `EvaluateOnExit` entry whose patterns all match decides.
fn batch_decision(strategy: &Value, exit_code: Option<&str>, status_reason: &str, reason: &str) -> String {
    fn glob(pattern: &str, text: &str) -> bool {
        match pattern.strip_suffix('*') {
            Some(prefix) => text.starts_with(prefix),
            None => pattern == text,
        }
    }
    for entry in strategy["EvaluateOnExit"].as_array().unwrap() {
        let code_matches = entry
            .get("OnExitCode")
            .is_none_or(|p| exit_code.is_some_and(|c| glob(p.as_str().unwrap(), c)));
        let status_matches = entry
            .get("OnStatusReason")
            .is_none_or(|p| glob(p.as_str().unwrap(), status_reason));
        let reason_matches = entry.get("OnReason").is_none_or(|p| glob(p.as_str().unwrap(), reason));
        if code_matches && status_matches && reason_matches {
            return entry["Action"].as_str().unwrap().to_string();
        }
    }
    "RETRY".to_string() // Batch's default while attempts remain
}

#[test]
fn a_shard_is_retried_after_an_infrastructure_failure_or_exit_1_but_not_after_a_partial_run() {
    let shards = load("shards-batch.json");
    let strategy = &shards["Resources"]["JobDefinition"]["Properties"]["RetryStrategy"];
    assert_eq!(strategy["Attempts"], 2, "{strategy}");
    let ran = |code: &str| batch_decision(strategy, Some(code), "Essential container in task exited", "");
    assert_eq!(
        ran("3"),
        "EXIT",
        "a partial shard (some accounts failed) is not rescanned"
    );
    assert_eq!(ran("1"), "RETRY", "a shard that failed before its commit is retried");
    assert_eq!(ran("2"), "EXIT", "a usage error is not retried");
    let never_ran = |status: &str, reason: &str| batch_decision(strategy, None, status, reason);
    assert_eq!(
        never_ran("ResourceInitializationError: unable to pull secrets", ""),
        "RETRY"
    );
    assert_eq!(
        never_ran("Task failed to start", "CannotPullContainerError: timeout"),
        "RETRY"
    );
}

#[test]
fn owner_tagging_may_write_only_the_owner_key_and_listing_only_the_lake_prefix() {
    let default_key = "owner";
    let tagging = serde_json::from_str::<Value>(
        &std::fs::read_to_string(repo_root().join("deploy/iam/member-tag-policy.json")).unwrap(),
    )
    .unwrap();
    let condition = &tagging["Statement"][0]["Condition"];
    assert_eq!(
        condition["ForAllValues:StringEqualsIgnoreCase"]["aws:TagKeys"],
        serde_json::json!([default_key]),
        "{condition}"
    );
    assert_eq!(
        condition["Null"]["aws:TagKeys"], "false",
        "a request must name its keys"
    );
    let member = load("member-role.json");
    let statement = &member["Resources"]["OwnerTaggingPolicy"]["Properties"]["PolicyDocument"]["Statement"][0];
    assert_eq!(
        statement["Condition"]["ForAllValues:StringEqualsIgnoreCase"]["aws:TagKeys"],
        serde_json::json!([{"Ref": "OwnerTagKey"}])
    );
    assert_eq!(statement["Condition"]["Null"], condition["Null"]);
    assert_eq!(member["Parameters"]["OwnerTagKey"]["Default"], default_key);
    assert_eq!(
        setting_row("ORGLAKE_TAG_KEY").unwrap()[3],
        format!("`{default_key}`"),
        "the templates' default key is orglake's"
    );

    let policy = serde_json::from_str::<Value>(
        &std::fs::read_to_string(repo_root().join("deploy/iam/scanner-policy.json")).unwrap(),
    )
    .unwrap();
    let list = |statements: &Value| -> Value {
        statements
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == "ListLake")
            .expect("a ListLake statement")["Condition"]
            .clone()
    };
    assert_eq!(
        list(&policy["Statement"]),
        serde_json::json!({"StringLike": {"s3:prefix": ["LAKE_PREFIX/*"]}})
    );
    let scanner = load("scanner.json");
    let task = &scanner["Resources"]["TaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"];
    assert_eq!(
        list(task),
        serde_json::json!({"StringLike": {"s3:prefix": [{"Fn::Sub": "${LakePrefix}/*"}]}})
    );
}

#[test]
fn the_default_task_memory_covers_the_measured_peak_of_a_large_commit() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let row = readme
        .lines()
        .find(|l| l.starts_with("| orglake day 2 (merges day 1): whole process |"))
        .expect("the README's commit benchmark has a day-2 row");
    let peak: u64 = row
        .split('|')
        .map(str::trim)
        .find_map(|cell| cell.strip_suffix(" MiB"))
        .and_then(|n| n.replace(',', "").parse().ok())
        .unwrap_or_else(|| panic!("a peak in MiB in {row}"));
    for (template, parameter) in [("scanner.json", "Memory"), ("shards-batch.json", "MemoryMiB")] {
        let default: u64 = load(template)["Parameters"][parameter]["Default"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            default * 4 >= peak * 5,
            "{template} {parameter} = {default} MiB leaves less than 25% over the measured {peak} MiB"
        );
    }
}

#[test]
fn a_failed_run_or_shard_alerts_the_topic() {
    for (template, source, detail_type) in [
        ("scanner.json", "aws.ecs", "ECS Task State Change"),
        ("shards-batch.json", "aws.batch", "Batch Job State Change"),
    ] {
        let t = load(template);
        let rules: Vec<&Value> = t["Resources"]
            .as_object()
            .unwrap()
            .values()
            .filter(|r| r["Type"] == "AWS::Events::Rule")
            .collect();
        assert_eq!(rules.len(), 1, "{template}: one alert rule");
        let rule = rules[0];
        assert_eq!(rule["Condition"], "HasTopic", "{template}: only with a topic");
        let pattern = &rule["Properties"]["EventPattern"];
        assert_eq!(pattern["source"], serde_json::json!([source]));
        assert_eq!(pattern["detail-type"], serde_json::json!([detail_type]));
        let target = &rule["Properties"]["Targets"][0];
        assert_eq!(
            target["Arn"],
            serde_json::json!({"Ref": "SnsTopicArn"}),
            "{template}: the same topic"
        );
        let detail = &pattern["detail"];
        if source == "aws.ecs" {
            assert_eq!(
                detail["clusterArn"],
                serde_json::json!([{"Fn::GetAtt": ["Cluster", "Arn"]}])
            );
            assert_eq!(detail["lastStatus"], serde_json::json!(["STOPPED"]));
            let either = detail["$or"].as_array().unwrap();
            assert!(
                either.contains(
                    &serde_json::json!({"containers": {"name": ["orglake"], "exitCode": [{"anything-but": 0}]}})
                ),
                "any non-zero exit: {detail}"
            );
            assert!(
                either.contains(&serde_json::json!({"stopCode": ["TaskFailedToStart"]})),
                "a task that never started: {detail}"
            );
        } else {
            assert_eq!(detail["status"], serde_json::json!(["FAILED"]));
            assert_eq!(detail["jobQueue"], serde_json::json!([{"Ref": "JobQueue"}]));
        }
    }
}
