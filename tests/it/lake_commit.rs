//! The commit protocol: runs become visible only with their manifest, never overwrite each
//! other, and a crash leaves nothing a query can see.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::discovery::foreign_org;
use crate::support::{Moto, assert_one_line_error, orglake, python_command, query, run_ok, run_orglake};

fn parquet_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "parquet") {
                out.push(path);
            }
        }
    }
    out
}

#[test]
fn two_runs_on_one_day_are_both_complete_and_queryable() {
    let moto = Moto::start();
    moto.seed(&foreign_org());
    let lake = tempfile::tempdir().unwrap();
    let warehouse = lake.path().to_str().unwrap();
    for _ in 0..2 {
        run_ok(&[
            "run",
            "--endpoint-url",
            &moto.url(),
            "--warehouse",
            warehouse,
            "--as-of",
            "2026-03-01T06:00:00Z",
        ]);
    }
    let runs = query(
        lake.path(),
        "SELECT run_id, snapshot_date, status FROM runs ORDER BY run_id",
    );
    assert_eq!(runs.len(), 2);
    assert_ne!(runs[0]["run_id"], runs[1]["run_id"]);
    assert!(
        runs.iter()
            .all(|r| r["snapshot_date"] == json!("2026-03-01") && r["status"] == json!("complete"))
    );
    let per_run = query(
        lake.path(),
        "SELECT run_id, count(*) AS n FROM accounts GROUP BY run_id ORDER BY run_id",
    );
    assert_eq!(per_run.len(), 2);
    assert_eq!(per_run[0]["n"], per_run[1]["n"]);
    let latest = query(lake.path(), "SELECT DISTINCT run_id FROM latest_accounts");
    assert_eq!(latest, vec![json!({"run_id": runs[1]["run_id"]})]);
    let daily = query(lake.path(), "SELECT DISTINCT run_id FROM daily_accounts");
    assert_eq!(daily, latest, "one run per day: the latest");
}

#[test]
fn a_run_killed_before_its_manifest_is_invisible_and_the_next_run_succeeds() {
    let moto = Moto::start();
    moto.seed(&foreign_org());
    let lake = tempfile::tempdir().unwrap();
    let warehouse = lake.path().to_str().unwrap();
    let mut child = orglake()
        .args(["run", "--endpoint-url", &moto.url(), "--warehouse", warehouse])
        .env(orglake::run::PAUSE_BEFORE_MANIFEST_ENV, "60000")
        .env(orglake::lake::lease::LEASE_TTL_ENV, "3")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    // Everything but the manifest is written before the pause; the exports are not.
    while parquet_files(&lake.path().join("account_status")).is_empty() {
        assert!(Instant::now() < deadline, "the run wrote no data within 60s");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !lake.path().join("exports").exists(),
        "no CSV export of a run before its manifest"
    );
    // While the run lives, its lease keeps vacuum off its files, whatever the grace says.
    let written = parquet_files(lake.path());
    let output = run_ok(&["vacuum", "--warehouse", warehouse, "--older-than-hours", "0", "--apply"]);
    assert!(
        String::from_utf8_lossy(&output.stdout).trim().is_empty(),
        "nothing of a running run is vacuumed"
    );
    assert_eq!(parquet_files(lake.path()), written);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        !parquet_files(&lake.path().join("accounts")).is_empty(),
        "data files of the killed run exist"
    );
    assert!(parquet_files(&lake.path().join("runs")).is_empty(), "no manifest");
    assert_eq!(
        query(lake.path(), "SELECT count(*) AS n FROM accounts"),
        vec![json!({"n": 0})]
    );
    assert_eq!(
        query(lake.path(), "SELECT count(*) AS n FROM latest_account_status"),
        vec![json!({"n": 0})]
    );
    let raw = query(lake.path(), "SELECT count(*) AS n FROM raw_accounts");
    assert!(raw[0]["n"].as_u64().unwrap() > 0, "raw_ shows the orphan files");

    // The next run commits beside the orphans; once the killed run's lease has expired,
    // vacuum removes the orphans (and that lease) only.
    run_ok(&["run", "--endpoint-url", &moto.url(), "--warehouse", warehouse]);
    std::thread::sleep(Duration::from_secs(4));
    let all_files = || -> Vec<std::path::PathBuf> {
        let mut files = Vec::new();
        let mut dirs = vec![lake.path().to_path_buf()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path)
                } else {
                    files.push(path)
                }
            }
        }
        files.sort();
        files
    };
    let before = all_files();
    let vacuum = |extra: &[&str]| {
        let mut args = vec!["vacuum", "--warehouse", warehouse];
        args.extend_from_slice(extra);
        let output = run_ok(&args);
        let listed: Vec<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        (listed, String::from_utf8_lossy(&output.stderr).to_string())
    };
    let (listed, said) = vacuum(&[]);
    assert!(
        listed.is_empty(),
        "the killed run started minutes ago, within the default 24h: {said}"
    );
    let (listed, said) = vacuum(&["--older-than-hours", "0"]);
    assert!(said.contains("dry run"), "{said}");
    assert_eq!(all_files(), before, "a dry run deletes nothing");
    let killed: std::collections::BTreeSet<&str> = listed.iter().map(|p| p.rsplit('/').next().unwrap()).collect();
    assert!(killed.iter().any(|f| f.ends_with(".parquet")), "{listed:?}");
    assert!(
        killed.iter().any(|f| f.ends_with(".json")),
        "the expired lease too: {listed:?}"
    );
    assert!(
        !killed
            .iter()
            .any(|f| f.ends_with(".csv") && f.starts_with(|c: char| c.is_ascii_uppercase())),
        "no export of the killed run exists to vacuum: {listed:?}"
    );
    let (deleted, said) = vacuum(&["--older-than-hours", "0", "--apply"]);
    assert_eq!(deleted, listed, "{said}");
    let after = all_files();
    assert_eq!(after.len(), before.len() - listed.len());
    assert!(listed.iter().all(|p| !std::path::Path::new(p).exists()));
    let raw = query(lake.path(), "SELECT count(DISTINCT run_id) AS runs FROM raw_accounts");
    assert_eq!(raw[0]["runs"], json!(1), "only the committed run's files remain");
    assert!(
        vacuum(&["--older-than-hours", "0"]).0.is_empty(),
        "nothing left to vacuum"
    );
    let visible = query(
        lake.path(),
        "SELECT count(DISTINCT run_id) AS runs, count(*) AS n FROM accounts",
    );
    assert_eq!(visible, vec![json!({"runs": 1, "n": 8})]);
}

#[test]
fn concurrent_runs_into_one_lake_both_complete() {
    let moto = Moto::start();
    moto.seed(&foreign_org());
    let lake = tempfile::tempdir().unwrap();
    let warehouse = lake.path().to_str().unwrap();
    let children: Vec<_> = (0..2)
        .map(|_| {
            orglake()
                .args(["run", "--endpoint-url", &moto.url(), "--warehouse", warehouse])
                .output()
        })
        .collect();
    for output in children {
        let output = output.unwrap();
        assert!(
            output.status.success(),
            "run failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let per_run = query(
        lake.path(),
        "SELECT run_id, count(*) AS n FROM accounts GROUP BY run_id",
    );
    assert_eq!(per_run.len(), 2);
    assert!(per_run.iter().all(|r| r["n"] == json!(8)));
    // Each wrote a run-set checkpoint after its manifest, of what it saw committed.
    crate::support::assert_checkpoints_change_no_answer(lake.path());

    // vacuum deletes the checkpoint the newer one supersedes, and nothing else.
    let latest_runs = "SELECT account_id, run_id FROM latest_account_run_ids ORDER BY 1";
    let before = query(lake.path(), latest_runs);
    let output = run_ok(&["vacuum", "--warehouse", warehouse, "--older-than-hours", "0", "--apply"]);
    let deleted: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert!(deleted[0].contains("/_checkpoints/run_sets/"), "{deleted:?}");
    let left = std::fs::read_dir(lake.path().join("_checkpoints/run_sets"))
        .unwrap()
        .count();
    assert_eq!(left, 1, "the newest checkpoint stays");
    assert_eq!(query(lake.path(), latest_runs), before);
}

#[test]
fn every_written_file_has_exactly_its_schema_file_columns_and_types() {
    let moto = Moto::start();
    moto.seed(&foreign_org());
    let lake = tempfile::tempdir().unwrap();
    run_ok(&[
        "run",
        "--endpoint-url",
        &moto.url(),
        "--warehouse",
        lake.path().to_str().unwrap(),
    ]);
    for table in orglake::schema::all_tables() {
        let files = parquet_files(&lake.path().join(table.name()));
        if files.is_empty() {
            assert_eq!(
                crate::discovery::manifest_rows(lake.path(), table.name()),
                0,
                "{} has no files",
                table.name()
            );
        }
        for file in files {
            let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                std::fs::File::open(&file).unwrap(),
            )
            .unwrap();
            let schema = reader.schema();
            assert_eq!(schema.fields(), table.file_schema.fields(), "{}", file.display());
            let partition = file.parent().unwrap().file_name().unwrap().to_str().unwrap();
            assert!(
                partition.starts_with("snapshot_date="),
                "hive partition folder: {partition}"
            );
        }
    }
}

#[test]
fn export_concatenates_complete_runs_over_a_date_range() {
    let moto = Moto::start();
    moto.seed(&foreign_org());
    let lake = tempfile::tempdir().unwrap();
    let warehouse = lake.path().to_str().unwrap();
    for day in ["2026-03-01", "2026-03-02", "2026-03-03"] {
        run_ok(&[
            "run",
            "--endpoint-url",
            &moto.url(),
            "--warehouse",
            warehouse,
            "--as-of",
            day,
        ]);
    }
    let out = lake.path().join("accounts.csv");
    let output = run_ok(&[
        "export",
        "--table",
        "accounts",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-02",
        "--warehouse",
        warehouse,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("wrote 16 rows"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let headers = reader.headers().unwrap().clone();
    let dates: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[headers.iter().position(|h| h == "snapshot_date").unwrap()].to_string())
        .collect();
    assert_eq!(dates.len(), 16, "8 accounts x 2 days");
    assert!(
        dates.windows(2).all(|w| w[0] <= w[1]) && dates[0] == "2026-03-01" && dates[15] == "2026-03-02",
        "{dates:?}"
    );
    let parquet = lake.path().join("accounts.parquet");
    run_ok(&[
        "export",
        "--table",
        "accounts",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-03",
        "--format",
        "parquet",
        "--warehouse",
        warehouse,
        "--out",
        parquet.to_str().unwrap(),
    ]);
    let reader =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&parquet).unwrap())
            .unwrap();
    assert_eq!(reader.metadata().file_metadata().num_rows(), 24);
    let bad = run_orglake(&[
        "export",
        "--table",
        "accounts",
        "--from",
        "March",
        "--to",
        "2026-03-03",
        "--warehouse",
        warehouse,
    ]);
    assert_one_line_error(&bad, 1, &["--from", "YYYY-MM-DD"]);
}

#[test]
fn bench_replay_copies_the_latest_run_onto_the_following_days_as_commits_write_them() {
    let lake = tempfile::tempdir().unwrap();
    let warehouse = lake.path().to_str().unwrap();
    let tiny = ["--instances", "40", "--users", "10", "--org-accounts", "4"];
    let load = |as_of: &str| {
        let mut args = vec!["bench-load", "--warehouse", warehouse, "--as-of", as_of];
        args.extend(tiny);
        run_ok(&args);
    };
    load("2026-01-01T06:00:00Z");
    let replayed = run_ok(&["bench-replay", "--days", "2", "--warehouse", warehouse]);
    let report: serde_json::Value = serde_json::from_slice(&replayed.stdout).unwrap();
    assert_eq!(report["dates"], json!(["2026-01-02", "2026-01-03"]), "{report}");

    // Each copy is a committed run of its own date, an exact day after the one before.
    let runs = query(
        lake.path(),
        "SELECT snapshot_date, run_id, CAST(as_of AS VARCHAR) AS as_of FROM runs ORDER BY snapshot_date",
    );
    let dates: Vec<&str> = runs.iter().map(|r| r["snapshot_date"].as_str().unwrap()).collect();
    assert_eq!(dates, ["2026-01-01", "2026-01-02", "2026-01-03"]);
    let ids: std::collections::BTreeSet<&str> = runs.iter().map(|r| r["run_id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3, "every copy is a new run: {runs:?}");
    assert!(
        runs[2]["as_of"].as_str().unwrap().starts_with("2026-01-03T06:00:00"),
        "{runs:?}"
    );

    // Every table holds the same rows on each date, under that date's run id; the latest
    // snapshot is the last copy.
    let per_date = query(
        lake.path(),
        "SELECT snapshot_date, count(*) AS n, count(DISTINCT run_id) AS runs FROM ec2_instances \
         GROUP BY snapshot_date ORDER BY snapshot_date",
    );
    let first = per_date[0]["n"].as_u64().unwrap();
    assert!(first > 30, "{per_date:?}");
    let expected: Vec<_> = ["2026-01-01", "2026-01-02", "2026-01-03"]
        .iter()
        .map(|d| json!({"snapshot_date": d, "n": first, "runs": 1}))
        .collect();
    assert_eq!(per_date, expected);
    assert_eq!(
        query(
            lake.path(),
            "SELECT snapshot_date, count(*) AS n FROM latest_iam_users GROUP BY snapshot_date"
        ),
        vec![json!({"snapshot_date": "2026-01-03", "n": 10})]
    );
    let moved = query(
        lake.path(),
        "SELECT count(*) AS n FROM iam_users a JOIN iam_users b ON a.arn = b.arn \
         WHERE a.snapshot_date = '2026-01-01' AND b.snapshot_date = '2026-01-02' \
         AND b.created_at = a.created_at + INTERVAL '1' DAY",
    );
    assert_eq!(moved, vec![json!({"n": 10})], "timestamps move with the copy");

    // A commit after the copies merges the last of them as its previous snapshot.
    load("2026-01-04T06:00:00Z");
    assert_eq!(
        query(
            lake.path(),
            "SELECT snapshot_date, count(*) AS n FROM latest_ec2_instances GROUP BY snapshot_date"
        ),
        vec![json!({"snapshot_date": "2026-01-04", "n": first})]
    );
}

#[test]
fn duckdb_runs_a_kept_commits_transform_sql_and_writes_the_same_rows() {
    let work = tempfile::tempdir().unwrap();
    let lake = work.path().join("lake");
    let kept = work.path().join("kept");
    let out = work.path().join("duckdb");
    std::fs::create_dir_all(&out).unwrap();
    let load = |as_of: &str, keep: &[&str]| {
        let mut args = vec!["bench-load", "--warehouse", lake.to_str().unwrap(), "--as-of", as_of];
        args.extend(["--instances", "300", "--users", "40", "--org-accounts", "6"]);
        args.extend_from_slice(keep);
        run_ok(&args)
    };
    load("2026-11-23T06:00:00Z", &[]);
    // Day 2 merges day 1, and keeps what its transforms read and the SQL they ran.
    let day2 = load("2026-11-24T06:00:00Z", &["--keep-inputs", kept.to_str().unwrap()]);
    let report: serde_json::Value =
        serde_json::from_slice(day2.stdout.trim_ascii_end().rsplit(|b| *b == b'\n').next().unwrap()).unwrap();
    let duck = python_command()
        .arg(crate::support::repo_root().join("benches/duckdb_transform.py"))
        .args([&kept, &lake, &out])
        .output()
        .unwrap();
    assert!(duck.status.success(), "{}", String::from_utf8_lossy(&duck.stderr));
    let duck: serde_json::Value = serde_json::from_slice(duck.stdout.trim_ascii_end()).unwrap();
    let written = duck["rows"].as_object().unwrap();
    assert!(written.len() >= 6, "every transformed table and the findings: {duck}");
    for (table, rows) in written {
        assert_eq!(
            &report["table_rows"][table], rows,
            "{table}: orglake {report}, DuckDB {duck}"
        );
    }
    // The history merge read day 1: every instance kept its first_seen from there.
    let carried = "SELECT count(*) AS n FROM {} t WHERE t.first_seen < t.last_seen";
    let duck_carried = python_command()
        .args([
            "-c",
            "import duckdb, sys; print(duckdb.connect().execute(sys.argv[1]).fetchone()[0])",
        ])
        .arg(carried.replace(
            "{}",
            &format!("read_parquet('{}/ec2_instances.parquet')", out.display()),
        ))
        .output()
        .unwrap();
    assert!(
        duck_carried.status.success(),
        "{}",
        String::from_utf8_lossy(&duck_carried.stderr)
    );
    let lake_carried = query(
        &lake,
        &carried.replace("{}", "(SELECT * FROM ec2_instances WHERE snapshot_date = '2026-11-24')"),
    );
    let lake_carried = lake_carried[0]["n"].as_u64().unwrap();
    assert!(lake_carried > 100, "day 2 continues day 1's history: {lake_carried}");
    assert_eq!(
        String::from_utf8_lossy(&duck_carried.stdout).trim(),
        lake_carried.to_string(),
        "the same history in both engines"
    );
}
