//! Transform: DataFusion SQL from `queries/transform/` over this run's staging tables and
//! the lake's previous runs, streamed into the lake's tables.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::compute::cast;
use chrono::{DateTime, Utc};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use serde::Serialize;

use crate::batch::rows_to_batch;
use crate::discover::AccountRecord;
use crate::error::{Error, Result};
use crate::lake::Lake;
use crate::query::register_listing;
use crate::schema::{Table, staging_tables, table};
use crate::status::StageOutcome;

/// The transform queries, by the lake table each one produces.
pub const TRANSFORMS: &[(&str, &str)] = &[
    ("ec2_instances", include_str!("../queries/transform/ec2_instances.sql")),
    ("ec2_images", include_str!("../queries/transform/ec2_images.sql")),
    ("iam_users", include_str!("../queries/transform/iam_users.sql")),
];

/// What the transform SQL can see of the run in progress.
pub struct RunInputs<'a> {
    /// This run's id.
    pub run_id: &'a str,
    /// The run clock.
    pub as_of: DateTime<Utc>,
    /// Terminated instances older than this are dropped.
    pub retention_cutoff: DateTime<Utc>,
    /// This run's accounts.
    pub accounts: &'a [AccountRecord],
    /// This run's stage outcomes.
    pub outcomes: &'a [StageOutcome],
    /// Where extraction staged its tables.
    pub staging: &'a Lake,
}

#[derive(Serialize)]
struct RunParams {
    as_of: DateTime<Utc>,
    retention_cutoff: DateTime<Utc>,
}

/// Registers this run's inputs (`run_params`, `run_accounts`, `run_account_status`, the
/// staging tables) in a session that already has the lake registered.
pub async fn register_inputs(ctx: &SessionContext, inputs: &RunInputs<'_>) -> Result<()> {
    let params = [RunParams {
        as_of: inputs.as_of,
        retention_cutoff: inputs.retention_cutoff,
    }];
    register_rows(ctx, "run_params", table("run_params")?, inputs.run_id, &params)?;
    register_rows(ctx, "run_accounts", table("accounts")?, inputs.run_id, inputs.accounts)?;
    register_rows(
        ctx,
        "run_account_status",
        table("account_status")?,
        inputs.run_id,
        inputs.outcomes,
    )?;
    for staged in staging_tables().iter().filter(|t| t.name() != "run_params") {
        register_listing(ctx, inputs.staging, staged, staged.name()).await?;
    }
    Ok(())
}

fn register_rows<T: Serialize>(
    ctx: &SessionContext,
    name: &str,
    table: &Table,
    run_id: &str,
    rows: &[T],
) -> Result<()> {
    let batch = rows_to_batch(table, run_id, rows)?;
    let mem = MemTable::try_new(batch.schema(), vec![vec![batch]])?;
    ctx.register_table(name, Arc::new(mem))?;
    Ok(())
}

/// Runs every transform and writes its result to the lake; returns rows per table.
pub async fn run_transforms(
    ctx: &SessionContext,
    lake: &Lake,
    snapshot_date: &str,
    run_id: &str,
) -> Result<Vec<(String, u64)>> {
    let mut written = Vec::new();
    for (name, sql) in TRANSFORMS {
        let target = table(name)?;
        let mut stream = ctx.sql(sql).await?.execute_stream().await?;
        let mut writer = lake.table_writer(target, snapshot_date, run_id);
        while let Some(batch) = stream.next().await {
            writer.write(&conform(&batch?, target)?).await?;
        }
        written.push((name.to_string(), writer.finish().await?));
    }
    Ok(written)
}

/// Gives a query result the table's exact schema: columns by name, cast where DataFusion
/// chose another physical type (string views, map field names), nullability checked.
pub fn conform(batch: &RecordBatch, table: &Table) -> Result<RecordBatch> {
    let schema = table.file_schema.clone();
    let mut columns = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let column = batch.column_by_name(field.name()).ok_or_else(|| {
            Error::Schema(format!(
                "the {} transform does not produce column {}",
                table.name(),
                field.name()
            ))
        })?;
        let column = if column.data_type() == field.data_type() {
            column.clone()
        } else {
            cast(column, field.data_type())?
        };
        columns.push(column);
    }
    if batch.num_columns() != columns.len() {
        return Err(Error::Schema(format!(
            "the {} transform produces {} columns, the schema has {}",
            table.name(),
            batch.num_columns(),
            columns.len()
        )));
    }
    Ok(RecordBatch::try_new(schema, columns)?)
}
