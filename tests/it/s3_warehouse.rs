//! The same lake on S3 (moto), written and queried through the same code path.

use serde_json::json;

use crate::discovery::foreign_org;
use crate::support::{Moto, python_command, query_with, run_ok};

#[test]
fn an_s3_warehouse_is_written_and_queried_like_a_local_one() {
    let moto = Moto::start();
    moto.seed(&foreign_org());
    let make_bucket = "import boto3, sys; boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1').create_bucket(Bucket='lake-bucket')";
    let output = python_command()
        .args(["-c", make_bucket, &moto.url()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
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
