//! Owner tagging: plan, dry run, apply, audit, guard.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::support::{FaultProxy, Moto, Seeded, boto3_lines, query, run_orglake};

fn tagging_org() -> Value {
    let instance = |tags: Value, state: &str| json!({"region": "us-east-1", "state": state, "tags": tags});
    json!({
        "ous": {"Fleet": {}},
        "accounts": [
            {"name": "alpha", "ou": "Fleet", "tags": {"owner": " Alice@Example.com "}, "instances": [
                instance(json!({"Name": "missing"}), "running"),
                instance(json!({"Name": "right", "OWNER": " alice@example.COM"}), "running"),
                instance(json!({"Name": "different", "owner": "bob@example.com"}), "stopped"),
                instance(json!({"Name": "gone"}), "terminated")
            ]},
            {"name": "skipme", "ou": "Fleet", "tags": {"owner": "ops@Skip.Example.org"}, "instances": [instance(json!({"Name": "skip"}), "running")]},
            {"name": "noowner", "ou": "Fleet", "instances": [instance(json!({"Name": "orphan"}), "running")]},
            {"name": "denied", "ou": "Fleet", "tags": {"owner": "dan@example.com"}, "instances": [instance(json!({"Name": "locked"}), "running")]},
            {"name": "excluded", "ou": "Fleet", "tags": {"owner": "eve@example.com"}, "instances": [instance(json!({"Name": "left-alone"}), "running")]}
        ]
    })
}

/// Instance Name tag -> all tags, as boto3 sees them now.
fn tags_by_name(endpoint: &str, org: &Seeded) -> BTreeMap<String, Value> {
    let accounts: Vec<String> = ["alpha", "skipme", "noowner", "denied", "excluded"]
        .iter()
        .map(|n| org.account(n))
        .collect();
    boto3_lines("ec2_view.py", &[endpoint, &accounts.join(","), "us-east-1"])
        .into_iter()
        .map(|v| (v["tags"]["Name"].as_str().unwrap().to_string(), v["tags"].clone()))
        .collect()
}

fn tag(lake: &std::path::Path, endpoint: &str, org: &Seeded, extra: &[&str]) -> std::process::Output {
    let (fleet, excluded) = (org.ou("Fleet"), org.account("excluded"));
    let warehouse = lake.to_str().unwrap();
    let mut args = vec![
        "tag",
        "--ou-id",
        &fleet,
        "--endpoint-url",
        endpoint,
        "--warehouse",
        warehouse,
    ];
    args.extend_from_slice(&[
        "--skip-owner-domain",
        "skip.example.org",
        "--tag-exclude-account",
        &excluded,
    ]);
    args.extend_from_slice(extra);
    run_orglake(&args)
}

fn latest_plan(lake: &std::path::Path) -> Vec<Value> {
    query(
        lake,
        "SELECT a.instance_id, a.reason, a.change, a.mode, a.new_value, a.error FROM latest_tag_actions a ORDER BY a.instance_id",
    )
}

#[test]
fn the_plan_follows_the_rule_and_a_dry_run_writes_nothing() {
    let moto = Moto::start();
    let org = moto.seed(&tagging_org());
    let proxy = FaultProxy::start(&moto.url());
    let before = tags_by_name(&moto.url(), &org);
    let lake = tempfile::tempdir().unwrap();
    let output = tag(lake.path(), &proxy.url(), &org, &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        proxy.counts()["CreateTags"],
        Value::Null,
        "a dry run makes no write call"
    );
    assert_eq!(tags_by_name(&moto.url(), &org), before);

    let names = [
        ("alpha", vec!["missing", "right", "different", "gone"]),
        ("skipme", vec!["skip"]),
        ("noowner", vec!["orphan"]),
        ("denied", vec!["locked"]),
        ("excluded", vec!["left-alone"]),
    ];
    let ids: BTreeMap<String, String> = names
        .iter()
        .flat_map(|(account, names)| {
            org.instances(account)
                .into_iter()
                .zip(names.iter().map(|n| n.to_string()))
        })
        .collect();
    let reasons: BTreeMap<String, (String, String)> = latest_plan(lake.path())
        .into_iter()
        .map(|r| {
            (
                ids[r["instance_id"].as_str().unwrap()].clone(),
                (
                    r["reason"].as_str().unwrap().to_string(),
                    r["mode"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect();
    let expect = |name: &str, reason: &str, mode: &str| {
        assert_eq!(reasons[name], (reason.to_string(), mode.to_string()), "{name}")
    };
    expect("missing", "missing", "dry_run");
    expect("right", "already_right", "none");
    expect("different", "different_not_overwritten", "none");
    expect("gone", "skipped_instance_terminated", "none");
    expect("skip", "skipped_owner_in_skip_domain", "none");
    expect("orphan", "skipped_account_has_no_owner", "none");
    expect("locked", "missing", "dry_run");
    expect("left-alone", "skipped_account_excluded", "none");
    let values = query(
        lake.path(),
        "SELECT DISTINCT new_value FROM latest_tag_actions WHERE change AND new_value LIKE 'Alice%'",
    );
    assert_eq!(
        values,
        vec![json!({"new_value": "Alice@Example.com"})],
        "the account owner, trimmed"
    );
}

#[test]
fn apply_writes_exactly_the_plan_records_a_denied_account_and_then_plans_nothing() {
    let moto = Moto::start();
    let org = moto.seed(&tagging_org());
    let proxy = FaultProxy::start(&moto.url());
    proxy.set_rules(json!([{"action": "CreateTags", "account": org.account("denied"), "fault": "deny", "code": "UnauthorizedOperation"}]));
    let before = tags_by_name(&moto.url(), &org);
    let lake = tempfile::tempdir().unwrap();
    let output = tag(lake.path(), &proxy.url(), &org, &["--apply", "--tag-overwrite", "true"]);
    assert_eq!(
        output.status.code(),
        Some(3),
        "partial: one account denied; {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let after = tags_by_name(&moto.url(), &org);
    let mut expected = before.clone();
    expected.get_mut("missing").unwrap()["owner"] = json!("Alice@Example.com");
    expected.get_mut("different").unwrap()["owner"] = json!("Alice@Example.com");
    assert_eq!(after, expected, "exactly the planned tags, nothing else");

    let failed = query(
        lake.path(),
        "SELECT mode, error FROM latest_tag_actions WHERE mode = 'failed'",
    );
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]["error"].as_str().unwrap().contains("UnauthorizedOperation"),
        "{failed:?}"
    );
    let status = query(
        lake.path(),
        "SELECT account_id, status FROM latest_account_status WHERE stage = 'tag' ORDER BY account_id",
    );
    assert!(
        status.contains(&json!({"account_id": org.account("denied"), "status": "auth_failed"})),
        "{status:?}"
    );
    assert!(
        status.contains(&json!({"account_id": org.account("alpha"), "status": "ok"})),
        "{status:?}"
    );
    assert!(
        lake.path().join("exports/tag_actions").is_dir(),
        "the audit has a CSV export"
    );

    proxy.set_rules(json!([]));
    let output = tag(lake.path(), &proxy.url(), &org, &["--apply", "--tag-overwrite", "true"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let output = tag(lake.path(), &proxy.url(), &org, &["--apply", "--tag-overwrite", "true"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let changes = query(lake.path(), "SELECT count(*) AS n FROM latest_tag_actions WHERE change");
    assert_eq!(changes, vec![json!({"n": 0})], "a settled fleet plans nothing");
}

#[test]
fn more_changes_than_the_limit_are_refused_clearly() {
    let moto = Moto::start();
    let org = moto.seed(&tagging_org());
    let proxy = FaultProxy::start(&moto.url());
    let lake = tempfile::tempdir().unwrap();
    let output = tag(lake.path(), &proxy.url(), &org, &["--apply", "--max-tag-changes", "1"]);
    assert_eq!(output.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("refused to apply 2 tag changes"), "{stdout}");
    assert_eq!(proxy.counts()["CreateTags"], Value::Null);
    let refused = query(
        lake.path(),
        "SELECT count(*) AS n FROM latest_tag_actions WHERE mode = 'refused'",
    );
    assert_eq!(refused, vec![json!({"n": 2})]);
}

#[test]
fn a_tag_written_to_aws_is_audited_in_a_committed_run_even_when_the_process_dies_right_after() {
    let moto = Moto::start();
    let org = moto.seed(&tagging_org());
    let proxy = FaultProxy::start(&moto.url());
    let lake = tempfile::tempdir().unwrap();
    let (fleet, excluded) = (org.ou("Fleet"), org.account("excluded"));
    let proxy_url = proxy.url();
    let mut child = crate::support::orglake()
        .args(["tag", "--ou-id", &fleet, "--endpoint-url", &proxy_url])
        .args(["--warehouse", lake.path().to_str().unwrap(), "--apply"])
        .args([
            "--skip-owner-domain",
            "skip.example.org",
            "--tag-exclude-account",
            &excluded,
        ])
        .env(orglake::run::PAUSE_AFTER_TAGS_ENV, "60000")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    while proxy.counts()["CreateTags"].as_u64().unwrap_or(0) < 2 {
        assert!(std::time::Instant::now() < deadline, "no CreateTags within 90s");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be killed"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    child.kill().unwrap(); // SIGKILL, after the calls and before their outcomes
    child.wait().unwrap();

    let tagged = tags_by_name(&moto.url(), &org);
    assert_eq!(
        tagged["missing"]["owner"],
        json!("Alice@Example.com"),
        "the tag is in AWS"
    );
    assert_eq!(tagged["locked"]["owner"], json!("dan@example.com"));
    let audit = query(
        lake.path(),
        "SELECT mode, count(*) AS n FROM tag_actions WHERE change GROUP BY mode ORDER BY mode",
    );
    assert_eq!(
        audit,
        vec![json!({"mode": "intended", "n": 2})],
        "every write is covered by a committed intent, though its outcome was never recorded"
    );
    assert!(
        !lake.path().join("exports/tag_actions").exists(),
        "exports come after the tags, so none were written"
    );
    // Vacuum never deletes the audit.
    run_orglake(&[
        "vacuum",
        "--warehouse",
        lake.path().to_str().unwrap(),
        "--older-than-hours",
        "0",
        "--apply",
    ]);
    assert_eq!(
        query(
            lake.path(),
            "SELECT count(*) AS n FROM tag_actions WHERE mode = 'intended'"
        ),
        vec![json!({"n": 2})]
    );
}

#[test]
fn a_capitalised_tag_key_reads_the_account_tag_in_any_case_and_rewrites_the_key_an_instance_carries() {
    let moto = Moto::start();
    let instance = |tags: Value| json!({"region": "us-east-1", "state": "running", "tags": tags});
    let org = moto.seed(&json!({
        "ous": {"Fleet": {}},
        "accounts": [
            {"name": "alpha", "ou": "Fleet", "tags": {"Owner": "alice@example.com"}, "instances": [
                instance(json!({"Name": "untagged"})),
                instance(json!({"Name": "stale", "OWNER": "bob@example.com"})),
                instance(json!({"Name": "exact", "Owner": "carol@example.com"}))
            ]},
            {"name": "lower", "ou": "Fleet", "tags": {"owner": "dave@example.com"}, "instances": [
                instance(json!({"Name": "lower-untagged"}))
            ]}
        ]
    }));
    let lake = tempfile::tempdir().unwrap();
    let output = run_orglake(&[
        "tag",
        "--ou-id",
        &org.ou("Fleet"),
        "--endpoint-url",
        &moto.url(),
        "--warehouse",
        lake.path().to_str().unwrap(),
        "--tag-key",
        "Owner",
        "--tag-overwrite",
        "true",
        "--apply",
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let owners = query(
        lake.path(),
        "SELECT account_name, owner_tag FROM latest_accounts ORDER BY account_name",
    );
    assert_eq!(
        owners,
        vec![
            json!({"account_name": "alpha", "owner_tag": "alice@example.com"}),
            json!({"account_name": "lower", "owner_tag": "dave@example.com"})
        ],
        "the account tag is read with the configured key, in any case"
    );
    let accounts = [org.account("alpha"), org.account("lower")];
    let tags: BTreeMap<String, Value> = boto3_lines("ec2_view.py", &[&moto.url(), &accounts.join(","), "us-east-1"])
        .into_iter()
        .map(|v| (v["tags"]["Name"].as_str().unwrap().to_string(), v["tags"].clone()))
        .collect();
    let owner_keys = |name: &str| -> Vec<(String, Value)> {
        tags[name]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("owner"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    assert_eq!(
        owner_keys("untagged"),
        vec![("Owner".into(), json!("alice@example.com"))]
    );
    assert_eq!(
        owner_keys("stale"),
        vec![("OWNER".into(), json!("alice@example.com"))],
        "the key the instance carries is rewritten, no second owner tag"
    );
    assert_eq!(owner_keys("exact"), vec![("Owner".into(), json!("alice@example.com"))]);
    assert_eq!(
        owner_keys("lower-untagged"),
        vec![("Owner".into(), json!("dave@example.com"))]
    );
    let written = query(
        lake.path(),
        "SELECT tag_key FROM latest_tag_actions WHERE mode = 'applied' ORDER BY tag_key",
    );
    assert_eq!(written.len(), 4, "{written:?}");
    assert!(written.iter().any(|r| r["tag_key"] == json!("OWNER")), "{written:?}");
}
