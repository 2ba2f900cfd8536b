//! A commit in buckets of accounts (`commit_bucket_rows`): the same lake as a commit in one
//! bucket, day after day, with carried-forward rows and changes.

use std::path::Path;

use serde_json::json;

use crate::support::{FaultProxy, Moto, change_org, comparable_latest_rows, lake_tables, run_orglake};

#[test]
fn a_commit_in_buckets_of_accounts_writes_the_same_lake_as_a_commit_in_one() {
    let moto = Moto::start();
    let seeded = moto.seed(&json!({
        "ous": {"Teams": {}},
        "accounts": [
            {"name": "alpha", "ou": "Teams",
             "instances": [{"region": "us-east-1", "state": "running"}, {"region": "us-east-1", "state": "running"}],
             "users": [{"name": "admin", "console": true, "mfa": true, "keys": 2}, {"name": "leaver", "keys": 1}]},
            {"name": "beta", "ou": "Teams", "instances": [{"region": "us-east-1", "state": "running"}],
             "users": [{"name": "ops", "keys": 1}]},
            {"name": "gamma", "ou": "Teams", "instances": [{"region": "us-east-1", "state": "stopped"}],
             "users": [{"name": "dev", "console": true}]},
            {"name": "delta", "ou": "Teams"}
        ]
    }));
    let proxy = FaultProxy::start(&moto.url());
    let one = tempfile::tempdir().unwrap();
    let many = tempfile::tempdir().unwrap();
    let run = |lake: &Path, as_of: &str, bucket_rows: &str| {
        let output = run_orglake(&[
            "run",
            "--endpoint-url",
            &proxy.url(),
            "--warehouse",
            lake.to_str().unwrap(),
            "--as-of",
            as_of,
            "--regions",
            "us-east-1",
            "--commit-bucket-rows",
            bucket_rows,
        ]);
        assert!(
            matches!(output.status.code(), Some(0) | Some(3)),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stderr).to_string()
    };
    let compare = |day: &str| {
        for table in lake_tables().iter().filter(|t| *t != "runs") {
            assert_eq!(
                comparable_latest_rows(one.path(), table),
                comparable_latest_rows(many.path(), table),
                "{day}, {table}: a commit in buckets differs from one in a single bucket"
            );
        }
    };

    // Day 1: one bucket per account (at most one row per bucket) against one bucket.
    run(one.path(), "2026-11-20T02:00:00Z", "100000");
    let log = run(many.path(), "2026-11-20T02:00:00Z", "1");
    assert!(log.contains("committing in buckets"), "{log}");
    compare("day 1");
    // Each bucket ended files of its own.
    let files = std::fs::read_dir(many.path().join("ec2_instances/snapshot_date=2026-11-20"))
        .unwrap()
        .count();
    assert!(files >= 3, "one ec2_instances file per bucket with instances: {files}");

    // Day 2: alpha changes, beta's role cannot be assumed (its rows are carried forward as
    // stale, and its changes are not recorded), gamma's region fails.
    let alpha = seeded.account("alpha");
    change_org(
        &moto.url(),
        json!([
            {"op": "terminate_instance", "account": alpha, "instance": seeded.instances("alpha")[0]},
            {"op": "create_user", "account": alpha, "user": "newbie"},
            {"op": "delete_user", "account": alpha, "user": "leaver"}
        ]),
    );
    proxy.set_rules(json!([
        {"action": "AssumeRole", "contains": seeded.account("beta"), "fault": "deny"},
        {"action": "DescribeInstances", "account": seeded.account("gamma"), "fault": "deny"}
    ]));
    run(one.path(), "2026-11-21T02:00:00Z", "100000");
    run(many.path(), "2026-11-21T02:00:00Z", "1");
    compare("day 2");
    let stale = crate::support::query(
        many.path(),
        "SELECT count(*) AS n FROM latest_ec2_instances WHERE observed = 'stale'",
    );
    assert!(
        stale[0]["n"].as_u64().unwrap() >= 2,
        "beta's and gamma's instances are carried: {stale:?}"
    );
    let changed = crate::support::query(many.path(), "SELECT count(*) AS n FROM latest_changes");
    assert!(
        changed[0]["n"].as_u64().unwrap() >= 3,
        "alpha's changes are recorded: {changed:?}"
    );
}
