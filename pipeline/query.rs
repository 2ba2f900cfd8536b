//! Ad-hoc SQL over every snapshot of a lake, with DataFusion.
//!
//! Each table is registered three ways (SQL in `queries/lake/`):
//! - `<table>`: every complete run (its manifest exists; when sharded, every slice's does);
//! - `latest_<table>`: the latest complete snapshot of the latest snapshot date;
//! - `daily_<table>`: the latest complete snapshot of each snapshot date;
//!
//! and `raw_<table>` holds every file, including runs that never finished.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::DataType;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::prelude::SessionContext;

use crate::error::{Error, Result};
use crate::lake::Lake;
use crate::schema::{Table, all_tables};

/// The views that say which runs are complete (committed, and every slice of a sharded
/// snapshot committed), created once, before the per-table views that use them.
pub const RUN_SET_VIEWS: &[&str] = &[
    include_str!("../queries/lake/run_sets_complete.sql"),
    include_str!("../queries/lake/run_sets_daily.sql"),
    include_str!("../queries/lake/run_sets_latest.sql"),
];

/// View templates: `{table}` is replaced by each table's name. Written in SQL that both
/// DataFusion and Athena accept (the Athena views in `glue/ddl/views.sql` use them too).
pub const VIEW_TEMPLATES: &[&str] = &[
    include_str!("../queries/lake/complete_runs.sql"),
    include_str!("../queries/lake/latest_run.sql"),
    include_str!("../queries/lake/daily_latest_run.sql"),
];

/// Output formats of `orglake query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// An aligned text table.
    Table,
    /// CSV with a header row.
    Csv,
    /// One JSON object per line.
    Json,
}

/// A DataFusion session with every table of `lake` registered.
pub async fn session(lake: &Lake) -> Result<SessionContext> {
    let ctx = SessionContext::new();
    ctx.register_object_store(lake.store_url(), lake.store());
    for table in all_tables() {
        register_raw(&ctx, lake, table).await?;
    }
    for view in RUN_SET_VIEWS {
        ctx.sql(view).await?;
    }
    for table in all_tables() {
        for template in VIEW_TEMPLATES {
            ctx.sql(&template.replace("{table}", table.name())).await?;
        }
    }
    Ok(ctx)
}

async fn register_raw(ctx: &SessionContext, lake: &Lake, table: &Table) -> Result<()> {
    register_listing(ctx, lake, table, &format!("raw_{}", table.name())).await
}

/// Registers the Parquet files of `table` in `lake` under `name`, with the schema from
/// `schemas/` and its partition columns read from the paths.
pub async fn register_listing(ctx: &SessionContext, lake: &Lake, table: &Table, name: &str) -> Result<()> {
    let url = ListingTableUrl::parse(lake.table_url(table.name()))?;
    let partition_cols = table
        .partition_fields
        .iter()
        .map(|f| (f.name().clone(), DataType::Utf8))
        .collect();
    let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(partition_cols);
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(table.file_schema.clone());
    ctx.register_table(name, Arc::new(ListingTable::try_new(config)?))?;
    Ok(())
}

/// Runs one SQL statement over the lake. An empty result is one empty batch with the
/// result's columns, so that it still renders a header.
pub async fn run_sql(lake: &Lake, sql: &str) -> Result<Vec<RecordBatch>> {
    let ctx = session(lake).await?;
    let frame = ctx.sql(sql).await?;
    let schema = Arc::new(frame.schema().as_arrow().clone());
    let batches = frame.collect().await?;
    Ok(if batches.is_empty() {
        vec![RecordBatch::new_empty(schema)]
    } else {
        batches
    })
}

/// Renders batches in the chosen format.
pub fn render(batches: &[RecordBatch], format: OutputFormat) -> Result<String> {
    match format {
        OutputFormat::Table => Ok(arrow::util::pretty::pretty_format_batches(batches)?.to_string()),
        OutputFormat::Csv => {
            let mut out = Vec::new();
            {
                let mut writer = arrow::csv::WriterBuilder::new().with_header(true).build(&mut out);
                for batch in batches {
                    writer.write(batch)?;
                }
            }
            String::from_utf8(out).map_err(|e| Error::Schema(e.to_string()))
        }
        OutputFormat::Json => {
            let mut writer = arrow::json::LineDelimitedWriter::new(Vec::new());
            for batch in batches {
                writer.write(batch)?;
            }
            writer.finish()?;
            String::from_utf8(writer.into_inner()).map_err(|e| Error::Schema(e.to_string()))
        }
    }
}
