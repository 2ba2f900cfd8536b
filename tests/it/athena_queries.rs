//! The example queries of `queries/athena/`, run with `orglake query` over a lake of a
//! seeded org (with a failure), each giving the answer it promises.

use serde_json::{Value, json};

use crate::support::{FaultProxy, Moto, query_with, repo_root, run_orglake};

/// Runs `orglake query --file queries/athena/<name>.sql` over `lake`.
fn example(lake: &std::path::Path, name: &str) -> Vec<Value> {
    let file = repo_root().join("queries/athena").join(format!("{name}.sql"));
    query_with(
        &["--warehouse", lake.to_str().unwrap(), "--file", file.to_str().unwrap()],
        "",
    )
}

#[test]
fn every_example_query_runs_and_answers_its_question() {
    let moto = Moto::start();
    let org = moto.seed(&json!({
        "ous": {"Org": {}},
        "accounts": [
            {"name": "app", "ou": "Org", "tags": {"owner": "app@example.com"},
             "instances": [
                {"region": "us-east-1", "state": "running", "tags": {"owner": "zed@example.com"}},
                {"region": "us-east-1", "state": "running"},
                {"region": "us-east-1", "state": "terminated", "tags": {"Name": "old"}}
             ],
             "users": [{"name": "no-mfa", "console": true, "keys": 1}, {"name": "with-mfa", "console": true, "mfa": true}]},
            {"name": "locked", "ou": "Org"}
        ]
    }));
    let proxy = FaultProxy::start(&moto.url());
    proxy.set_rules(json!([{"action": "AssumeRole", "contains": org.account("locked"), "fault": "deny"}]));
    let lake = tempfile::tempdir().unwrap();
    let as_of = (chrono::Utc::now() + chrono::Duration::days(100)).to_rfc3339();
    let output = run_orglake(&[
        "run",
        "--ou-id",
        &org.ou("Org"),
        "--endpoint-url",
        &proxy.url(),
        "--warehouse",
        lake.path().to_str().unwrap(),
        "--as-of",
        &as_of,
        "--terminated-retention-days",
        "200",
    ]);
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let owners = example(lake.path(), "instances_per_owner");
    assert_eq!(
        owners,
        vec![
            json!({"owner": "app@example.com", "instances": 2, "running": 1}),
            json!({"owner": "zed@example.com", "instances": 1, "running": 1})
        ]
    );

    let terminated = example(lake.path(), "terminated_last_15_days");
    assert_eq!(
        terminated,
        Vec::<Value>::new(),
        "terminated 100 days before the run clock: outside 15 days"
    );

    let no_mfa = example(lake.path(), "console_users_without_mfa");
    let names: Vec<&Value> = no_mfa.iter().map(|r| &r["user_name"]).collect();
    assert_eq!(names, vec![&json!("no-mfa")]);

    let keys = example(lake.path(), "keys_older_than_90_days");
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(keys[0]["principal"], json!("no-mfa"));

    let failed = example(lake.path(), "accounts_failed_last_night");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["account_id"], json!(org.account("locked")));
    assert_eq!(failed[0]["status"], json!("auth_failed"));
}

#[test]
fn terminated_instances_within_15_days_are_listed() {
    let moto = Moto::start();
    let org = moto.seed(
        &json!({"management_instances": [{"region": "us-east-1", "state": "terminated", "tags": {"Name": "recent"}}]}),
    );
    let lake = tempfile::tempdir().unwrap();
    let as_of = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    let output = run_orglake(&[
        "run",
        "--account",
        &org.management_account(),
        "--endpoint-url",
        &moto.url(),
        "--warehouse",
        lake.path().to_str().unwrap(),
        "--as-of",
        &as_of,
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let terminated = example(lake.path(), "terminated_last_15_days");
    assert_eq!(terminated.len(), 1);
    assert_eq!(terminated[0]["name_tag"], json!("recent"));
}
