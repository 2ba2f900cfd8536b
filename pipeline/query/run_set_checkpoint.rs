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
//! A reader lists the manifests (names only), takes the newest checkpoint whose runs all
//! still have a manifest, and reads `runs` and `accounts` only on the snapshot dates that
//! hold a run the checkpoint does not cover, listing only those dates' partitions. Without a usable checkpoint (a new lake, one
//! written before checkpoints, a file that cannot be read) it reads every run, as before:
//! a checkpoint only saves work. Athena's views read every run; only orglake's own
//! sessions use checkpoints.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::array::{Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
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
use crate::lake::checkpoints::checkpoint_dir;
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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSetSource {
    /// The checkpoint used, if any.
    pub checkpoint: Option<String>,
    /// Committed runs the checkpoint covered.
    pub covered_runs: usize,
    /// Committed runs read from their manifests and `accounts` rows.
    pub read_runs: usize,
}

/// A session with `committed_run_ids`, `account_run_ids` and `latest_account_run_ids`
/// over `lake`, read through its newest usable checkpoint. With `as_of_at_most`, a
/// checkpoint is used only if none of its runs has a later clock: `previous_runs` looks
/// only at runs up to its own run's clock, and a checkpoint keeps one run per account.
pub async fn run_set_session(
    lake: &Lake,
    as_of_at_most: Option<DateTime<Utc>>,
) -> Result<(SessionContext, RunSetSource)> {
    let manifests = list_manifests(lake).await?;
    let checkpoint = newest_usable_checkpoint(lake, &manifests, as_of_at_most).await;
    let ctx = super::new_session();
    ctx.register_object_store(lake.store_url(), lake.store());
    let schema = checkpoint_schema(lake).await?;
    let (rows, covered, name) = match checkpoint {
        Some(found) => (found.rows, found.covered, Some(found.name)),
        None => (Vec::new(), BTreeSet::new(), None),
    };
    let source = RunSetSource {
        checkpoint: name,
        covered_runs: covered.len(),
        read_runs: manifests.iter().filter(|m| !covered.contains(&m.run_id)).count(),
    };
    ctx.register_table(CHECKPOINT_TABLE, Arc::new(MemTable::try_new(schema, vec![rows])?))?;
    let since = since_checkpoint(&manifests, &covered, source.checkpoint.is_some());
    for name in ["runs", "accounts"] {
        let table = crate::schema::table(name)?;
        let listing = match &since {
            // Only the dates of the runs since the checkpoint are listed.
            Some(since) => {
                let dates = Dates::Fixed(since.dates.clone());
                let listing = ctx.read_table(Arc::new(DatePartitions::new(lake, table, dates)?))?;
                match &since.not_covered {
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
    /// Without the covered runs of those dates (from the manifests' names), when there are any.
    not_covered: Option<Expr>,
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
        not_covered: (!covered_there.is_empty()).then(|| col("run_id").in_list(covered_there, true)),
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

/// The newest checkpoint (by time written) whose covered runs all still have a manifest
/// and, with `as_of_at_most`, none has a later clock. A checkpoint that cannot be read is
/// skipped with a warning: the runs are read instead.
async fn newest_usable_checkpoint(
    lake: &Lake,
    manifests: &[ManifestName],
    as_of_at_most: Option<DateTime<Utc>>,
) -> Option<Checkpoint> {
    let listed: BTreeSet<&str> = manifests.iter().map(|m| m.run_id.as_str()).collect();
    let mut files: Vec<ObjectMeta> = match lake.store().list(Some(&checkpoint_dir(lake))).try_collect().await {
        Ok(files) => files,
        Err(err) => {
            warn!(error = %err, "could not list the run-set checkpoints; reading every run");
            return None;
        }
    };
    files.retain(|f| f.location.as_ref().ends_with(".parquet"));
    files.sort_by(|a, b| (b.last_modified, &b.location).cmp(&(a.last_modified, &a.location)));
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
    let bytes = lake
        .store()
        .get(path)
        .await
        .map_err(|e| Error::lake(lake.display_path(path), e))?
        .bytes()
        .await
        .map_err(|e| Error::lake(lake.display_path(path), e))?;
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes)?.build()?;
    let schema = checkpoint_schema(lake).await?;
    let mut out = Vec::new();
    for batch in reader {
        out.push(in_schema(&batch?, &schema)?);
    }
    Ok(out)
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
        let text = |name: &str| -> Result<StringArray> {
            let column = batch
                .column_by_name(name)
                .ok_or_else(|| Error::Schema(format!("the checkpoint has no {name}")))?;
            let column = arrow::compute::cast(column, &DataType::Utf8)?;
            Ok(column
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| Error::Schema(format!("checkpoint column {name} is not text")))?
                .clone())
        };
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
/// its manifest). Returns what it covered.
pub async fn write_checkpoint(lake: &Lake, run_id: &str) -> Result<RunSetSource> {
    let (ctx, source) = run_set_session(lake, None).await?;
    let view = super::LakeView::from_create(CHECKPOINT_TABLE.to_string(), sql_file(CHECKPOINT_SQL)?);
    let schema = checkpoint_schema(lake).await?;
    let frame = ctx.sql(&view.select_sql).await?;
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(Vec::new(), schema.clone(), Some(crate::lake::writer_properties()))?;
    let mut runs = 0;
    for batch in frame.collect().await? {
        let batch = in_schema(&batch, &schema)?;
        runs += batch.column(0).null_count();
        writer.write(&batch)?;
    }
    let bytes = writer.into_inner()?;
    let path = checkpoint_dir(lake).join(format!("{run_id}.parquet"));
    lake.store()
        .put(&path, bytes.into())
        .await
        .map_err(|e| Error::lake(lake.display_path(&path), e))?;
    debug!(checkpoint = %lake.display_path(&path), runs, "run-set checkpoint written");
    Ok(RunSetSource {
        checkpoint: Some(lake.display_path(&path)),
        covered_runs: runs,
        read_runs: source.read_runs,
    })
}
