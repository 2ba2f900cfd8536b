//! What changed since the previous snapshot of each account: the `changes` table.
//!
//! Each file of `queries/changes/` declares one kind of entity: a `-- from: <table>` line
//! names the lake table it reads, and its `SELECT` over `{rows}` returns the identity
//! columns (`account_id`, `entity_id`, `parent_id`, `region`) and then the fields whose
//! change counts, nothing else (so `last_seen`, ages and last-used times are never changes
//! by themselves). The diff is the same for every entity and built here: this run's rows
//! against the rows of the latest committed run that listed the account
//! (`previous_runs`), joined on (account, entity id): added, removed, and one row per
//! changed field. Accounts without a previous run record nothing; accounts whose role
//! could not be assumed record no removals (their rows are carried forward as `stale`
//! anyway, so a failure never reads as a deletion).

use std::sync::Arc;

use arrow::array::{Array, StringBuilder, UInt64Array};
use arrow::datatypes::DataType;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use datafusion::prelude::SessionContext;

use crate::embedded;
use crate::error::{Error, Result};

/// The columns every entity query starts with.
const IDENTITY: [&str; 4] = ["account_id", "entity_id", "parent_id", "region"];

/// One kind of entity whose changes are recorded (a file of `queries/changes/`).
#[derive(Debug, Clone)]
pub struct Entity {
    /// The entity type, the file's name (`access_key`).
    pub name: &'static str,
    /// The lake table whose rows it reads.
    pub table: &'static str,
    /// Its query over `{rows}`.
    pub sql: &'static str,
}

/// Every entity of `queries/changes/`, in the order of their names.
pub fn entities() -> Result<Vec<Entity>> {
    embedded::files_in("queries/changes", "sql")
        .into_iter()
        .map(|(name, sql)| {
            let path = format!("queries/changes/{name}.sql");
            let table = sql
                .lines()
                .find_map(|line| line.strip_prefix("-- from: "))
                .map(str::trim)
                .ok_or_else(|| Error::Schema(format!("{path} has no `-- from: <table>` line")))?;
            crate::schema::table(table)?;
            Ok(Entity { name, table, sql })
        })
        .collect()
}

/// One entity type as the data dictionary shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityFields {
    /// The entity type.
    pub name: &'static str,
    /// The lake table it reads.
    pub table: &'static str,
    /// The fields whose change counts, in the file's order.
    pub fields: Vec<String>,
    /// What it is: the file's comment lines.
    pub description: String,
}

/// Every entity type with the fields its query selects (read by planning the query over
/// empty tables of the lake schemas).
pub async fn entity_fields() -> Result<Vec<EntityFields>> {
    let ctx = SessionContext::new();
    let entities = entities()?;
    for table in tables_read()? {
        let schema = crate::schema::table(table)?.file_schema.clone();
        let empty = datafusion::datasource::MemTable::try_new(schema, vec![vec![]])?;
        ctx.register_table(format!("run_{table}"), Arc::new(empty))?;
    }
    let mut out = Vec::new();
    for entity in entities {
        let current = entity.sql.replace("{rows}", &format!("run_{}", entity.table));
        let schema = ctx.sql(&current).await?.schema().as_arrow().clone();
        let description = entity
            .sql
            .lines()
            .filter_map(|l| l.strip_prefix("-- "))
            .filter(|l| !l.starts_with("from: "))
            .collect::<Vec<_>>()
            .join(" ");
        out.push(EntityFields {
            name: entity.name,
            table: entity.table,
            fields: schema
                .fields()
                .iter()
                .skip(IDENTITY.len())
                .map(|f| f.name().clone())
                .collect(),
            description,
        });
    }
    Ok(out)
}

/// The README's table of entity types (Markdown).
pub async fn entities_markdown() -> Result<String> {
    let mut out = String::from("| entity_type | from | fields that count | what it is |\n| --- | --- | --- | --- |\n");
    for entity in entity_fields().await? {
        let fields = match entity.fields.is_empty() {
            true => "none: added or removed only".to_string(),
            false => entity.fields.join(", "),
        };
        out.push_str(&format!(
            "| `{}` | `{}` | {fields} | {} |\n",
            entity.name, entity.table, entity.description
        ));
    }
    Ok(out)
}

/// The tables the entities read, once each.
pub fn tables_read() -> Result<Vec<&'static str>> {
    let mut tables: Vec<&'static str> = entities()?.iter().map(|e| e.table).collect();
    tables.sort();
    tables.dedup();
    Ok(tables)
}

/// The SQL of an entity's changes, in `ctx` where `run_<table>` holds this run's rows,
/// `previous_<table>` the previous rows of this run's accounts, beside `previous_runs`,
/// `run_params` and `run_account_status`. Produces the `changes` columns.
pub async fn entity_changes_sql(ctx: &SessionContext, entity: &Entity) -> Result<String> {
    let current = entity.sql.replace("{rows}", &format!("run_{}", entity.table));
    let previous = entity.sql.replace("{rows}", &format!("previous_{}", entity.table));
    let schema = ctx.sql(&current).await?.schema().as_arrow().clone();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    if names.len() < IDENTITY.len() || names[..IDENTITY.len()] != IDENTITY {
        return Err(Error::Schema(format!(
            "queries/changes/{}.sql must select {} first, then the fields that count; it selects {}",
            entity.name,
            IDENTITY.join(", "),
            names.join(", ")
        )));
    }
    let fields: Vec<(&str, &DataType)> = schema
        .fields()
        .iter()
        .skip(IDENTITY.len())
        .map(|f| (f.name().as_str(), f.data_type()))
        .collect();
    let text = |side: &str, name: &str, data_type: &DataType| match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => format!("{side}.\"{name}\""),
        DataType::List(_) | DataType::LargeList(_) | DataType::Struct(_) | DataType::Map(..) => {
            format!("to_json({side}.\"{name}\")")
        }
        _ => format!("CAST({side}.\"{name}\" AS VARCHAR)"),
    };
    let mut pairs = String::new();
    // One row per field, so that the join is computed once (a CTE referenced by one UNION
    // branch per field is recomputed by each): the field list crossed with the joined rows,
    // index -1 standing for added or removed.
    let mut field_rows = String::from("(-1, '')");
    for (i, (name, data_type)) in fields.iter().enumerate() {
        pairs.push_str(&format!(
            ",\n    {} AS new_{i}, {} AS old_{i}",
            text("c", name, data_type),
            text("p", name, data_type)
        ));
        field_rows.push_str(&format!(", ({i}, '{name}')"));
    }
    // An expression chosen by the field index (`otherwise` for -1, or when there are none).
    let by_field = |expression: &dyn Fn(usize) -> String, otherwise: &str| match fields.is_empty() {
        true => otherwise.to_string(),
        false => {
            let branches: String = (0..fields.len())
                .map(|i| format!(" WHEN {i} THEN {}", expression(i)))
                .collect();
            format!("CASE f.i{branches} ELSE {otherwise} END")
        }
    };
    let old_value = by_field(&|i| format!("j.old_{i}"), "CAST(NULL AS VARCHAR)");
    let new_value = by_field(&|i| format!("j.new_{i}"), "CAST(NULL AS VARCHAR)");
    let differs = by_field(&|i| format!("j.old_{i} IS DISTINCT FROM j.new_{i}"), "false");
    // Whether a joined row can yield a change at all: added, removed, or a field differs.
    // Only those rows are crossed with the field list (most rows of a night change nothing).
    let any_change = std::iter::once("(j.now_present <> j.was_present)".to_string())
        .chain((0..fields.len()).map(|i| format!("(j.old_{i} IS DISTINCT FROM j.new_{i})")))
        .collect::<Vec<_>>()
        .join(" OR ");
    let columns = names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ");
    // One row per key. A lake should hold none twice, but a past mistake may have (the
    // full outer join would then multiply them): the rows are checked first, by their keys
    // alone, and only a side that holds a key twice goes through the window that keeps one
    // (a window partitioned by a million keys costs more than the rest of the diff). The
    // check groups by one 64-bit hash of the key ([`key_hash_udf`]), not by the two texts:
    // equal keys hash alike, so no duplicate is missed, and two keys that collide only
    // send that side through the window, which gives the same rows.
    let one_per_key = async |sql: &str| -> Result<String> {
        let duplicated =
            format!("SELECT 1 FROM ({sql}) x GROUP BY key_hash(x.account_id, x.entity_id) HAVING count(*) > 1 LIMIT 1");
        let found = ctx.sql(&duplicated).await?.collect().await?;
        Ok(match found.iter().any(|b| b.num_rows() > 0) {
            false => sql.to_string(),
            true => format!(
                "SELECT {columns} FROM (SELECT x.*, row_number() OVER (PARTITION BY x.account_id, x.entity_id) AS copy \
                 FROM ({sql}) x) WHERE copy = 1"
            ),
        })
    };
    let (cur, prev) = (one_per_key(&current).await?, one_per_key(&previous).await?);
    Ok(format!(
        "-- changes of {entity} (queries/changes/{entity}.sql)\n\
         WITH cur AS (\n  {cur}\n),\n\
         prev AS (\n  {prev}\n),\n\
         joined AS (\n  SELECT COALESCE(c.account_id, p.account_id) AS account_id,\n\
         \x20   COALESCE(c.entity_id, p.entity_id) AS entity_id,\n\
         \x20   COALESCE(c.parent_id, p.parent_id) AS parent_id,\n\
         \x20   COALESCE(c.region, p.region) AS region,\n\
         \x20   c.entity_id IS NOT NULL AS now_present, p.entity_id IS NOT NULL AS was_present{pairs}\n\
         \x20 FROM (SELECT * FROM cur WHERE account_id IN (SELECT account_id FROM previous_runs)) c\n\
         \x20 FULL OUTER JOIN prev p ON c.account_id = p.account_id AND c.entity_id = p.entity_id\n\
         ),\n\
         -- A removed entity of an account whose session failed is not a change: it was not seen.\n\
         session_failed AS (\n\
         \x20 SELECT DISTINCT account_id FROM run_account_status\n\
         \x20 WHERE stage IN ('assume_role', 'identity') AND status <> 'ok'\n\
         ),\n\
         flagged AS (\n\
         \x20 SELECT j.*, s.account_id IS NOT NULL AS session_failed\n\
         \x20 FROM joined j LEFT JOIN session_failed s ON s.account_id = j.account_id\n\
         \x20 WHERE {any_change}\n\
         ),\n\
         diff AS (\n\
         SELECT j.account_id, j.entity_id, j.parent_id, j.region,\n\
         \x20      CASE WHEN f.i >= 0 THEN 'modified' WHEN j.now_present THEN 'added' ELSE 'removed' END AS change,\n\
         \x20      CASE WHEN f.i >= 0 THEN f.name END AS field,\n\
         \x20      {old_value} AS old_value, {new_value} AS new_value\n\
         FROM (VALUES {field_rows}) AS f(i, name)\n\
         CROSS JOIN flagged j\n\
         WHERE CASE WHEN f.i < 0\n\
         \x20          THEN (j.now_present AND NOT j.was_present) OR (j.was_present AND NOT j.now_present AND NOT j.session_failed)\n\
         \x20          ELSE j.now_present AND j.was_present AND {differs} END\n\
         )\n\
         SELECT d.account_id, '{entity}' AS entity_type, d.entity_id, d.parent_id, d.region, d.change, d.field,\n\
         \x20      d.old_value, d.new_value, pr.run_id AS previous_run_id, params.as_of AS detected_at, params.run_id AS run_id\n\
         FROM run_params params\n\
         CROSS JOIN diff d\n\
         JOIN previous_runs pr ON pr.account_id = d.account_id",
        entity = entity.name,
    ))
}

/// `key_hash(value, …)`: one 64-bit hash of a row's values (DataFusion's own hash, the one
/// its joins and aggregates use, with a fixed seed). Rows with equal values (nulls equal
/// to nulls) hash alike; unequal ones rarely do. Grouping by it is grouping by one number
/// instead of by texts.
pub fn key_hash_udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(KeyHash {
        signature: Signature::variadic_any(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct KeyHash {
    signature: Signature,
}

impl ScalarUDFImpl for KeyHash {
    fn name(&self) -> &str {
        "key_hash"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(DataType::UInt64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> datafusion::error::Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let mut hashes = vec![0; args.number_rows];
        let seed = datafusion::common::hash_utils::RandomState::with_seed(0);
        datafusion::common::hash_utils::create_hashes(&arrays, &seed, &mut hashes)?;
        Ok(ColumnarValue::Array(Arc::new(UInt64Array::from(hashes))))
    }
}

/// `to_json(value)`: a value as JSON text (maps as objects, lists as arrays), the way the
/// CSV exports write nested values; null stays null.
pub fn to_json_udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(ToJson {
        signature: Signature::any(1, Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ToJson {
    signature: Signature,
}

impl ScalarUDFImpl for ToJson {
    fn name(&self) -> &str {
        "to_json"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> datafusion::error::Result<ColumnarValue> {
        let array = args.args[0].to_array(args.number_rows)?;
        let mut out = StringBuilder::with_capacity(array.len(), array.len() * 16);
        // Written straight from the arrays into one reused buffer: a JSON value per row
        // made a sixth of the changes' CPU.
        let mut json = Vec::new();
        for row in 0..array.len() {
            if array.is_null(row) {
                out.append_null();
            } else {
                json.clear();
                crate::lake::export::write_json(&mut json, &array, row)
                    .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
                out.append_value(String::from_utf8_lossy(&json));
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// The security digest's lines for this run, in `ctx` where `run_changes` and
/// `run_findings` hold this run's rows: (account, line), as the SQL orders them.
pub async fn digest(ctx: &SessionContext) -> Result<Vec<(String, String)>> {
    let sql = embedded::file(DIGEST_SQL).ok_or_else(|| Error::Schema(format!("{DIGEST_SQL} is missing")))?;
    let mut lines = Vec::new();
    for batch in ctx.sql(sql).await?.collect().await? {
        let accounts = crate::lake::text_values(batch.column(0))?;
        let texts = crate::lake::text_values(batch.column(1))?;
        for row in 0..accounts.len() {
            if texts.is_valid(row) {
                lines.push((accounts.value(row).to_string(), texts.value(row).to_string()));
            }
        }
    }
    Ok(lines)
}

/// The digest's SQL: which changes are security-relevant.
pub const DIGEST_SQL: &str = "queries/digest/security_changes.sql";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn equal_keys_hash_alike_nulls_included_and_distinct_keys_apart() {
        let ctx = SessionContext::new();
        ctx.register_udf(key_hash_udf());
        let sql = "SELECT key_hash(a, b) AS h FROM (VALUES \
                   ('111111111111', 'i-1'), ('111111111111', 'i-1'), ('111111111111', 'i-2'), \
                   ('222222222222', 'i-1'), (NULL, 'i-1'), (NULL, 'i-1'), ('111111111111', NULL)) AS t(a, b)";
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let hashes: Vec<u64> = batches
            .iter()
            .flat_map(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<UInt64Array>()
                    .unwrap()
                    .values()
                    .to_vec()
            })
            .collect();
        assert_eq!(hashes.len(), 7);
        assert_eq!(hashes[0], hashes[1], "the same key twice");
        assert_eq!(hashes[4], hashes[5], "the same key with a null twice");
        let distinct: std::collections::BTreeSet<u64> = hashes.iter().copied().collect();
        assert_eq!(distinct.len(), 5, "five different keys: {hashes:?}");
    }
}
