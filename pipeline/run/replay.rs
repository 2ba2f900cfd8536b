//! An old lake made fast, for the lake's-age benchmark (`orglake bench-replay`): the latest
//! committed run of a synthetic lake is copied onto each of the following days as a new
//! run, through the lake's own table writers (the same Parquet files, row groups and
//! statistics that a commit writes), the manifest last, then the run-set checkpoint. Every timestamp column is moved by
//! the days between the two dates, so each copy reads as that day's run; the copies hold
//! the same instances and users, which a nightly lake of a steady organization does too.
//! CSV exports and raw credential reports are not copied: neither a commit nor a query
//! reads them.

use std::sync::Arc;
use std::time::Instant;

use arrow::array::{Array, ArrayRef, DurationMicrosecondArray, RecordBatch, Scalar, StringArray};
use arrow::datatypes::{DataType, TimeUnit};
use chrono::{Duration, NaiveDate};
use futures::StreamExt;
use serde::Serialize;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::lake::vacuum::run_started_at;
use crate::lake::{Lake, MANIFEST_TABLE, S3Options};
use crate::run::new_run_id;
use crate::run::synthetic::refuse_a_real_lake;
use crate::schema::{Table, all_tables};

/// What `orglake bench-replay` wrote.
#[derive(Debug, Serialize)]
pub struct ReplayReport {
    /// The run copied.
    pub source_run_id: String,
    /// Its snapshot date.
    pub source_date: String,
    /// The snapshot dates written, one new run each.
    pub dates: Vec<String>,
    /// Rows written per copy, over every table.
    pub rows_per_copy: u64,
    /// Seconds for all copies.
    pub seconds: f64,
}

/// Copies the latest committed run of the configured (synthetic) lake onto each of the
/// `days` dates that follow its snapshot date, one new run per date.
pub async fn replay_latest(config: &Config, days: u32) -> Result<ReplayReport> {
    let lake = Lake::open(&config.warehouse, &S3Options::from_config(config), None, true).await?;
    refuse_a_real_lake(&lake, &config.warehouse).await?;
    let ctx = crate::query::session(&lake).await?;
    let (source_run_id, source_date) = latest_run(&ctx).await?;
    let source_day = NaiveDate::parse_from_str(&source_date, "%Y-%m-%d")
        .map_err(|err| Error::Schema(format!("snapshot date {source_date} of run {source_run_id}: {err}")))?;
    let source_start = run_started_at(&source_run_id)
        .ok_or_else(|| Error::Schema(format!("run id {source_run_id} does not start with its start time")))?;

    let clock = Instant::now();
    let mut dates = Vec::new();
    let mut rows_per_copy = 0;
    // The manifest last, as a commit writes it: a copy is visible only once complete.
    let mut tables: Vec<&'static Table> = all_tables().iter().filter(|t| t.name() != MANIFEST_TABLE).collect();
    tables.extend(all_tables().iter().filter(|t| t.name() == MANIFEST_TABLE));
    for day in 1..=days {
        let shift = Duration::days(i64::from(day));
        let date = (source_day + shift).format("%Y-%m-%d").to_string();
        let run_id = new_run_id(source_start + shift);
        let mut rows = 0;
        for table in &tables {
            if table.name() == MANIFEST_TABLE {
                // As a commit does right before its manifest.
                crate::lake::checkpoints::journal_commit(&lake, &date, &run_id, chrono::Utc::now()).await?;
            }
            rows += copy_table(
                &ctx,
                &lake,
                table,
                (&source_run_id, &source_date),
                (&run_id, &date),
                shift,
            )
            .await?;
        }
        // As a commit does after its manifest.
        crate::query::run_set_checkpoint::write_checkpoint(&lake, &run_id).await?;
        rows_per_copy = rows;
        dates.push(date);
    }
    Ok(ReplayReport {
        source_run_id,
        source_date,
        dates,
        rows_per_copy,
        seconds: clock.elapsed().as_secs_f64(),
    })
}

/// The run id and snapshot date of the lake's latest committed run.
async fn latest_run(ctx: &datafusion::prelude::SessionContext) -> Result<(String, String)> {
    let sql = "SELECT run_id, snapshot_date FROM runs ORDER BY as_of DESC, finished_at DESC, run_id DESC LIMIT 1";
    let batches = ctx.sql(sql).await?.collect().await?;
    let batch = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .ok_or_else(|| Error::Schema("the lake holds no committed run to copy: commit one with bench-load".into()))?;
    let text = |i: usize| -> Result<String> {
        let values = crate::lake::text_values(batch.column(i))?;
        Ok(values.value(0).to_string())
    };
    Ok((text(0)?, text(1)?))
}

/// Writes the rows of `table` of run `from` as run `to`: its run id in `run_id` and every
/// timestamp column moved by `shift`. Returns the rows written.
async fn copy_table(
    ctx: &datafusion::prelude::SessionContext,
    lake: &Lake,
    table: &'static Table,
    (from_run, from_date): (&str, &str),
    (to_run, to_date): (&str, &str),
    shift: Duration,
) -> Result<u64> {
    let schema = table.file_schema.clone();
    let columns: Vec<String> = schema.fields().iter().map(|f| format!("\"{}\"", f.name())).collect();
    let sql = format!(
        "SELECT {} FROM raw_{} WHERE snapshot_date = '{from_date}' AND run_id = '{from_run}'",
        columns.join(", "),
        table.name()
    );
    let mut stream = ctx.sql(&sql).await?.execute_stream().await?;
    let mut writer = lake.table_writer(table, to_date, to_run);
    let shift_micros = shift
        .num_microseconds()
        .ok_or_else(|| Error::Schema(format!("a shift of {shift} overflows microseconds")))?;
    let shift_by: Scalar<ArrayRef> = Scalar::new(Arc::new(DurationMicrosecondArray::from(vec![shift_micros])));
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
        for (field, column) in schema.fields().iter().zip(batch.columns()) {
            let array = if field.name() == "run_id" {
                Arc::new(StringArray::from(vec![to_run; column.len()])) as ArrayRef
            } else if matches!(field.data_type(), DataType::Timestamp(TimeUnit::Microsecond, _)) {
                arrow::compute::kernels::numeric::add(column, &shift_by)?
            } else {
                column.clone()
            };
            arrays.push(arrow::compute::cast(&array, field.data_type())?);
        }
        writer.write(&RecordBatch::try_new(schema.clone(), arrays)?).await?;
    }
    writer.finish().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigLayers;
    use crate::run::synthetic::{SyntheticSize, bench_load};

    async fn latest_dates(ctx: &datafusion::prelude::SessionContext) -> Vec<String> {
        let sql = "SELECT DISTINCT CAST(snapshot_date AS VARCHAR) AS d FROM latest_ec2_instances ORDER BY d";
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let mut dates = Vec::new();
        for batch in &batches {
            let column = crate::lake::text_values(batch.column(0)).unwrap();
            dates.extend(column.iter().flatten().map(str::to_string));
        }
        dates
    }

    /// The latest run set, computed once per session and shared by its views: the same
    /// answer when asked again; a session keeps the file listings it
    /// made (DataFusion's list-files cache), so a run committed since shows in a new session.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_latest_run_set_is_the_sessions_and_a_new_session_sees_a_new_run() {
        let dir = tempfile::tempdir().unwrap();
        let toml = format!(
            "warehouse = \"{}\"\nas_of = \"2026-01-01T06:00:00Z\"\n",
            dir.path().display()
        );
        let config = ConfigLayers::from_toml(&toml, "test").unwrap().resolve().unwrap();
        let size = SyntheticSize {
            accounts: 3,
            instances: 30,
            users: 3,
        };
        bench_load(&config, size, None).await.unwrap();
        let lake = Lake::open(&config.warehouse, &S3Options::default(), None, false)
            .await
            .unwrap();
        let ctx = crate::query::session(&lake).await.unwrap();
        assert_eq!(latest_dates(&ctx).await, ["2026-01-01"]);
        assert_eq!(latest_dates(&ctx).await, ["2026-01-01"], "asked again, same answer");
        replay_latest(&config, 1).await.unwrap();
        assert_eq!(latest_dates(&ctx).await, ["2026-01-01"], "the session's own listings");
        let ctx = crate::query::session(&lake).await.unwrap();
        assert_eq!(
            latest_dates(&ctx).await,
            ["2026-01-02"],
            "the new run, in a new session"
        );
    }
}
