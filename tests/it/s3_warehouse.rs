//! The same lake on S3 (moto), written and queried through the same code path.

use serde_json::json;

use crate::discovery::foreign_org;
use crate::support::{
    FaultProxy, Moto, assert_one_line_error, make_bucket, orglake, python_command, query_with, run_ok, run_orglake,
};

#[test]
fn an_s3_warehouse_is_written_and_queried_like_a_local_one() {
    let moto = Moto::start();
    moto.seed(&foreign_org());
    make_bucket(&moto, "lake-bucket");
    let warehouse = "s3://lake-bucket/inventory/v1";
    run_ok(&["run", "--endpoint-url", &moto.url(), "--warehouse", warehouse]);

    let rows = query_with(
        &["--warehouse", warehouse, "--endpoint-url", &moto.url()],
        "SELECT count(*) AS n FROM accounts",
    );
    assert_eq!(rows, vec![json!({"n": 8})]);

    let list = "import boto3, sys; print('\\n'.join(o['Key'] for o in boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1').list_objects_v2(Bucket='lake-bucket')['Contents']))";
    let output = python_command().args(["-c", list, &moto.url()]).output().unwrap();
    let keys = String::from_utf8(output.stdout).unwrap();
    assert!(
        keys.lines().all(|k| k.starts_with("inventory/v1/")),
        "nothing outside the prefix: {keys}"
    );
    assert!(
        keys.lines()
            .any(|k| k.starts_with("inventory/v1/runs/snapshot_date=") && k.ends_with(".parquet")),
        "{keys}"
    );
}

#[test]
fn sse_kms_and_the_expected_bucket_owner_apply_to_every_object() {
    let moto = Moto::start();
    moto.seed(&foreign_org());
    let setup = "import boto3, sys; boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1').create_bucket(Bucket='secure'); print(boto3.client('kms', endpoint_url=sys.argv[1], region_name='us-east-1').create_key()['KeyMetadata']['KeyId'])";
    let output = python_command().args(["-c", setup, &moto.url()]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let key = String::from_utf8(output.stdout).unwrap().trim().to_string();
    let warehouse = "s3://secure/lake";
    run_ok(&[
        "run",
        "--endpoint-url",
        &moto.url(),
        "--warehouse",
        warehouse,
        "--sse",
        "aws:kms",
        "--kms-key-id",
        &key,
        "--expected-bucket-owner",
        "123456789012",
    ]);
    let check = r#"
import boto3, json, sys
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1")
keys = [o["Key"] for o in s3.list_objects_v2(Bucket="secure")["Contents"]]
heads = [s3.head_object(Bucket="secure", Key=k) for k in keys]
print(json.dumps({"objects": len(keys), "sse": sorted({h.get("ServerSideEncryption") for h in heads}), "keys": sorted({h.get("SSEKMSKeyId", "") for h in heads})}))
"#;
    let output = python_command().args(["-c", check, &moto.url()]).output().unwrap();
    let seen: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(seen["objects"].as_u64().unwrap() >= 4, "{seen}");
    assert_eq!(
        seen["sse"],
        json!(["aws:kms"]),
        "every object encrypted with KMS: {seen}"
    );
    assert!(
        seen["keys"][0].as_str().unwrap().contains(&key),
        "with the given key: {seen}"
    );
    let bad = run_orglake(&["run", "--warehouse", warehouse, "--kms-key-id", &key]);
    assert_one_line_error(&bad, 1, &["--kms-key-id", "aws:kms"]);
}

#[test]
fn container_credentials_are_fetched_a_handful_of_times_and_s3_calls_follow_the_configured_retries() {
    let moto = Moto::start();
    moto.seed(&foreign_org());
    make_bucket(&moto, "fargate-lake");
    let proxy = FaultProxy::start(&moto.url());
    let on_fargate = |args: &[&str]| {
        let mut command = orglake();
        command
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env("AWS_CONTAINER_CREDENTIALS_FULL_URI", proxy.credentials_url())
            .args(args);
        command.output().unwrap()
    };
    let warehouse = "s3://fargate-lake/lake";
    let output = on_fargate(&["run", "--endpoint-url", &proxy.url(), "--warehouse", warehouse]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let objects = proxy
        .requests()
        .iter()
        .filter(|r| r["method"] == json!("PUT") && r["path"].as_str().unwrap().starts_with("/fargate-lake/"))
        .count();
    let fetches = proxy.counts()["__credentials"].as_u64().unwrap();
    assert!(objects >= 10, "the run wrote its lake: {objects} objects");
    assert!(
        (1..=3).contains(&fetches),
        "{fetches} credential fetches for {objects} objects: the store caches them"
    );

    proxy.set_rules(json!([{"contains": "/account_status/", "fault": "error500"}]));
    let output = on_fargate(&[
        "run",
        "--endpoint-url",
        &proxy.url(),
        "--warehouse",
        warehouse,
        "--max-retries",
        "2",
    ]);
    assert_eq!(output.status.code(), Some(1), "the lake is not writable: a fatal run");
    assert_eq!(
        proxy.hits()["0"],
        json!(3),
        "one attempt and the two configured retries of the failing PUT"
    );
}

#[test]
fn sse_kms_without_a_key_id_sends_only_the_encryption_type() {
    let moto = Moto::start();
    moto.seed(&foreign_org());
    make_bucket(&moto, "managed-key");
    let proxy = FaultProxy::start(&moto.url());
    run_ok(&[
        "run",
        "--endpoint-url",
        &proxy.url(),
        "--warehouse",
        "s3://managed-key/lake",
        "--sse",
        "aws:kms",
    ]);
    let uploads: Vec<serde_json::Value> = proxy
        .requests()
        .into_iter()
        .filter(|r| {
            let path = r["path"].as_str().unwrap();
            path.starts_with("/managed-key/")
                && ((r["method"] == json!("PUT") && !path.contains("partNumber="))
                    || (r["method"] == json!("POST") && path.contains("uploads")))
        })
        .collect();
    assert!(uploads.len() >= 10, "{} uploads", uploads.len());
    for upload in &uploads {
        let headers: std::collections::BTreeMap<String, String> = upload["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.to_lowercase(), v.as_str().unwrap().to_string()))
            .collect();
        assert_eq!(
            headers.get("x-amz-server-side-encryption").map(String::as_str),
            Some("aws:kms"),
            "{upload}"
        );
        assert!(
            !headers.contains_key("x-amz-server-side-encryption-aws-kms-key-id"),
            "no key id header, not even an empty one: {upload}"
        );
    }
}

/// The `prefix` of every ListObjectsV2 request the proxy forwarded from index `from` on,
/// relative to `lake_prefix` (`<bucket>/<prefix>/`).
fn listed_prefixes(proxy: &FaultProxy, from: usize, bucket: &str, lake_prefix: &str) -> Vec<String> {
    proxy.requests()[from..]
        .iter()
        .filter(|r| r["method"] == json!("GET"))
        .filter_map(|r| {
            let path = r["path"].as_str()?;
            let query = path.strip_prefix(&format!("/{bucket}"))?.split_once('?')?.1;
            let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
            params.iter().any(|(k, v)| k == "list-type" && v == "2").then(|| {
                let prefix = params
                    .iter()
                    .find(|(k, _)| k == "prefix")
                    .map(|(_, v)| v.as_str())
                    .unwrap_or("");
                prefix.strip_prefix(lake_prefix).unwrap_or(prefix).to_string()
            })
        })
        .collect()
}

#[test]
fn a_run_and_a_latest_query_list_only_the_snapshot_dates_they_read() {
    let moto = Moto::start();
    moto.seed(&json!({
        "ous": {"Teams": {}},
        "accounts": [
            {"name": "alpha", "ou": "Teams",
             "instances": [{"region": "us-east-1", "state": "running"}, {"region": "us-east-1", "state": "stopped"}],
             "users": [{"name": "admin", "console": true, "keys": 1}]},
            {"name": "beta", "ou": "Teams", "instances": [{"region": "us-east-1", "state": "running"}]}
        ]
    }));
    make_bucket(&moto, "dated-lake");
    let warehouse = "s3://dated-lake/lake";
    for day in ["2026-11-01", "2026-11-02"] {
        let as_of = format!("{day}T06:00:00Z");
        run_ok(&[
            "run",
            "--endpoint-url",
            &moto.url(),
            "--warehouse",
            warehouse,
            "--as-of",
            &as_of,
            "--regions",
            "us-east-1",
        ]);
    }
    let proxy = FaultProxy::start(&moto.url());
    let proxy_url = proxy.url();
    run_ok(&[
        "run",
        "--endpoint-url",
        &proxy_url,
        "--warehouse",
        warehouse,
        "--as-of",
        "2026-11-03T06:00:00Z",
        "--regions",
        "us-east-1",
    ]);
    let by_run = listed_prefixes(&proxy, 0, "dated-lake", "lake/");
    let after_run = proxy.requests().len();
    let rows = query_with(
        &["--warehouse", warehouse, "--endpoint-url", &proxy_url],
        "SELECT count(*) AS n, min(snapshot_date) AS first, max(snapshot_date) AS last FROM latest_ec2_instances",
    );
    assert_eq!(rows[0]["first"], json!("2026-11-03"), "{rows:?}");
    assert_eq!(rows[0]["last"], json!("2026-11-03"), "{rows:?}");
    assert!(rows[0]["n"].as_u64().unwrap() > 0, "{rows:?}");
    let by_query = listed_prefixes(&proxy, after_run, "dated-lake", "lake/");

    // A data table is listed only on a date it reads: the run its previous day's partition
    // and its own, the query the latest date. The run set comes from the newest checkpoint
    // and the commit journal since it, so the manifests are not listed either: the run lists
    // only its own date's (its checkpoint finds it in the journal), the query none.
    let manifests_listed =
        |prefixes: &[String]| -> Vec<String> { prefixes.iter().filter(|p| p.starts_with("runs/")).cloned().collect() };
    assert!(
        manifests_listed(&by_run)
            .iter()
            .all(|p| p.starts_with("runs/snapshot_date=2026-11-03/")),
        "the run listed manifests of other dates: {by_run:?}"
    );
    assert_eq!(
        manifests_listed(&by_query),
        Vec::<String>::new(),
        "the query listed manifests: {by_query:?}"
    );
    let data_table = |prefix: &&String| {
        !["runs/", "_checkpoints/", "_leases/"]
            .iter()
            .any(|p| prefix.starts_with(p))
    };
    let dated = |prefixes: &[String], dates: &[&str]| -> Vec<String> {
        prefixes
            .iter()
            .filter(data_table)
            .filter(|p| !dates.iter().any(|d| p.contains(&format!("/snapshot_date={d}/"))))
            .cloned()
            .collect()
    };
    assert!(
        by_run
            .iter()
            .any(|p| p.starts_with("ec2_instances/snapshot_date=2026-11-02/")),
        "the run reads its previous run's instances: {by_run:?}"
    );
    assert_eq!(
        dated(&by_run, &["2026-11-02", "2026-11-03"]),
        Vec::<String>::new(),
        "the run listed a table beyond the previous and its own date: {by_run:?}"
    );
    assert!(
        by_query
            .iter()
            .any(|p| p.starts_with("ec2_instances/snapshot_date=2026-11-03/")),
        "{by_query:?}"
    );
    assert_eq!(
        dated(&by_query, &["2026-11-03"]),
        Vec::<String>::new(),
        "the query listed a table beyond the latest date: {by_query:?}"
    );
}
