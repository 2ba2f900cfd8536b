//! What `latest_*` and `daily_*` mean when runs of different scopes share a lake, accounts
//! fail, configuration repeats itself, and what `query` may not do.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::{
    FaultProxy, Moto, assert_checkpoints_change_no_answer, change_org, python_command, query, run_ok, run_orglake,
};

/// Three accounts under one OU, one of them with an admin without MFA, instances in two
/// regions, and an empty OU to move an account to.
fn team_org() -> Value {
    json!({
        "ous": {"Teams": {}, "Elsewhere": {}},
        "accounts": [
            {"name": "alpha", "ou": "Teams",
             "instances": [{"region": "us-east-1", "state": "running"}, {"region": "eu-west-1", "state": "running"}],
             "users": [{"name": "admin", "console": true, "keys": 1}]},
            {"name": "beta", "ou": "Teams", "instances": [{"region": "us-east-1", "state": "stopped"}]},
            {"name": "gamma", "ou": "Teams"}
        ]
    })
}

fn run_in(lake: &Path, endpoint: &str, as_of: &str, scope: &[&str]) -> std::process::Output {
    let mut args = vec!["run", "--endpoint-url", endpoint, "--warehouse", lake.to_str().unwrap()];
    args.extend(["--as-of", as_of, "--regions", "us-east-1,eu-west-1"]);
    args.extend_from_slice(scope);
    run_orglake(&args)
}

fn count(lake: &Path, sql: &str) -> u64 {
    query(lake, sql)[0]["n"].as_u64().unwrap()
}

#[test]
fn an_ad_hoc_run_of_one_account_hides_no_other_and_a_moved_account_leaves() {
    let moto = Moto::start();
    let org = moto.seed(&team_org());
    let lake = tempfile::tempdir().unwrap();
    let ou = org.ou("Teams");
    let nightly = ["--ou-id", ou.as_str()];
    let output = run_in(lake.path(), &moto.url(), "2026-11-20T02:00:00Z", &nightly);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(count(lake.path(), "SELECT count(*) AS n FROM latest_accounts"), 3);
    let instances = count(lake.path(), "SELECT count(*) AS n FROM latest_ec2_instances");
    assert_eq!(instances, 3);

    // Later that day, one account on its own (as `orglake run --account` or `tag --account`).
    let beta = org.account("beta");
    let output = run_in(lake.path(), &moto.url(), "2026-11-20T10:00:00Z", &["--account", &beta]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    for view in ["latest", "daily"] {
        let accounts = count(lake.path(), &format!("SELECT count(*) AS n FROM {view}_accounts"));
        assert_eq!(accounts, 3, "{view}_accounts after an ad-hoc run of one account");
        let rows = count(lake.path(), &format!("SELECT count(*) AS n FROM {view}_ec2_instances"));
        assert_eq!(rows, instances, "{view}_ec2_instances");
    }
    let sources = query(
        lake.path(),
        "SELECT a.account_id, r.scope FROM latest_accounts a JOIN runs r ON r.run_id = a.run_id ORDER BY 1",
    );
    for source in &sources {
        let expected = if source["account_id"] == json!(beta) {
            json!([beta])
        } else {
            json!([ou])
        };
        assert_eq!(
            source["scope"], expected,
            "each account from its own latest run: {sources:?}"
        );
    }
    assert_eq!(count(lake.path(), "SELECT count(*) AS n FROM latest_runs"), 2);

    // Next night gamma has moved out of the OU: the nightly scope no longer finds it.
    let moved = python_command()
        .args([
            "-c",
            "import boto3, sys; o = boto3.client('organizations', endpoint_url=sys.argv[1], region_name='us-east-1'); \
             o.move_account(AccountId=sys.argv[2], SourceParentId=sys.argv[3], DestinationParentId=sys.argv[4])",
            &moto.url(),
            &org.account("gamma"),
            &ou,
            &org.ou("Elsewhere"),
        ])
        .output()
        .unwrap();
    assert!(moved.status.success(), "{}", String::from_utf8_lossy(&moved.stderr));
    let output = run_in(lake.path(), &moto.url(), "2026-11-21T02:00:00Z", &nightly);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let latest = query(lake.path(), "SELECT account_id FROM latest_accounts ORDER BY 1");
    let mut expected = vec![json!({"account_id": org.account("alpha")}), json!({"account_id": beta})];
    expected.sort_by_key(|v| v.to_string());
    assert_eq!(latest, expected, "the moved account left latest_accounts");
    assert_checkpoints_change_no_answer(lake.path());
    assert_eq!(
        count(
            lake.path(),
            &format!(
                "SELECT count(*) AS n FROM accounts WHERE account_id = '{}'",
                org.account("gamma")
            )
        ),
        1,
        "its history stays"
    );
}

/// Every Parquet file of `table` in the snapshot date `date`, overwritten with bytes that
/// are not Parquet: any query that opens one fails.
fn spoil_partition(lake: &Path, table: &str, date: &str) -> usize {
    let dir = lake.join(table).join(format!("snapshot_date={date}"));
    let mut spoiled = 0;
    for entry in walkdir(&dir) {
        if entry.extension().is_some_and(|e| e == "parquet") {
            std::fs::write(&entry, b"not parquet").unwrap();
            spoiled += 1;
        }
    }
    spoiled
}

fn walkdir(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walkdir(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn latest_views_read_only_the_dates_that_hold_an_accounts_latest_run() {
    let moto = Moto::start();
    let org = moto.seed(&json!({
        "ous": {"Teams": {}, "Elsewhere": {}},
        "accounts": [
            {"name": "alpha", "ou": "Teams", "instances": [{"region": "us-east-1", "state": "running"}]},
            {"name": "beta", "ou": "Teams", "instances": [{"region": "eu-west-1", "state": "stopped"}]},
            {"name": "delta", "ou": "Elsewhere", "instances": [{"region": "us-east-1", "state": "running"}]}
        ]
    }));
    let lake = tempfile::tempdir().unwrap();
    let (teams, elsewhere) = (org.ou("Teams"), org.ou("Elsewhere"));
    for (as_of, ou) in [
        ("2026-11-19T02:00:00Z", &teams),
        ("2026-11-20T02:00:00Z", &elsewhere),
        ("2026-11-21T02:00:00Z", &teams),
    ] {
        let output = run_in(lake.path(), &moto.url(), as_of, &["--ou-id", ou.as_str()]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    assert_checkpoints_change_no_answer(lake.path());
    // The first night's rows are nobody's latest any more: Teams ran again, and Elsewhere's
    // latest run is the second day's.
    assert!(spoil_partition(lake.path(), "ec2_instances", "2026-11-19") > 0);
    // Which run is each account's latest is read from the last run's checkpoint, not from
    // the manifests and accounts of the runs it covers.
    for date in ["2026-11-19", "2026-11-20"] {
        for table in ["runs", "accounts"] {
            assert!(spoil_partition(lake.path(), table, date) > 0);
        }
    }
    let committed = run_orglake(&[
        "query",
        "--warehouse",
        lake.path().to_str().unwrap(),
        "SELECT count(*) AS n FROM ec2_instances",
    ]);
    assert!(
        !committed.status.success(),
        "a view over every run opens the spoiled files, so this test can see a scan of them"
    );
    let latest = query(
        lake.path(),
        "SELECT account_id, snapshot_date FROM latest_ec2_instances ORDER BY account_id",
    );
    let mut expected = vec![
        json!({"account_id": org.account("alpha"), "snapshot_date": "2026-11-21"}),
        json!({"account_id": org.account("beta"), "snapshot_date": "2026-11-21"}),
        json!({"account_id": org.account("delta"), "snapshot_date": "2026-11-20"}),
    ];
    expected.sort_by_key(|v| v["account_id"].to_string());
    assert_eq!(
        latest, expected,
        "latest_ec2_instances spans both dates and skips the first"
    );
    // The next run's history continues from the checkpoint too.
    let output = run_in(
        lake.path(),
        &moto.url(),
        "2026-11-22T02:00:00Z",
        &["--ou-id", teams.as_str()],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let first_seen = query(
        lake.path(),
        "SELECT account_id, CAST(first_seen AS VARCHAR) AS first_seen FROM latest_ec2_instances \
         WHERE snapshot_date = '2026-11-22' ORDER BY account_id",
    );
    assert_eq!(first_seen.len(), 2, "{first_seen:?}");
    assert!(
        first_seen
            .iter()
            .all(|r| r["first_seen"].as_str().unwrap().starts_with("2026-11-19")),
        "first seen on the first night: {first_seen:?}"
    );
    // Four commits: three checkpoints are kept, and the journal holds only the runs that
    // not all three cover (the oldest kept covers the first two runs).
    let stems = |dir: &Path, suffix: &str| -> Vec<String> {
        let mut names: Vec<String> = walkdir(dir)
            .iter()
            .filter_map(|p| p.file_name()?.to_str()?.strip_suffix(suffix).map(str::to_string))
            .collect();
        names.sort();
        names
    };
    let checkpoints = stems(&lake.path().join("_checkpoints/run_sets"), ".parquet");
    assert_eq!(checkpoints.len(), 3, "{checkpoints:?}");
    let journaled: Vec<String> = stems(&lake.path().join("_checkpoints/commits"), ".commit")
        .iter()
        .map(|name| name.split_once('_').unwrap().1.to_string())
        .collect();
    assert_eq!(journaled, checkpoints[1..], "the journal holds the last two runs");
}

#[test]
fn a_failed_account_keeps_its_iam_rows_and_findings_as_stale_until_the_retention_window() {
    let moto = Moto::start();
    let org = moto.seed(&team_org());
    let proxy = FaultProxy::start(&moto.url());
    let lake = tempfile::tempdir().unwrap();
    let alpha = org.account("alpha");
    let day = |as_of: &str| run_in(lake.path(), &proxy.url(), as_of, &[]);
    assert!(day("2026-11-20T02:00:00Z").status.success());
    let seen = "SELECT observed, count(*) AS n FROM latest_iam_users GROUP BY 1";
    assert_eq!(query(lake.path(), seen), vec![json!({"observed": "seen", "n": 1})]);
    let first_run = query(
        lake.path(),
        &format!("SELECT run_id FROM latest_accounts WHERE account_id = '{alpha}'"),
    )[0]["run_id"]
        .clone();
    let findings = count(
        lake.path(),
        &format!("SELECT count(*) AS n FROM latest_findings WHERE account_id = '{alpha}'"),
    );
    assert!(findings > 0, "the admin without MFA is a finding");

    proxy.set_rules(json!([{"action": "AssumeRole", "contains": alpha, "fault": "deny"}]));
    let output = day("2026-11-21T02:00:00Z");
    assert_eq!(output.status.code(), Some(3), "partial");
    for table in ["iam_users", "iam_credential_report", "findings", "ec2_images"] {
        let rows = query(
            lake.path(),
            &format!(
                "SELECT observed, observed_run_id, count(*) AS n FROM latest_{table} WHERE account_id = '{alpha}' GROUP BY 1, 2"
            ),
        );
        assert_eq!(rows.len(), 1, "{table}: {rows:?}");
        assert_eq!(rows[0]["observed"], json!("stale"), "{table}");
        assert_eq!(rows[0]["observed_run_id"], first_run, "{table}: the run it comes from");
    }
    let stale_findings = count(
        lake.path(),
        &format!("SELECT count(*) AS n FROM latest_findings WHERE account_id = '{alpha}' AND observed = 'stale'"),
    );
    assert_eq!(stale_findings, findings, "no finding reads as fixed");
    let instances = query(
        lake.path(),
        &format!("SELECT DISTINCT observed FROM latest_ec2_instances WHERE account_id = '{alpha}'"),
    );
    assert_eq!(instances, vec![json!({"observed": "stale"})]);

    // Still failing after the 15-day window: the stale rows drop out.
    assert_eq!(day("2026-12-10T02:00:00Z").status.code(), Some(3));
    for table in [
        "iam_users",
        "iam_credential_report",
        "findings",
        "ec2_images",
        "ec2_instances",
    ] {
        let left = count(
            lake.path(),
            &format!("SELECT count(*) AS n FROM latest_{table} WHERE account_id = '{alpha}'"),
        );
        assert_eq!(left, 0, "{table}: stale rows older than the retention window");
    }
}

#[test]
fn a_repeated_region_writes_each_row_once_and_a_duplicated_past_cannot_multiply() {
    let moto = Moto::start();
    let seeded = moto.seed(&team_org());
    let lake = tempfile::tempdir().unwrap();
    let warehouse = lake.path().to_str().unwrap();
    let run = |as_of: &str| {
        run_ok(&[
            "run",
            "--endpoint-url",
            &moto.url(),
            "--warehouse",
            warehouse,
            "--as-of",
            as_of,
            "--regions",
            "us-east-1,eu-west-1,us-east-1",
        ])
    };
    run("2026-11-20T02:00:00Z");
    let distinct = "SELECT count(*) AS n, count(DISTINCT instance_id) AS ids FROM latest_ec2_instances";
    assert_eq!(query(lake.path(), distinct), vec![json!({"n": 3, "ids": 3})]);
    let images =
        "SELECT count(*) AS n, count(DISTINCT concat(account_id, region, image_id)) AS ids FROM latest_ec2_images";
    let image_rows = query(lake.path(), images);
    assert_eq!(image_rows[0]["n"], image_rows[0]["ids"], "{image_rows:?}");

    // A past mistake: the same rows written twice into the previous run.
    let partition = lake.path().join("ec2_instances/snapshot_date=2026-11-20");
    let file = std::fs::read_dir(&partition).unwrap().next().unwrap().unwrap().path();
    let name = file
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .replace("-00000.", "-00001.");
    std::fs::copy(&file, partition.join(name)).unwrap();
    assert_eq!(
        query(lake.path(), distinct),
        vec![json!({"n": 6, "ids": 3})],
        "the past now holds each instance twice"
    );
    // And one instance is terminated before day 2: its changes are recorded once each,
    // however often the past holds its row.
    let terminated = seeded.instances("alpha")[0].clone();
    change_org(
        &moto.url(),
        json!([{"op": "terminate_instance", "account": seeded.account("alpha"), "instance": terminated}]),
    );
    run("2026-11-21T02:00:00Z");
    assert_eq!(query(lake.path(), distinct), vec![json!({"n": 3, "ids": 3})]);
    let kept = query(lake.path(), "SELECT min(first_seen) AS first FROM latest_ec2_instances");
    assert!(kept[0]["first"].as_str().unwrap().starts_with("2026-11-20"), "{kept:?}");
    let changes = query(
        lake.path(),
        "SELECT entity_id, change, field, old_value, new_value FROM latest_changes WHERE entity_type = 'instance'",
    );
    let state = json!({"entity_id": terminated, "change": "modified", "field": "state",
                       "old_value": "running", "new_value": "terminated"});
    assert_eq!(changes.iter().filter(|c| **c == state).count(), 1, "{changes:?}");
    let fields: std::collections::BTreeSet<String> = changes.iter().map(|c| c["field"].to_string()).collect();
    assert_eq!(fields.len(), changes.len(), "each field changed once: {changes:?}");
}

#[test]
fn query_and_export_refuse_to_write() {
    let moto = Moto::start();
    moto.seed(&team_org());
    let lake = tempfile::tempdir().unwrap();
    let warehouse = lake.path().to_str().unwrap();
    run_ok(&["run", "--endpoint-url", &moto.url(), "--warehouse", warehouse]);
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("out.csv");
    let statements = [
        format!("COPY (SELECT 1) TO '{}'", target.display()),
        "INSERT INTO raw_runs SELECT * FROM raw_runs".to_string(),
        "CREATE TABLE forged AS SELECT * FROM raw_runs".to_string(),
        "DROP VIEW latest_accounts".to_string(),
        "SET datafusion.execution.batch_size = 1".to_string(),
    ];
    for sql in &statements {
        let output = run_orglake(&["query", "--warehouse", warehouse, sql]);
        crate::support::assert_one_line_error(&output, 1, &["read-only"]);
    }
    assert!(!target.exists(), "COPY wrote no file");
    assert_eq!(
        count(lake.path(), "SELECT count(*) AS n FROM raw_runs"),
        1,
        "no manifest forged"
    );
    run_ok(&[
        "query",
        "--warehouse",
        warehouse,
        "EXPLAIN SELECT count(*) FROM latest_accounts",
    ]);
}

#[test]
fn query_csv_renders_nested_values_as_json_and_neutralises_formulas() {
    let moto = Moto::start();
    moto.seed(&team_org());
    let lake = tempfile::tempdir().unwrap();
    let warehouse = lake.path().to_str().unwrap();
    run_ok(&["run", "--endpoint-url", &moto.url(), "--warehouse", warehouse]);
    let output = run_ok(&[
        "query",
        "--warehouse",
        warehouse,
        "--format",
        "csv",
        "SELECT scope, table_rows, '=1+1' AS formula FROM runs",
    ]);
    let text = String::from_utf8(output.stdout).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let row = reader.records().next().unwrap().unwrap();
    let scope: Value = serde_json::from_str(&row[0]).unwrap();
    assert!(scope.is_array(), "{text}");
    let tables: Value = serde_json::from_str(&row[1]).unwrap();
    let accounts: u64 = tables["accounts"].as_str().unwrap().parse().unwrap();
    assert!(accounts > 0, "{text}");
    assert_eq!(&row[2], "'=1+1", "a formula is shown, not run");
    // And a whole table with nested columns renders at all.
    let output = run_ok(&[
        "query",
        "--warehouse",
        warehouse,
        "--format",
        "csv",
        "SELECT * FROM latest_accounts",
    ]);
    assert_eq!(String::from_utf8(output.stdout).unwrap().lines().count(), 1 + 4);
}
