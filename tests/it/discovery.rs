//! Discovery against an organization orglake has never seen, and the lake it lands in.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::support::{FaultProxy, Moto, python_command, query, run_ok};

/// Nested OUs, an account outside the chosen OU, one under the root, unicode tags, one suspended.
pub fn foreign_org() -> Value {
    json!({
        "ous": {"Engineering": {"Platform": {"Core": {}}, "Data": {}}, "Finance": {}},
        "accounts": [
            {"name": "eng-main", "ou": "Engineering", "tags": {"owner": "Zoë Ångström <zoë@example.com>"}},
            {"name": "platform", "ou": "Engineering/Platform", "tags": {"owner": "platform@example.com", "名前": "平台, \"core\""}},
            {"name": "core", "ou": "Engineering/Platform/Core"},
            {"name": "data", "ou": "Engineering/Data", "tags": {"owner": "=HYPERLINK(\"x\")"}},
            {"name": "closed", "ou": "Engineering/Data", "suspended": true, "tags": {"owner": "gone@example.com"}},
            {"name": "finance", "ou": "Finance", "tags": {"owner": "cfo@example.com"}},
            {"name": "loose", "ou": ""}
        ]
    })
}

#[test]
fn ou_scope_returns_exactly_the_accounts_under_it_with_paths_and_owners() {
    let moto = Moto::start();
    let org = moto.seed(&foreign_org());
    let lake = tempfile::tempdir().unwrap();
    let warehouse = lake.path().to_str().unwrap();
    run_ok(&[
        "run",
        "--ou-id",
        &org.ou("Engineering"),
        "--endpoint-url",
        &moto.url(),
        "--warehouse",
        warehouse,
    ]);

    let rows = query(
        lake.path(),
        "SELECT account_id, account_name, ou_id, ou_path, owner_tag, status, scanned, tags FROM accounts ORDER BY account_name",
    );
    let got: BTreeMap<String, &Value> = rows
        .iter()
        .map(|r| (r["account_name"].as_str().unwrap().to_string(), r))
        .collect();
    let names: Vec<&str> = got.keys().map(String::as_str).collect();
    assert_eq!(names, ["closed", "core", "data", "eng-main", "platform"]);
    let expect = [
        (
            "eng-main",
            "Engineering",
            "Root/Engineering",
            Some("Zoë Ångström <zoë@example.com>"),
        ),
        (
            "platform",
            "Engineering/Platform",
            "Root/Engineering/Platform",
            Some("platform@example.com"),
        ),
        (
            "core",
            "Engineering/Platform/Core",
            "Root/Engineering/Platform/Core",
            None,
        ),
        (
            "data",
            "Engineering/Data",
            "Root/Engineering/Data",
            Some("=HYPERLINK(\"x\")"),
        ),
        (
            "closed",
            "Engineering/Data",
            "Root/Engineering/Data",
            Some("gone@example.com"),
        ),
    ];
    for (name, ou, path, owner) in expect {
        let row = got[name];
        assert_eq!(row["account_id"], json!(org.account(name)), "{name} id");
        assert_eq!(row["ou_id"], json!(org.ou(ou)), "{name} ou id");
        assert_eq!(row["ou_path"], json!(path), "{name} path");
        assert_eq!(row["owner_tag"].as_str(), owner, "{name} owner");
    }
    assert_eq!(got["platform"]["tags"]["名前"], json!("平台, \"core\""));
    assert_eq!(got["closed"]["status"], json!("SUSPENDED"));
    assert_eq!(got["closed"]["scanned"], json!(false));

    // Suspended accounts are listed but never scanned: no assume_role for them.
    let statuses = query(
        lake.path(),
        "SELECT account_id, stage, status FROM account_status ORDER BY account_id, stage",
    );
    let closed = org.account("closed");
    let closed_rows: Vec<&Value> = statuses.iter().filter(|r| r["account_id"] == json!(closed)).collect();
    assert_eq!(closed_rows.len(), 1);
    assert_eq!(closed_rows[0]["stage"], json!("discover"));
    assert_eq!(closed_rows[0]["status"], json!("skipped"));
    let assumed = statuses
        .iter()
        .filter(|r| r["stage"] == json!("assume_role") && r["status"] == json!("ok"))
        .count();
    assert_eq!(assumed, 4);

    let runs = query(
        lake.path(),
        "SELECT status, accounts_total, accounts_ok, accounts_failed, accounts_skipped, organization_id, scope FROM runs",
    );
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], json!("complete"));
    assert_eq!(runs[0]["accounts_total"], json!(5));
    assert_eq!(runs[0]["accounts_ok"], json!(4));
    assert_eq!(runs[0]["accounts_skipped"], json!(1));
    assert_eq!(runs[0]["organization_id"], json!(org.organization_id()));
    assert_eq!(runs[0]["scope"], json!([org.ou("Engineering")]));
}

#[test]
fn explicit_account_list_scans_only_those_accounts() {
    let moto = Moto::start();
    let org = moto.seed(&foreign_org());
    let lake = tempfile::tempdir().unwrap();
    let (core, finance) = (org.account("core"), org.account("finance"));
    run_ok(&[
        "run",
        "--account",
        &core,
        "--account",
        &finance,
        "--endpoint-url",
        &moto.url(),
        "--warehouse",
        lake.path().to_str().unwrap(),
    ]);
    let rows = query(lake.path(), "SELECT account_id, ou_path FROM accounts ORDER BY ou_path");
    assert_eq!(
        rows,
        vec![
            json!({"account_id": core, "ou_path": "Root/Engineering/Platform/Core"}),
            json!({"account_id": finance, "ou_path": "Root/Finance"})
        ]
    );
}

/// Rows the run manifest says the run wrote to `table`.
pub fn manifest_rows(lake: &std::path::Path, table: &str) -> u64 {
    let rows = query(lake, &format!("SELECT table_rows['{table}'] AS n FROM runs"));
    rows[0]["n"]
        .as_u64()
        .unwrap_or_else(|| panic!("the manifest has no count for {table}"))
}

#[test]
fn pyarrow_reads_every_parquet_file_with_the_declared_columns() {
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
    let script = r#"
import json, pathlib, sys
import pyarrow.parquet as pq
out = {}
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.parquet")):
    table = pq.read_table(path)
    out.setdefault(path.parts[-3], []).append({"rows": table.num_rows, "columns": table.schema.names})
print(json.dumps(out))
"#;
    let output = python_command()
        .args(["-c", script, lake.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "pyarrow failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let files: Value = serde_json::from_slice(&output.stdout).unwrap();
    for table in orglake::schema::all_tables() {
        // A table the run wrote no rows to (the foreign org has no instances or users) has no files.
        let Some(written) = files[table.name()].as_array() else {
            assert_eq!(
                manifest_rows(lake.path(), table.name()),
                0,
                "no files for {}",
                table.name()
            );
            continue;
        };
        let expected: Vec<&str> = table.file_schema.fields().iter().map(|f| f.name().as_str()).collect();
        let mut rows = 0;
        for file in written {
            assert_eq!(file["columns"], json!(expected), "{} columns", table.name());
            rows += file["rows"].as_u64().unwrap();
        }
        let counted = query(lake.path(), &format!("SELECT count(*) AS n FROM {}", table.name()));
        assert_eq!(
            counted[0]["n"],
            json!(rows),
            "{} rows seen by pyarrow and orglake",
            table.name()
        );
    }
    assert_eq!(
        files["accounts"][0]["rows"],
        json!(8),
        "7 seeded accounts + the management account"
    );
}

/// The DuckDB spelling of a Hive type from `schemas/`.
fn duckdb_type(hive: &str) -> String {
    use orglake::schema::parse_type;
    fn of(t: &arrow::datatypes::DataType) -> String {
        use arrow::datatypes::DataType::*;
        match t {
            Utf8 => "VARCHAR".into(),
            Int64 => "BIGINT".into(),
            Int32 => "INTEGER".into(),
            Boolean => "BOOLEAN".into(),
            Float64 => "DOUBLE".into(),
            Date32 => "DATE".into(),
            Timestamp(_, Some(_)) => "TIMESTAMP WITH TIME ZONE".into(),
            List(item) => format!("{}[]", of(item.data_type())),
            Map(entries, _) => match entries.data_type() {
                Struct(kv) => format!("MAP({}, {})", of(kv[0].data_type()), of(kv[1].data_type())),
                other => panic!("map entries {other}"),
            },
            Struct(fields) => format!(
                "STRUCT({})",
                fields
                    .iter()
                    .map(|f| format!("{} {}", f.name(), of(f.data_type())))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            other => panic!("no DuckDB spelling for {other}"),
        }
    }
    of(&parse_type(hive).unwrap())
}

#[test]
fn duckdb_reads_every_table_from_its_catalog_location_with_the_declared_types() {
    let moto = Moto::start();
    moto.seed(&json!({
        "accounts": [{"name": "a", "tags": {"owner": "o@example.com"},
            "instances": [{"region": "us-east-1", "state": "running"}],
            "users": [{"name": "u", "console": true, "keys": 1, "certs": 1}]}]
    }));
    let lake = tempfile::tempdir().unwrap();
    run_ok(&[
        "run",
        "--endpoint-url",
        &moto.url(),
        "--warehouse",
        lake.path().to_str().unwrap(),
        "--plan-tags",
    ]);
    let script = r#"
import duckdb, json, sys
out = {}
for table, location in json.loads(sys.argv[1]).items():
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{location}*/*.parquet', hive_partitioning = true, hive_types = {{'snapshot_date': VARCHAR}})")
    out[table] = {"columns": [[n, str(t)] for n, t in zip(rel.columns, rel.types)], "rows": rel.count("*").fetchall()[0][0]}
print(json.dumps(out))
"#;
    let locations: serde_json::Map<String, Value> = orglake::schema::all_tables()
        .iter()
        .filter(|t| t.name() == "runs" || manifest_rows(lake.path(), t.name()) > 0)
        .map(|t| {
            (
                t.name().to_string(),
                json!(orglake::catalog::table_location(lake.path().to_str().unwrap(), t)),
            )
        })
        .collect();
    assert!(locations.len() >= 8, "most tables have rows: {locations:?}");
    let output = python_command()
        .args(["-c", script, &Value::Object(locations.clone()).to_string()])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "duckdb failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: Value = serde_json::from_slice(&output.stdout).unwrap();
    for table in orglake::schema::all_tables()
        .iter()
        .filter(|t| locations.contains_key(t.name()))
    {
        let expected: Vec<Value> = table
            .def
            .columns
            .iter()
            .map(|c| json!([c.name, duckdb_type(&c.type_name)]))
            .collect();
        assert_eq!(seen[table.name()]["columns"], json!(expected), "{}", table.name());
        let rows = if table.name() == "runs" {
            1
        } else {
            manifest_rows(lake.path(), table.name())
        };
        assert_eq!(seen[table.name()]["rows"], json!(rows), "{}", table.name());
    }
}

#[test]
fn an_account_is_scanned_as_soon_as_its_ou_is_listed_while_the_walk_goes_on() {
    let moto = Moto::start();
    let org = moto.seed(&json!({
        "ous": {"Early": {}, "Late": {}},
        "accounts": [{"name": "alpha", "ou": "Early"}, {"name": "beta", "ou": "Late"}]
    }));
    let proxy = FaultProxy::start(&moto.url());
    // The Late OU's accounts take three seconds to list.
    let late = org.ou("Late");
    proxy.set_rules(json!([
        {"action": "ListAccountsForParent", "contains": late, "fault": "delay", "delay_ms": 3000}
    ]));
    let lake = tempfile::tempdir().unwrap();
    run_ok(&[
        "run",
        "--endpoint-url",
        &proxy.url(),
        "--warehouse",
        lake.path().to_str().unwrap(),
    ]);
    assert_eq!(proxy.hits()["0"], json!(1), "the delay applied");
    // The proxy logs a request when it forwards it: the delayed listing (Late's, the last
    // listing of accounts) after its delay.
    let requests = proxy.requests();
    let actions: Vec<(&str, Option<&str>)> = requests
        .iter()
        .map(|r| (r["action"].as_str().unwrap_or(""), r["account"].as_str()))
        .collect();
    let late_listed = actions
        .iter()
        .rposition(|(action, _)| *action == "ListAccountsForParent")
        .unwrap();
    let assumed = |name: &str| {
        let id = org.account(name);
        actions
            .iter()
            .position(|(action, account)| *action == "AssumeRole" && *account == Some(id.as_str()))
            .unwrap_or_else(|| panic!("no AssumeRole into {name}: {actions:?}"))
    };
    assert!(
        assumed("alpha") < late_listed,
        "alpha, in Early, is scanned while Late is still being listed: {actions:?}"
    );
    assert!(assumed("beta") > late_listed, "beta only once Late is listed");
    let first_tags = actions
        .iter()
        .position(|(action, _)| *action == "ListTagsForResource")
        .unwrap();
    assert!(
        first_tags > late_listed,
        "the accounts' tags are read after the walk: {actions:?}"
    );
    let accounts = query(
        lake.path(),
        "SELECT account_name, ou_path FROM latest_accounts WHERE ou_path <> 'Root' ORDER BY 1",
    );
    assert_eq!(
        accounts,
        vec![
            json!({"account_name": "alpha", "ou_path": "Root/Early"}),
            json!({"account_name": "beta", "ou_path": "Root/Late"})
        ]
    );
}
