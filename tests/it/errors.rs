//! Bad input ends with one clear error line and a non-zero exit, never a panic.

use crate::discovery::foreign_org;
use crate::support::{FaultProxy, Moto, SnsInbox, assert_one_line_error, make_bucket, orglake, query, run_orglake};
use serde_json::json;

#[test]
fn a_bad_config_file_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("orglake.toml");
    std::fs::write(&config, "max_concurrency = 0\n").unwrap();
    let output = run_orglake(&["run", "--config", config.to_str().unwrap()]);
    assert_one_line_error(&output, 1, &["max_concurrency", "between 1 and 1024"]);
    std::fs::write(&config, "ou_id = \"ou-ab12-cdef3456\"\n").unwrap();
    let output = run_orglake(&["run", "--config", config.to_str().unwrap()]);
    assert_one_line_error(&output, 1, &["ou_id", "unknown key", "ou_ids"]);
    let output = orglake()
        .args(["run"])
        .env("ORGLAKE_AS_OF", "last tuesday")
        .output()
        .unwrap();
    assert_one_line_error(&output, 1, &["ORGLAKE_AS_OF", "RFC 3339"]);
}

#[test]
fn a_malformed_or_unknown_ou_id_says_so() {
    let output = run_orglake(&["run", "--ou-id", "engineering"]);
    assert_one_line_error(&output, 1, &["--ou-id", "not an OU id"]);
    let moto = Moto::start();
    let org = moto.seed(&foreign_org());
    let missing = format!("{}-zzzzzzzz", org.ou("Finance").rsplit_once('-').unwrap().0);
    let lake = tempfile::tempdir().unwrap();
    let output = run_orglake(&[
        "run",
        "--ou-id",
        &missing,
        "--endpoint-url",
        &moto.url(),
        "--warehouse",
        lake.path().to_str().unwrap(),
    ]);
    assert_one_line_error(&output, 1, &[&missing, "not found"]);
}

#[test]
fn an_unreachable_endpoint_is_one_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let lake = tempfile::tempdir().unwrap();
    let output = run_orglake(&[
        "run",
        "--endpoint-url",
        &format!("http://127.0.0.1:{port}"),
        "--max-retries",
        "0",
        "--warehouse",
        lake.path().to_str().unwrap(),
    ]);
    assert_one_line_error(&output, 1, &["cannot reach AWS", &port.to_string(), "--endpoint-url"]);
}

#[test]
fn denied_accounts_are_recorded_and_the_run_is_partial() {
    let moto = Moto::start();
    let org = moto.seed(&foreign_org());
    let proxy = FaultProxy::start(&moto.url());
    let (denied_a, denied_b) = (org.account("core"), org.account("finance"));
    proxy.set_rules(json!([
        {"action": "AssumeRole", "contains": denied_a, "fault": "deny"},
        {"action": "AssumeRole", "contains": denied_b, "fault": "deny"}
    ]));
    let lake = tempfile::tempdir().unwrap();
    let output = run_orglake(&[
        "run",
        "--endpoint-url",
        &proxy.url(),
        "--warehouse",
        lake.path().to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(3),
        "partial exit code; stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("PARTIAL") && stdout.contains(&denied_a) && stdout.contains(&denied_b),
        "summary: {stdout}"
    );

    let failed = query(
        lake.path(),
        "SELECT account_id, stage, status, error_code FROM account_status WHERE status IN ('auth_failed', 'error') ORDER BY account_id",
    );
    let mut expected = vec![
        json!({"account_id": denied_a, "stage": "assume_role", "status": "auth_failed", "error_code": "AccessDenied"}),
        json!({"account_id": denied_b, "stage": "assume_role", "status": "auth_failed", "error_code": "AccessDenied"}),
    ];
    expected.sort_by_key(|v| v["account_id"].as_str().unwrap().to_string());
    assert_eq!(failed, expected);
    let runs = query(lake.path(), "SELECT status, accounts_ok, accounts_failed FROM runs");
    assert_eq!(
        runs,
        vec![json!({"status": "partial", "accounts_ok": 5, "accounts_failed": 2})]
    );
    let identities = query(
        lake.path(),
        "SELECT count(*) AS n FROM account_status WHERE stage = 'identity' AND status = 'ok'",
    );
    assert_eq!(identities, vec![json!({"n": 5})], "every other account was scanned");
    assert_eq!(
        proxy.counts()["AssumeRole"],
        json!(7),
        "one AssumeRole per active account; a denial is not retried"
    );
}

#[test]
fn a_fatal_run_publishes_its_one_line_error_to_the_topic() {
    let moto = Moto::start();
    moto.seed(&foreign_org());
    let inbox = SnsInbox::create(&moto);
    let lake = tempfile::tempdir().unwrap();
    let local = lake.path().to_str().unwrap();
    let fatal = |endpoint: &str, args: &[&str]| {
        let mut all = vec!["run", "--endpoint-url", endpoint, "--sns-topic-arn", &inbox.topic];
        all.extend_from_slice(args);
        let output = run_orglake(&all);
        let line = assert_one_line_error(&output, 1, &[]);
        let messages = inbox.take();
        assert_eq!(messages.len(), 1, "one message for the fatal run: {messages:?}");
        let (subject, body) = messages[0].clone();
        assert!(
            subject.starts_with("orglake: run ") && subject.ends_with(" failed"),
            "{subject}"
        );
        // The first 100 characters: moto rewrites anything that looks like a RequestId in what it serves.
        let error: String = line.trim_start_matches("error: ").chars().take(100).collect();
        assert!(
            body.contains(&format!("error: {error}")),
            "the body carries the error line {error:?}: {body}"
        );
        body
    };

    let body = fatal(&moto.url(), &["--ou-id", "ou-zzzz-zzzzzzzz", "--warehouse", local]);
    assert!(
        body.contains("ou-zzzz-zzzzzzzz") && body.contains("was not found"),
        "discovery: {body}"
    );

    let file = lake.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let not_writable = file.join("lake");
    let body = fatal(&moto.url(), &["--warehouse", not_writable.to_str().unwrap()]);
    assert!(body.contains("a-file"), "lake not writable: {body}");

    make_bucket(&moto, "alerts-lake");
    let proxy = FaultProxy::start(&moto.url());
    proxy.set_rules(json!([{"contains": "/alerts-lake/lake/runs/", "fault": "error500"}]));
    let body = fatal(
        &proxy.url(),
        &["--warehouse", "s3://alerts-lake/lake", "--max-retries", "0"],
    );
    assert!(body.contains("runs/"), "manifest PUT: {body}");

    let output = run_orglake(&[
        "run",
        "--endpoint-url",
        &moto.url(),
        "--sns-topic-arn",
        &inbox.topic,
        "--warehouse",
        local,
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(inbox.take().is_empty(), "a clean run sends nothing");
}

#[test]
fn each_command_accepts_only_its_own_flags() {
    let lake = tempfile::tempdir().unwrap();
    let warehouse = lake.path().to_str().unwrap();
    for (command, flag) in [
        (vec!["query", "SELECT 1"], vec!["--apply"]),
        (vec!["query", "SELECT 1"], vec!["--allow-many-tag-changes"]),
        (vec!["query", "SELECT 1"], vec!["--tag-key", "x"]),
        (vec!["query", "SELECT 1"], vec!["--ou-id", "ou-ab12-cdef3456"]),
        (
            vec![
                "export",
                "--table",
                "accounts",
                "--from",
                "2026-01-01",
                "--to",
                "2026-01-02",
            ],
            vec!["--sse", "AES256"],
        ),
        (vec!["vacuum"], vec!["--tag-overwrite", "true"]),
        (vec!["glue", "sync"], vec!["--as-of", "2026-01-01"]),
        (vec!["bench-load"], vec!["--apply"]),
    ] {
        let mut args = command.clone();
        args.extend(["--warehouse", warehouse]);
        args.extend(flag.iter().copied());
        let output = run_orglake(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?} is refused as a usage error: {stderr}"
        );
        assert!(
            stderr.contains(&format!("unexpected argument '{}'", flag[0])),
            "{args:?} names the flag: {stderr}"
        );
    }
    // The commands that own them still take them.
    for args in [
        vec!["run", "--apply", "--help"],
        vec!["tag", "--tag-key", "Owner", "--help"],
        vec!["vacuum", "--apply", "--help"],
        vec!["glue", "sync", "--glue-database", "inventory", "--help"],
    ] {
        let output = run_orglake(&args);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn a_missing_sql_file_is_named_as_such() {
    let lake = tempfile::tempdir().unwrap();
    let output = run_orglake(&[
        "query",
        "--warehouse",
        lake.path().to_str().unwrap(),
        "--file",
        "no-such-query.sql",
    ]);
    let line = assert_one_line_error(&output, 1, &["cannot read SQL file no-such-query.sql", "--file"]);
    assert!(!line.contains("config file"), "{line}");
}

#[test]
fn bench_load_refuses_a_lake_that_holds_a_real_organization() {
    let moto = Moto::start();
    moto.seed(&foreign_org());
    let lake = tempfile::tempdir().unwrap();
    let warehouse = lake.path().to_str().unwrap();
    let output = run_orglake(&["run", "--endpoint-url", &moto.url(), "--warehouse", warehouse]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let organization = query(lake.path(), "SELECT organization_id FROM runs")[0]["organization_id"]
        .as_str()
        .unwrap()
        .to_string();
    let tiny = ["--instances", "20", "--users", "5", "--org-accounts", "2"];
    let mut args = vec!["bench-load", "--warehouse", warehouse];
    args.extend(tiny);
    let output = run_orglake(&args);
    assert_one_line_error(&output, 1, &["warehouse", &organization, "synthetic"]);
    assert_eq!(
        query(lake.path(), "SELECT count(*) AS n FROM raw_runs"),
        vec![json!({"n": 1})]
    );

    let synthetic = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let mut args = vec!["bench-load", "--warehouse", synthetic.path().to_str().unwrap()];
        args.extend(tiny);
        let output = run_orglake(&args);
        assert!(
            output.status.success(),
            "a synthetic lake takes more synthetic days: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn each_command_offers_exactly_the_settings_of_its_groups() {
    for (command, groups) in orglake::config::settings::COMMANDS {
        let mut args: Vec<&str> = command.split(' ').collect();
        args.push("--help");
        let output = run_orglake(&args);
        assert!(output.status.success(), "{args:?}");
        let help = String::from_utf8_lossy(&output.stdout).to_string();
        let offered: std::collections::BTreeSet<&str> = help
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("--"))
            .filter_map(|l| l.split([' ', '[']).next())
            .collect();
        for setting in orglake::config::SETTINGS {
            // The setting's own flag: its name with its help (vacuum has an --apply of its own).
            let flag = setting.flag.trim_start_matches("--");
            assert_eq!(
                offered.contains(flag) && help.contains(&setting.help_line()),
                groups.contains(&setting.group),
                "`orglake {command}` offers {} exactly when it takes the {:?} settings",
                setting.flag,
                setting.group
            );
        }
        assert!(offered.contains("config"), "{command} takes --config");
    }
}

#[test]
fn every_subcommand_has_a_consistent_definition() {
    // In debug builds clap checks a command's whole definition (duplicate flags, bad
    // defaults, conflicts) when it parses, so `--help` of each subcommand is that check.
    let help = run_orglake(&["--help"]);
    let text = String::from_utf8_lossy(&help.stdout).to_string();
    let commands: Vec<&str> = text
        .split("Commands:")
        .nth(1)
        .unwrap()
        .split("Options:")
        .next()
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 7, "{commands:?}");
    for command in commands.iter().copied().chain(["bench-load"]) {
        let output = run_orglake(&[command, "--help"]);
        assert!(
            output.status.success(),
            "{command} --help: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    for sub in ["render", "sync"] {
        let output = run_orglake(&["glue", sub, "--help"]);
        assert!(output.status.success(), "glue {sub} --help");
    }
}
