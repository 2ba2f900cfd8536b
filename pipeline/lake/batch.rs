//! Rows to Arrow: serde-serializable row structs become record batches of a table's schema.
//!
//! Conversion goes through `arrow-json`'s serde decoder in strict mode, so a row struct
//! that drifts from its schema file (a missing, extra or mistyped field) is an error
//! rather than silently wrong data.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::Schema;
use arrow::json::ReaderBuilder;
use serde::Serialize;

use crate::error::Result;
use crate::schema::Table;

/// The column every table carries to say which run wrote a row.
pub const RUN_ID_COLUMN: &str = "run_id";

/// Converts rows into one record batch with the table's file schema, filling `run_id`.
pub fn rows_to_batch<T: Serialize>(table: &Table, run_id: &str, rows: &[T]) -> Result<RecordBatch> {
    let file_schema = table.file_schema.clone();
    let row_fields: Vec<_> = file_schema
        .fields()
        .iter()
        .filter(|f| f.name() != RUN_ID_COLUMN)
        .cloned()
        .collect();
    let row_schema = Arc::new(Schema::new(row_fields));
    let mut decoder = ReaderBuilder::new(row_schema.clone())
        .with_strict_mode(true)
        .with_batch_size(rows.len().max(1))
        .build_decoder()?;
    decoder.serialize(rows)?;
    let decoded = match decoder.flush()? {
        Some(batch) => batch,
        None => RecordBatch::new_empty(row_schema.clone()),
    };
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
