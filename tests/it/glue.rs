//! The Glue catalog of an S3 lake, against moto's Glue.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::discovery::foreign_org;
use crate::support::{Moto, python_command, run_ok};

fn glue_view(endpoint: &str) -> Value {
    let script = r#"
import boto3, json, sys
glue = boto3.client("glue", endpoint_url=sys.argv[1], region_name="us-east-1")
out = {}
for t in glue.get_tables(DatabaseName="inventory")["TableList"]:
    if t.get("TableType") == "VIRTUAL_VIEW":
        continue
    parts = glue.get_partitions(DatabaseName="inventory", TableName=t["Name"])["Partitions"]
    out[t["Name"]] = {
        "columns": [[c["Name"], c["Type"]] for c in t["StorageDescriptor"]["Columns"]],
        "partition_keys": [[c["Name"], c["Type"]] for c in t["PartitionKeys"]],
        "location": t["StorageDescriptor"]["Location"],
        "serde": t["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"],
        "projection": t["Parameters"].get("projection.snapshot_date.type"),
        "partitions": sorted(p["Values"][0] for p in parts),
    }
print(json.dumps(out))
"#;
    let output = python_command().args(["-c", script, endpoint]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn a_run_into_s3_keeps_the_glue_catalog_in_sync_and_a_rerun_is_idempotent() {
    let moto = Moto::start();
    moto.seed(&foreign_org());
    let bucket = "import boto3, sys; boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1').create_bucket(Bucket='lake')";
    assert!(
        python_command()
            .args(["-c", bucket, &moto.url()])
            .output()
            .unwrap()
            .status
            .success()
    );
    let run = |as_of: &str| {
        let output = run_ok(&[
            "run",
            "--endpoint-url",
            &moto.url(),
            "--warehouse",
            "s3://lake/org",
            "--glue-database",
            "inventory",
            "--as-of",
            as_of,
        ]);
        String::from_utf8(output.stdout).unwrap()
    };
    let summary = run("2026-03-01T06:00:00Z");
    assert!(summary.contains("catalog: glue database inventory synced"), "{summary}");

    let catalog = glue_view(&moto.url());
    let tables: BTreeMap<String, Value> = serde_json::from_value(catalog.clone()).unwrap();
    assert_eq!(tables.len(), orglake::schema::all_tables().len());
    for table in orglake::schema::all_tables() {
        let glue = &tables[&format!("raw_{}", table.name())];
        let expected: Vec<Value> = table
            .def
            .columns
            .iter()
            .filter(|c| !c.partition)
            .map(|c| json!([c.name, c.type_name]))
            .collect();
        assert_eq!(glue["columns"], json!(expected), "{} columns and types", table.name());
        assert_eq!(glue["partition_keys"], json!([["snapshot_date", "string"]]));
        assert_eq!(glue["location"], json!(format!("s3://lake/org/{}/", table.name())));
        assert_eq!(
            glue["serde"],
            json!("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe")
        );
        assert_eq!(glue["projection"], json!("date"));
        assert_eq!(glue["partitions"], json!(["2026-03-01"]));
    }

    // Reading both: each table's Glue types, parsed, equal the Arrow types of a Parquet file
    // that the run stored in S3.
    let fetch = r#"
import boto3, sys
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1")
for o in s3.list_objects_v2(Bucket="lake", Prefix="org/" + sys.argv[2] + "/")["Contents"]:
    if o["Key"].endswith(".parquet"):
        sys.stdout.buffer.write(s3.get_object(Bucket="lake", Key=o["Key"])["Body"].read())
        break
"#;
    for table in orglake::schema::all_tables() {
        let glue = &tables[&format!("raw_{}", table.name())];
        let output = python_command()
            .args(["-c", fetch, &moto.url(), table.name()])
            .output()
            .unwrap();
        if output.stdout.is_empty() {
            continue; // a table this run wrote no rows to (tag_actions, ...)
        }
        let reader =
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(output.stdout))
                .unwrap();
        let file_fields = reader.schema().fields().clone();
        let glue_columns = glue["columns"].as_array().unwrap();
        assert_eq!(file_fields.len(), glue_columns.len(), "{}", table.name());
        for (field, column) in file_fields.iter().zip(glue_columns) {
            assert_eq!(field.name(), column[0].as_str().unwrap());
            let glue_type = orglake::schema::parse_type(column[1].as_str().unwrap()).unwrap();
            assert_eq!(field.data_type(), &glue_type, "{}.{}", table.name(), field.name());
        }
    }

    assert_the_views_are_athena_views_of_the_sql_datafusion_runs(&moto.url());

    run("2026-03-01T07:00:00Z");
    assert_eq!(
        glue_view(&moto.url()),
        catalog,
        "a second run on the same day changes nothing"
    );
    run("2026-03-02T06:00:00Z");
    let next = glue_view(&moto.url());
    assert_eq!(next["raw_accounts"]["partitions"], json!(["2026-03-01", "2026-03-02"]));

    let output = run_ok(&[
        "glue",
        "sync",
        "--endpoint-url",
        &moto.url(),
        "--warehouse",
        "s3://lake/org",
        "--glue-database",
        "inventory",
    ]);
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("0 partitions created"),
        "glue sync is idempotent"
    );
}

/// The Glue views, decoded as Athena decodes them: each is a `VIRTUAL_VIEW` whose encoded
/// SQL is byte for byte the SQL `orglake query` plans, whose columns agree with its storage
/// columns, and which an independent Trino-dialect parser (sqlglot) accepts.
fn assert_the_views_are_athena_views_of_the_sql_datafusion_runs(endpoint: &str) {
    let script = r#"
import base64, json, sys
import boto3, sqlglot
glue = boto3.client("glue", endpoint_url=sys.argv[1], region_name="us-east-1")
out = {}
for t in glue.get_tables(DatabaseName="inventory")["TableList"]:
    if t.get("TableType") != "VIRTUAL_VIEW":
        continue
    text = t["ViewOriginalText"]
    assert text.startswith("/* Presto View: ") and text.endswith(" */"), text
    view = json.loads(base64.b64decode(text[len("/* Presto View: "):-len(" */")]))
    parsed = sqlglot.parse_one(view["originalSql"], read="trino")
    out[t["Name"]] = {
        "sql": view["originalSql"],
        "catalog": view["catalog"],
        "schema": view["schema"],
        "columns": [c["name"] for c in view["columns"]],
        "storage_columns": [c["Name"] for c in t["StorageDescriptor"]["Columns"]],
        "presto_view": t["Parameters"].get("presto_view"),
        "parsed_as": type(parsed).__name__,
        "tables_read": sorted({x.name for x in parsed.find_all(sqlglot.exp.Table)}),
    }
print(json.dumps(out))
"#;
    let output = python_command().args(["-c", script, endpoint]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let views: BTreeMap<String, Value> = serde_json::from_slice(&output.stdout).unwrap();
    let expected = orglake::query::lake_views();
    assert_eq!(
        views.keys().cloned().collect::<Vec<_>>(),
        {
            let mut names: Vec<String> = expected.iter().map(|v| v.name.clone()).collect();
            names.sort();
            names
        },
        "one Athena view per view of orglake query"
    );
    for view in &expected {
        let glue = &views[&view.name];
        assert_eq!(
            glue["sql"],
            json!(view.select_sql),
            "{}: the SQL DataFusion runs",
            view.name
        );
        assert_eq!(glue["catalog"], json!("awsdatacatalog"));
        assert_eq!(glue["schema"], json!("inventory"));
        assert_eq!(glue["presto_view"], json!("true"));
        assert_eq!(glue["parsed_as"], json!("Select"), "{}", view.name);
        assert_eq!(glue["columns"], glue["storage_columns"], "{}", view.name);
        assert!(!glue["columns"].as_array().unwrap().is_empty(), "{}", view.name);
        let read = glue["tables_read"].as_array().unwrap();
        assert!(
            read.iter()
                .all(|t| views.contains_key(t.as_str().unwrap()) || t.as_str().unwrap().starts_with("raw_")),
            "{} reads only tables and views of the catalog: {read:?}",
            view.name
        );
    }
    assert_eq!(
        views["latest_ec2_instances"]["columns"].as_array().unwrap().len(),
        orglake::schema::table("ec2_instances")
            .unwrap()
            .full_schema()
            .fields()
            .len()
    );
}
