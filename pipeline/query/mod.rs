//! Ad-hoc SQL over every snapshot of a lake, with DataFusion.
//!
//! Each table is registered three ways (SQL in `queries/lake/`):
//! - `<table>`: every committed run (its manifest exists);
//! - `latest_<table>`: per account, the rows of the latest committed run that listed it;
//! - `daily_<table>`: per snapshot date and account, that date's latest such run;
//!
//! and `raw_<table>` holds every file, including runs that never finished. In DataFusion,
//! `latest_<table>` reads `latest_partitions_<table>`: the same files, listed only in the
//! snapshot dates that hold some account's latest run (see [`latest_partitions`]).
//!
//! May import: `config`, `error`, `lake`, `schema`.

pub mod changes;
pub mod date_partitions;
pub mod export_range;
pub mod latest_partitions;
pub mod run_set_checkpoint;

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, FieldRef, Schema, SchemaRef};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::execution::cache::cache_manager::{CacheManagerConfig, FileMetadataCache};
use datafusion::execution::cache::default_cache::DefaultCache;
use datafusion::execution::context::SQLOptions;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};

use crate::error::{Error, Result};
use crate::lake::Lake;
use crate::schema::{Table, all_tables};

/// The views that say which run's rows each account shows, created once, in this order,
/// before the per-table views that use them.
pub const RUN_SET_VIEWS: &[(&str, &str)] = &[
    (
        "committed_run_ids",
        include_str!("../../queries/lake/run_sets_committed.sql"),
    ),
    (
        "account_run_ids",
        include_str!("../../queries/lake/run_sets_accounts.sql"),
    ),
    (
        "latest_account_run_ids",
        include_str!("../../queries/lake/run_sets_latest.sql"),
    ),
    (
        "daily_account_run_ids",
        include_str!("../../queries/lake/run_sets_daily.sql"),
    ),
];

/// View templates of the tables that have an `account_id` (`{table}` is replaced by each
/// table's name), by the prefix of the view they make: per account, the rows of the run
/// that the run-set views pick. Written in SQL that both DataFusion and Athena accept.
pub const ACCOUNT_VIEW_TEMPLATES: &[(&str, &str)] = &[
    ("", include_str!("../../queries/lake/table_committed.sql")),
    ("latest_", include_str!("../../queries/lake/table_latest.sql")),
    ("daily_", include_str!("../../queries/lake/table_daily.sql")),
];

/// View templates of the manifest (`runs`, one row per run, no account).
pub const MANIFEST_VIEW_TEMPLATES: &[(&str, &str)] = &[
    ("", include_str!("../../queries/lake/table_committed.sql")),
    ("latest_", include_str!("../../queries/lake/manifest_latest.sql")),
    ("daily_", include_str!("../../queries/lake/manifest_daily.sql")),
];

/// One view over the lake: its name and the SELECT it stands for.
#[derive(Debug, Clone)]
pub struct LakeView {
    /// The view's name, for example `latest_iam_users`.
    pub name: String,
    /// The SELECT, without the file's comments and `CREATE VIEW <name> AS` header: the text
    /// that DataFusion plans and that the Glue view stores for Athena, byte for byte.
    pub select_sql: String,
}

impl LakeView {
    /// The view `name` from the `CREATE VIEW <name> AS SELECT ...` text of its SQL file.
    fn from_create(name: String, create_sql: &str) -> Self {
        let body: Vec<&str> = create_sql
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect();
        let body = body.join("\n");
        let header = format!("CREATE VIEW {name} AS");
        let select_sql = body.trim().strip_prefix(&header).unwrap_or(&body).trim().to_string();
        LakeView { name, select_sql }
    }
}

/// Every view of the lake, in the order they must be created (a view after those it reads).
pub fn lake_views() -> Vec<LakeView> {
    let mut views: Vec<LakeView> = RUN_SET_VIEWS
        .iter()
        .map(|(name, sql)| LakeView::from_create(name.to_string(), sql))
        .collect();
    for table in all_tables() {
        let templates = if table.has_accounts() {
            ACCOUNT_VIEW_TEMPLATES
        } else {
            MANIFEST_VIEW_TEMPLATES
        };
        views.extend(templates.iter().map(|(prefix, template)| {
            LakeView::from_create(
                format!("{prefix}{}", table.name()),
                &template.replace("{table}", table.name()),
            )
        }));
    }
    views
}

/// Every view with the columns it yields, planned by DataFusion over an empty lake: the
/// column list that the Glue views declare for Athena.
pub async fn view_schemas() -> Result<Vec<(LakeView, arrow::datatypes::SchemaRef)>> {
    let dir = tempfile::tempdir()?;
    for table in all_tables() {
        std::fs::create_dir_all(dir.path().join(table.name()))?;
    }
    let lake = Lake::open(
        &dir.path().display().to_string(),
        &crate::lake::S3Options::default(),
        None,
        false,
    )
    .await?;
    let ctx = session(&lake).await?;
    let mut out = Vec::new();
    for view in lake_views() {
        let schema = ctx.table(view.name.as_str()).await?.schema().as_arrow().clone();
        out.push((view, Arc::new(schema)));
    }
    Ok(out)
}

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

/// A DataFusion session for the lake: no list-files cache, so that a scan filtered to one
/// snapshot date lists that date's prefix only (with the cache, DataFusion lists the whole
/// table on a miss; see [`date_partitions`]), and one cache of Parquet footers for every
/// session of the process. Every session over lake or staging files is made here.
pub fn new_session() -> SessionContext {
    new_session_with(RuntimeEnvBuilder::new())
        .expect("a runtime without a list-files cache and with default settings builds")
}

/// [`new_session`] with the rest of the runtime (a memory pool, say) from `runtime`.
pub fn new_session_with(runtime: RuntimeEnvBuilder) -> Result<SessionContext> {
    let caches = CacheManagerConfig::default()
        .with_list_files_cache_limit(0)
        .with_file_metadata_cache(Some(shared_footer_cache()))
        .with_metadata_cache_limit(FOOTER_CACHE_BYTES);
    let runtime = runtime.with_cache_manager(caches).build_arc()?;
    Ok(SessionContext::new_with_config_rt(SessionConfig::new(), runtime))
}

/// Bytes of Parquet footers the sessions of this process keep between them.
const FOOTER_CACHE_BYTES: usize = 32 * 1024 * 1024;

/// The Parquet footers read by any session of this process, kept for the next session that
/// reads the same file (a file changed since is read again): a commit's buckets, each a
/// session of its own, all read the footers of every staged file, which are then parsed
/// once. One cache, not one per session (DataFusion's default), so that its bound is the
/// process's.
fn shared_footer_cache() -> Arc<FileMetadataCache> {
    static CACHE: std::sync::OnceLock<Arc<FileMetadataCache>> = std::sync::OnceLock::new();
    CACHE
        .get_or_init(|| Arc::new(DefaultCache::new(FOOTER_CACHE_BYTES).with_name("orglake footers")))
        .clone()
}

/// Drops every Parquet footer the sessions of this process keep (see [`new_session`]): a
/// commit does once its buckets are done, as the staged files' footers are read no more.
pub fn forget_footers() {
    shared_footer_cache().clear();
}

/// A DataFusion session with every table of `lake` registered.
pub async fn session(lake: &Lake) -> Result<SessionContext> {
    let ctx = new_session();
    ctx.register_object_store(lake.store_url(), lake.store());
    let latest_runs = Arc::new(latest_partitions::LatestRunSet::new(lake).await?);
    for table in all_tables() {
        register_raw(&ctx, lake, table).await?;
        if table.has_accounts() {
            let latest = date_partitions::Dates::Latest(latest_runs.clone());
            let pruned = date_partitions::DatePartitions::new(lake, table, latest)?;
            ctx.register_table(latest_partitions::provider_name(table.name()), Arc::new(pruned))?;
        }
    }
    ctx.register_table(
        latest_partitions::LATEST_RUN_IDS,
        Arc::new(latest_partitions::LatestRunIds::new(latest_runs.clone())),
    )?;
    for view in lake_views() {
        if view.name == latest_partitions::LATEST_RUN_IDS {
            continue; // computed once per session by `latest_runs`, from the same SQL
        }
        ctx.sql(&format!("CREATE VIEW {} AS {}", view.name, datafusion_select(&view)?))
            .await?;
    }
    Ok(ctx)
}

/// The SELECT that DataFusion plans for `view`: the Glue view's text, except that a
/// `latest_<table>` view of a table with accounts reads the date-pruned listing
/// `latest_partitions_<table>` instead of `raw_<table>`. The rows are the same.
fn datafusion_select(view: &LakeView) -> Result<String> {
    let Some(table) = view.name.strip_prefix("latest_") else {
        return Ok(view.select_sql.clone());
    };
    if !all_tables().iter().any(|t| t.name() == table && t.has_accounts()) {
        return Ok(view.select_sql.clone());
    }
    let from = format!("FROM raw_{table} t\n");
    if !view.select_sql.contains(&from) {
        return Err(Error::Schema(format!(
            "queries/lake/table_latest.sql: the view {} must read `{}`, so that DataFusion can \
             prune it to the latest partitions",
            view.name,
            from.trim()
        )));
    }
    let pruned = format!("FROM {} t\n", latest_partitions::provider_name(table));
    Ok(view.select_sql.replacen(&from, &pruned, 1))
}

async fn register_raw(ctx: &SessionContext, lake: &Lake, table: &Table) -> Result<()> {
    register_listing(ctx, lake, table, &format!("raw_{}", table.name())).await
}

/// Registers the Parquet files of `table` in `lake` under `name`, with the schema from
/// `schemas/` and its partition columns read from the paths.
pub async fn register_listing(ctx: &SessionContext, lake: &Lake, table: &Table, name: &str) -> Result<()> {
    ctx.register_table(name, Arc::new(listing_table(lake, table)?))?;
    Ok(())
}

/// The Parquet files of `table` in `lake` as a DataFusion table, with the schema from
/// `schemas/` and its partition columns read from the paths. Files are listed when it is
/// scanned, so it sees files written after it was made.
pub fn listing_table(lake: &Lake, table: &Table) -> Result<ListingTable> {
    listing_table_reading(lake, table, Text::Utf8)
}

/// How a listing table hands back the text columns of its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    /// As `Utf8`, the type `schemas/` gives them: what code that reads the values expects.
    Utf8,
    /// As `Utf8View`: a value longer than 12 bytes stays in the page it was read from, so
    /// that sorting or filtering rows moves 16-byte views, not the text. For queries whose
    /// results only become output (the CSV exports).
    Views,
}

/// [`listing_table`] with its text handed back as `text` says.
pub fn listing_table_reading(lake: &Lake, table: &Table, text: Text) -> Result<ListingTable> {
    let url = ListingTableUrl::parse(lake.table_url(table.name()))?;
    let partition_cols = table
        .partition_fields
        .iter()
        .map(|f| (f.name().clone(), DataType::Utf8))
        .collect();
    let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(partition_cols);
    let schema = match text {
        Text::Utf8 => table.file_schema.clone(),
        Text::Views => text_as_views(&table.file_schema),
    };
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(schema);
    Ok(ListingTable::try_new(config)?)
}

/// `schema` with its top-level `Utf8` columns as `Utf8View`.
fn text_as_views(schema: &SchemaRef) -> SchemaRef {
    let fields: Vec<FieldRef> = schema
        .fields()
        .iter()
        .map(|field| match field.data_type() {
            DataType::Utf8 => Arc::new(field.as_ref().clone().with_data_type(DataType::Utf8View)),
            _ => field.clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// Plans one statement that may only read: DDL (`CREATE`, `DROP`), DML (`INSERT`), `COPY`
/// and `SET` are refused with one clear error, so that `orglake query` can neither forge a
/// manifest nor write a file.
pub async fn read_only_sql(ctx: &SessionContext, command: &str, sql: &str) -> Result<DataFrame> {
    let options = SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false);
    ctx.sql_with_options(sql, options).await.map_err(|err| {
        let reason = err.strip_backtrace();
        let refused = ["DDL not supported", "DML not supported", "Statement not supported"];
        if refused.iter().any(|r| reason.contains(r)) {
            Error::ReadOnly {
                command: command.to_string(),
                reason: reason.lines().next().unwrap_or_default().to_string(),
            }
        } else {
            Error::Query(err)
        }
    })
}

/// Runs one read-only SQL statement over the lake. An empty result is one empty batch with
/// the result's columns, so that it still renders a header.
pub async fn run_sql(lake: &Lake, sql: &str) -> Result<Vec<RecordBatch>> {
    let ctx = session(lake).await?;
    let frame = read_only_sql(&ctx, "orglake query", sql).await?;
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
        // The exports' CSV: nested values as JSON, formula-like cells neutralised.
        OutputFormat::Csv => {
            let mut out = Vec::new();
            for (i, batch) in batches.iter().enumerate() {
                out.extend(crate::lake::export::csv_bytes(batch, i == 0)?);
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
