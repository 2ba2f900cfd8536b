//! The Glue / Athena catalog, derived from `schemas/`: one Glue table per lake table
//! (named `raw_<table>`: every file, as in `orglake query`), Parquet SerDe, `snapshot_date`
//! as the partition key with Athena partition projection, so no partition ever needs
//! registering; and the views `<table>`, `latest_<table>`, `daily_<table>` from the same
//! SQL as `orglake query` (`queries/lake/`).
//!
//! May import: `error`, `query`, `schema`.

use arrow::datatypes::{DataType, Schema};
use serde_json::{Value, json};

use crate::error::{Error, Result};
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
        "-- Generated from queries/lake/ by `orglake glue render`; `orglake glue sync` creates these views in Glue, or run them in Athena, in database {database}, after the tables exist.\n"
    );
    for view in crate::query::lake_views() {
        out.push_str(&format!(
            "\nCREATE OR REPLACE VIEW {} AS\n{};\n",
            view.name, view.select_sql
        ));
    }
    out
}

/// How a type vocabulary spells Arrow's types: Trino's (a view's columns) or Hive's (a Glue
/// column's type), which name the same types with different words and brackets.
struct TypeSyntax {
    string: &'static str,
    int: &'static str,
    timestamp: &'static str,
    array: (&'static str, &'static str),
    map: (&'static str, &'static str),
    row: (&'static str, &'static str),
    field_separator: &'static str,
    fields_joined_by: &'static str,
}

const TRINO: TypeSyntax = TypeSyntax {
    string: "varchar",
    int: "integer",
    timestamp: "timestamp(3)",
    array: ("array(", ")"),
    map: ("map(", ")"),
    row: ("row(", ")"),
    field_separator: " ",
    fields_joined_by: ", ",
};

const HIVE: TypeSyntax = TypeSyntax {
    string: "string",
    int: "int",
    timestamp: "timestamp",
    array: ("array<", ">"),
    map: ("map<", ">"),
    row: ("struct<", ">"),
    field_separator: ":",
    fields_joined_by: ",",
};

fn type_name(data_type: &DataType, syntax: &TypeSyntax) -> Result<String> {
    Ok(match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => syntax.string.into(),
        DataType::Int64 | DataType::UInt64 | DataType::UInt32 => "bigint".into(),
        DataType::Int32 | DataType::Int16 | DataType::UInt16 => syntax.int.into(),
        DataType::Boolean => "boolean".into(),
        DataType::Float64 => "double".into(),
        DataType::Date32 => "date".into(),
        DataType::Timestamp(_, _) => syntax.timestamp.into(),
        DataType::List(item) | DataType::LargeList(item) => {
            let (open, close) = syntax.array;
            format!("{open}{}{close}", type_name(item.data_type(), syntax)?)
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(fields) if fields.len() == 2 => {
                let (open, close) = syntax.map;
                format!(
                    "{open}{},{}{close}",
                    type_name(fields[0].data_type(), syntax)?,
                    type_name(fields[1].data_type(), syntax)?
                )
            }
            other => {
                return Err(Error::Schema(format!(
                    "map entries of type {other} have no column type"
                )));
            }
        },
        DataType::Struct(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|f| {
                    Ok(format!(
                        "{}{}{}",
                        f.name(),
                        syntax.field_separator,
                        type_name(f.data_type(), syntax)?
                    ))
                })
                .collect::<Result<_>>()?;
            let (open, close) = syntax.row;
            format!("{open}{}{close}", fields.join(syntax.fields_joined_by))
        }
        other => return Err(Error::Schema(format!("no column type for the Arrow type {other}"))),
    })
}

/// The Trino / Athena type of an Arrow type, as a view's column list names it.
pub fn trino_type(data_type: &DataType) -> Result<String> {
    type_name(data_type, &TRINO)
}

/// The Hive type (a Glue column's type) of an Arrow type.
pub fn hive_type(data_type: &DataType) -> Result<String> {
    type_name(data_type, &HIVE)
}

/// The `ViewOriginalText` of an Athena view in Glue: `/* Presto View: <base64 JSON> */`,
/// the JSON holding the view's SQL (exactly what DataFusion runs), the catalog and database
/// it resolves names in, and its columns with their Trino types.
pub fn presto_view_text(database: &str, sql: &str, schema: &Schema) -> Result<String> {
    let columns: Vec<Value> = schema
        .fields()
        .iter()
        .map(|f| Ok(json!({"name": f.name(), "type": trino_type(f.data_type())?})))
        .collect::<Result<_>>()?;
    let view = json!({
        "originalSql": sql,
        "catalog": "awsdatacatalog",
        "schema": database,
        "columns": columns,
    });
    Ok(format!(
        "/* Presto View: {} */",
        aws_smithy_types::base64::encode(view.to_string())
    ))
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
    fn every_column_type_spells_back_as_its_schema_type_and_as_trino() {
        for table in all_tables() {
            for (column, field) in table.def.columns.iter().zip(table.full_schema().fields()) {
                assert_eq!(hive_type(field.data_type()).unwrap(), column.type_name.replace(' ', ""));
            }
        }
        let nested = crate::schema::parse_type("array<struct<id:string,tags:map<string,bigint>>>").unwrap();
        assert_eq!(
            trino_type(&nested).unwrap(),
            "array(row(id varchar, tags map(varchar,bigint)))"
        );
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

/// Creating and updating the catalog in AWS Glue.
pub mod glue {
    use aws_sdk_glue::types::{Column, DatabaseInput, PartitionInput, SerDeInfo, StorageDescriptor, TableInput};

    use super::*;
    use crate::aws::AwsContext;
    use crate::error::{Error, Result};

    /// Partitions per BatchCreatePartition call (the API's limit).
    const PARTITIONS_PER_CALL: usize = 100;

    fn build_error(e: impl std::fmt::Display) -> Error {
        Error::Schema(format!("cannot build a Glue input: {e}"))
    }

    fn columns(list: Vec<(String, String, String)>) -> Result<Vec<Column>> {
        list.into_iter()
            .map(|(name, type_name, comment)| {
                Column::builder()
                    .name(name)
                    .r#type(type_name)
                    .comment(comment)
                    .build()
                    .map_err(build_error)
            })
            .collect()
    }

    fn storage(location: String, table: &Table, with_columns: bool) -> Result<StorageDescriptor> {
        let serde = SerDeInfo::builder()
            .serialization_library(SERDE)
            .parameters("serialization.format", "1")
            .build();
        let mut builder = StorageDescriptor::builder()
            .location(location)
            .input_format(INPUT_FORMAT)
            .output_format(OUTPUT_FORMAT)
            .serde_info(serde);
        if with_columns {
            builder = builder.set_columns(Some(columns(data_columns(table))?));
        }
        Ok(builder.build())
    }

    fn table_input(lake_location: &str, table: &Table) -> Result<TableInput> {
        let mut builder = TableInput::builder()
            .name(format!("{RAW_PREFIX}{}", table.name()))
            .description(&table.def.description)
            .table_type("EXTERNAL_TABLE")
            .set_partition_keys(Some(columns(partition_keys(table))?))
            .storage_descriptor(storage(table_location(lake_location, table), table, true)?);
        for (key, value) in table_parameters(lake_location, table) {
            builder = builder.parameters(key, value);
        }
        builder.build().map_err(build_error)
    }

    /// Creates or updates the database and every table (idempotent: a new column in
    /// `schemas/` updates the table), then registers `snapshot_dates` as partitions for
    /// engines that do not use projection. Returns the number of partitions created.
    pub async fn sync(
        aws: &AwsContext,
        database: &str,
        lake_location: &str,
        snapshot_dates: &[String],
    ) -> Result<usize> {
        let client = aws_sdk_glue::Client::new(aws.base());
        if let Err(e) = client.get_database().name(database).send().await {
            if e.as_service_error().is_some_and(|s| s.is_entity_not_found_exception()) {
                let input = DatabaseInput::builder()
                    .name(database)
                    .description("orglake: inventory of an AWS Organization")
                    .build()
                    .map_err(build_error)?;
                client
                    .create_database()
                    .database_input(input)
                    .send()
                    .await
                    .map_err(|e| aws.error("glue:CreateDatabase", e))?;
            } else {
                return Err(aws.error("glue:GetDatabase", e));
            }
        }
        let mut created = 0;
        for table in all_tables() {
            let input = table_input(lake_location, table)?;
            let name = format!("{RAW_PREFIX}{}", table.name());
            upsert_table(aws, &client, database, input).await?;
            let partitions: Vec<PartitionInput> = snapshot_dates
                .iter()
                .map(|date| {
                    let location = format!("{}snapshot_date={date}/", table_location(lake_location, table));
                    Ok(PartitionInput::builder()
                        .values(date)
                        .storage_descriptor(storage(location, table, true)?)
                        .build())
                })
                .collect::<Result<_>>()?;
            for chunk in partitions.chunks(PARTITIONS_PER_CALL) {
                let out = client
                    .batch_create_partition()
                    .database_name(database)
                    .table_name(&name)
                    .set_partition_input_list(Some(chunk.to_vec()))
                    .send()
                    .await
                    .map_err(|e| aws.error("glue:BatchCreatePartition", e))?;
                // Partitions that exist already are fine: the sync is idempotent.
                let failed = out
                    .errors()
                    .iter()
                    .filter(|e| e.error_detail().and_then(|d| d.error_code()) != Some("AlreadyExistsException"))
                    .count();
                if failed > 0 {
                    return Err(Error::Aws {
                        operation: "glue:BatchCreatePartition".into(),
                        code: "PartitionErrors".into(),
                        message: format!("{failed} partitions of {name} could not be created"),
                    });
                }
                created += chunk.len() - out.errors().len();
            }
        }
        sync_views(aws, &client, database).await?;
        Ok(created)
    }

    /// Creates or replaces every view of `queries/lake/` as an Athena view (a Glue table of
    /// type `VIRTUAL_VIEW` with the encoded view text), in dependency order, so that Athena
    /// answers `SELECT ... FROM latest_<table>` with no manual step.
    async fn sync_views(aws: &AwsContext, client: &aws_sdk_glue::Client, database: &str) -> Result<()> {
        for (view, schema) in crate::query::view_schemas().await? {
            let columns: Vec<Column> = schema
                .fields()
                .iter()
                .map(|f| {
                    Column::builder()
                        .name(f.name())
                        .r#type(hive_type(f.data_type())?)
                        .build()
                        .map_err(build_error)
                })
                .collect::<Result<_>>()?;
            let storage = StorageDescriptor::builder()
                .set_columns(Some(columns))
                .serde_info(SerDeInfo::builder().build())
                .build();
            let input = TableInput::builder()
                .name(&view.name)
                .table_type("VIRTUAL_VIEW")
                .description("orglake view (queries/lake/)")
                .parameters("presto_view", "true")
                .parameters("comment", "Presto View")
                .view_original_text(presto_view_text(database, &view.select_sql, &schema)?)
                .view_expanded_text("/* Presto View */")
                .storage_descriptor(storage)
                .build()
                .map_err(build_error)?;
            upsert_table(aws, client, database, input).await?;
        }
        Ok(())
    }

    /// Creates the table, or updates it when it exists (the sync is idempotent).
    async fn upsert_table(
        aws: &AwsContext,
        client: &aws_sdk_glue::Client,
        database: &str,
        input: TableInput,
    ) -> Result<()> {
        match client
            .get_table()
            .database_name(database)
            .name(input.name())
            .send()
            .await
        {
            Ok(_) => {
                client
                    .update_table()
                    .database_name(database)
                    .table_input(input)
                    .send()
                    .await
                    .map_err(|e| aws.error("glue:UpdateTable", e))?;
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_entity_not_found_exception()) => {
                client
                    .create_table()
                    .database_name(database)
                    .table_input(input)
                    .send()
                    .await
                    .map_err(|e| aws.error("glue:CreateTable", e))?;
            }
            Err(e) => return Err(aws.error("glue:GetTable", e)),
        }
        Ok(())
    }
}
