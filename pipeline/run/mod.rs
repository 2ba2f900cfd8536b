//! One pipeline run: discover, scan, write the tables, then the manifest, last.
//!
//! May import: `act`, `aws`, `catalog`, `config`, `discover`, `error`, `lake`, `notify`, `query`, `scan`, `schema`, `sources`, `status`, `transform`.

pub mod heap;
pub mod peak_memory;
pub mod replay;
pub mod summary;
pub mod synthetic;
pub mod transform_inputs;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use tracing::info;

use crate::act;
use crate::aws::AwsContext;
use crate::config::Config;
use crate::discover::{AccountRecord, discover};
use crate::error::Result;
use crate::lake::batch::rows_to_batch;
use crate::lake::export::{self, ExportNaming};
use crate::lake::sink::{self, Sink};
use crate::lake::{Lake, MANIFEST_TABLE, S3Options};
use crate::notify;
use crate::progress::Progress;
use crate::query;
use crate::scan::scan_accounts;
use crate::schema::table;
use crate::sources::RunOutput;
use crate::status::StageOutcome;
use crate::transform::buckets;
use crate::transform::{self, CommitAt, CommitWriters, RunInputs};

/// Environment variable that makes a run sleep this many milliseconds after writing its
/// data and before its manifest: a hook for crash tests (kill the process in that window).
pub const PAUSE_BEFORE_MANIFEST_ENV: &str = "ORGLAKE_TEST_PAUSE_BEFORE_MANIFEST_MS";

/// Environment variable that makes a run sleep this many milliseconds after its CreateTags
/// calls and before it records their outcomes: a hook for crash tests.
pub const PAUSE_AFTER_TAGS_ENV: &str = "ORGLAKE_TEST_PAUSE_AFTER_TAGS_MS";

/// Whether every account and stage succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Every scanned account succeeded.
    Complete,
    /// Some accounts failed; the rest was written.
    Partial,
}

impl RunStatus {
    /// Complete when no account failed, else partial.
    pub fn of(counts: &AccountCounts) -> Self {
        if counts.failed == 0 {
            RunStatus::Complete
        } else {
            RunStatus::Partial
        }
    }

    /// The value stored in `runs.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Complete => "complete",
            RunStatus::Partial => "partial",
        }
    }
}

/// What a run did, for the summary and the exit code.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Id of the run.
    pub run_id: String,
    /// Snapshot date (from the run clock).
    pub snapshot_date: String,
    /// Complete or partial.
    pub status: RunStatus,
    /// Organization scanned.
    pub organization_id: String,
    /// Accounts in scope.
    pub accounts_total: usize,
    /// Accounts whose every stage succeeded.
    pub accounts_ok: usize,
    /// Accounts with a failed stage.
    pub accounts_failed: usize,
    /// Accounts listed but not scanned.
    pub accounts_skipped: usize,
    /// The slice of the organization this run scanned.
    pub shard: crate::config::shard::Shard,
    /// The failed stage outcomes.
    pub failures: Vec<StageOutcome>,
    /// Accounts per stage and status (one status per account and stage; see
    /// [`StageOutcome::rollup`]).
    pub stage_accounts: BTreeMap<(String, String), usize>,
    /// Rows written per table.
    pub table_rows: BTreeMap<String, u64>,
    /// Where the lake is.
    pub warehouse: String,
    /// CSV exports written (object paths).
    pub exports: Vec<String>,
    /// What happened to the SNS notification, if one was due.
    pub notification: Option<String>,
    /// What happened to the security digest, if one was due.
    pub digest_notification: Option<String>,
    /// What the `changes` table says about this run.
    pub changes: ChangesSummary,
    /// What happened to the Glue catalog sync, if configured.
    pub catalog: Option<String>,
    /// Wall-clock start.
    pub started_at: DateTime<Utc>,
    /// Wall-clock end.
    pub finished_at: DateTime<Utc>,
}

/// The changes a run recorded.
#[derive(Debug, Clone, Default)]
pub struct ChangesSummary {
    /// Rows written to `changes`.
    pub rows: u64,
    /// Of them, the security digest's lines.
    pub security_relevant: usize,
    /// Accounts with no earlier snapshot: no changes recorded for them.
    pub first_snapshot_accounts: u64,
}

/// The manifest row (`runs` table).
#[derive(Debug, Serialize)]
struct RunRow<'a> {
    status: &'a str,
    as_of: DateTime<Utc>,
    started_at: DateTime<Utc>,
    finished_at: DateTime<Utc>,
    organization_id: Option<&'a str>,
    scope: Vec<String>,
    accounts_total: u64,
    accounts_ok: u64,
    accounts_failed: u64,
    accounts_skipped: u64,
    table_rows: &'a BTreeMap<String, u64>,
    orglake_version: &'a str,
    shard_index: u32,
    shard_count: u32,
}

/// A new run id: the UTC start time to the millisecond (sorts by start) and a random
/// suffix (unique even for runs started in the same millisecond).
pub fn new_run_id(started_at: DateTime<Utc>) -> String {
    let random = uuid::Uuid::now_v7().simple().to_string();
    format!(
        "{}-{}",
        started_at.format("%Y%m%dT%H%M%S%.3fZ"),
        &random[random.len() - 8..]
    )
}

/// Opens the configured warehouse for writing.
pub async fn open_lake(config: &Config, aws: &AwsContext) -> Result<Lake> {
    let options = S3Options::from_config(config);
    Lake::open(&config.warehouse, &options, Some(aws.base()), true).await
}

/// Runs the pipeline once. A run that stops before its commit (discovery fails, the lake
/// is not writable, the manifest cannot be written) publishes its one-line error to the
/// SNS topic, when one is configured, and returns the error. `progress` is told how far
/// the scan has come.
pub async fn run(config: &Config, progress: &dyn Progress) -> Result<RunReport> {
    let started_at = Utc::now();
    let run_id = new_run_id(started_at);
    let aws = AwsContext::load(config).await?;
    match run_with(config, &aws, &run_id, started_at, progress).await {
        Ok(report) => Ok(report),
        Err(err) => {
            if let Some(topic) = &config.sns_topic_arn {
                let (subject, body) = notify::fatal_message(&run_id, config, &err);
                match notify::publish(&aws, topic, &subject, &body).await {
                    Ok(id) => info!(topic = %topic, message_id = %id, "fatal-run notification sent"),
                    Err(publish) => tracing::error!(error = %publish, "could not publish the fatal-run notification"),
                }
            }
            Err(err)
        }
    }
}

async fn run_with(
    config: &Config,
    aws: &AwsContext,
    run_id: &str,
    started_at: DateTime<Utc>,
    progress: &dyn Progress,
) -> Result<RunReport> {
    let run_id = run_id.to_string();
    let as_of = config.as_of.unwrap_or(started_at);
    let snapshot_date = as_of.format("%Y-%m-%d").to_string();
    info!(run_id, snapshot_date, as_of = %as_of.to_rfc3339_opts(SecondsFormat::Secs, true), "run starting");

    let aws = aws.clone();
    let lake = open_lake(config, &aws).await?;
    // Held until the run has written its last file, so that vacuum leaves it alone.
    let lease = crate::lake::lease::Lease::take(&lake, &run_id).await?;
    // Extraction streams into staging tables in a local temporary directory.
    let (_staging_dir, staging) = open_staging().await?;
    let sources = crate::sources::registry(config, as_of);
    let mut sinks = BTreeMap::new();
    let mut writers = Vec::new();
    for table_name in sources.iter().flat_map(|source| source.staged_tables()) {
        let (sink, writer) = staging_sink(&staging, table_name, &run_id)?;
        sinks.insert(*table_name, sink);
        writers.push(writer);
    }
    let output = RunOutput::new(lake.clone(), &snapshot_date, &run_id, sinks);

    // Each account is scanned as soon as discovery lists it; the accounts' tags are read
    // once the walk is over (Organizations' rate is the walk's limit) while the scan goes on.
    let (found_sender, found) = tokio::sync::mpsc::unbounded_channel::<AccountRecord>();
    let scope = config.scope();
    let discovering = {
        let aws = &aws;
        let scope = &scope;
        async move {
            let send = move |account: &AccountRecord| {
                if config.shard.holds(&account.account_id) {
                    // The scan ends only on an error, which ends the run too.
                    let _ = found_sender.send(account.clone());
                }
            };
            let discovery = discover(aws, scope, config.organization_id.as_deref(), &send).await;
            drop(send); // the scan's stream ends once the walk has
            let mut discovery = discovery?;
            if config.shard.is_partial() {
                let in_org = discovery.accounts.len();
                discovery
                    .accounts
                    .retain(|account| config.shard.holds(&account.account_id));
                info!(shard = %config.shard, accounts = discovery.accounts.len(), of = in_org, "scanning one shard");
            }
            let account_ids = discovery.accounts.iter().map(|a| a.account_id.clone()).collect();
            let tags = crate::discover::account_tags(aws, account_ids).await?;
            discovery.apply_tags(tags, &config.tag_key);
            Ok::<_, crate::Error>(discovery)
        }
    };
    let found = futures::stream::unfold(found, |mut found| async move { found.recv().await.map(|a| (a, found)) });
    let scan_clock = std::time::Instant::now();
    let scan_memory = peak_memory::PeakSampler::start();
    let scanning = async { Ok(scan_accounts(&aws, config, found, &sources, &output, progress).await) };
    // A failed discovery ends the run at once, the accounts in flight with it.
    let (discovery, outcomes) = futures::future::try_join(discovering, scanning).await?;
    drop(output); // closes the sinks, so the writer tasks can finish
    for writer in writers {
        sink::join(writer).await?;
    }
    let scan_peak_rss_mib = scan_memory.as_ref().map(|m| m.take());
    drop(scan_memory);
    // What the scan freed is returned before the commit allocates its own.
    heap::return_freed_heap();
    info!(
        accounts = discovery.accounts.len(),
        seconds = scan_clock.elapsed().as_secs_f64(),
        outcomes = outcomes.len(),
        peak_rss_mib = scan_peak_rss_mib,
        rss_after_mib = peak_memory::resident_mib(),
        heap_in_use_mib = heap::in_use_mib(),
        "scan done"
    );

    let extracted = Extracted {
        run_id: &run_id,
        started_at,
        as_of,
        snapshot_date: &snapshot_date,
        organization_id: &discovery.organization_id,
        accounts: &discovery.accounts,
        outcomes,
        staging: &staging,
    };
    let Committed {
        table_rows,
        exports,
        outcomes,
        status,
        counts,
        finished_at,
        first_snapshot_accounts,
        digest,
        ..
    } = commit(config, Some(&aws), &lake, extracted).await?;
    lease.release().await;

    let failures: Vec<StageOutcome> = outcomes.iter().filter(|o| o.is_failure()).cloned().collect();
    let notification = match (
        &config.sns_topic_arn,
        notify::failure_message(&run_id, &discovery.organization_id, &failures),
    ) {
        (Some(topic), Some((subject, body))) => Some(match notify::publish(&aws, topic, &subject, &body).await {
            Ok(id) => format!("sent to {topic} (message {id})"),
            Err(err) => {
                tracing::error!(error = %err, "could not publish the failure notification");
                format!("NOT sent to {topic}: {err}")
            }
        }),
        _ => None,
    };
    let digest_notification = match (
        &config.sns_topic_arn,
        notify::digest_message(&run_id, &discovery.organization_id, &snapshot_date, &digest),
    ) {
        (Some(topic), Some((subject, body))) => Some(match notify::publish(&aws, topic, &subject, &body).await {
            Ok(id) => format!(
                "security digest of {} change(s) sent to {topic} (message {id})",
                digest.len()
            ),
            Err(err) => {
                tracing::error!(error = %err, "could not publish the security digest");
                format!("security digest NOT sent to {topic}: {err}")
            }
        }),
        _ => None,
    };

    let catalog = match (&config.glue_database, config.warehouse.starts_with("s3://")) {
        (Some(database), true) => Some(
            match crate::catalog::glue::sync(&aws, database, &config.warehouse, &[snapshot_date.clone()]).await {
                Ok(created) => format!("glue database {database} synced ({created} new partitions)"),
                Err(err) => {
                    tracing::error!(error = %err, "could not sync the Glue catalog");
                    format!("glue database {database} NOT synced: {err}")
                }
            },
        ),
        _ => None,
    };

    Ok(RunReport {
        run_id,
        snapshot_date,
        status,
        organization_id: discovery.organization_id,
        accounts_total: discovery.accounts.len(),
        accounts_ok: counts.ok,
        accounts_failed: counts.failed,
        accounts_skipped: counts.skipped,
        shard: config.shard,
        stage_accounts: StageOutcome::rollup(&outcomes),
        failures,
        notification,
        digest_notification,
        changes: ChangesSummary {
            rows: table_rows.get("changes").copied().unwrap_or(0),
            security_relevant: digest.len(),
            first_snapshot_accounts,
        },
        catalog,
        table_rows,
        warehouse: lake.display().to_string(),
        exports,
        started_at,
        finished_at,
    })
}

/// What extraction staged, ready to be committed as one snapshot.
pub struct Extracted<'a> {
    /// This run's id.
    pub run_id: &'a str,
    /// Wall-clock start of the run.
    pub started_at: DateTime<Utc>,
    /// The run clock.
    pub as_of: DateTime<Utc>,
    /// The snapshot date (from the run clock).
    pub snapshot_date: &'a str,
    /// The organization scanned.
    pub organization_id: &'a str,
    /// The accounts in scope (of this shard).
    pub accounts: &'a [AccountRecord],
    /// Every (account, stage) outcome of extraction.
    pub outcomes: Vec<StageOutcome>,
    /// The local staging lake holding the `*_extracted` tables.
    pub staging: &'a Lake,
}

/// What committing a snapshot wrote.
pub struct Committed {
    /// Accounts with no earlier snapshot (no changes recorded for them).
    pub first_snapshot_accounts: u64,
    /// The security digest's lines: (account, line).
    pub digest: Vec<(String, String)>,
    /// Rows written per table.
    pub table_rows: BTreeMap<String, u64>,
    /// CSV exports written.
    pub exports: Vec<String>,
    /// Every outcome, tagging's included.
    pub outcomes: Vec<StageOutcome>,
    /// Complete or partial.
    pub status: RunStatus,
    /// Accounts ok, failed and not scanned.
    pub counts: AccountCounts,
    /// Wall-clock time just before the manifest was written.
    pub finished_at: DateTime<Utc>,
    /// Each phase of the commit, in order.
    pub phases: Vec<Phase>,
}

/// The phases of a commit as they are done: a phase done again (one per bucket) adds its
/// seconds to the phase's and keeps the larger peak.
struct Phases {
    list: Vec<Phase>,
    clock: std::time::Instant,
    memory: Option<peak_memory::PeakSampler>,
}

impl Phases {
    fn start() -> Self {
        Phases {
            list: Vec::new(),
            clock: std::time::Instant::now(),
            memory: peak_memory::PeakSampler::start(),
        }
    }

    /// Ends the phase `name` now and starts the next.
    fn done(&mut self, name: &'static str) {
        let seconds = self.clock.elapsed().as_secs_f64();
        // Trimmed before the peak is taken, so the next phase starts from what is live.
        heap::return_freed_heap();
        let peak = self.memory.as_ref().map(|m| m.take());
        info!(phase = name, seconds, peak_rss_mib = peak, "commit phase done");
        match self.list.iter_mut().find(|p| p.name == name) {
            Some(phase) => {
                phase.seconds += seconds;
                phase.peak_rss_mib = phase.peak_rss_mib.max(peak);
            }
            None => self.list.push(Phase {
                name,
                seconds,
                peak_rss_mib: peak,
            }),
        }
        self.clock = std::time::Instant::now();
    }
}

/// One phase of a commit: how long it took and the most memory it held.
#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    /// What the phase does.
    pub name: &'static str,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// The process's peak resident memory during the phase (MiB; `None` off Linux).
    pub peak_rss_mib: Option<u64>,
}

/// Commits one snapshot from what extraction staged: writes `accounts`, runs the transforms
/// (`queries/transform/`), plans (and with `--apply` writes) owner tags, writes
/// `account_status` and the CSV exports, then the manifest, last. `aws` is needed only
/// when tags are planned.
pub async fn commit(
    config: &Config,
    aws: Option<&AwsContext>,
    lake: &Lake,
    extracted: Extracted<'_>,
) -> Result<Committed> {
    let Extracted {
        run_id,
        started_at,
        as_of,
        snapshot_date,
        organization_id,
        accounts,
        outcomes,
        staging,
    } = extracted;
    let mut phases = Phases::start();
    let mut table_rows = BTreeMap::new();
    table_rows.insert(
        "accounts".to_string(),
        write_rows(lake, "accounts", snapshot_date, run_id, accounts).await?,
    );

    let retention = chrono::Duration::days(i64::from(config.terminated_retention_days));
    let staged = crate::sources::staged_tables(config, as_of);
    let inputs = RunInputs {
        run_id,
        as_of,
        retention_cutoff: as_of - retention,
        accounts,
        outcomes: &outcomes,
        staging,
        staged: &staged,
        bucket: &buckets::AccountRange::all(),
    };
    // A snapshot larger than one bucket is committed one range of accounts at a time, each
    // reading its accounts' row groups of the staged files.
    let staged_ctx = query::new_session();
    transform::register_staged(&staged_ctx, staging, &staged, &buckets::AccountRange::all()).await?;
    let ranges = buckets::plan(
        &buckets::rows_per_account(&staged_ctx, &staged).await?,
        config.commit_bucket_rows,
    );
    drop(staged_ctx);
    if ranges.len() > 1 {
        info!(buckets = ranges.len(), "committing in buckets of accounts");
        phases.done("bucket plan");
    }
    let at = CommitAt {
        lake,
        snapshot_date,
        run_id,
    };
    let mut writers = CommitWriters::new(at);
    let mut first_snapshot_accounts = 0;
    let mut last_ctx = None;
    for range in &ranges {
        let bucket_accounts: Vec<AccountRecord>;
        let bucket_outcomes: Vec<StageOutcome>;
        let mut bucket_inputs = RunInputs { ..inputs };
        if ranges.len() > 1 {
            bucket_accounts = accounts
                .iter()
                .filter(|a| range.contains(&a.account_id))
                .cloned()
                .collect();
            bucket_outcomes = outcomes
                .iter()
                .filter(|o| range.contains(&o.account_id))
                .cloned()
                .collect();
            bucket_inputs.accounts = &bucket_accounts;
            bucket_inputs.outcomes = &bucket_outcomes;
            bucket_inputs.bucket = range;
        }
        let ctx = query::session(lake).await?;
        transform::register_inputs(&ctx, &bucket_inputs).await?;
        transform::run_transforms(&ctx, &mut writers, &staged, range).await?;
        phases.done("transforms and lake Parquet");
        first_snapshot_accounts += transform::run_changes(&ctx, &mut writers, &staged, range).await?;
        phases.done("changes");
        last_ctx = Some(ctx);
    }
    table_rows.extend(writers.finish().await?);
    query::forget_footers();
    let ctx = last_ctx.expect("a commit has at least one bucket");
    let digest = transform::run_digest(&ctx, &at).await?;
    if first_snapshot_accounts > 0 {
        info!(
            accounts = first_snapshot_accounts,
            "first snapshot of these accounts: nothing to compare with, no changes recorded for them"
        );
    }
    phases.done("changes");

    // Owner tagging: the plan always; with --apply, the intents are committed with the run
    // and CreateTags runs only after the manifest.
    let mut tag_outcomes = Vec::new();
    let mut to_apply = Vec::new();
    let tagging = config.tagging();
    if tagging.plan {
        // The plan reads every staged instance: a session over the whole run.
        let ctx = query::session(lake).await?;
        transform::register_inputs(&ctx, &inputs).await?;
        let plan = act::plan(&ctx, &tagging, run_id).await?;
        let decision = act::decide(&tagging, &plan);
        tag_outcomes = decision.outcomes;
        to_apply = decision.to_apply;
        table_rows.insert(
            "tag_actions".to_string(),
            write_rows(lake, "tag_actions", snapshot_date, run_id, &decision.rows).await?,
        );
    }
    // The run's inputs are read no more: its outcomes (tens per account) take the tag
    // plan's without a copy.
    let mut outcomes = outcomes;
    outcomes.extend(tag_outcomes);
    table_rows.insert(
        "account_status".to_string(),
        write_rows(lake, "account_status", snapshot_date, run_id, &outcomes).await?,
    );

    // The manifest counts every table, 0 for those this run did not write.
    for lake_table in crate::schema::all_tables()
        .iter()
        .filter(|t| t.name() != MANIFEST_TABLE)
    {
        table_rows.entry(lake_table.name().to_string()).or_insert(0);
    }
    let counts = AccountCounts::of(accounts, &outcomes);
    let manifest_status = RunStatus::of(&counts);
    pause_before_manifest().await;
    let finished_at = Utc::now();
    let manifest = RunRow {
        status: manifest_status.as_str(),
        as_of,
        started_at,
        finished_at,
        organization_id: Some(organization_id),
        scope: config.scope().ids(),
        accounts_total: accounts.len() as u64,
        accounts_ok: counts.ok as u64,
        accounts_failed: counts.failed as u64,
        accounts_skipped: counts.skipped as u64,
        table_rows: &table_rows,
        orglake_version: env!("CARGO_PKG_VERSION"),
        shard_index: config.shard.index,
        shard_count: config.shard.count,
    };
    // The journal entry first: readers of a checkpoint find the runs committed since it there.
    crate::lake::checkpoints::journal_commit(lake, snapshot_date, run_id, Utc::now()).await?;
    write_rows(lake, "runs", snapshot_date, run_id, &[manifest]).await?;
    info!(run_id, status = manifest_status.as_str(), "run committed");
    phases.done("tag plan, account_status and manifest");
    // Only saves the next runs and queries work: without it they read every manifest.
    if let Err(err) = query::run_set_checkpoint::write_checkpoint(lake, run_id).await {
        tracing::warn!(error = %err, "could not write the run-set checkpoint; the next run reads every manifest instead");
    }
    phases.done("run-set checkpoint");

    // After the commit: the tags whose intent is committed, then their outcomes, added to
    // this run (tag_actions and account_status files numbered after the committed ones).
    if !to_apply.is_empty() {
        let aws = aws.ok_or_else(|| crate::Error::config("apply", "configuration", "tagging needs AWS access"))?;
        let (actions, tag_outcomes) = act::apply(aws, config, &to_apply).await;
        pause_after_tags().await;
        let added = add_rows_after_commit(lake, "tag_actions", snapshot_date, run_id, &actions).await?;
        *table_rows.entry("tag_actions".to_string()).or_insert(0) += added;
        let added = add_rows_after_commit(lake, "account_status", snapshot_date, run_id, &tag_outcomes).await?;
        *table_rows.entry("account_status".to_string()).or_insert(0) += added;
        outcomes.extend(tag_outcomes);
        phases.done("owner tags applied");
    }
    let counts = AccountCounts::of(accounts, &outcomes);
    let status = RunStatus::of(&counts);

    // CSV exports only of a committed run, from what the lake now holds (a new session
    // lists the files just written). A failure is reported; the committed run stands.
    let naming = ExportNaming {
        organization_id: organization_id.to_string(),
        datetime: started_at.format("%Y-%m-%d_%H-%M-%S").to_string(),
        shard: if config.shard.is_partial() {
            format!("_shard-{}-of-{}", config.shard.index, config.shard.count)
        } else {
            String::new()
        },
        suffix: run_id.rsplit('-').next().unwrap_or_default().to_string(),
    };
    let tagged = config.tagging().plan;
    let sort_memory = usize::try_from(config.export_sort_memory_mib << 20).unwrap_or(usize::MAX);
    let exports = match write_run_exports(lake, run_id, snapshot_date, &naming, tagged, &ranges, sort_memory).await {
        Ok(written) => written,
        Err(err) => {
            tracing::error!(error = %err, "could not write the CSV exports of the committed run; `orglake export` can write them from the lake");
            Vec::new()
        }
    };
    phases.done("CSV exports");

    Ok(Committed {
        first_snapshot_accounts,
        digest,
        table_rows,
        exports: exports.into_iter().map(|(_, path)| path).collect(),
        outcomes,
        status,
        counts,
        finished_at,
        phases: phases.list,
    })
}

/// Writes this committed run's CSV exports from its own partitions (new sessions, so that
/// they see every file): those ordered by account one range of `ranges` after another. The
/// sorts of every session (of the exports written at once) spill to local disk past
/// `sort_memory` bytes between them.
async fn write_run_exports(
    lake: &Lake,
    run_id: &str,
    snapshot_date: &str,
    naming: &ExportNaming,
    tagged: bool,
    ranges: &[buckets::AccountRange],
    sort_memory: usize,
) -> Result<Vec<(String, String)>> {
    let tables: Vec<&str> = crate::schema::all_tables().iter().map(|t| t.name()).collect();
    let pool = transform::spilling_pool(sort_memory);
    let session = |range: &buckets::AccountRange| {
        transform::spilling_run_rows_session(lake, snapshot_date, run_id, &tables, range, pool.clone())
    };
    let whole = session(&buckets::AccountRange::all())?;
    let slices = match ranges.len() {
        1 => Vec::new(),
        _ => ranges.iter().map(session).collect::<Result<Vec<_>>>()?,
    };
    export::write_exports(&whole, &slices, lake, snapshot_date, naming, |table| {
        tagged || table != "tag_actions"
    })
    .await
}

/// A local temporary directory for the staging tables (removed when the guard drops), as
/// a lake.
pub(crate) async fn open_staging() -> Result<(tempfile::TempDir, Lake)> {
    let dir = tempfile::Builder::new().prefix("orglake-staging-").tempdir()?;
    let lake = Lake::open(&dir.path().display().to_string(), &S3Options::default(), None, true).await?;
    Ok((dir, lake))
}

/// Starts a writer task for a staging table (its folder is created so that the transform
/// can read it even when extraction found nothing).
pub(crate) fn staging_sink(
    staging: &Lake,
    name: &str,
    run_id: &str,
) -> Result<(Sink, tokio::task::JoinHandle<Result<u64>>)> {
    let staged = table(name)?;
    let dir = std::path::PathBuf::from(staging.display()).join(name);
    std::fs::create_dir_all(&dir)?;
    Ok(Sink::spawn(staged, run_id, staging.staging_writer(staged, run_id)))
}

/// Syncs the Glue catalog of the configured S3 lake: tables from `schemas/`, partitions for
/// the snapshot dates of its complete runs. Returns a one-line report.
pub async fn sync_catalog(config: &Config) -> Result<String> {
    let database = config
        .glue_database
        .as_deref()
        .ok_or_else(|| crate::Error::config("glue_database", "configuration", "not set; give --glue-database NAME"))?;
    if !config.warehouse.starts_with("s3://") {
        return Err(crate::Error::config(
            "warehouse",
            "configuration",
            "the Glue catalog needs an s3:// warehouse",
        ));
    }
    let aws = AwsContext::load(config).await?;
    let lake = open_lake(config, &aws).await?;
    let ctx = query::session(&lake).await?;
    let batches = ctx
        .sql("SELECT DISTINCT snapshot_date FROM raw_runs ORDER BY snapshot_date")
        .await?
        .collect()
        .await?;
    let mut dates = Vec::new();
    for batch in &batches {
        let strings = crate::lake::text_values(batch.column(0))?;
        dates.extend(strings.iter().flatten().map(str::to_string));
    }
    let created = crate::catalog::glue::sync(&aws, database, &config.warehouse, &dates).await?;
    Ok(format!(
        "glue database {database}: {} tables synced, {created} partitions created",
        crate::schema::all_tables().len()
    ))
}

/// Writes one table's rows for this run and returns how many were written.
async fn write_rows<T: Serialize>(
    lake: &Lake,
    name: &str,
    snapshot_date: &str,
    run_id: &str,
    rows: &[T],
) -> Result<u64> {
    let table = table(name)?;
    fill(lake.table_writer(table, snapshot_date, run_id), table, run_id, rows).await
}

/// Adds rows to a run that has already committed, in parts numbered after its first files
/// (see [`crate::lake::TableWriter::after_commit`]); returns how many were written.
async fn add_rows_after_commit<T: Serialize>(
    lake: &Lake,
    name: &str,
    snapshot_date: &str,
    run_id: &str,
    rows: &[T],
) -> Result<u64> {
    let table = table(name)?;
    let writer = lake.table_writer(table, snapshot_date, run_id).after_commit();
    fill(writer, table, run_id, rows).await
}

async fn fill<T: Serialize>(
    mut writer: crate::lake::TableWriter,
    table: &'static crate::schema::Table,
    run_id: &str,
    rows: &[T],
) -> Result<u64> {
    for chunk in rows.chunks(8192) {
        writer.write(&rows_to_batch(table, run_id, chunk)?).await?;
    }
    writer.finish().await
}

/// Accounts by outcome: every stage ok, some stage failed, never scanned.
pub struct AccountCounts {
    /// Accounts whose every stage succeeded.
    pub ok: usize,
    /// Accounts with a failed stage.
    pub failed: usize,
    /// Accounts listed but not scanned.
    pub skipped: usize,
}

impl AccountCounts {
    fn of(accounts: &[AccountRecord], outcomes: &[StageOutcome]) -> Self {
        let failed: BTreeSet<&str> = outcomes
            .iter()
            .filter(|o| o.is_failure())
            .map(|o| o.account_id.as_str())
            .collect();
        let scanned = accounts.iter().filter(|a| a.scanned).count();
        let skipped = accounts.len() - scanned;
        AccountCounts {
            ok: scanned - failed.len(),
            failed: failed.len(),
            skipped,
        }
    }
}

async fn pause_before_manifest() {
    pause_for_tests(PAUSE_BEFORE_MANIFEST_ENV, "before the manifest").await
}

async fn pause_after_tags() {
    pause_for_tests(PAUSE_AFTER_TAGS_ENV, "after CreateTags, before the tag outcomes").await
}

async fn pause_for_tests(variable: &str, moment: &str) {
    if let Some(ms) = std::env::var(variable).ok().and_then(|v| v.parse::<u64>().ok()) {
        tracing::warn!(ms, "pausing {moment} ({variable} is set)");
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
}
