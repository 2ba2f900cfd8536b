//! IAM credential reports: parsed rows, raw copies, the poll limit and the SNS message.

use serde_json::{Value, json};

use crate::support::{FaultProxy, Moto, SnsInbox, boto3_lines, python_command, query, run_ok, run_orglake};

fn report_org() -> Value {
    json!({
        "ous": {"Corp": {}},
        "accounts": [
            {"name": "people", "ou": "Corp", "users": [
                {"name": "alice", "console": true, "mfa": true, "keys": 2, "inactive_keys": 1, "certs": 1},
                {"name": "bob", "console": true, "keys": 1},
                {"name": "svc-ünïcode"}
            ]},
            {"name": "stuck", "ou": "Corp", "users": [{"name": "carol", "keys": 1}]},
            {"name": "empty", "ou": "Corp"}
        ]
    })
}

fn boto3_reports(endpoint: &str, accounts: &[String]) -> Vec<(String, Vec<u8>)> {
    boto3_lines("report_view.py", &[endpoint, &accounts.join(",")])
        .into_iter()
        .map(|v| {
            let content = base64_decode(v["content_base64"].as_str().unwrap());
            (v["account_id"].as_str().unwrap().to_string(), content)
        })
        .collect()
}

fn base64_decode(text: &str) -> Vec<u8> {
    let script = "import base64, sys; sys.stdout.buffer.write(base64.b64decode(sys.argv[1]))";
    python_command().args(["-c", script, text]).output().unwrap().stdout
}

#[test]
fn parsed_rows_and_raw_copies_match_what_boto3_downloads() {
    let moto = Moto::start();
    let org = moto.seed(&report_org());
    let lake = tempfile::tempdir().unwrap();
    run_ok(&[
        "run",
        "--ou-id",
        &org.ou("Corp"),
        "--endpoint-url",
        &moto.url(),
        "--warehouse",
        lake.path().to_str().unwrap(),
    ]);
    let run_id = query(lake.path(), "SELECT run_id FROM runs")[0]["run_id"]
        .as_str()
        .unwrap()
        .to_string();

    let accounts = [org.account("people"), org.account("stuck"), org.account("empty")];
    for (account, content) in boto3_reports(&moto.url(), &accounts) {
        let dir = std::fs::read_dir(lake.path().join("raw/credential_reports"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let raw = std::fs::read(dir.join(format!("{account}-{run_id}.csv"))).unwrap();
        assert_eq!(raw, content, "the raw copy of {account} is byte-identical");

        let mut reader = csv::Reader::from_reader(content.as_slice());
        let headers = reader.headers().unwrap().clone();
        let lines: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        let rows = query(
            lake.path(),
            &format!("SELECT * FROM iam_credential_report WHERE account_id = '{account}' ORDER BY user"),
        );
        assert_eq!(rows.len(), lines.len(), "{account}: one row per report line");
        for line in &lines {
            let cell = |name: &str| line.get(headers.iter().position(|h| h == name).unwrap()).unwrap();
            let row = rows
                .iter()
                .find(|r| r["user"] == json!(cell("user")))
                .expect("every user");
            for column in [
                "password_enabled",
                "mfa_active",
                "access_key_1_active",
                "access_key_2_active",
                "cert_1_active",
            ] {
                let expected = match cell(column) {
                    "true" => json!(true),
                    "false" => json!(false),
                    _ => Value::Null,
                };
                assert_eq!(row[column], expected, "{account} {} {column}", cell("user"));
            }
            for column in [
                "password_last_used",
                "access_key_1_last_used_date",
                "cert_1_last_rotated",
            ] {
                if ["N/A", "no_information", "not_supported"].contains(&cell(column)) {
                    assert_eq!(row[column], Value::Null);
                    assert_eq!(
                        row["special_values"][column],
                        json!(cell(column)),
                        "the special value is kept"
                    );
                }
            }
            assert_eq!(row["arn"], json!(cell("arn")));
        }
    }
    let by_stage = query(
        lake.path(),
        "SELECT status, count(*) AS n FROM account_status WHERE stage = 'credential_report' GROUP BY status",
    );
    assert_eq!(
        by_stage,
        vec![json!({"status": "ok", "n": 3})],
        "the three accounts of the OU"
    );
}

#[test]
fn a_report_that_never_completes_fails_after_the_poll_limit_and_one_sns_message_names_it() {
    let moto = Moto::start();
    let org = moto.seed(&report_org());
    let inbox = SnsInbox::create(&moto);

    let stuck = org.account("stuck");
    let proxy = FaultProxy::start(&moto.url());
    let started = "<GenerateCredentialReportResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><GenerateCredentialReportResult><State>STARTED</State><Description>No report exists.</Description></GenerateCredentialReportResult><ResponseMetadata><RequestId>proxy</RequestId></ResponseMetadata></GenerateCredentialReportResponse>";
    proxy.set_rules(
        json!([{"action": "GenerateCredentialReport", "account": stuck, "fault": "respond", "body": started}]),
    );
    let lake = tempfile::tempdir().unwrap();
    let output = run_orglake(&[
        "run",
        "--ou-id",
        &org.ou("Corp"),
        "--endpoint-url",
        &proxy.url(),
        "--warehouse",
        lake.path().to_str().unwrap(),
        "--report-max-polls",
        "4",
        "--sns-topic-arn",
        &inbox.topic,
    ]);
    assert_eq!(
        output.status.code(),
        Some(3),
        "partial; stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("notification: sent to"), "{stdout}");

    let reports = query(
        lake.path(),
        "SELECT account_id, status, error_code FROM account_status WHERE stage = 'credential_report' ORDER BY account_id",
    );
    assert_eq!(reports.len(), 3);
    for row in &reports {
        if row["account_id"] == json!(stuck) {
            assert_eq!(row["status"], json!("error"));
            assert_eq!(row["error_code"], json!("PollLimitExceeded"));
        } else {
            assert_eq!(row["status"], json!("ok"), "{row}");
        }
    }
    assert_eq!(
        proxy.counts()["GenerateCredentialReport"].as_u64().unwrap(),
        4 + 2 * 2,
        "4 polls for the stuck account, 2 for each other"
    );

    let messages = inbox.take();
    assert_eq!(messages.len(), 1, "one message per run: {messages:?}");
    let body = &messages[0].1;
    assert!(body.contains(&stuck) && body.contains("PollLimitExceeded"), "{body}");
    assert!(
        !body.contains(&org.account("people")),
        "only failed accounts are named: {body}"
    );
}

#[test]
fn no_message_is_sent_when_every_account_succeeds() {
    let moto = Moto::start();
    let org = moto.seed(&report_org());
    let proxy = FaultProxy::start(&moto.url());
    let lake = tempfile::tempdir().unwrap();
    let topic = "arn:aws:sns:us-east-1:123456789012:never-created";
    run_ok(&[
        "run",
        "--ou-id",
        &org.ou("Corp"),
        "--endpoint-url",
        &proxy.url(),
        "--warehouse",
        lake.path().to_str().unwrap(),
        "--sns-topic-arn",
        topic,
    ]);
    assert_eq!(proxy.counts()["Publish"], Value::Null, "no Publish call at all");
}

/// An IAM (Query protocol) error body, as AWS sends it.
fn iam_error(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>proxy</RequestId></ErrorResponse>"
    )
}

#[test]
fn capacity_limits_reports_in_progress_expiry_and_throttling_are_waited_out_and_a_young_report_is_kept() {
    let moto = Moto::start();
    let names = ["limited", "in-progress", "expired", "throttled", "young"];
    let accounts: Vec<Value> = names
        .iter()
        .map(|name| json!({"name": name, "ou": "Corp", "users": [{"name": format!("{name}-user"), "keys": 1}]}))
        .collect();
    let org = moto.seed(&json!({"ous": {"Corp": {}}, "accounts": accounts}));
    let young_report = "user,arn,user_creation_time,mfa_active\nkept-from-earlier,arn:aws:iam::1:user/kept-from-earlier,2026-01-01T00:00:00+00:00,false\n";
    let encode = "import base64, sys; print(base64.b64encode(sys.argv[1].encode()).decode())";
    let output = python_command().args(["-c", encode, young_report]).output().unwrap();
    let content = String::from_utf8(output.stdout).unwrap().trim().to_string();
    let generated = (chrono::Utc::now() - chrono::Duration::minutes(90)).format("%Y-%m-%dT%H:%M:%SZ");
    let young_body = format!(
        "<GetCredentialReportResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><GetCredentialReportResult><Content>{content}</Content><ReportFormat>text/csv</ReportFormat><GeneratedTime>{generated}</GeneratedTime></GetCredentialReportResult><ResponseMetadata><RequestId>proxy</RequestId></ResponseMetadata></GetCredentialReportResponse>"
    );
    let proxy = FaultProxy::start(&moto.url());
    proxy.set_rules(json!([
        {"action": "GenerateCredentialReport", "account": org.account("limited"), "fault": "respond", "status": 409,
         "body": iam_error("LimitExceeded", "No more capacity to launch new report generation tasks"), "times": 2},
        {"action": "GetCredentialReport", "account": org.account("in-progress"), "fault": "respond", "status": 404,
         "body": iam_error("ReportInProgress", "Report is still being generated"), "times": 2},
        {"action": "GetCredentialReport", "account": org.account("expired"), "fault": "respond", "status": 410,
         "body": iam_error("ReportExpired", "The credential report has expired"), "times": 1},
        {"action": "GenerateCredentialReport", "account": org.account("throttled"), "fault": "throttle",
         "code": "Throttling", "times": 2},
        {"action": "GetCredentialReport", "account": org.account("young"), "fault": "respond", "body": young_body},
        {"action": "GenerateCredentialReport", "account": org.account("young"), "fault": "deny"},
    ]));
    let lake = tempfile::tempdir().unwrap();
    run_ok(&[
        "run",
        "--ou-id",
        &org.ou("Corp"),
        "--endpoint-url",
        &proxy.url(),
        "--warehouse",
        lake.path().to_str().unwrap(),
        "--max-retries",
        "1",
        "--report-max-polls",
        "6",
    ]);
    let rows = query(
        lake.path(),
        "SELECT account_id, status, message FROM account_status WHERE stage = 'credential_report'",
    );
    let message = |name: &str| {
        let row = rows
            .iter()
            .find(|r| r["account_id"] == json!(org.account(name)))
            .unwrap_or_else(|| panic!("{name} has a credential_report outcome: {rows:?}"));
        assert_eq!(row["status"], json!("ok"), "{name}: {row}");
        row["message"].as_str().unwrap().to_string()
    };
    assert!(
        message("limited").contains("LimitExceeded x2"),
        "{}",
        message("limited")
    );
    assert!(
        message("in-progress").contains("ReportInProgress x2"),
        "{}",
        message("in-progress")
    );
    assert!(
        message("expired").starts_with("the last report had expired; generated a new one"),
        "{}",
        message("expired")
    );
    assert!(
        message("throttled").contains("Throttling x1"),
        "{}",
        message("throttled")
    );
    assert!(
        message("young").starts_with("reused the report generated") && message("young").contains("(90 min old)"),
        "{}",
        message("young")
    );
    let users = query(
        lake.path(),
        "SELECT account_id, user FROM iam_credential_report WHERE NOT is_root ORDER BY account_id",
    );
    for name in names {
        let expected = if name == "young" {
            "kept-from-earlier".to_string()
        } else {
            format!("{name}-user")
        };
        assert!(
            users
                .iter()
                .any(|r| r["account_id"] == json!(org.account(name)) && r["user"] == json!(expected)),
            "{name}: {users:?}"
        );
    }
}

/// The scheduler gives a report that is still being generated no capacity: with one work
/// slot and every account's report in progress for about 15 s (five polls), every
/// account's EC2 and IAM calls are made while the reports are still pending. A scheduler
/// that kept an account's slot until its report was in would make the second account's
/// calls only after the first account's report had been downloaded.
#[test]
fn an_account_waiting_for_its_report_holds_no_scan_slot() {
    let moto = Moto::start();
    let names = ["first", "second", "third"];
    let accounts: Vec<Value> = names
        .iter()
        .map(|name| {
            json!({"name": name, "ou": "Corp", "users": [{"name": format!("{name}-user"), "keys": 1}],
                   "instances": [{"region": "eu-west-1", "state": "running"}]})
        })
        .collect();
    let org = moto.seed(&json!({"ous": {"Corp": {}}, "accounts": accounts}));
    let proxy = FaultProxy::start(&moto.url());
    let rules: Vec<Value> = names
        .iter()
        .map(|name| {
            json!({"action": "GetCredentialReport", "account": org.account(name), "fault": "respond", "status": 404,
                   "body": iam_error("ReportInProgress", "Report is still being generated"), "times": 5})
        })
        .collect();
    proxy.set_rules(Value::Array(rules));
    let lake = tempfile::tempdir().unwrap();
    run_ok(&[
        "run",
        "--ou-id",
        &org.ou("Corp"),
        "--endpoint-url",
        &proxy.url(),
        "--warehouse",
        lake.path().to_str().unwrap(),
        "--regions",
        "eu-west-1",
        "--max-concurrency",
        "1",
        "--report-max-polls",
        "10",
    ]);
    let requests = proxy.requests();
    let position = |action: &str, account: &str| -> Vec<usize> {
        requests
            .iter()
            .enumerate()
            .filter(|(_, r)| r["action"] == json!(action) && r["account"] == json!(account))
            .map(|(i, _)| i)
            .collect()
    };
    // The first forwarded GetCredentialReport of any account: no report was in before it.
    let first_report = names
        .iter()
        .flat_map(|name| position("GetCredentialReport", &org.account(name)))
        .min()
        .expect("reports were downloaded");
    for name in names {
        let account = org.account(name);
        for action in ["DescribeInstances", "ListUsers", "DescribeSecurityGroups"] {
            let calls = position(action, &account);
            assert!(!calls.is_empty(), "{name} made {action}");
            assert!(
                calls.iter().all(|&i| i < first_report),
                "{name}'s {action} calls {calls:?} came after request {first_report}, the first report download: \
                 an account waiting for its report held the only work slot"
            );
        }
    }
    let rows = query(
        lake.path(),
        "SELECT account_id, status, message FROM account_status WHERE stage = 'credential_report' ORDER BY account_id",
    );
    assert_eq!(rows.len(), 3, "{rows:?}");
    for row in rows {
        assert_eq!(row["status"], json!("ok"), "{row}");
        assert!(row["message"].as_str().unwrap().contains("ReportInProgress x"), "{row}");
    }
}
