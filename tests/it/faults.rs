//! Faults that the older scripts lost data to: a region that keeps failing, and secrets
//! in logs.

use serde_json::json;

use crate::support::{FaultProxy, Moto, orglake, query};

#[test]
fn a_permanently_failing_region_of_one_account_is_recorded_and_the_rest_is_complete() {
    let moto = Moto::start();
    let org = moto.seed(&json!({
        "ous": {"Ops": {}},
        "accounts": [
            {"name": "broken", "ou": "Ops", "instances": [
                {"region": "us-east-1", "state": "running"}, {"region": "eu-west-1", "state": "running"}]},
            {"name": "fine", "ou": "Ops", "instances": [
                {"region": "us-east-1", "state": "running"}, {"region": "eu-west-1", "state": "running"}]}
        ]
    }));
    let proxy = FaultProxy::start(&moto.url());
    let broken = org.account("broken");
    proxy.set_rules(
        json!([{"action": "DescribeInstances", "account": broken, "contains": "/eu-west-1/ec2/", "fault": "error500"}]),
    );
    let lake = tempfile::tempdir().unwrap();
    let output = orglake()
        .args([
            "run",
            "--ou-id",
            &org.ou("Ops"),
            "--regions",
            "us-east-1,eu-west-1",
            "--max-retries",
            "2",
        ])
        .args([
            "--endpoint-url",
            &proxy.url(),
            "--warehouse",
            lake.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(3),
        "partial; {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let failed = query(
        lake.path(),
        "SELECT account_id, stage, region, status FROM account_status WHERE status IN ('error', 'auth_failed')",
    );
    assert_eq!(
        failed,
        vec![json!({"account_id": broken, "stage": "ec2", "region": "eu-west-1", "status": "error"})]
    );
    let instances = query(
        lake.path(),
        "SELECT account_id, region FROM ec2_instances ORDER BY account_id, region",
    );
    let fine = org.account("fine");
    let mut expected = vec![
        json!({"account_id": broken, "region": "us-east-1"}),
        json!({"account_id": fine, "region": "eu-west-1"}),
        json!({"account_id": fine, "region": "us-east-1"}),
    ];
    expected.sort_by_key(|v| v.to_string());
    let mut got = instances.clone();
    got.sort_by_key(|v| v.to_string());
    assert_eq!(got, expected, "everything but the failing region is there");
    assert_eq!(
        proxy.counts()["DescribeInstances"].as_u64().unwrap(),
        3 + 3,
        "3 healthy regions + the failing one tried 3 times"
    );
}

#[test]
fn no_credential_appears_in_logs_at_any_level() {
    let moto = Moto::start();
    let org = moto
        .seed(&json!({"ous": {"A": {}}, "accounts": [{"name": "a", "ou": "A", "users": [{"name": "u", "keys": 1}]}]}));
    let secret = "SeCrEtKeyMarker0123456789abcdefghijklmnop";
    let token = "SeSsIoNtOkEnMarker0123456789";
    for format in ["human", "json"] {
        let lake = tempfile::tempdir().unwrap();
        let output = orglake()
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_SESSION_TOKEN", token)
            .env("RUST_LOG", "trace")
            .args([
                "--log-format",
                format,
                "-vv",
                "run",
                "--ou-id",
                &org.ou("A"),
                "--endpoint-url",
                &moto.url(),
            ])
            .args(["--warehouse", lake.path().to_str().unwrap()])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let logs = String::from_utf8_lossy(&output.stderr).to_string() + &String::from_utf8_lossy(&output.stdout);
        assert!(logs.len() > 10_000, "trace logging is on: {} bytes", logs.len());
        for marker in [secret, token, &secret[..16], &token[..16]] {
            assert!(!logs.contains(marker), "{format} logs contain a credential");
        }
    }
}
