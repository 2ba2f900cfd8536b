//! Transform: DataFusion SQL from `queries/transform/` over this run's staging tables and
//! the lake's previous runs, streamed into the lake's tables.
//!
//! History is per account: an account's previous rows are those of the latest committed run
//! that listed it (`inputs/previous_runs.sql`). Rows of a stage that did not finish in this
//! run (its region or account failed) are carried forward from there, marked `stale`.
//!
//! May import: `discover`, `error`, `lake`, `query`, `schema`, `status`.

pub mod buckets;
pub mod changes;
pub mod spill_pool;

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::compute::cast;
use chrono::{DateTime, Utc};
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionContext, col, lit};
use futures::StreamExt;
use serde::Serialize;

use crate::discover::AccountRecord;
use crate::embedded;
use crate::error::{Error, Result};
use crate::lake::batch::rows_to_batch;
use crate::lake::{Lake, TableWriter};
use crate::query::date_partitions::{DatePartitions, Dates};
use crate::query::{Text, listing_table, listing_table_reading, register_listing};
use crate::schema::{Table, table};
use crate::status::StageOutcome;
use crate::transform::buckets::AccountRange;

/// The transform of each lake table whose rows a source stages, as (lake table, SQL):
/// `queries/transform/<table>.sql` over `<table>_extracted` and the run's inputs, or, for
/// a table without a file, the staged rows as they are.
pub fn transforms(staged: &[&str]) -> Result<Vec<(&'static str, String)>> {
    let mut out = Vec::new();
    for name in staged {
        let Some(target) = name.strip_suffix("_extracted") else {
            continue;
        };
        let lake_table = table(target)?;
        let sql = match (
            embedded::file(&format!("queries/transform/{target}.sql")),
            &lake_table.def.carry_forward,
        ) {
            (Some(sql), _) => sql.to_string(),
            (None, Some(carry)) => carry_forward_sql(target, carry)?,
            (None, None) => format!("SELECT * FROM {name}"),
        };
        out.push((lake_table.def.table.as_str(), sql));
    }
    Ok(out)
}

/// The transform of a table with a `[carry_forward]`: its template filled in.
fn carry_forward_sql(table: &str, carry: &crate::schema::CarryForward) -> Result<String> {
    let path = format!("queries/transform/templates/carry_forward_by_{}.sql", carry.by.name());
    let template = embedded::file(&path).ok_or_else(|| Error::Schema(format!("{path} is missing")))?;
    let mut partition = vec!["p.account_id".to_string()];
    if carry.by == crate::schema::CarryScope::Region {
        partition.push("p.region".to_string());
    }
    partition.extend(carry.key.iter().map(|k| format!("p.{k}")));
    Ok(template
        .replace("{table}", table)
        .replace("{stage}", &carry.stage)
        .replace("{partition}", &partition.join(", "))
        .replace("{key}", &carry.key.join(", ")))
}

/// Views over this run's inputs that the transforms share (`queries/transform/inputs/`),
/// created in the order of their file names.
pub fn input_views() -> Vec<&'static str> {
    embedded::files_in("queries/transform/inputs", "sql")
        .into_iter()
        .map(|(_, sql)| sql)
        .collect()
}

/// The security checks (`queries/findings/`, one file each), each a query producing
/// `findings` rows (without `run_id`), as (check, SQL).
pub fn findings() -> Vec<(&'static str, &'static str)> {
    embedded::files_in("queries/findings", "sql")
}

/// The `findings` rows of one security check (its SQL from [`findings`]): its rows with this
/// run's `run_id`. `run_params` (one row) comes first, as in every cross join of the
/// commit's SQL: DataFusion holds the left side of a cross join in memory and builds one
/// output batch per left row, so the other order holds every finding and emits them one row
/// at a time.
pub fn finding_rows_sql(check: &str) -> String {
    format!("SELECT f.*, p.run_id FROM run_params p CROSS JOIN (\n{check}\n) f")
}

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
    /// The staged tables the sources declared (`<table>_extracted`).
    pub staged: &'a [&'static str],
    /// The accounts whose staged rows the staged tables hold: the whole run, or one bucket
    /// of it (read through the staged files' row-group statistics).
    pub bucket: &'a AccountRange,
}

#[derive(Serialize)]
struct RunParams {
    as_of: DateTime<Utc>,
    retention_cutoff: DateTime<Utc>,
}

/// Registers this run's inputs (`run_params`, `run_accounts`, `run_account_status`, the
/// staging tables) in a session that already has the lake registered.
pub async fn register_inputs(ctx: &SessionContext, inputs: &RunInputs<'_>) -> Result<()> {
    let batches = run_input_batches(
        inputs.run_id,
        inputs.as_of,
        inputs.retention_cutoff,
        inputs.accounts,
        inputs.outcomes,
    )?;
    for (name, _, batch) in batches {
        register_batch(ctx, name, batch)?;
    }
    register_staged(ctx, inputs.staging, inputs.staged, inputs.bucket).await
}

/// Registers every staged table of `staging` in `ctx`, under its name, holding the rows of
/// the accounts of `range`. The filter is a pair of literal comparisons on `account_id`,
/// so the scan skips the row groups of other accounts by their statistics (the sinks write
/// staged rows in runs of accounts, `lake/clusters.rs`).
pub async fn register_staged(
    ctx: &SessionContext,
    staging: &Lake,
    staged: &[&str],
    range: &AccountRange,
) -> Result<()> {
    for name in staged {
        let staged = table(name)?;
        match range.filter() {
            None => register_listing(ctx, staging, staged, staged.name()).await?,
            Some(accounts) => {
                let rows = ctx
                    .read_table(Arc::new(listing_table(staging, staged)?))?
                    .filter(accounts)?;
                ctx.register_table(staged.name(), rows.into_view())?;
            }
        }
    }
    Ok(())
}

/// A session over what this run has just written: `run_<table>` holds this run's rows of
/// each of `tables` whose accounts are in `range`, read back from the lake (its partition,
/// its run id, the range: literal filters, so no other partition is listed or read, and
/// the files of other buckets are skipped by their statistics). The CSV exports read their
/// run's rows this way. It is a new session because a session keeps the file listings it
/// has made, which predate these files.
pub fn run_rows_session(
    lake: &Lake,
    snapshot_date: &str,
    run_id: &str,
    tables: &[&str],
    range: &AccountRange,
) -> Result<SessionContext> {
    register_run_rows(
        crate::query::new_session(),
        lake,
        snapshot_date,
        run_id,
        tables,
        range,
        Text::Utf8,
    )
}

/// A memory pool for [`spilling_run_rows_session`]: sorts that hold `sort_memory_bytes`
/// between them spill to local temporary files. One pool may serve several sessions (the
/// CSV exports written at the same time), which then share the bound.
pub fn spilling_pool(sort_memory_bytes: usize) -> Arc<dyn datafusion::execution::memory_pool::MemoryPool> {
    Arc::new(spill_pool::SpillablesPool::new(sort_memory_bytes))
}

/// [`run_rows_session`] in a session whose sorts spill once they fill `pool`
/// ([`spilling_pool`]). For queries that only filter and sort (the CSV exports): every
/// consumer of such a query can spill, so none fails for want of memory. Its text is read
/// as views ([`Text::Views`]): a sort then moves views, not the text, and the CSV writer
/// reads either.
pub fn spilling_run_rows_session(
    lake: &Lake,
    snapshot_date: &str,
    run_id: &str,
    tables: &[&str],
    range: &AccountRange,
    pool: Arc<dyn datafusion::execution::memory_pool::MemoryPool>,
) -> Result<SessionContext> {
    let runtime = datafusion::execution::runtime_env::RuntimeEnvBuilder::new().with_memory_pool(pool);
    let ctx = crate::query::new_session_with(runtime)?;
    register_run_rows(ctx, lake, snapshot_date, run_id, tables, range, Text::Views)
}

fn register_run_rows(
    written: SessionContext,
    lake: &Lake,
    snapshot_date: &str,
    run_id: &str,
    tables: &[&str],
    range: &AccountRange,
    text: Text,
) -> Result<SessionContext> {
    written.register_object_store(lake.store_url(), lake.store());
    for name in tables {
        let lake_table = table(name)?;
        let mut filter = col("snapshot_date")
            .eq(lit(snapshot_date))
            .and(col("run_id").eq(lit(run_id)));
        if let Some(accounts) = range.filter().filter(|_| lake_table.has_accounts()) {
            filter = filter.and(accounts);
        }
        let rows = written
            .read_table(Arc::new(listing_table_reading(lake, lake_table, text)?))?
            .filter(filter)?;
        written.register_table(format!("run_{name}"), rows.into_view())?;
    }
    Ok(written)
}

/// [`run_rows_session`] with `run_params` beside the rows: the findings read the merged
/// credential report (seen and stale lines) this way instead of computing the merge once
/// per check, and the changes compare this run's rows with the previous ones.
async fn written_session(
    ctx: &SessionContext,
    at: &CommitAt<'_>,
    tables: &[&str],
    range: &AccountRange,
) -> Result<SessionContext> {
    let written = run_rows_session(at.lake, at.snapshot_date, at.run_id, tables, range)?;
    written.register_table("run_params", ctx.table_provider("run_params").await?)?;
    Ok(written)
}

fn register_batch(ctx: &SessionContext, name: &str, batch: RecordBatch) -> Result<()> {
    let mem = MemTable::try_new(batch.schema(), vec![vec![batch]])?;
    ctx.register_table(name, Arc::new(mem))?;
    Ok(())
}

/// This run's own inputs to the transform SQL, as (name in the session, the table whose
/// schema they have, rows): `run_params` (one row: the clock and the retention cutoff),
/// `run_accounts` and `run_account_status`.
pub fn run_input_batches(
    run_id: &str,
    as_of: DateTime<Utc>,
    retention_cutoff: DateTime<Utc>,
    accounts: &[AccountRecord],
    outcomes: &[StageOutcome],
) -> Result<Vec<(&'static str, &'static Table, RecordBatch)>> {
    let params = [RunParams {
        as_of,
        retention_cutoff,
    }];
    let (params_table, accounts_table, status_table) =
        (table("run_params")?, table("accounts")?, table("account_status")?);
    Ok(vec![
        (
            "run_params",
            params_table,
            rows_to_batch(params_table, run_id, &params)?,
        ),
        (
            "run_accounts",
            accounts_table,
            rows_to_batch(accounts_table, run_id, accounts)?,
        ),
        (
            "run_account_status",
            status_table,
            rows_to_batch(status_table, run_id, outcomes)?,
        ),
    ])
}

/// Registers `previous_<table>` for every lake table with an `account_id`
/// (`queries/transform/templates/previous_rows.sql`): the rows each of this run's accounts had
/// in the latest committed run that listed it. `previous_runs` is computed once and kept in
/// memory (one row per account), and the table is read on its snapshot dates only
/// ([`DatePartitions`], each date listed by its own prefix) and filtered to its run ids, so
/// that only those partitions are listed and read, whatever the lake's age.
async fn register_previous(ctx: &SessionContext, lake: &Lake, range: &AccountRange) -> Result<()> {
    let schema = Arc::new(ctx.table("previous_runs").await?.schema().as_arrow().clone());
    let batches = previous_runs(ctx, lake).await?;
    let mut dates = std::collections::BTreeSet::new();
    let mut run_ids = std::collections::BTreeSet::new();
    for batch in &batches {
        for (column, into) in [("snapshot_date", &mut dates), ("run_id", &mut run_ids)] {
            let values = cast(
                batch
                    .column_by_name(column)
                    .ok_or_else(|| Error::Schema(format!("previous_runs has no {column} column")))?,
                &arrow::datatypes::DataType::Utf8,
            )?;
            let values = values
                .as_any()
                .downcast_ref::<arrow::array::StringArray>()
                .ok_or_else(|| Error::Schema(format!("previous_runs.{column} is not text")))?;
            into.extend(values.iter().flatten().map(str::to_string));
        }
    }
    ctx.deregister_table("previous_runs")?;
    ctx.register_table("previous_runs", Arc::new(MemTable::try_new(schema, vec![batches])?))?;

    // The previous runs' dates only are listed, each by its own prefix.
    let dates = Dates::Fixed(dates.into_iter().collect());
    let partitions = col("run_id").in_list(run_ids.iter().map(|v| lit(v.as_str())).collect(), false);
    // The bucket's accounts only: the previous run's files of other buckets are skipped by
    // their statistics (the join with previous_runs would drop their rows anyway).
    let partitions = match range.filter() {
        Some(accounts) => partitions.and(accounts),
        None => partitions,
    };
    let template = previous_rows_template()?;
    for lake_table in crate::schema::all_tables().iter().filter(|t| t.has_accounts()) {
        let name = lake_table.name();
        let rows = ctx
            .read_table(Arc::new(DatePartitions::new(lake, lake_table, dates.clone())?))?
            .filter(partitions.clone())?;
        ctx.register_table(format!("previous_partitions_{name}"), rows.into_view())?;
        ctx.sql(&template.replace("{table}", name)).await?;
    }
    Ok(())
}

/// The rows of `previous_runs` (`queries/transform/inputs/previous_runs.sql`) for the run
/// whose `run_params` and `run_accounts` `ctx` holds, in a run-set session of `lake`: read
/// through its newest run-set checkpoint, so that it reads the manifests and `accounts` of
/// only the runs committed since, however old the lake.
async fn previous_runs(ctx: &SessionContext, lake: &Lake) -> Result<Vec<RecordBatch>> {
    let as_of = run_clock(ctx).await?;
    let (runs, source) = crate::query::run_set_checkpoint::run_set_session(lake, Some(as_of)).await?;
    tracing::debug!(?source, "previous runs");
    for name in ["run_params", "run_accounts"] {
        runs.register_table(name, ctx.table_provider(name).await?)?;
    }
    let view = embedded::file(PREVIOUS_RUNS).ok_or_else(|| Error::Schema(format!("{PREVIOUS_RUNS} is missing")))?;
    runs.sql(view).await?;
    let schema = Arc::new(ctx.table("previous_runs").await?.schema().as_arrow().clone());
    let mut rows = Vec::new();
    for batch in runs.table("previous_runs").await?.collect().await? {
        rows.push(crate::query::run_set_checkpoint::in_schema(&batch, &schema)?);
    }
    Ok(rows)
}

/// The view of each account's previous run.
const PREVIOUS_RUNS: &str = "queries/transform/inputs/previous_runs.sql";

/// This run's clock, from the one row of `run_params`.
async fn run_clock(ctx: &SessionContext) -> Result<DateTime<Utc>> {
    let batches = ctx.sql("SELECT as_of FROM run_params").await?.collect().await?;
    batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .and_then(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<arrow::array::TimestampMicrosecondArray>()
                .and_then(|clock| clock.iter().flatten().next())
        })
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(|| Error::Schema("run_params holds no run clock (as_of)".into()))
}

/// The view template of each table's previous rows.
const PREVIOUS_ROWS: &str = "queries/transform/templates/previous_rows.sql";

/// The template of `previous_<table>` (`{table}` to fill in), as [`run_transforms`] uses it.
pub fn previous_rows_template() -> Result<&'static str> {
    embedded::file(PREVIOUS_ROWS).ok_or_else(|| Error::Schema(format!("{PREVIOUS_ROWS} is missing")))
}

/// Where a commit writes: the lake, the snapshot and the run.
#[derive(Debug, Clone, Copy)]
pub struct CommitAt<'a> {
    /// The lake written.
    pub lake: &'a Lake,
    /// The snapshot partition.
    pub snapshot_date: &'a str,
    /// The run committed.
    pub run_id: &'a str,
}

/// The writers of a commit's lake tables, kept from one bucket to the next: each bucket's
/// rows end a file of their own (so the next run's bucket reads only its own files, and the
/// bucket's later steps see them), and the parts are numbered across buckets.
pub struct CommitWriters<'a> {
    at: CommitAt<'a>,
    open: Vec<TableWriter>,
}

impl<'a> CommitWriters<'a> {
    /// No table written yet.
    pub fn new(at: CommitAt<'a>) -> Self {
        CommitWriters { at, open: Vec::new() }
    }

    /// The writer of `target`, taken out to be written on a task of its own (started on
    /// first use: a table started is counted, with 0 rows if none come); [`Self::put`]
    /// gives it back.
    fn take(&mut self, target: &'static Table) -> TableWriter {
        match self.open.iter().position(|w| w.table().name() == target.name()) {
            Some(index) => self.open.swap_remove(index),
            None => self.at.lake.table_writer(target, self.at.snapshot_date, self.at.run_id),
        }
    }

    /// Gives back a writer [`Self::take`] took.
    fn put(&mut self, writer: TableWriter) {
        self.open.push(writer);
    }

    /// Runs `queries` into `target` through [`write_queries`]; the writer is kept for the
    /// next bucket whether they succeed or not.
    async fn write_queries<F>(&mut self, target: &'static Table, what: &str, queries: Vec<F>) -> Result<()>
    where
        F: std::future::Future<Output = Result<datafusion::dataframe::DataFrame>> + Send + 'static,
    {
        let mut writer = self.take(target);
        let written = write_queries(&mut writer, what, queries).await;
        self.put(writer);
        written
    }

    /// Ends the file of every table being written, so that a new session sees their rows.
    async fn end_files(&mut self) -> Result<()> {
        for writer in &mut self.open {
            writer.end_file().await?;
        }
        Ok(())
    }

    /// Closes every file; returns the rows written per table.
    pub async fn finish(self) -> Result<Vec<(String, u64)>> {
        let mut rows = Vec::new();
        for writer in self.open {
            let name = writer.table().name().to_string();
            rows.push((name, writer.finish().await?));
        }
        Ok(rows)
    }
}

/// How many of a bucket's queries run at once, each on a task of its own: a query keeps
/// about one core busy (its joins, then the Parquet encoding of its rows, take turns), so
/// two fill the two cores of a small runner, while the memory held stays that of two
/// queries of one bucket.
pub const QUERIES_AT_ONCE: usize = 2;

/// Streams the rows of `sql` into `writer`'s current file.
async fn write_query(ctx: &SessionContext, sql: &str, writer: &mut TableWriter) -> Result<()> {
    let started = std::time::Instant::now();
    let stream = ctx.sql(sql).await?.execute_stream().await?;
    write_batches(writer, stream.map(|batch| Ok(batch?)), started, "transform").await
}

/// Writes each of `batches`, conformed to `writer`'s table, into its current file; logs the
/// rows written and the time since `started`, as the `what` written.
async fn write_batches(
    writer: &mut TableWriter,
    batches: impl futures::Stream<Item = Result<RecordBatch>>,
    started: std::time::Instant,
    what: &str,
) -> Result<()> {
    let target = writer.table();
    let mut batches = std::pin::pin!(batches);
    let mut rows = 0;
    while let Some(batch) = batches.next().await {
        let batch = conform(&batch?, target)?;
        rows += batch.num_rows();
        writer.write(&batch).await?;
    }
    tracing::debug!(
        table = target.name(),
        rows,
        seconds = started.elapsed().as_secs_f64(),
        "{what} written"
    );
    Ok(())
}

/// Plans each of `queries` and streams its rows, [`QUERIES_AT_ONCE`] at a time, each on a
/// task of its own, into `writer` (one table: its batches are encoded here, in the order
/// they come). `what` names the queries in the error of one that panicked.
async fn write_queries<F>(writer: &mut TableWriter, what: &str, queries: Vec<F>) -> Result<()>
where
    F: std::future::Future<Output = Result<datafusion::dataframe::DataFrame>> + Send + 'static,
{
    let started = std::time::Instant::now();
    let (sender, mut received) = tokio::sync::mpsc::channel::<RecordBatch>(2 * QUERIES_AT_ONCE);
    let jobs: Vec<_> = queries
        .into_iter()
        .map(|plan| {
            let sender = sender.clone();
            async move {
                let mut stream = plan.await?.execute_stream().await?;
                while let Some(batch) = stream.next().await {
                    if sender.send(batch?).await.is_err() {
                        break; // the writer stopped: its error is the one returned
                    }
                }
                Ok(())
            }
        })
        .collect();
    // The queries' senders only: the channel ends when the last query does.
    drop(sender);
    let received = futures::stream::poll_fn(|cx| received.poll_recv(cx)).map(Ok);
    let write = write_batches(writer, received, started, "queries");
    futures::try_join!(crate::tasks::run_at_most(QUERIES_AT_ONCE, what, jobs), write)?;
    Ok(())
}

/// Runs every transform and the findings over the accounts of `range` (the inputs that
/// `ctx` holds: the whole run, or one bucket of it) and writes them through `writers`: the
/// tables' transforms [`QUERIES_AT_ONCE`] at a time, each on a task with its table's writer,
/// then the findings over what they wrote, the checks also [`QUERIES_AT_ONCE`] at a time.
pub async fn run_transforms(
    ctx: &SessionContext,
    writers: &mut CommitWriters<'_>,
    staged: &[&'static str],
    range: &AccountRange,
) -> Result<()> {
    for view in input_views() {
        ctx.sql(view).await?;
    }
    register_previous(ctx, writers.at.lake, range).await?;
    let transformed = transforms(staged)?;
    let mut jobs = Vec::new();
    for (name, sql) in &transformed {
        let mut writer = writers.take(table(name)?);
        let (ctx, sql) = (ctx.clone(), sql.clone());
        jobs.push(async move {
            write_query(&ctx, &sql, &mut writer).await?;
            Ok(writer)
        });
    }
    for writer in crate::tasks::run_at_most(QUERIES_AT_ONCE, "a transform", jobs).await? {
        writers.put(writer);
    }
    writers.end_files().await?;
    let names: Vec<&str> = transformed.iter().map(|(name, _)| *name).collect();
    let at = writers.at;
    let findings_ctx = written_session(ctx, &at, &names, range).await?;
    let checks = findings()
        .into_iter()
        .map(|(_, sql)| {
            let (ctx, sql) = (findings_ctx.clone(), finding_rows_sql(sql));
            async move { Ok(ctx.sql(&sql).await?) }
        })
        .collect();
    writers
        .write_queries(table("findings")?, "a security check", checks)
        .await?;
    writers.end_files().await
}

/// Computes the `changes` of the accounts of `range` (after [`run_transforms`] wrote every
/// table it compares) and writes them through `writers`, the entities [`QUERIES_AT_ONCE`]
/// at a time; returns how many of the accounts no earlier committed run listed (nothing to
/// compare with, so no changes are recorded for them).
pub async fn run_changes(
    ctx: &SessionContext,
    writers: &mut CommitWriters<'_>,
    staged: &[&'static str],
    range: &AccountRange,
) -> Result<u64> {
    let mut compared: Vec<&str> = transforms(staged)?.iter().map(|(name, _)| *name).collect();
    compared.extend(["findings", "accounts"]);
    let at = writers.at;
    let changes_ctx = changes_session(ctx, &at, &compared, range).await?;
    let diffs = changes::entities()?
        .into_iter()
        // A table this run did not write (its source is not registered) has no changes.
        .filter(|entity| compared.contains(&entity.table))
        .map(|entity| {
            let ctx = changes_ctx.clone();
            async move {
                let sql = changes::entity_changes_sql(&ctx, &entity).await?;
                Ok(ctx.sql(&sql).await?)
            }
        })
        .collect();
    writers
        .write_queries(table("changes")?, "the changes of an entity", diffs)
        .await?;
    writers.end_files().await?;
    count(
        &changes_ctx,
        "SELECT count(*) FROM run_accounts WHERE scanned AND account_id NOT IN (SELECT account_id FROM previous_runs)",
    )
    .await
}

/// The security digest of the committed run's changes and findings (after every bucket's
/// [`run_changes`]): (account, line). `ctx` is any of the run's sessions (for `run_params`).
pub async fn run_digest(ctx: &SessionContext, at: &CommitAt<'_>) -> Result<Vec<(String, String)>> {
    let digest_ctx = written_session(ctx, at, &["changes", "findings"], &AccountRange::all()).await?;
    changes::digest(&digest_ctx).await
}

/// The session the changes are computed in: this run's rows (`run_<table>`), the previous
/// rows of this run's accounts (`previous_<table>`: each account's rows in the latest
/// committed run that listed it), `previous_runs`, `run_account_status`, `to_json` and `key_hash`.
async fn changes_session(
    ctx: &SessionContext,
    at: &CommitAt<'_>,
    tables: &[&str],
    range: &AccountRange,
) -> Result<SessionContext> {
    let session = written_session(ctx, at, tables, range).await?;
    session.register_udf(changes::to_json_udf());
    session.register_udf(changes::key_hash_udf());
    session.register_table("run_account_status", ctx.table_provider("run_account_status").await?)?;
    session.register_table("previous_runs", ctx.table("previous_runs").await?.into_view())?;
    for name in tables {
        let previous = format!("previous_{name}");
        session.register_table(previous.as_str(), ctx.table_provider(previous.as_str()).await?)?;
    }
    Ok(session)
}

/// The one number a `SELECT count(*)` returns.
async fn count(ctx: &SessionContext, sql: &str) -> Result<u64> {
    let batches = ctx.sql(sql).await?.collect().await?;
    let value = batches
        .first()
        .filter(|b| b.num_rows() > 0)
        .and_then(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<arrow::array::Int64Array>()
                .map(|a| a.value(0))
        })
        .unwrap_or(0);
    Ok(value.max(0) as u64)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::credential_report::parse;

    fn register_rows<T: Serialize>(
        ctx: &SessionContext,
        name: &str,
        table: &Table,
        run_id: &str,
        rows: &[T],
    ) -> Result<()> {
        register_batch(ctx, name, rows_to_batch(table, run_id, rows)?)
    }

    /// Runs every finding query over the golden credential report with the run clock at
    /// 2026-11-24 and returns (principal, check_id) pairs.
    async fn golden_findings() -> Vec<(String, String)> {
        let report = include_str!("../../tests/golden/credential_report.csv");
        let parsed = parse("111111111111", None, report.as_bytes()).unwrap();
        let ctx = SessionContext::new();
        let as_of = DateTime::parse_from_rfc3339("2026-11-24T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        register_rows(
            &ctx,
            "iam_credential_report_extracted",
            table("iam_credential_report_extracted").unwrap(),
            "run",
            &parsed.rows,
        )
        .unwrap();
        ctx.sql(
            "CREATE VIEW run_iam_credential_report AS SELECT e.*, 'seen' AS observed, \
             CAST(NULL AS TIMESTAMP) AS last_seen, e.run_id AS observed_run_id FROM iam_credential_report_extracted e",
        )
        .await
        .unwrap();
        let params = [RunParams {
            as_of,
            retention_cutoff: as_of,
        }];
        register_rows(&ctx, "run_params", table("run_params").unwrap(), "run", &params).unwrap();
        let mut found = Vec::new();
        // The checks over the credential report (the others read other tables).
        for (_, sql) in findings()
            .into_iter()
            .filter(|(_, sql)| sql.contains("run_iam_credential_report"))
        {
            for batch in ctx.sql(sql).await.unwrap().collect().await.unwrap() {
                let batch = conform_findings(&batch);
                let principals = batch
                    .column_by_name("principal")
                    .unwrap()
                    .as_any()
                    .downcast_ref::<arrow::array::StringArray>()
                    .unwrap()
                    .clone();
                let checks = batch
                    .column_by_name("check_id")
                    .unwrap()
                    .as_any()
                    .downcast_ref::<arrow::array::StringArray>()
                    .unwrap()
                    .clone();
                for i in 0..batch.num_rows() {
                    found.push((principals.value(i).to_string(), checks.value(i).to_string()));
                }
            }
        }
        found.sort();
        found
    }

    fn conform_findings(batch: &RecordBatch) -> RecordBatch {
        let schema = batch.schema();
        let with_run: Vec<(&str, arrow::array::ArrayRef)> = schema
            .fields()
            .iter()
            .map(|f| (f.name().as_str(), batch.column_by_name(f.name()).unwrap().clone()))
            .chain([(
                "run_id",
                Arc::new(arrow::array::StringArray::from(vec!["run"; batch.num_rows()])) as arrow::array::ArrayRef,
            )])
            .collect();
        conform(
            &RecordBatch::try_from_iter(with_run).unwrap(),
            table("findings").unwrap(),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn the_findings_over_the_golden_report_are_exactly_these() {
        let found = golden_findings().await;
        let expected: Vec<(String, String)> = [
            ("<root_account>", "access_key_older_than_90_days"), // rotated 2021-05-05
            ("<root_account>", "root_access_keys"),
            ("alice", "access_key_older_than_90_days"), // key 1, rotated 2025-01-01
            ("alice", "access_key_older_than_90_days"), // key 2, rotated 2026-06-01: 176 days
            ("alice", "console_user_without_mfa"),      // used 2026-11-20: not unused
            ("never-used", "access_key_older_than_90_days"),
            ("never-used", "console_user_without_mfa"),
            ("never-used", "credentials_unused_90_days"),
            ("never-used", "password_never_used"),
        ]
        .iter()
        .map(|(p, c)| (p.to_string(), c.to_string()))
        .collect();
        assert_eq!(found, expected);
    }
}
