//! The Glue / Athena catalog, derived from `schemas/`: one Glue table per lake table
//! (named `raw_<table>`: every file, as in `orglake query`), Parquet SerDe, `snapshot_date`
//! as the partition key with Athena partition projection, so no partition ever needs
//! registering; and the views `<table>`, `latest_<table>`, `daily_<table>` from the same
//! SQL as `orglake query` (`queries/lake/`).

use serde_json::{Value, json};

use crate::schema::{Table, all_tables};

/// Prefix of the Glue table names: the tables hold every file; views filter complete runs.
pub const RAW_PREFIX: &str = "raw_";
/// First date partition projection enumerates.
pub const PROJECTION_START: &str = "2020-01-01";
const INPUT_FORMAT: &str = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat";
const OUTPUT_FORMAT: &str = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat";
const SERDE: &str = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe";

/// The S3 folder of a table, under a lake location such as `s3://bucket/prefix`.
pub fn table_location(lake_location: &str, table: &Table) -> String {
    format!("{}/{}/", lake_location.trim_end_matches('/'), table.name())
}

/// Table parameters: Parquet, and partition projection on `snapshot_date`.
pub fn table_parameters(lake_location: &str, table: &Table) -> Vec<(String, String)> {
    let mut params = vec![
        ("classification".to_string(), "parquet".to_string()),
        ("EXTERNAL".to_string(), "TRUE".to_string()),
        ("parquet.compression".to_string(), "ZSTD".to_string()),
        ("projection.enabled".to_string(), "true".to_string()),
    ];
    for partition in &table.partition_fields {
        let name = partition.name();
        params.extend([
            (format!("projection.{name}.type"), "date".to_string()),
            (format!("projection.{name}.format"), "yyyy-MM-dd".to_string()),
            (format!("projection.{name}.range"), format!("{PROJECTION_START},NOW")),
            (format!("projection.{name}.interval"), "1".to_string()),
            (format!("projection.{name}.interval.unit"), "DAYS".to_string()),
        ]);
    }
    let template = table.partition_fields.iter().fold(
        table_location(lake_location, table).trim_end_matches('/').to_string(),
        |acc, f| format!("{acc}/{0}=${{{0}}}", f.name()),
    );
    params.push(("storage.location.template".to_string(), template));
    params
}

/// (name, Hive type, comment) of the data columns.
pub fn data_columns(table: &Table) -> Vec<(String, String, String)> {
    table
        .def
        .columns
        .iter()
        .filter(|c| !c.partition)
        .map(|c| (c.name.clone(), c.type_name.clone(), c.description.clone()))
        .collect()
}

/// (name, Hive type, comment) of the partition keys.
pub fn partition_keys(table: &Table) -> Vec<(String, String, String)> {
    table
        .def
        .columns
        .iter()
        .filter(|c| c.partition)
        .map(|c| (c.name.clone(), c.type_name.clone(), c.description.clone()))
        .collect()
}

/// The Glue `TableInput` of a table, as JSON (what `aws glue create-table --table-input` takes).
pub fn table_input_json(lake_location: &str, table: &Table) -> Value {
    let column = |(name, type_name, comment): (String, String, String)| json!({"Name": name, "Type": type_name, "Comment": comment});
    let parameters: serde_json::Map<String, Value> = table_parameters(lake_location, table)
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    json!({
        "Name": format!("{RAW_PREFIX}{}", table.name()),
        "Description": table.def.description,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": parameters,
        "PartitionKeys": partition_keys(table).into_iter().map(column).collect::<Vec<_>>(),
        "StorageDescriptor": {
            "Columns": data_columns(table).into_iter().map(column).collect::<Vec<_>>(),
            "Location": table_location(lake_location, table),
            "InputFormat": INPUT_FORMAT,
            "OutputFormat": OUTPUT_FORMAT,
            "SerdeInfo": {"SerializationLibrary": SERDE, "Parameters": {"serialization.format": "1"}},
        }
    })
}

fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `CREATE EXTERNAL TABLE` DDL for Athena.
pub fn create_table_ddl(database: &str, lake_location: &str, table: &Table) -> String {
    let columns: Vec<String> = data_columns(table)
        .into_iter()
        .map(|(n, t, c)| format!("  `{n}` {t} COMMENT {}", sql_string(&c)))
        .collect();
    let partitions: Vec<String> = partition_keys(table)
        .into_iter()
        .map(|(n, t, c)| format!("  `{n}` {t} COMMENT {}", sql_string(&c)))
        .collect();
    let properties: Vec<String> = table_parameters(lake_location, table)
        .into_iter()
        .filter(|(k, _)| k != "EXTERNAL")
        .map(|(k, v)| format!("  {} = {}", sql_string(&k), sql_string(&v)))
        .collect();
    format!(
        "-- Generated from schemas/{name}.toml by `orglake glue render`; do not edit.\nCREATE EXTERNAL TABLE IF NOT EXISTS `{database}`.`{RAW_PREFIX}{name}` (\n{}\n)\nCOMMENT {}\nPARTITIONED BY (\n{}\n)\nSTORED AS PARQUET\nLOCATION {}\nTBLPROPERTIES (\n{}\n);\n",
        columns.join(",\n"),
        sql_string(&table.def.description),
        partitions.join(",\n"),
        sql_string(&table_location(lake_location, table)),
        properties.join(",\n"),
        name = table.name(),
    )
}

/// `CREATE OR REPLACE VIEW` statements for Athena: the same SQL as `orglake query`.
pub fn create_views_sql(database: &str) -> String {
    let mut out = format!(
        "-- Generated from queries/lake/ by `orglake glue render`; run in Athena, in database {database}, after the tables exist.\n"
    );
    for table in all_tables() {
        for template in crate::query::VIEW_TEMPLATES {
            let sql = template.replace("{table}", table.name());
            let body: Vec<&str> = sql.lines().filter(|l| !l.trim_start().starts_with("--")).collect();
            let statement = body.join("\n").replacen("CREATE VIEW", "CREATE OR REPLACE VIEW", 1);
            out.push_str(&format!("\n{};\n", statement.trim()));
        }
    }
    out
}

/// Every generated file under `glue/`, as (relative path, content), for a placeholder
/// lake location and database that deployment substitutes.
pub fn rendered_files() -> Vec<(String, String)> {
    const LOCATION: &str = "s3://LAKE_BUCKET/LAKE_PREFIX";
    const DATABASE: &str = "orglake";
    let mut files = Vec::new();
    for table in all_tables() {
        let json = serde_json::to_string_pretty(&table_input_json(LOCATION, table)).expect("JSON") + "\n";
        files.push((format!("tables/{}.json", table.name()), json));
        files.push((
            format!("ddl/{}.sql", table.name()),
            create_table_ddl(DATABASE, LOCATION, table),
        ));
    }
    files.push(("ddl/views.sql".to_string(), create_views_sql(DATABASE)));
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_glue_files_match_the_schemas() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("glue");
        for (path, expected) in rendered_files() {
            let actual = std::fs::read_to_string(root.join(&path)).unwrap_or_default();
            assert!(
                actual == expected,
                "glue/{path} has drifted from schemas/; run `orglake glue render` and commit"
            );
        }
    }

    #[test]
    fn projection_covers_the_partition_and_points_at_it() {
        let table = crate::schema::table("accounts").unwrap();
        let params: std::collections::BTreeMap<_, _> = table_parameters("s3://b/p", table).into_iter().collect();
        assert_eq!(params["projection.snapshot_date.type"], "date");
        assert_eq!(
            params["storage.location.template"],
            "s3://b/p/accounts/snapshot_date=${snapshot_date}"
        );
        let ddl = create_table_ddl("db", "s3://b/p", table);
        assert!(
            ddl.contains("`tags` map<string,string>") && ddl.contains("PARTITIONED BY"),
            "{ddl}"
        );
    }
}
