//! Table schemas, loaded from the `schemas/` folder (embedded at build time).
//!
//! Each `schemas/<table>.toml` is the single source of truth for one table: the Arrow
//! schema the pipeline writes, the Glue columns and the data dictionary all derive from it.
//! Column types use the Hive/Athena vocabulary (`string`, `bigint`, `array<string>`,
//! `map<string,string>`, `struct<a:string,b:bigint>`, ...), so that the same string is
//! both the Glue type and an unambiguous description of the Arrow type.

use std::sync::{Arc, OnceLock};

use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use serde::Deserialize;

use crate::embedded::files_in;
use crate::error::{Error, Result};

/// The folder of the lake tables' schema files (one `<table>.toml` each).
const LAKE_SCHEMAS: &str = "schemas";
/// The folder of the staging tables that have a schema of their own (what extraction
/// hands to the transform inside one run; never in the lake). Any other `<table>_extracted`
/// is the lake table's columns but the derived and partition ones.
const STAGING_SCHEMAS: &str = "schemas/staging";

/// Time zone of every timestamp column.
pub const UTC: &str = "UTC";

/// One table's definition as written in its schema file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableDef {
    /// Table name; also the folder name in the lake.
    pub table: String,
    /// What one row of the table is.
    pub description: String,
    /// How the table keeps the last known rows of a stage that did not finish in a run
    /// (`stale` rows); `None`: it does not.
    #[serde(default)]
    pub carry_forward: Option<CarryForward>,
    /// Columns in order; partition columns last.
    #[serde(rename = "column")]
    pub columns: Vec<ColumnDef>,
}

/// A table's `[carry_forward]`: its transform, unless it has a SQL file of its own, is
/// `queries/transform/templates/carry_forward_by_<by>.sql` filled in with these.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarryForward {
    /// The `account_status` stage whose failure keeps the rows.
    pub stage: String,
    /// Whether a failure of the stage for the account or for one region keeps them.
    pub by: CarryScope,
    /// The columns that identify a row within its account (and region).
    pub key: Vec<String>,
}

/// What a stage's failure covers, for [`CarryForward`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CarryScope {
    /// The stage has one outcome per account.
    Account,
    /// The stage has one outcome per region of an account.
    Region,
}

impl CarryScope {
    /// The name used in the template file's name.
    pub fn name(self) -> &'static str {
        match self {
            CarryScope::Account => "account",
            CarryScope::Region => "region",
        }
    }
}

/// One column of a table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnDef {
    /// Column name.
    pub name: String,
    /// Hive-style type expression, for example `map<string,string>`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Whether the column may hold nulls.
    pub nullable: bool,
    /// True for the hive partition column (`snapshot_date`), which lives in the path.
    #[serde(default)]
    pub partition: bool,
    /// True for a column the transform computes (history: `observed`, `last_seen`, ...):
    /// it is not part of the `<table>_extracted` staging table.
    #[serde(default)]
    pub derived: bool,
    /// True for a column whose values are (nearly) all different from row to row (ids,
    /// addresses, ARNs): the lake writes it without a Parquet dictionary, which would
    /// only be built for every row group and dropped (dictionaries are kept for columns
    /// that repeat). Only for a column that is not nested.
    #[serde(default)]
    pub distinct: bool,
    /// What the column holds, for the data dictionary.
    pub description: String,
}

/// A table definition with its Arrow schemas resolved.
#[derive(Debug, Clone)]
pub struct Table {
    /// The definition from `schemas/`.
    pub def: TableDef,
    /// Columns stored in the Parquet files (everything but partition columns).
    pub file_schema: SchemaRef,
    /// The partition columns, stored in the path.
    pub partition_fields: Vec<Field>,
}

impl Table {
    /// The table's name.
    pub fn name(&self) -> &str {
        &self.def.table
    }

    /// Whether its rows belong to accounts (an `account_id` column): every table but the
    /// run manifest. Such a table has per-account views and previous rows.
    pub fn has_accounts(&self) -> bool {
        self.file_schema.field_with_name("account_id").is_ok()
    }

    /// The file columns marked `distinct` in `schemas/` (written without a dictionary).
    pub fn distinct_columns(&self) -> impl Iterator<Item = &str> {
        self.def
            .columns
            .iter()
            .filter(|c| c.distinct && !c.partition)
            .map(|c| c.name.as_str())
    }

    /// The full schema as queries see it: file columns followed by partition columns.
    pub fn full_schema(&self) -> SchemaRef {
        let mut fields: Vec<Field> = self.file_schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.extend(self.partition_fields.iter().cloned());
        Arc::new(Schema::new(fields))
    }
}

fn parse_all(files: &[(&str, &str)]) -> Vec<Table> {
    files
        .iter()
        .map(|(name, text)| {
            let table = parse_table(text).unwrap_or_else(|e| panic!("schema file for {name} is invalid: {e}"));
            assert_eq!(table.name(), *name, "schema file registered under the wrong name");
            table
        })
        .collect()
}

/// Every lake table, sorted by name.
pub fn all_tables() -> &'static [Table] {
    static TABLES: OnceLock<Vec<Table>> = OnceLock::new();
    TABLES.get_or_init(|| parse_all(&files_in(LAKE_SCHEMAS, "toml")))
}

/// Every staging table (inside one run only): those of `schemas/staging/`, and for every
/// other lake table `<table>_extracted`, its columns but the derived and partition ones.
pub fn staging_tables() -> &'static [Table] {
    static TABLES: OnceLock<Vec<Table>> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut tables = parse_all(&files_in(STAGING_SCHEMAS, "toml"));
        for lake in all_tables() {
            let name = format!("{}_extracted", lake.name());
            if tables.iter().any(|t| t.name() == name) {
                continue;
            }
            let mut def = lake.def.clone();
            def.table = name;
            def.columns.retain(|c| !c.partition && !c.derived);
            let fields: Vec<Field> = lake
                .file_schema
                .fields()
                .iter()
                .filter(|f| def.columns.iter().any(|c| &c.name == f.name()))
                .map(|f| f.as_ref().clone())
                .collect();
            tables.push(Table {
                def,
                file_schema: Arc::new(Schema::new(fields)),
                partition_fields: Vec::new(),
            });
        }
        tables
    })
}

/// Looks a lake or staging table up by name.
pub fn table(name: &str) -> Result<&'static Table> {
    all_tables()
        .iter()
        .chain(staging_tables())
        .find(|t| t.name() == name)
        .ok_or_else(|| Error::UnknownTable(name.to_string()))
}

/// The data dictionary: every table and column as Markdown, for the README.
pub fn data_dictionary_markdown() -> String {
    let mut out = String::new();
    for table in all_tables() {
        out.push_str(&format!("#### `{}`\n\n{}\n\n", table.name(), table.def.description));
        out.push_str("| column | type | nullable | description |\n| --- | --- | --- | --- |\n");
        for c in &table.def.columns {
            let partition = if c.partition { " (partition)" } else { "" };
            let nullable = if c.nullable { "yes" } else { "no" };
            let description = c.description.replace('|', "\\|");
            out.push_str(&format!(
                "| `{}`{partition} | `{}` | {nullable} | {description} |\n",
                c.name, c.type_name
            ));
        }
        out.push('\n');
    }
    out
}

/// Parses one schema file's text into a resolved [`Table`].
pub fn parse_table(text: &str) -> Result<Table> {
    let def: TableDef = toml::from_str(text).map_err(|e| Error::Schema(e.to_string()))?;
    if let Some(carry) = &def.carry_forward {
        let mut needed: Vec<&str> = carry.key.iter().map(String::as_str).collect();
        needed.extend(["account_id", "observed", "last_seen", "observed_run_id"]);
        if carry.by == CarryScope::Region {
            needed.push("region");
        }
        for column in needed {
            if !def.columns.iter().any(|c| c.name == column) {
                return Err(Error::Schema(format!(
                    "{}: [carry_forward] needs a column `{column}`",
                    def.table
                )));
            }
        }
    }
    let mut file_fields = Vec::new();
    let mut partition_fields = Vec::new();
    for column in &def.columns {
        let data_type =
            parse_type(&column.type_name).map_err(|e| Error::Schema(format!("{}.{}: {e}", def.table, column.name)))?;
        if column.distinct && data_type.is_nested() {
            return Err(Error::Schema(format!(
                "{}.{}: `distinct` is for a column that is not nested; {} is",
                def.table, column.name, column.type_name
            )));
        }
        let field = Field::new(&column.name, data_type, column.nullable);
        if column.partition {
            partition_fields.push(field);
        } else {
            file_fields.push(field);
        }
    }
    Ok(Table {
        file_schema: Arc::new(Schema::new(file_fields)),
        partition_fields,
        def,
    })
}

/// Parses a Hive-style type expression into an Arrow type.
///
/// Lists and maps use the field names of Arrow's builders (`item`; `entries`, `keys`,
/// `values`), so batches built by `arrow-json` match the declared schema exactly.
pub fn parse_type(text: &str) -> std::result::Result<DataType, String> {
    let mut parser = TypeParser { rest: text.trim() };
    let data_type = parser.parse()?;
    if !parser.rest.trim().is_empty() {
        return Err(format!("unexpected `{}` after type in `{text}`", parser.rest));
    }
    Ok(data_type)
}

/// The Arrow type of a list of `item`.
pub fn list_of(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("item", item, true)))
}

/// The Arrow type of a map from `key` to `value`.
pub fn map_of(key: DataType, value: DataType) -> DataType {
    let entries = Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![
            Field::new("keys", key, false),
            Field::new("values", value, true),
        ])),
        false,
    );
    DataType::Map(Arc::new(entries), false)
}

struct TypeParser<'a> {
    rest: &'a str,
}

impl TypeParser<'_> {
    fn parse(&mut self) -> std::result::Result<DataType, String> {
        let word = self.word();
        let data_type = match word.as_str() {
            "string" => DataType::Utf8,
            "bigint" => DataType::Int64,
            "int" => DataType::Int32,
            "boolean" => DataType::Boolean,
            "double" => DataType::Float64,
            "date" => DataType::Date32,
            "timestamp" => DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into())),
            "array" => {
                self.expect('<')?;
                let item = self.parse()?;
                self.expect('>')?;
                list_of(item)
            }
            "map" => {
                self.expect('<')?;
                let key = self.parse()?;
                self.expect(',')?;
                let value = self.parse()?;
                self.expect('>')?;
                map_of(key, value)
            }
            "struct" => {
                self.expect('<')?;
                let mut fields = Vec::new();
                loop {
                    let name = self.word();
                    if name.is_empty() {
                        return Err("struct field without a name".into());
                    }
                    self.expect(':')?;
                    fields.push(Field::new(name, self.parse()?, true));
                    if self.peek() == Some('>') {
                        self.expect('>')?;
                        break;
                    }
                    self.expect(',')?;
                }
                DataType::Struct(Fields::from(fields))
            }
            "" => return Err(format!("expected a type at `{}`", self.rest)),
            other => return Err(format!("unknown type `{other}`")),
        };
        Ok(data_type)
    }

    fn word(&mut self) -> String {
        self.rest = self.rest.trim_start();
        let end = self
            .rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(self.rest.len());
        let (word, rest) = self.rest.split_at(end);
        self.rest = rest;
        word.to_string()
    }

    fn peek(&mut self) -> Option<char> {
        self.rest = self.rest.trim_start();
        self.rest.chars().next()
    }

    fn expect(&mut self, wanted: char) -> std::result::Result<(), String> {
        match self.peek() {
            Some(c) if c == wanted => {
                self.rest = &self.rest[c.len_utf8()..];
                Ok(())
            }
            _ => Err(format!("expected `{wanted}` at `{}`", self.rest)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_tables_parse_without_partitions() {
        for table in staging_tables() {
            assert!(table.partition_fields.is_empty(), "{}", table.name());
        }
    }

    #[test]
    fn every_schema_file_parses_and_has_the_run_columns() {
        for table in all_tables() {
            let full = table.full_schema();
            assert!(full.field_with_name("run_id").is_ok(), "{} lacks run_id", table.name());
            assert_eq!(table.partition_fields.len(), 1, "{} partition columns", table.name());
            assert_eq!(table.partition_fields[0].name(), "snapshot_date");
        }
    }

    #[test]
    fn nested_types_parse() {
        let t = parse_type("array<struct<id:string, age:bigint, tags:map<string,string>>>").unwrap();
        let DataType::List(item) = t else {
            panic!("not a list: {t}")
        };
        let DataType::Struct(fields) = item.data_type() else {
            panic!("not a struct")
        };
        assert_eq!(fields.len(), 3);
        assert_eq!(fields[1].data_type(), &DataType::Int64);
        assert!(matches!(fields[2].data_type(), DataType::Map(_, false)));
    }

    #[test]
    fn a_carry_forward_needs_its_key_and_history_columns() {
        let table = |carry: &str| {
            format!(
                "table = \"t\"\ndescription = \"d\"\n{carry}\n[[column]]\nname = \"account_id\"\ntype = \"string\"\nnullable = false\ndescription = \"a\"\n"
            )
        };
        let error = parse_table(&table(
            "[carry_forward]\nstage = \"s\"\nby = \"account\"\nkey = [\"id\"]",
        ))
        .unwrap_err();
        assert!(error.to_string().contains("needs a column `id`"), "{error}");
        assert!(parse_table(&table("[carry_forward]\nstage = \"s\"\nby = \"sideways\"\nkey = []")).is_err());
        let images = crate::schema::table("ec2_images").unwrap();
        let carry = images.def.carry_forward.as_ref().unwrap();
        assert_eq!((carry.stage.as_str(), carry.by), ("ec2", CarryScope::Region));
    }

    #[test]
    fn distinct_is_refused_on_a_nested_column_and_named_in_the_error() {
        let table = |column_type: &str| {
            format!(
                "table = \"t\"\ndescription = \"d\"\n[[column]]\nname = \"ids\"\ntype = \"{column_type}\"\n\
                 nullable = true\ndistinct = true\ndescription = \"d\"\n"
            )
        };
        let err = parse_table(&table("array<string>")).unwrap_err().to_string();
        assert!(err.contains("t.ids") && err.contains("distinct"), "{err}");
        let ok = parse_table(&table("string")).unwrap();
        assert_eq!(ok.distinct_columns().collect::<Vec<_>>(), ["ids"]);
        let instances = all_tables().iter().find(|t| t.name() == "ec2_instances").unwrap();
        assert!(instances.distinct_columns().any(|c| c == "instance_id"));
        assert!(!instances.distinct_columns().any(|c| c == "account_id"));
    }

    #[test]
    fn bad_types_are_errors_not_panics() {
        for bad in [
            "",
            "strng",
            "array<string",
            "map<string>",
            "struct<>",
            "string extra",
            "array<>",
        ] {
            assert!(parse_type(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
