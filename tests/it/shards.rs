//! Scale-out: `--shard i/n` runs, together, write exactly the lake one unsharded run
//! writes, and the lake shows each slice's accounts as soon as that slice commits.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::support::{Moto, assert_checkpoints_change_no_answer, comparable_latest_rows, lake_tables, query, run_ok};

#[test]
fn three_shards_write_exactly_what_one_run_writes() {
    let moto = Moto::start();
    let mut accounts = Vec::new();
    for i in 0..9 {
        let mut account =
            json!({"name": format!("team-{i}"), "ou": "Org", "tags": {"owner": format!("o{i}@example.com")}});
        if i % 2 == 0 {
            account["instances"] =
                json!([{"region": "us-east-1", "state": "running", "tags": {"Name": format!("app-{i}")}}]);
        }
        if i % 3 == 0 {
            account["users"] = json!([{"name": format!("user-{i}"), "console": true, "keys": 1}]);
        }
        accounts.push(account);
    }
    accounts.push(json!({"name": "closed", "ou": "Org", "suspended": true}));
    let org = moto.seed(&json!({"ous": {"Org": {}}, "accounts": accounts}));
    let ou = org.ou("Org");
    let url = moto.url();
    // One run into `lake` at `as_of`, of `shard` when given.
    let run_into = |lake: &std::path::Path, as_of: &str, shard: Option<&str>| {
        let mut args = vec!["run", "--ou-id", &ou, "--endpoint-url", &url, "--as-of", as_of];
        args.extend(["--warehouse", lake.to_str().unwrap()]);
        if let Some(shard) = shard {
            args.extend(["--shard", shard]);
        }
        run_ok(&args)
    };
    let as_of = "2026-11-20T06:00:00Z";

    let whole = tempfile::tempdir().unwrap();
    run_into(whole.path(), as_of, None);

    let sharded = tempfile::tempdir().unwrap();
    for index in 0..3 {
        let shard = format!("{index}/3");
        let output = run_into(sharded.path(), as_of, Some(&shard));
        let summary = String::from_utf8_lossy(&output.stdout);
        assert!(summary.contains(&format!("shard {shard}")), "{summary}");
        // Per account: each slice's accounts are visible as soon as that slice commits.
        let visible = query(sharded.path(), "SELECT count(*) AS n FROM latest_accounts");
        let committed = query(sharded.path(), "SELECT count(*) AS n FROM raw_runs");
        assert_eq!(committed[0]["n"], json!(index + 1));
        let listed = query(sharded.path(), "SELECT count(DISTINCT account_id) AS n FROM accounts");
        assert_eq!(visible, listed, "after shard {shard}, every committed slice's accounts");
        let runs = query(sharded.path(), "SELECT count(*) AS n FROM latest_runs");
        assert_eq!(runs[0]["n"], json!(index + 1), "the manifests of the slices so far");
    }

    // Each shard's exports have their own names: the seed name, the slice, the run.
    let iam_exports: Vec<String> = std::fs::read_dir(sharded.path().join("exports/iam_users/snapshot_date=2026-11-20"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(iam_exports.len(), 3, "{iam_exports:?}");
    for index in 0..3 {
        assert!(
            iam_exports.iter().any(|name| name.starts_with("IAM_USER_TAGS_")
                && name.contains("_combined_")
                && name.contains(&format!("_shard-{index}-of-3_"))),
            "{iam_exports:?}"
        );
    }

    // Each account was scanned by exactly one shard, the one its id modulo 3 names.
    let slices = query(
        sharded.path(),
        "SELECT a.account_id, r.shard_index FROM accounts a JOIN runs r ON r.run_id = a.run_id ORDER BY 1",
    );
    assert_eq!(slices.len(), 10);
    for slice in &slices {
        let id: u64 = slice["account_id"].as_str().unwrap().parse().unwrap();
        assert_eq!(slice["shard_index"], json!(id % 3), "{slice}");
    }

    let mut compared = BTreeMap::new();
    for table in lake_tables().iter().filter(|t| *t != "runs") {
        let one = comparable_latest_rows(whole.path(), table);
        let three = comparable_latest_rows(sharded.path(), table);
        assert_eq!(one, three, "{table}: three shards differ from one run");
        compared.insert(table.clone(), one.len());
    }
    for table in [
        "accounts",
        "account_status",
        "ec2_instances",
        "ec2_images",
        "iam_users",
        "iam_credential_report",
        "findings",
    ] {
        assert!(compared[table] > 0, "{table} has rows to compare: {compared:?}");
    }

    // The manifests add up to the one run's.
    let sums = |lake: &std::path::Path| -> Value {
        query(
            lake,
            "SELECT sum(accounts_total) AS total, sum(accounts_ok) AS ok, sum(accounts_skipped) AS skipped, \
             sum(table_rows['ec2_instances']) AS instances FROM latest_runs",
        )[0]
        .clone()
    };
    assert_eq!(sums(whole.path()), sums(sharded.path()));

    // A second day, sharded again: each slice's history comes from its own accounts.
    for index in 0..3 {
        run_into(sharded.path(), "2026-11-21T06:00:00Z", Some(&format!("{index}/3")));
    }
    let history = query(
        sharded.path(),
        "SELECT count(*) AS n, min(first_seen) AS first_seen FROM latest_ec2_instances",
    );
    assert_eq!(history[0]["n"], json!(5));
    assert!(
        history[0]["first_seen"].as_str().unwrap().starts_with("2026-11-20"),
        "first_seen kept across sharded runs: {history:?}"
    );
    assert_checkpoints_change_no_answer(sharded.path());
    let days = query(
        sharded.path(),
        "SELECT snapshot_date, count(*) AS runs FROM daily_runs GROUP BY 1 ORDER BY 1",
    );
    assert_eq!(
        days,
        vec![
            json!({"snapshot_date": "2026-11-20", "runs": 3}),
            json!({"snapshot_date": "2026-11-21", "runs": 3})
        ]
    );
}

#[test]
fn a_bad_shard_is_one_clear_error() {
    let output = crate::support::run_orglake(&["run", "--shard", "3/3", "--warehouse", "/nonexistent"]);
    crate::support::assert_one_line_error(&output, 1, &["--shard", "0/3"]);
}
