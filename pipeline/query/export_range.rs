//! `orglake export`: one table's complete runs over a range of snapshot dates, concatenated
//! into one CSV or Parquet file (what the old scripts' CONCATE step did across executions).

use std::io::Write;
use std::path::Path;

use datafusion::prelude::SessionContext;
use futures::StreamExt;
use parquet::arrow::ArrowWriter;

use crate::error::{Error, Result};
use crate::lake::export::csv_bytes;
use crate::schema::table;

/// File formats of `orglake export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// CSV with nested values as JSON and formulas neutralised.
    Csv,
    /// Parquet (zstd).
    Parquet,
}

/// Writes the rows of `table_name` from every complete run with `from <= snapshot_date <= to`
/// (in snapshot and run order) to `out`; returns the number of rows.
pub async fn export_range(
    ctx: &SessionContext,
    table_name: &str,
    from: &str,
    to: &str,
    format: ExportFormat,
    out: &Path,
) -> Result<u64> {
    let lake_table = table(table_name)?;
    for (name, date) in [("--from", from), ("--to", to)] {
        chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| {
            Error::config(
                name,
                format!("flag {name}"),
                format!("{date:?} is not a date; use YYYY-MM-DD"),
            )
        })?;
    }
    // Dates were validated above; the table name is one of the schema files.
    let sql = format!(
        "SELECT * FROM {table_name} WHERE snapshot_date BETWEEN '{from}' AND '{to}' ORDER BY snapshot_date, run_id"
    );
    let frame = crate::query::read_only_sql(ctx, "orglake export", &sql).await?;
    let schema = std::sync::Arc::new(frame.schema().as_arrow().clone());
    let mut stream = frame.execute_stream().await?;
    let file = std::fs::File::create(out).map_err(|e| Error::lake(out.display().to_string(), e))?;
    let mut rows = 0u64;
    match format {
        ExportFormat::Csv => {
            let mut writer = std::io::BufWriter::new(file);
            writer.write_all(&csv_bytes(&arrow::array::RecordBatch::new_empty(schema), true)?)?;
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                rows += batch.num_rows() as u64;
                writer.write_all(&csv_bytes(&batch, false)?)?;
            }
            writer.flush()?;
        }
        ExportFormat::Parquet => {
            let mut writer =
                ArrowWriter::try_new(file, schema, Some(crate::lake::table_writer_properties(lake_table)))?;
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                rows += batch.num_rows() as u64;
                writer.write(&batch)?;
            }
            writer.close()?;
        }
    }
    Ok(rows)
}
