//! IAM users against an organization seeded by someone else.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value, json};

use crate::support::{FaultProxy, Moto, boto3_lines, export_csv, query, run_ok, run_orglake};

fn iam_org() -> Value {
    json!({
        "ous": {"Corp": {}},
        "accounts": [
            {"name": "people", "ou": "Corp", "users": [
                {"name": "alice", "path": "/admins/", "groups": ["admins", "dev"], "alias": "acme-people",
                 "tags": {"team": "sécurité", "note": "=HYPERLINK(\"x\")", "csv": "a, \"b\"\nc"},
                 "console": true, "mfa": true, "keys": 2, "inactive_keys": 1, "certs": 1},
                {"name": "bot", "keys": 2},
                {"name": "nobody", "console": true}
            ]},
            {"name": "empty", "ou": "Corp"}
        ]
    })
}

fn boto3_view(endpoint: &str, accounts: &[String]) -> BTreeSet<String> {
    boto3_lines("iam_view.py", &[endpoint, &accounts.join(",")])
        .iter()
        .map(Value::to_string)
        .collect()
}

fn orglake_view(lake: &Path) -> BTreeSet<String> {
    let sql = "SELECT account_id, user_name, path, groups, tags, mfa_device_count, console_access, access_keys, signing_certificates FROM latest_iam_users";
    query(lake, sql)
        .into_iter()
        .map(|r| {
            let mut keys: Vec<Value> = r["access_keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| json!([k["access_key_id"], k["status"]]))
                .collect();
            keys.sort_by_key(|k| k.to_string());
            let mut groups: Vec<Value> = r["groups"].as_array().unwrap().clone();
            groups.sort_by_key(|g| g.to_string());
            json!({
                "account_id": r["account_id"], "user_name": r["user_name"], "path": r["path"], "groups": groups,
                "tags": if r["tags"].is_null() { json!({}) } else { r["tags"].clone() },
                "mfa_device_count": r["mfa_device_count"], "console_access": r["console_access"],
                "access_keys": keys, "certificates": r["signing_certificates"].as_array().unwrap().len(),
            })
            .to_string()
        })
        .collect()
}

#[test]
fn iam_users_hold_what_boto3_sees_and_the_csv_is_the_old_scripts() {
    let moto = Moto::start();
    let org = moto.seed(&iam_org());
    let lake = tempfile::tempdir().unwrap();
    run_ok(&[
        "run",
        "--ou-id",
        &org.ou("Corp"),
        "--endpoint-url",
        &moto.url(),
        "--warehouse",
        lake.path().to_str().unwrap(),
        "--as-of",
        "2030-01-01T00:00:00Z",
    ]);

    let accounts = [org.account("people"), org.account("empty")];
    let expected = boto3_view(&moto.url(), &accounts);
    assert_eq!(expected.len(), 3);
    assert_eq!(orglake_view(lake.path()), expected);

    let alice = &query(lake.path(), "SELECT * FROM iam_users WHERE user_name = 'alice'")[0];
    assert_eq!(alice["account_alias"], json!("acme-people"));
    assert_eq!(alice["mfa_enabled"], json!(true));
    let age = alice["age_days"].as_i64().unwrap();
    let expected_age = (chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc)
        - chrono::Utc::now())
    .num_days();
    assert!(
        (age - expected_age).abs() <= 1,
        "age against the run clock: {age} vs {expected_age}"
    );
    assert_eq!(alice["active_key_count"], json!(1));
    let active = alice["access_keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["status"] == json!("Active"))
        .unwrap();
    assert_eq!(alice["active_key_id"], active["access_key_id"]);

    let bot = &query(
        lake.path(),
        "SELECT active_key_id, active_key_count FROM iam_users WHERE user_name = 'bot'",
    )[0];
    assert_eq!(bot["active_key_count"], json!(2));
    let bot_keys = &org.0["users"]["people"]["bot"];
    assert_eq!(
        bot["active_key_id"], bot_keys[0],
        "two active keys: the oldest one is reported"
    );

    let statuses = query(
        lake.path(),
        &format!(
            "SELECT status FROM account_status WHERE stage = 'iam_users' AND account_id = '{}'",
            accounts[1]
        ),
    );
    assert_eq!(statuses, vec![json!({"status": "no_data"})]);

    let (name, records) = export_csv(lake.path(), "iam_users");
    assert!(
        name.starts_with(&format!("IAM_USER_TAGS_{}_combined_", org.organization_id())) && name.ends_with(".csv"),
        "{name}"
    );
    let header: Vec<&str> = records[0].iter().collect();
    assert_eq!(
        header,
        [
            "AccountID",
            "AccountAlias",
            "UserName",
            "Tags",
            "CreationDateTime",
            "CreationAgeInDays",
            "Path",
            "Groups",
            "MFAEnabled",
            "LastActivity",
            "PasswordAge",
            "ConsoleLastSignIn",
            "AccessKeyID",
            "ActiveKeyAge",
            "AccessKeyLastUsed",
            "ARN",
            "ConsoleAccess",
            "SigningCerts"
        ]
    );
    assert_eq!(records.len(), 4);
    let row = |user: &str| records.iter().find(|r| r.get(2) == Some(user)).unwrap().clone();
    let tags: Value = serde_json::from_str(row("alice").get(3).unwrap()).unwrap();
    assert_eq!(tags["csv"], json!("a, \"b\"\nc"));
    assert_eq!(tags["note"], json!("=HYPERLINK(\"x\")"));
    assert_eq!(row("alice").get(12), alice["active_key_id"].as_str());
    assert_eq!(row("nobody").get(12), Some(""), "no active key: empty");
    assert_eq!(row("nobody").get(16), Some("true"));
}

#[test]
fn throttled_iam_calls_are_retried_and_a_user_that_keeps_failing_is_kept_and_reported() {
    let moto = Moto::start();
    let org = moto.seed(&iam_org());
    let proxy = FaultProxy::start(&moto.url());
    proxy.set_rules(json!([
        {"action": "ListAccessKeys", "fault": "throttle", "code": "Throttling", "times": 3},
        {"action": "ListMFADevices", "contains": "UserName=bot", "fault": "throttle", "code": "Throttling"}
    ]));
    let lake = tempfile::tempdir().unwrap();
    let output = run_orglake(&[
        "run",
        "--ou-id",
        &org.ou("Corp"),
        "--endpoint-url",
        &proxy.url(),
        "--warehouse",
        lake.path().to_str().unwrap(),
        "--max-retries",
        "2",
    ]);
    assert_eq!(
        output.status.code(),
        Some(3),
        "partial; stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let users = query(
        lake.path(),
        "SELECT user_name, mfa_device_count, detail_error, active_key_count FROM iam_users ORDER BY user_name",
    );
    assert_eq!(users.len(), 3, "no user is dropped: {users:?}");
    let bot = users.iter().find(|u| u["user_name"] == json!("bot")).unwrap();
    assert!(bot["detail_error"].as_str().unwrap().contains("MFA devices"), "{bot}");
    assert_eq!(bot["mfa_device_count"], Value::Null);
    assert_eq!(bot["active_key_count"], json!(2), "what could be read is kept");
    assert!(
        users
            .iter()
            .filter(|u| u["user_name"] != json!("bot"))
            .all(|u| u["detail_error"].is_null()),
        "{users:?}"
    );
    let failed = query(
        lake.path(),
        "SELECT account_id, status, error_code FROM account_status WHERE stage = 'iam_users' AND status = 'error'",
    );
    assert_eq!(
        failed,
        vec![json!({"account_id": org.account("people"), "status": "error", "error_code": "IncompleteUsers"})]
    );
    assert_eq!(
        proxy.counts()["ListMFADevices"],
        json!(3 + 2),
        "alice, nobody, and bot three times (two retries)"
    );
}

#[test]
fn throttling_on_every_per_user_call_is_absorbed_and_every_user_arrives_complete() {
    let moto = Moto::start();
    let org = moto.seed(&iam_org());
    let proxy = FaultProxy::start(&moto.url());
    let per_user = [
        "ListAccessKeys",
        "GetAccessKeyLastUsed",
        "ListMFADevices",
        "GetLoginProfile",
        "ListSigningCertificates",
    ];
    let rules: Vec<Value> = per_user
        .iter()
        .map(|a| json!({"action": a, "fault": "throttle", "code": "Throttling", "times": 2}))
        .collect();
    proxy.set_rules(json!(rules));
    let lake = tempfile::tempdir().unwrap();
    run_ok(&[
        "run",
        "--ou-id",
        &org.ou("Corp"),
        "--endpoint-url",
        &proxy.url(),
        "--warehouse",
        lake.path().to_str().unwrap(),
    ]);
    let incomplete = query(
        lake.path(),
        "SELECT user_name FROM iam_users WHERE detail_error IS NOT NULL",
    );
    assert_eq!(incomplete, Vec::<Value>::new());
    let expected = boto3_view(&moto.url(), &[org.account("people"), org.account("empty")]);
    assert_eq!(orglake_view(lake.path()), expected);
    let counts = proxy.counts();
    for action in per_user {
        assert!(
            counts[action].as_u64().unwrap() >= 3,
            "{action} was throttled and retried: {counts}"
        );
    }
}
