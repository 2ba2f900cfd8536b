//! Rows to Arrow: serde-serializable row structs become record batches of a table's schema.
//!
//! The rows go straight into Arrow builders through `serde_arrow` (no JSON in between), or,
//! for the staged rows with typed columns ([`super::columns`]), into Arrow's typed builders.
//! `serde_arrow` is lenient: it ignores a field the schema lacks and fills a missing
//! nullable column with nulls. So the first row of every batch is also decoded through
//! `arrow-json`'s serde decoder in strict mode: a row struct that drifts from its schema
//! file (a missing, extra or mistyped field) is an error rather than silently wrong data.
//! A staged row type ([`StagedRow`]: a struct, or a report line of one value per column)
//! has the same fields in every row, so its first batch's first row is checked once per
//! table and process, not every batch's: extraction sends batches as small as one
//! account's AMIs, and a strict decoder built for each cost more than their rows.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{FieldRef, Schema, SchemaRef};
use arrow::json::ReaderBuilder;
use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use crate::error::{Error, Result};
use crate::lake::columns::StagedRow;
use crate::schema::Table;

/// The column every table carries to say which run wrote a row.
pub const RUN_ID_COLUMN: &str = "run_id";

/// Serializes an optional time as microseconds since the epoch, the unit of every
/// `timestamp` column, so that no text is formatted and parsed again per row. For row
/// structs: `#[serde(serialize_with = "micros")]`.
pub fn micros<S: Serializer>(time: &Option<DateTime<Utc>>, serializer: S) -> std::result::Result<S::Ok, S::Error> {
    match time {
        Some(time) => serializer.serialize_some(&time.timestamp_micros()),
        None => serializer.serialize_none(),
    }
}

/// Converts rows into one record batch with the table's file schema, filling `run_id`.
pub fn rows_to_batch<T: Serialize>(table: &Table, run_id: &str, rows: &[T]) -> Result<RecordBatch> {
    to_batch(table, run_id, rows, true, |_| None)
}

/// Converts staged rows into one record batch as [`rows_to_batch`] does, with typed
/// builders where the row type has them ([`StagedRow::columns`]); the first row is checked
/// against the schema in the first batch of this row type for this table only.
pub fn staged_rows_to_batch<T: StagedRow>(table: &'static Table, run_id: &str, rows: &[T]) -> Result<RecordBatch> {
    let pair = (table.name(), std::any::type_name::<T>());
    let checked = CHECKED_ROW_TYPES.lock().is_ok_and(|set| set.contains(&pair));
    let batch = to_batch(table, run_id, rows, !checked, |row_fields| T::columns(rows, row_fields))?;
    if !checked
        && !rows.is_empty()
        && let Ok(mut set) = CHECKED_ROW_TYPES.lock()
    {
        set.insert(pair);
    }
    Ok(batch)
}

/// The (table, staged row type) pairs whose first row has passed the schema check; both
/// names are static, so looking a pair up allocates nothing on the staging path.
static CHECKED_ROW_TYPES: std::sync::Mutex<std::collections::BTreeSet<(&'static str, &'static str)>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// The rows as a batch of the table's file schema: the first row checked against the
/// schema (when `check`), the columns from `typed` (given the table's columns but
/// `run_id`) or, where it has none, through serde_arrow, then `run_id`.
fn to_batch<T: Serialize>(
    table: &Table,
    run_id: &str,
    rows: &[T],
    check: bool,
    typed: impl FnOnce(&[FieldRef]) -> Option<Result<Vec<ArrayRef>>>,
) -> Result<RecordBatch> {
    let row_fields: Vec<FieldRef> = table
        .file_schema
        .fields()
        .iter()
        .filter(|f| f.name() != RUN_ID_COLUMN)
        .cloned()
        .collect();
    let row_schema = Arc::new(Schema::new(row_fields.clone()));
    let Some(first) = rows.first() else {
        return with_run_id(table, run_id, RecordBatch::new_empty(row_schema));
    };
    if check {
        check_against_schema(&row_schema, first)?;
    }
    let unfit =
        |e: &dyn std::fmt::Display| Error::Schema(format!("rows of {} do not fit its schema: {e}", table.name()));
    let decoded = match typed(&row_fields) {
        Some(columns) => RecordBatch::try_new(row_schema, columns?).map_err(|e| unfit(&e))?,
        None => serde_arrow::to_record_batch(&row_fields, &rows).map_err(|e| unfit(&e))?,
    };
    with_run_id(table, run_id, decoded)
}

/// The batch in the table's file schema: the rows' columns and `run_id`.
fn with_run_id(table: &Table, run_id: &str, decoded: RecordBatch) -> Result<RecordBatch> {
    let file_schema = table.file_schema.clone();
    let run_ids: ArrayRef = Arc::new(StringArray::from(vec![run_id; decoded.num_rows()]));
    let columns = file_schema
        .fields()
        .iter()
        .map(|f| {
            if f.name() == RUN_ID_COLUMN {
                Ok(run_ids.clone())
            } else {
                decoded
                    .column_by_name(f.name())
                    .cloned()
                    .ok_or_else(|| arrow::error::ArrowError::SchemaError(format!("no column {}", f.name())))
            }
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(file_schema, columns)?)
}

/// Decodes one row through `arrow-json` in strict mode, which rejects a field the schema
/// does not declare, a missing non-nullable column and a value of the wrong type.
fn check_against_schema<T: Serialize>(row_schema: &SchemaRef, row: &T) -> Result<()> {
    let mut decoder = ReaderBuilder::new(row_schema.clone())
        .with_strict_mode(true)
        .with_batch_size(1)
        .build_decoder()?;
    decoder.serialize(std::slice::from_ref(row))?;
    decoder.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::table;
    use serde_json::{Map, Value, json};

    /// The golden credential report's lines, as `parse` makes them.
    fn golden_lines() -> Vec<crate::sources::credential_report::ReportLine> {
        let golden = include_str!("../../tests/golden/credential_report.csv");
        crate::sources::credential_report::parse("111111111111", None, golden.as_bytes())
            .unwrap()
            .rows
    }

    /// The golden report's lines as JSON maps, which can be made to drift.
    fn report_rows() -> Vec<Map<String, Value>> {
        golden_lines()
            .iter()
            .map(|line| match serde_json::to_value(line).unwrap() {
                Value::Object(row) => row
                    .into_iter()
                    .map(|(column, value)| (column, as_text_time(value)))
                    .collect(),
                other => panic!("a report line serializes as an object, not {other}"),
            })
            .collect()
    }

    /// A time in microseconds as RFC 3339 text, the other form both decoders take (a
    /// positive number in a map serializes as u64, which serde_arrow refuses for a timestamp).
    fn as_text_time(value: Value) -> Value {
        match value.as_i64() {
            Some(micros) => json!(DateTime::<Utc>::from_timestamp_micros(micros).unwrap().to_rfc3339()),
            None => value,
        }
    }

    /// The batch `arrow-json` decodes from the same rows, for comparison.
    fn through_arrow_json(table: &Table, rows: &[Map<String, Value>]) -> RecordBatch {
        let mut decoder = ReaderBuilder::new(table.file_schema.clone())
            .with_strict_mode(true)
            .build_decoder()
            .unwrap();
        let with_run: Vec<_> = rows
            .iter()
            .map(|row| {
                let mut row = row.clone();
                row.insert(RUN_ID_COLUMN.into(), json!("run"));
                row
            })
            .collect();
        decoder.serialize(&with_run).unwrap();
        decoder.flush().unwrap().unwrap()
    }

    #[test]
    fn rows_become_the_same_batch_as_through_strict_arrow_json() {
        let table = table("iam_credential_report_extracted").unwrap();
        let rows = report_rows();
        let batch = rows_to_batch(table, "run", &rows).unwrap();
        assert_eq!(batch, through_arrow_json(table, &rows));
        assert_eq!(
            rows_to_batch(table, "run", &golden_lines()).unwrap(),
            batch,
            "report lines and their maps"
        );
    }

    #[test]
    fn a_row_that_drifts_from_its_schema_is_an_error() {
        let table = table("iam_credential_report_extracted").unwrap();
        let mut extra = report_rows();
        extra[0].insert("not_a_column".into(), json!("x"));
        assert!(rows_to_batch(table, "run", &extra).is_err(), "an undeclared field");
        let mut mistyped = report_rows();
        mistyped[0].insert("mfa_active".into(), json!("yes"));
        assert!(
            rows_to_batch(table, "run", &mistyped).is_err(),
            "a string in a boolean column"
        );
        let mut missing = report_rows();
        missing[0].remove("user");
        assert!(
            rows_to_batch(table, "run", &missing).is_err(),
            "a missing non-nullable column"
        );
    }

    /// Report rows as maps, as a staged row type of this test's own.
    #[derive(Serialize)]
    #[serde(transparent)]
    struct StagedMap(Map<String, Value>);
    impl StagedRow for StagedMap {}

    #[test]
    fn a_staged_row_type_that_drifts_is_an_error_in_every_batch_not_only_the_first() {
        let table = table("iam_credential_report_extracted").unwrap();
        let drifted: Vec<StagedMap> = report_rows()
            .into_iter()
            .map(|mut row| {
                row.insert("not_a_column".into(), json!("x"));
                StagedMap(row)
            })
            .collect();
        assert!(staged_rows_to_batch(table, "run", &drifted).is_err(), "the first batch");
        assert!(
            staged_rows_to_batch(table, "run", &drifted).is_err(),
            "a failed check is not remembered as passed"
        );
    }

    #[test]
    fn a_later_row_of_the_wrong_type_is_still_an_error() {
        let table = table("iam_credential_report_extracted").unwrap();
        let mut rows = report_rows();
        rows[2].insert("mfa_active".into(), json!({"not": "a boolean"}));
        assert!(rows_to_batch(table, "run", &rows).is_err());
    }

    #[test]
    fn no_rows_is_an_empty_batch_of_the_file_schema() {
        let table = table("iam_credential_report_extracted").unwrap();
        let batch = rows_to_batch::<Map<String, Value>>(table, "run", &[]).unwrap();
        assert_eq!((batch.num_rows(), batch.schema()), (0, table.file_schema.clone()));
    }
}
