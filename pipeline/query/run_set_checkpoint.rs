//! Run-set checkpoints: which run each account's latest rows come from, without reading
//! every manifest the lake has ever held.
//!
//! `latest_account_run_ids` and a commit's `previous_runs` rank the runs of every account.
//! Computed from `runs` and `accounts` alone they open two files per committed run, so
//! their cost grows with the lake's age. After its manifest, a commit writes
//! `_checkpoints/run_sets/<run_id>.parquet` (`queries/checkpoint/run_sets.sql`): every
//! committed run it saw, and each account's first-ranked row. Both answers keep only the
//! first-ranked row per account and ask whether a later run of a scope exists, so the
//! checkpoint plus the manifests and `accounts` rows of the runs it does not cover give
//! exactly the answer that every run gives.
//!
//! A reader takes the newest checkpoint and finds the runs committed since in the commit
//! journal: right before its manifest, every commit writes an empty
//! `_checkpoints/commits/commit_date=<day>/<snapshot_date>_<run_id>.commit`, and a
//! checkpoint records in its Parquet metadata when its session started looking
//! (`orglake.journal_from`). The journal days from one day before that to one day after now
//! hold every run the checkpoint does not cover; each one's manifest is checked with a HEAD
//! request (a run that died before its manifest did not commit), as are the runs the
//! checkpoint names as accounts' latest. The reader then reads `runs` and `accounts` only
//! for those runs, listing only their dates' partitions: nothing it lists or reads grows
//! with the lake's age. After its checkpoint, a commit keeps the newest three checkpoints
//! and deletes the rest, then deletes the journal entries of runs all three cover and the
//! journal days older than three days: the journal holds the last few runs, however many
//! a day commits.
//!
//! Two checks keep readers right while commits run at the same time. A reader checks that
//! its checkpoint still exists after it listed the journal: if it does, it is one of those
//! kept, so it covers every entry deleted. A commit does not write its checkpoint if
//! another was written while its session read: that one may cover runs this one missed,
//! yet would look older.
//!
//! A checkpoint without a journal start (written before the journal), or a newest one that
//! cannot be used, is read the older way: every manifest's name is listed, and the newest
//! checkpoint whose runs all still have a manifest is taken. Without a usable checkpoint (a
//! new lake, a file that cannot be read) every run is read: a checkpoint only saves work.
//! Athena's views read every run; only orglake's own sessions use checkpoints.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::array::{Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow::datatypes::{Field, Schema, SchemaRef};
use chrono::{DateTime, Utc};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::{Expr, col, lit};
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStoreExt};
use tracing::{debug, warn};

use super::date_partitions::{DatePartitions, Dates};
use crate::error::{Error, Result};
use crate::lake::checkpoints::{
    CHECKPOINTS_KEPT, JOURNAL_DAYS_KEPT, checkpoint_dir, journal_day_dir, journal_dir, newer_first, parse_journal_day,
    parse_journal_entry,
};
use crate::lake::{Lake, MANIFEST_TABLE};

/// The name of the checkpoint's rows in a run-set session.
const CHECKPOINT_TABLE: &str = "run_set_checkpoint";

/// The SQL files of the checkpoint: what it stores, and the two run-set inputs read
/// through it.
const CHECKPOINT_SQL: &str = "queries/checkpoint/run_sets.sql";
const COMMITTED_SQL: &str = "queries/checkpoint/committed_run_ids.sql";
const ACCOUNTS_SQL: &str = "queries/checkpoint/account_run_ids.sql";

fn sql_file(path: &str) -> Result<&'static str> {
    crate::embedded::file(path).ok_or_else(|| Error::Schema(format!("{path} is missing")))
}

/// One committed run as its manifest's path names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ManifestName {
    snapshot_date: String,
    run_id: String,
}

/// What a run-set session read: how many committed runs the checkpoint covered and how
/// many it read from their manifests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSetSource {
    /// The checkpoint used, if any.
    pub checkpoint: Option<String>,
    /// Committed runs the checkpoint covered.
    pub covered_runs: usize,
    /// Committed runs read from their manifests and `accounts` rows.
    pub read_runs: usize,
    /// Whether the runs since the checkpoint came from the commit journal (else from a
    /// listing of every manifest).
    pub journaled: bool,
    /// When the session started looking: a checkpoint written from it covers every run
    /// committed before, and its readers look for later ones in the journal from then on.
    pub listed_at: DateTime<Utc>,
}

/// A session with `committed_run_ids`, `account_run_ids` and `latest_account_run_ids`
/// over `lake`, read through its newest usable checkpoint. With `as_of_at_most`, a
/// checkpoint is used only if none of its runs has a later clock: `previous_runs` looks
/// only at runs up to its own run's clock, and a checkpoint keeps one run per account.
///
/// The runs committed since the checkpoint are found in the commit journal of the days
/// after it was written ([`crate::lake::checkpoints::JOURNAL_DIR`]); a checkpoint written
/// before the journal existed, or one that is not the newest, is checked against every
/// manifest's name instead.
pub async fn run_set_session(
    lake: &Lake,
    as_of_at_most: Option<DateTime<Utc>>,
) -> Result<(SessionContext, RunSetSource)> {
    let listed_at = Utc::now();
    let plan = match journaled_plan(lake, as_of_at_most, listed_at).await {
        Some(plan) => plan,
        None => listed_plan(lake, as_of_at_most).await?,
    };
    let ctx = super::new_session();
    ctx.register_object_store(lake.store_url(), lake.store());
    let schema = checkpoint_schema(lake).await?;
    let (rows, name) = match plan.checkpoint {
        Some(found) => (found.rows, Some(found.name)),
        None => (Vec::new(), None),
    };
    let source = RunSetSource {
        checkpoint: name,
        covered_runs: plan.covered_runs,
        read_runs: plan.read_runs,
        journaled: plan.journaled,
        listed_at,
    };
    ctx.register_table(CHECKPOINT_TABLE, Arc::new(MemTable::try_new(schema, vec![rows])?))?;
    for name in ["runs", "accounts"] {
        let table = crate::schema::table(name)?;
        let listing = match &plan.since {
            // Only the dates of the runs since the checkpoint are listed.
            Some(since) => {
                let dates = Dates::Fixed(since.dates.clone());
                let listing = ctx.read_table(Arc::new(DatePartitions::new(lake, table, dates)?))?;
                match &since.filter {
                    Some(filter) => listing.filter(filter.clone())?,
                    None => listing,
                }
            }
            None => ctx.read_table(Arc::new(super::listing_table(lake, table)?))?,
        };
        ctx.register_table(format!("raw_{name}"), listing.into_view())?;
    }
    create_views(&ctx).await?;
    debug!(?source, "run sets");
    Ok((ctx, source))
}

/// How a run-set session reads the runs: a checkpoint (if any) and what of `runs` and
/// `accounts` it does not cover.
struct ReadPlan {
    checkpoint: Option<Checkpoint>,
    covered_runs: usize,
    read_runs: usize,
    journaled: bool,
    /// `None`: every run is read (no usable checkpoint).
    since: Option<SinceCheckpoint>,
}

/// The plan from every manifest's name: the newest checkpoint whose runs all still have a
/// manifest, and the manifests it does not cover.
async fn listed_plan(lake: &Lake, as_of_at_most: Option<DateTime<Utc>>) -> Result<ReadPlan> {
    let manifests = list_manifests(lake).await?;
    let checkpoint = newest_usable_checkpoint(lake, &manifests, as_of_at_most).await;
    let covered = checkpoint.as_ref().map(|c| c.covered.clone()).unwrap_or_default();
    let since = since_checkpoint(&manifests, &covered, checkpoint.is_some());
    Ok(ReadPlan {
        covered_runs: covered.len(),
        read_runs: manifests.iter().filter(|m| !covered.contains(&m.run_id)).count(),
        journaled: false,
        since,
        checkpoint,
    })
}

/// The plan from the newest checkpoint and the commit journal since it was written, without
/// listing the manifests: `None` when that cannot be trusted (no checkpoint, one without a
/// journal start, one that cannot be read, covers a later clock than `as_of_at_most`, or
/// names as an account's latest a run whose manifest is gone), and the caller lists them.
async fn journaled_plan(lake: &Lake, as_of_at_most: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<ReadPlan> {
    let newest = checkpoints_newest_first(lake).await.ok()?.into_iter().next()?;
    let name = lake.display_path(&newest.location);
    let (rows, journal_from) = match read_checkpoint_with_start(lake, &newest.location).await {
        Ok((rows, Some(from))) => (rows, from),
        Ok((_, None)) => return None, // written before the journal: list the manifests
        Err(err) => {
            warn!(checkpoint = %name, error = %err, "could not read the newest run-set checkpoint; listing every manifest");
            return None;
        }
    };
    let (covered, latest_clock) = covered_runs(&rows).ok()?;
    if as_of_at_most.is_some_and(|limit| latest_clock.is_some_and(|clock| clock > limit)) {
        return None;
    }
    // The runs it names as accounts' latest must still be committed (a manifest deleted by
    // hand): a few requests, one per such run.
    for (date, run_id) in runs_named_by_accounts(&rows).ok()? {
        if !manifest_exists(lake, &date, &run_id).await.ok()? {
            debug!(checkpoint = %name, run_id, "a run it names has no manifest any more; listing every manifest");
            return None;
        }
    }
    let journaled = journal_since(lake, journal_from, now).await.ok()?;
    // A commit deletes the entries of runs that every checkpoint it keeps covers, after
    // deleting the checkpoints it does not keep. If this one is still there after the
    // listing, every entry missing from it is of a run this checkpoint covers.
    if lake.store().head(&newest.location).await.is_err() {
        debug!(checkpoint = %name, "deleted by a newer commit while read; listing every manifest");
        return None;
    }
    let mut since: BTreeSet<(String, String)> = BTreeSet::new();
    for (date, run_id) in journaled {
        if covered.contains(&run_id) || since.contains(&(date.clone(), run_id.clone())) {
            continue;
        }
        // An entry whose manifest never came is a run that did not commit.
        if manifest_exists(lake, &date, &run_id).await.ok()? {
            since.insert((date, run_id));
        }
    }
    let dates: BTreeSet<String> = since.iter().map(|(date, _)| date.clone()).collect();
    let runs: Vec<Expr> = since.iter().map(|(_, run_id)| lit(run_id.as_str())).collect();
    Some(ReadPlan {
        covered_runs: covered.len(),
        read_runs: since.len(),
        journaled: true,
        since: Some(SinceCheckpoint {
            dates: dates.into_iter().collect(),
            filter: (!runs.is_empty()).then(|| col("run_id").in_list(runs, false)),
        }),
        checkpoint: Some(Checkpoint { name, rows, covered }),
    })
}

/// The (snapshot date, run id) of every journal entry from one day before `from` to one
/// day after `now`, each day's folder listed by its own prefix.
async fn journal_since(lake: &Lake, from: DateTime<Utc>, now: DateTime<Utc>) -> Result<Vec<(String, String)>> {
    let mut day = (from - chrono::Duration::days(1)).date_naive();
    let last = (now.max(from) + chrono::Duration::days(1)).date_naive();
    let mut entries = Vec::new();
    while day <= last {
        let dir = journal_day_dir(lake, day);
        let files: Vec<ObjectMeta> = lake
            .store()
            .list(Some(&dir))
            .try_collect()
            .await
            .map_err(|e| Error::lake(lake.display_path(&dir), e))?;
        entries.extend(
            files
                .iter()
                .filter_map(|f| f.location.filename().and_then(parse_journal_entry)),
        );
        day = day.succ_opt().unwrap_or(last + chrono::Duration::days(1));
    }
    Ok(entries)
}

/// Whether run `run_id`'s manifest exists in `lake` (a HEAD request, not a listing).
async fn manifest_exists(lake: &Lake, snapshot_date: &str, run_id: &str) -> Result<bool> {
    let path = lake
        .partition_path(MANIFEST_TABLE, snapshot_date)
        .join(format!("{run_id}.parquet"));
    match lake.store().head(&path).await {
        Ok(_) => Ok(true),
        Err(object_store::Error::NotFound { .. }) => Ok(false),
        Err(err) => Err(Error::lake(lake.display_path(&path), err)),
    }
}

/// The distinct (snapshot date, run id) that a checkpoint's account rows name.
fn runs_named_by_accounts(rows: &[RecordBatch]) -> Result<BTreeSet<(String, String)>> {
    let mut named = BTreeSet::new();
    for batch in rows {
        let text = |name: &str| text_column(batch, name);
        let (accounts, runs, dates) = (text("account_id")?, text("run_id")?, text("snapshot_date")?);
        for i in 0..batch.num_rows() {
            if accounts.is_valid(i) && runs.is_valid(i) && dates.is_valid(i) {
                named.insert((dates.value(i).to_string(), runs.value(i).to_string()));
            }
        }
    }
    Ok(named)
}

/// The run-set views of a session whose `raw_runs`, `raw_accounts` and
/// `run_set_checkpoint` are registered, in order: each after those it reads.
async fn create_views(ctx: &SessionContext) -> Result<()> {
    let lake_view = |name: &str| -> Result<super::LakeView> {
        super::RUN_SET_VIEWS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, sql)| super::LakeView::from_create(n.to_string(), sql))
            .ok_or_else(|| Error::Schema(format!("no run-set view {name}")))
    };
    let renamed = |view: super::LakeView, name: &str| super::LakeView {
        name: name.to_string(),
        ..view
    };
    let checkpointed = |name: &str, path: &str| -> Result<super::LakeView> {
        Ok(super::LakeView::from_create(name.to_string(), sql_file(path)?))
    };
    let views = [
        renamed(lake_view("committed_run_ids")?, "committed_run_ids_since_checkpoint"),
        checkpointed("committed_run_ids", COMMITTED_SQL)?,
        renamed(lake_view("account_run_ids")?, "account_run_ids_since_checkpoint"),
        checkpointed("account_run_ids", ACCOUNTS_SQL)?,
        lake_view(super::latest_partitions::LATEST_RUN_IDS)?,
    ];
    for v in views {
        ctx.sql(&format!("CREATE VIEW {} AS {}", v.name, v.select_sql)).await?;
    }
    Ok(())
}

/// The rows of `runs` and `accounts` that a checkpoint does not cover.
struct SinceCheckpoint {
    /// The snapshot dates of the runs it does not cover (often none).
    dates: Vec<String>,
    /// The rows of those dates to keep: without the runs the checkpoint covers, or only the
    /// runs it does not, when such a filter is needed.
    filter: Option<Expr>,
}

/// What of `runs` and `accounts` is left to read after a checkpoint covering `covered`;
/// `None` (read everything) without a checkpoint.
fn since_checkpoint(
    manifests: &[ManifestName],
    covered: &BTreeSet<String>,
    has_checkpoint: bool,
) -> Option<SinceCheckpoint> {
    if !has_checkpoint {
        return None;
    }
    let dates: BTreeSet<&str> = manifests
        .iter()
        .filter(|m| !covered.contains(&m.run_id))
        .map(|m| m.snapshot_date.as_str())
        .collect();
    // The covered runs of those dates: a date holds few runs, so this list is short.
    let covered_there: Vec<Expr> = manifests
        .iter()
        .filter(|m| covered.contains(&m.run_id) && dates.contains(m.snapshot_date.as_str()))
        .map(|m| lit(m.run_id.as_str()))
        .collect();
    Some(SinceCheckpoint {
        dates: dates.into_iter().map(str::to_string).collect(),
        filter: (!covered_there.is_empty()).then(|| col("run_id").in_list(covered_there, true)),
    })
}

/// Every committed run, from the manifests' paths (`runs/snapshot_date=D/<run_id>.parquet`).
async fn list_manifests(lake: &Lake) -> Result<Vec<ManifestName>> {
    let prefix = lake.table_path(MANIFEST_TABLE);
    let files: Vec<ObjectMeta> = lake
        .store()
        .list(Some(&prefix))
        .try_collect()
        .await
        .map_err(|e| Error::lake(lake.display(), e))?;
    let mut out: Vec<ManifestName> = files
        .iter()
        .filter_map(|f| {
            let parts: Vec<String> = f.location.parts().map(|p| p.as_ref().to_string()).collect();
            let [.., folder, file] = parts.as_slice() else {
                return None;
            };
            Some(ManifestName {
                snapshot_date: folder.strip_prefix("snapshot_date=")?.to_string(),
                run_id: file.strip_suffix(".parquet")?.to_string(),
            })
        })
        .collect();
    out.sort();
    Ok(out)
}

/// A checkpoint read and found usable.
struct Checkpoint {
    name: String,
    rows: Vec<RecordBatch>,
    covered: BTreeSet<String>,
}

/// The checkpoint files of `lake`, the newest (by time written) first.
async fn checkpoints_newest_first(lake: &Lake) -> Result<Vec<ObjectMeta>> {
    let mut files: Vec<ObjectMeta> = lake
        .store()
        .list(Some(&checkpoint_dir(lake)))
        .try_collect()
        .await
        .map_err(|e| Error::lake(lake.display(), e))?;
    files.retain(|f| f.location.as_ref().ends_with(".parquet"));
    files.sort_by(newer_first);
    Ok(files)
}

/// The newest checkpoint (by time written) whose covered runs all still have a manifest
/// and, with `as_of_at_most`, none has a later clock. A checkpoint that cannot be read is
/// skipped with a warning: the runs are read instead.
async fn newest_usable_checkpoint(
    lake: &Lake,
    manifests: &[ManifestName],
    as_of_at_most: Option<DateTime<Utc>>,
) -> Option<Checkpoint> {
    let listed: BTreeSet<&str> = manifests.iter().map(|m| m.run_id.as_str()).collect();
    let files = match checkpoints_newest_first(lake).await {
        Ok(files) => files,
        Err(err) => {
            warn!(error = %err, "could not list the run-set checkpoints; reading every run");
            return None;
        }
    };
    for file in files {
        let name = lake.display_path(&file.location);
        let rows = match read_checkpoint(lake, &file.location).await {
            Ok(rows) => rows,
            Err(err) => {
                warn!(checkpoint = %name, error = %err, "could not read a run-set checkpoint; trying an older one");
                continue;
            }
        };
        let Ok((covered, latest_clock)) = covered_runs(&rows) else {
            warn!(checkpoint = %name, "a run-set checkpoint has unexpected columns; trying an older one");
            continue;
        };
        if !covered.iter().all(|run| listed.contains(run.as_str())) {
            debug!(checkpoint = %name, "a run it covers has no manifest any more; trying an older one");
            continue;
        }
        if as_of_at_most.is_some_and(|limit| latest_clock.is_some_and(|clock| clock > limit)) {
            debug!(checkpoint = %name, "it covers a run with a later clock than this one; reading every run");
            return None; // an older checkpoint may hold the same later run: read every run
        }
        return Some(Checkpoint { name, rows, covered });
    }
    None
}

/// The rows of one checkpoint file, in the checkpoint schema (every column nullable).
async fn read_checkpoint(lake: &Lake, path: &Path) -> Result<Vec<RecordBatch>> {
    Ok(read_checkpoint_with_start(lake, path).await?.0)
}

/// The key of a checkpoint's Parquet metadata that says from when on the commit journal
/// holds the runs it does not cover (RFC 3339); absent in checkpoints written before the
/// journal.
const JOURNAL_FROM_KEY: &str = "orglake.journal_from";

/// The rows of one checkpoint file and, if it records one, the time from which the
/// journal holds the runs committed after it.
async fn read_checkpoint_with_start(lake: &Lake, path: &Path) -> Result<(Vec<RecordBatch>, Option<DateTime<Utc>>)> {
    let bytes = lake
        .store()
        .get(path)
        .await
        .map_err(|e| Error::lake(lake.display_path(path), e))?
        .bytes()
        .await
        .map_err(|e| Error::lake(lake.display_path(path), e))?;
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes)?;
    let journal_from = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|pairs| pairs.iter().find(|kv| kv.key == JOURNAL_FROM_KEY))
        .and_then(|kv| kv.value.as_deref())
        .and_then(|value| DateTime::parse_from_rfc3339(value).ok())
        .map(|time| time.with_timezone(&Utc));
    let reader = builder.build()?;
    let schema = checkpoint_schema(lake).await?;
    let mut out = Vec::new();
    for batch in reader {
        out.push(in_schema(&batch?, &schema)?);
    }
    Ok((out, journal_from))
}

/// `batch` with the columns of `schema`, by name, each cast to its type (DataFusion may
/// hand back text as `Utf8View` where the plan says `Utf8`).
pub fn in_schema(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let mut columns = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let column = batch
            .column_by_name(field.name())
            .ok_or_else(|| Error::Schema(format!("no column {} among the run-set rows", field.name())))?;
        columns.push(arrow::compute::cast(column, field.data_type())?);
    }
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// The runs a checkpoint covers (its rows without an account) and the latest run clock
/// among all its rows.
fn covered_runs(rows: &[RecordBatch]) -> Result<(BTreeSet<String>, Option<DateTime<Utc>>)> {
    let mut covered = BTreeSet::new();
    let mut latest: Option<i64> = None;
    for batch in rows {
        let text = |name: &str| text_column(batch, name);
        let (accounts, runs) = (text("account_id")?, text("run_id")?);
        for i in 0..batch.num_rows() {
            if accounts.is_null(i) && runs.is_valid(i) {
                covered.insert(runs.value(i).to_string());
            }
        }
        let clocks = batch
            .column_by_name("as_of")
            .and_then(|c| c.as_any().downcast_ref::<TimestampMicrosecondArray>())
            .ok_or_else(|| Error::Schema("checkpoint column as_of is not a timestamp".into()))?;
        latest = latest.max(clocks.iter().flatten().max());
    }
    Ok((covered, latest.and_then(DateTime::from_timestamp_micros)))
}

/// Column `name` of a checkpoint batch as text.
fn text_column(batch: &RecordBatch, name: &str) -> Result<StringArray> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| Error::Schema(format!("the checkpoint has no {name}")))?;
    Ok(crate::lake::text_values(column)?)
}

/// The columns of a checkpoint, all nullable, as `queries/checkpoint/run_sets.sql` yields
/// them (planned once per process over an empty lake of `lake`'s kind: no file is read).
async fn checkpoint_schema(lake: &Lake) -> Result<SchemaRef> {
    static SCHEMA: tokio::sync::OnceCell<SchemaRef> = tokio::sync::OnceCell::const_new();
    let schema = SCHEMA
        .get_or_try_init(|| async {
            let ctx = super::new_session();
            ctx.register_object_store(lake.store_url(), lake.store());
            for name in ["runs", "accounts"] {
                let table = crate::schema::table(name)?;
                super::register_listing(&ctx, lake, table, &format!("raw_{name}")).await?;
            }
            for (name, sql) in &super::RUN_SET_VIEWS[..2] {
                let view = super::LakeView::from_create(name.to_string(), sql);
                ctx.sql(&format!("CREATE VIEW {} AS {}", view.name, view.select_sql))
                    .await?;
            }
            let view = super::LakeView::from_create(CHECKPOINT_TABLE.to_string(), sql_file(CHECKPOINT_SQL)?);
            let planned = ctx.sql(&view.select_sql).await?;
            let fields: Vec<Field> = planned
                .schema()
                .as_arrow()
                .fields()
                .iter()
                .map(|f| f.as_ref().clone().with_nullable(true))
                .collect();
            Ok::<_, Error>(Arc::new(Schema::new(fields)))
        })
        .await?;
    Ok(schema.clone())
}

/// Writes the checkpoint of every run committed in `lake` so far, as run `run_id` (after
/// its manifest), then deletes what it makes useless ([`prune`]). Returns what it covered;
/// `checkpoint` is `None` when a concurrent commit wrote one meanwhile and this one was
/// not written.
pub async fn write_checkpoint(lake: &Lake, run_id: &str) -> Result<RunSetSource> {
    let before: BTreeSet<Path> = checkpoints_newest_first(lake)
        .await?
        .into_iter()
        .map(|f| f.location)
        .collect();
    let (ctx, source) = run_set_session(lake, None).await?;
    let view = super::LakeView::from_create(CHECKPOINT_TABLE.to_string(), sql_file(CHECKPOINT_SQL)?);
    let schema = checkpoint_schema(lake).await?;
    let frame = ctx.sql(&view.select_sql).await?;
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(Vec::new(), schema.clone(), Some(crate::lake::writer_properties()))?;
    // Every run committed before the session started looking is in it (or was found by it);
    // later ones journaled their commit at that time or after.
    writer.append_key_value_metadata(parquet::file::metadata::KeyValue::new(
        JOURNAL_FROM_KEY.to_string(),
        source.listed_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    ));
    let mut runs = 0;
    for batch in frame.collect().await? {
        let batch = in_schema(&batch, &schema)?;
        runs += batch.column(0).null_count();
        writer.write(&batch)?;
    }
    let bytes = writer.into_inner()?;
    let path = checkpoint_dir(lake).join(format!("{run_id}.parquet"));
    // A checkpoint written since this session started may cover runs this one missed (a
    // concurrent commit's); written after it, this one would be taken as the newer.
    let concurrent = checkpoints_newest_first(lake)
        .await?
        .into_iter()
        .find(|f| !before.contains(&f.location));
    if let Some(newer) = concurrent {
        debug!(newer = %lake.display_path(&newer.location), "a concurrent commit wrote a run-set checkpoint; not writing this one");
        return Ok(RunSetSource {
            checkpoint: None,
            ..source
        });
    }
    lake.store()
        .put(&path, bytes.into())
        .await
        .map_err(|e| Error::lake(lake.display_path(&path), e))?;
    debug!(checkpoint = %lake.display_path(&path), runs, "run-set checkpoint written");
    if let Err(err) = prune(lake, source.listed_at).await {
        warn!(error = %err, "could not delete superseded run-set checkpoints or journal days; `orglake vacuum` deletes them");
    }
    Ok(RunSetSource {
        checkpoint: Some(lake.display_path(&path)),
        covered_runs: runs,
        ..source
    })
}

/// Deletes the checkpoints beyond the newest [`CHECKPOINTS_KEPT`], then the journal
/// entries that no reader needs any more: those of days more than [`JOURNAL_DAYS_KEPT`]
/// days before `listed_at` (the newest checkpoint's start), and those of runs that every
/// kept checkpoint covers. What a reader lists then stays the same size however old the
/// lake and however many runs a day commits.
///
/// The order is what keeps readers right: a reader whose checkpoint is still there after
/// it listed the journal (it checks) holds one of the kept checkpoints, which covers every
/// entry deleted here.
async fn prune(lake: &Lake, listed_at: DateTime<Utc>) -> Result<()> {
    let store = lake.store();
    let checkpoints = checkpoints_newest_first(lake).await?;
    let (kept, superseded) = checkpoints.split_at(checkpoints.len().min(CHECKPOINTS_KEPT));
    for file in superseded {
        delete(lake, &file.location).await?;
    }
    let mut covered_by_all: Option<BTreeSet<String>> = None;
    for file in kept {
        let (covered, _) = covered_runs(&read_checkpoint(lake, &file.location).await?)?;
        covered_by_all = Some(match covered_by_all {
            None => covered,
            Some(all) => all.intersection(&covered).cloned().collect(),
        });
    }
    let covered_by_all = covered_by_all.unwrap_or_default();
    let oldest_kept = (listed_at - chrono::Duration::days(JOURNAL_DAYS_KEPT)).date_naive();
    let dir = journal_dir(lake);
    let entries: Vec<ObjectMeta> = store
        .list(Some(&dir))
        .try_collect()
        .await
        .map_err(|e| Error::lake(lake.display_path(&dir), e))?;
    for entry in entries {
        let day = entry
            .location
            .prefix_match(&dir)
            .and_then(|mut parts| parts.next())
            .and_then(|part| parse_journal_day(part.as_ref()));
        let old_day = day.is_some_and(|day| day < oldest_kept);
        let covered = entry
            .location
            .filename()
            .and_then(parse_journal_entry)
            .is_some_and(|(_, run_id)| covered_by_all.contains(&run_id));
        if old_day || covered {
            delete(lake, &entry.location).await?;
        }
    }
    Ok(())
}

async fn delete(lake: &Lake, path: &Path) -> Result<()> {
    lake.store()
        .delete(path)
        .await
        .map_err(|e| Error::lake(lake.display_path(path), e))
}
