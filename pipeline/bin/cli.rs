//! The command line: a thin layer that parses flags, builds the configuration and calls
//! the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::logging::LogFormat;
use orglake::config::{Config, ConfigLayers};
use orglake::error::Result;
use orglake::lake::{Lake, S3Options};
use orglake::query::{self, OutputFormat};
use orglake::run::summary;
use orglake::run::{self, RunStatus};
use orglake::schema;

/// Exit code of a run where some accounts failed (the rest was written).
pub const EXIT_PARTIAL: u8 = 3;
/// Exit code of an error that stopped orglake.
pub const EXIT_ERROR: u8 = 1;

/// orglake: inventory an AWS Organization into a queryable Parquet lake.
#[derive(Debug, Parser)]
#[command(name = "orglake", version, about, long_about = None)]
pub struct Cli {
    /// Log format: human (default) or json (one object per line, for CloudWatch).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
    /// More detail in logs (-v debug, -vv trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan the organization and write one snapshot to the lake.
    Run(RunArgs),
    /// Scan like `run`, and plan owner tags (stored in tag_actions); write them with --apply.
    Tag(RunArgs),
    /// Run SQL over every complete run in the lake.
    Query(QueryArgs),
    /// Concatenate one table's complete runs over a date range into one CSV or Parquet file.
    Export(ExportArgs),
    /// The Glue / Athena catalog.
    #[command(subcommand)]
    Glue(GlueCommand),
    /// List (and with --apply delete) the files of runs that never committed.
    Vacuum(VacuumArgs),
    /// Benchmark (hidden): stage a synthetic snapshot and commit it into the warehouse
    /// through the run's transform + load code, without AWS; prints the timings as JSON.
    #[command(name = "bench-load", hide = true)]
    BenchLoad(BenchLoadArgs),
    /// Print the member account's read-only IAM policy (hidden): exactly the actions the
    /// registered sources declare; `scripts/regenerate.sh` writes it to `deploy/`.
    #[command(name = "member-policy", hide = true)]
    MemberPolicy,
    /// List the lake's tables and their columns.
    Tables {
        /// Print the data dictionary as Markdown (as in the README).
        #[arg(long)]
        markdown: bool,
    },
}

/// A group of flags that sets configuration keys. Each command takes only the groups it
/// uses, so a flag another command owns is refused by the parser, not silently ignored.
trait FlagGroup {
    /// Puts the flags that were given into the flag layer.
    fn set(&self, flags: &mut ConfigLayers);
    /// Applies flags that are not configuration keys (actions such as `--apply`).
    fn finish(&self, _config: &mut Config) {}
}

/// Merges the config file < environment < the given flag groups, and validates the result.
fn resolve(lake: &LakeArgs, groups: &[&dyn FlagGroup], env: impl Fn(&str) -> Option<String>) -> Result<Config> {
    let file = match &lake.config {
        Some(path) => ConfigLayers::from_file(path)?,
        None => ConfigLayers::default(),
    };
    let mut flags = ConfigLayers::default();
    lake.set(&mut flags);
    for group in groups {
        group.set(&mut flags);
    }
    let mut config = file.overlay(ConfigLayers::from_env(env)).overlay(flags).resolve()?;
    for group in groups {
        group.finish(&mut config);
    }
    Ok(config)
}

/// A single-valued flag as a list of values.
fn single(value: &Option<String>) -> Vec<String> {
    value.iter().cloned().collect()
}

/// Where the lake is and how to reach it: every command that opens a lake takes these.
/// Each setting may also come from the config file or the environment (see the README).
#[derive(Debug, Args, Default)]
pub struct LakeArgs {
    /// TOML config file (also ORGLAKE_CONFIG).
    #[arg(long, env = "ORGLAKE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Lake location: a directory or s3://bucket/prefix (default: ./lake).
    #[arg(long)]
    pub warehouse: Option<String>,
    /// Endpoint for every AWS call, for example an emulator (also AWS_ENDPOINT_URL).
    #[arg(long)]
    pub endpoint_url: Option<String>,
    /// Region for Organizations, STS and the lake bucket (default: us-east-1).
    #[arg(long)]
    pub region: Option<String>,
    /// Account that must own the lake bucket (a bucket in another account, for example).
    #[arg(long)]
    pub expected_bucket_owner: Option<String>,
    /// Retries per AWS call after throttling or a transient error (default: 5).
    #[arg(long)]
    pub max_retries: Option<String>,
}

impl FlagGroup for LakeArgs {
    fn set(&self, flags: &mut ConfigLayers) {
        flags.set_flag("warehouse", single(&self.warehouse));
        flags.set_flag("endpoint_url", single(&self.endpoint_url));
        flags.set_flag("region", single(&self.region));
        flags.set_flag("expected_bucket_owner", single(&self.expected_bucket_owner));
        flags.set_flag("max_retries", single(&self.max_retries));
    }
}

/// How lake objects are encrypted: the commands that write a lake take these.
#[derive(Debug, Args, Default)]
pub struct EncryptionArgs {
    /// Server-side encryption of lake objects: AES256 (SSE-S3) or aws:kms (SSE-KMS).
    #[arg(long)]
    pub sse: Option<String>,
    /// KMS key (id, ARN or alias) for --sse aws:kms (default: the AWS managed key).
    #[arg(long)]
    pub kms_key_id: Option<String>,
}

impl FlagGroup for EncryptionArgs {
    fn set(&self, flags: &mut ConfigLayers) {
        flags.set_flag("sse", single(&self.sse));
        flags.set_flag("kms_key_id", single(&self.kms_key_id));
    }
}

/// Which snapshot a commit writes.
#[derive(Debug, Args, Default)]
pub struct SnapshotArgs {
    /// The run clock, RFC 3339 or YYYY-MM-DD (default: now); sets the snapshot date.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Days a terminated instance stays in the inventory (default: 15).
    #[arg(long)]
    pub terminated_retention_days: Option<String>,
}

impl FlagGroup for SnapshotArgs {
    fn set(&self, flags: &mut ConfigLayers) {
        flags.set_flag("as_of", single(&self.as_of));
        flags.set_flag("terminated_retention_days", single(&self.terminated_retention_days));
    }
}

/// The Glue catalog kept in sync.
#[derive(Debug, Args, Default)]
pub struct GlueArgs {
    /// Glue database kept in sync after each run (S3 warehouses only).
    #[arg(long)]
    pub glue_database: Option<String>,
}

impl FlagGroup for GlueArgs {
    fn set(&self, flags: &mut ConfigLayers) {
        flags.set_flag("glue_database", single(&self.glue_database));
    }
}

/// What to scan and how.
#[derive(Debug, Args, Default)]
pub struct ScanArgs {
    /// Expected organization id; refuse to scan any other (also ORGANIZATION_ID).
    #[arg(long)]
    pub organization_id: Option<String>,
    /// OU or root id to scan, recursively; repeatable (default: the whole organization).
    #[arg(long = "ou-id")]
    pub ou_ids: Vec<String>,
    /// Account id to scan instead of discovering by OU; repeatable.
    #[arg(long = "account")]
    pub accounts: Vec<String>,
    /// Role to assume in each account (default: orglake-reader).
    #[arg(long)]
    pub role_name: Option<String>,
    /// External id for AssumeRole, if the role requires one.
    #[arg(long)]
    pub external_id: Option<String>,
    /// Regions to scan, comma-separated (default: every enabled region).
    #[arg(long)]
    pub regions: Option<String>,
    /// Count a region that a service control policy denies as a failure (true/false;
    /// default false: recorded as skipped, denied_by_policy).
    #[arg(long)]
    pub fail_on_denied_regions: Option<String>,
    /// Scan only slice INDEX of COUNT (0-based, e.g. 0/3): account id modulo COUNT. Run
    /// every slice for the same date; the snapshot is complete when all have committed.
    #[arg(long, value_name = "INDEX/COUNT")]
    pub shard: Option<String>,
    /// Accounts scanned at once (default: 32).
    #[arg(long)]
    pub max_concurrency: Option<String>,
    /// Regions scanned at once within one account (default: 8).
    #[arg(long)]
    pub region_concurrency: Option<String>,
    /// GenerateCredentialReport polls before an account's report is given up (default: 45).
    #[arg(long)]
    pub report_max_polls: Option<String>,
    /// SNS topic told about failed accounts and failed runs, one message per run (default: none).
    #[arg(long)]
    pub sns_topic_arn: Option<String>,
}

impl FlagGroup for ScanArgs {
    fn set(&self, flags: &mut ConfigLayers) {
        flags.set_flag("organization_id", single(&self.organization_id));
        flags.set_flag("ou_ids", self.ou_ids.clone());
        flags.set_flag("accounts", self.accounts.clone());
        flags.set_flag("role_name", single(&self.role_name));
        flags.set_flag("external_id", single(&self.external_id));
        flags.set_flag("regions", single(&self.regions));
        flags.set_flag("fail_on_denied_regions", single(&self.fail_on_denied_regions));
        flags.set_flag("shard", single(&self.shard));
        flags.set_flag("max_concurrency", single(&self.max_concurrency));
        flags.set_flag("region_concurrency", single(&self.region_concurrency));
        flags.set_flag("report_max_polls", single(&self.report_max_polls));
        flags.set_flag("sns_topic_arn", single(&self.sns_topic_arn));
    }
}

/// Owner tagging: the plan's rule and whether to act on it.
#[derive(Debug, Args, Default)]
pub struct TagArgs {
    /// Plan owner tags in this run (stored in tag_actions; `orglake tag` implies it).
    #[arg(long)]
    pub plan_tags: bool,
    /// Act: write the planned owner tags (CreateTags). Without it nothing is written to AWS.
    #[arg(long)]
    pub apply: bool,
    /// Apply even when the plan exceeds --max-tag-changes.
    #[arg(long)]
    pub allow_many_tag_changes: bool,
    /// Tag key of owner tagging (default: owner).
    #[arg(long)]
    pub tag_key: Option<String>,
    /// Skip accounts whose owner's e-mail is in this domain; repeatable.
    #[arg(long = "skip-owner-domain")]
    pub skip_owner_domains: Vec<String>,
    /// Tag only these accounts; repeatable.
    #[arg(long = "tag-include-account")]
    pub tag_include_accounts: Vec<String>,
    /// Never tag these accounts; repeatable.
    #[arg(long = "tag-exclude-account")]
    pub tag_exclude_accounts: Vec<String>,
    /// Instance states that are tagged; repeatable (default: pending, running, stopping, stopped).
    #[arg(long = "tag-include-state")]
    pub tag_include_states: Vec<String>,
    /// Overwrite an existing owner tag that differs (true/false; default false).
    #[arg(long)]
    pub tag_overwrite: Option<String>,
    /// Most tag changes applied in one run (default: 100).
    #[arg(long)]
    pub max_tag_changes: Option<String>,
}

impl FlagGroup for TagArgs {
    fn set(&self, flags: &mut ConfigLayers) {
        if self.plan_tags || self.apply {
            flags.set_flag("plan_tags", vec!["true".into()]);
        }
        flags.set_flag("tag_key", single(&self.tag_key));
        flags.set_flag("skip_owner_domains", self.skip_owner_domains.clone());
        flags.set_flag("tag_include_accounts", self.tag_include_accounts.clone());
        flags.set_flag("tag_exclude_accounts", self.tag_exclude_accounts.clone());
        flags.set_flag("tag_include_states", self.tag_include_states.clone());
        flags.set_flag("tag_overwrite", single(&self.tag_overwrite));
        flags.set_flag("max_tag_changes", single(&self.max_tag_changes));
    }

    fn finish(&self, config: &mut Config) {
        config.tagging.apply = self.apply;
        config.tagging.allow_many_changes = self.allow_many_tag_changes;
    }
}

/// Flags of `orglake run` and `orglake tag`.
#[derive(Debug, Args, Default)]
pub struct RunArgs {
    /// Where the lake is.
    #[command(flatten)]
    pub lake: LakeArgs,
    /// How lake objects are encrypted.
    #[command(flatten)]
    pub encryption: EncryptionArgs,
    /// Which snapshot.
    #[command(flatten)]
    pub snapshot: SnapshotArgs,
    /// What to scan.
    #[command(flatten)]
    pub scan: ScanArgs,
    /// The Glue catalog.
    #[command(flatten)]
    pub glue: GlueArgs,
    /// Owner tagging.
    #[command(flatten)]
    pub tags: TagArgs,
}

impl RunArgs {
    /// The run's configuration: file < environment < flags, validated.
    pub fn resolve(&self, env: impl Fn(&str) -> Option<String>) -> Result<Config> {
        resolve(
            &self.lake,
            &[&self.encryption, &self.snapshot, &self.scan, &self.glue, &self.tags],
            env,
        )
    }
}

/// Flags of `orglake vacuum`.
#[derive(Debug, Args)]
pub struct VacuumArgs {
    /// Only runs that started more than this many hours ago (a run still writing is
    /// never touched).
    #[arg(long, default_value_t = 24)]
    pub older_than_hours: u32,
    /// Delete the files listed; without it they are only listed.
    #[arg(long)]
    pub apply: bool,
    /// Which lake, and how to reach it.
    #[command(flatten)]
    pub lake: LakeArgs,
}

/// Flags of `orglake bench-load`.
#[derive(Debug, Args)]
pub struct BenchLoadArgs {
    /// Accounts in the synthetic organization.
    #[arg(long, default_value_t = 1000)]
    pub org_accounts: usize,
    /// EC2 instances.
    #[arg(long, default_value_t = 1_000_000)]
    pub instances: usize,
    /// IAM users (each also a credential-report line).
    #[arg(long, default_value_t = 500_000)]
    pub users: usize,
    /// Where to write.
    #[command(flatten)]
    pub lake: LakeArgs,
    /// How lake objects are encrypted.
    #[command(flatten)]
    pub encryption: EncryptionArgs,
    /// Which snapshot.
    #[command(flatten)]
    pub snapshot: SnapshotArgs,
}

/// `orglake glue` subcommands.
#[derive(Debug, Subcommand)]
pub enum GlueCommand {
    /// Write the Glue table inputs and Athena DDL derived from schemas/ into a folder.
    Render {
        /// Where to write (the repository keeps them in glue/).
        #[arg(long, default_value = "glue")]
        out: PathBuf,
    },
    /// Create or update the Glue database and tables of an S3 lake, with a partition per
    /// snapshot date of its complete runs.
    Sync(GlueSyncArgs),
}

/// Flags of `orglake glue sync`.
#[derive(Debug, Args)]
pub struct GlueSyncArgs {
    /// Which lake.
    #[command(flatten)]
    pub lake: LakeArgs,
    /// Which database.
    #[command(flatten)]
    pub glue: GlueArgs,
}

/// Arguments of `orglake query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The SQL to run (tables: `orglake tables`; each also as latest_*, daily_*, raw_*).
    #[arg(
        allow_hyphen_values = true,
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    pub sql: Option<String>,
    /// Read the SQL from this file instead (for example queries/athena/*.sql).
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Where the lake is, and how to reach it.
    #[command(flatten)]
    pub lake: LakeArgs,
}

/// Arguments of `orglake export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The table, for example ec2_instances.
    #[arg(long)]
    pub table: String,
    /// First snapshot date, YYYY-MM-DD.
    #[arg(long)]
    pub from: String,
    /// Last snapshot date, YYYY-MM-DD (inclusive).
    #[arg(long)]
    pub to: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = orglake::query::export_range::ExportFormat::Csv)]
    pub format: orglake::query::export_range::ExportFormat,
    /// Output file (default: <table>_<from>_<to>.<format> here).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Where the lake is, and how to reach it.
    #[command(flatten)]
    pub lake: LakeArgs,
}

/// Opens the configured lake for reading (it must exist).
async fn open_lake_for_reading(config: &Config) -> Result<Lake> {
    let options = S3Options::from_config(config);
    let aws = match config.warehouse.starts_with("s3://") {
        true => Some(orglake::aws::AwsContext::load(config).await?),
        false => None,
    };
    Lake::open(&config.warehouse, &options, aws.as_ref().map(|a| a.base()), false).await
}

async fn run_and_summarise(config: &Config) -> Result<ExitCode> {
    let report = run::run(config).await?;
    print!("{}", summary::render(&report));
    Ok(match report.status {
        RunStatus::Complete => ExitCode::SUCCESS,
        RunStatus::Partial => ExitCode::from(EXIT_PARTIAL),
    })
}

/// Runs a parsed command line and returns the process exit code.
pub async fn execute(cli: Cli) -> Result<ExitCode> {
    let env = |name: &str| std::env::var(name).ok();
    match cli.command {
        Command::Run(args) => run_and_summarise(&args.resolve(env)?).await,
        Command::Vacuum(args) => {
            let config = resolve(&args.lake, &[], env)?;
            let lake = open_lake_for_reading(&config).await?;
            let grace = chrono::Duration::hours(i64::from(args.older_than_hours));
            let report = orglake::lake::vacuum::vacuum(&lake, grace, chrono::Utc::now(), args.apply).await?;
            for orphan in &report.orphans {
                println!("{}", orphan.path);
            }
            let bytes: u64 = report.orphans.iter().map(|o| o.bytes).sum();
            let runs: std::collections::BTreeSet<&str> = report.orphans.iter().map(|o| o.run_id.as_str()).collect();
            let verb = if report.deleted {
                "deleted"
            } else {
                "would delete (dry run; --apply deletes)"
            };
            eprintln!(
                "vacuum: {verb} {} files, {bytes} bytes, of {} runs that never committed and started over {}h ago; \
                 {} committed runs untouched; {} files of more recent uncommitted runs kept",
                report.orphans.len(),
                runs.len(),
                args.older_than_hours,
                report.committed_runs,
                report.recent_files_kept
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchLoad(args) => {
            let config = resolve(&args.lake, &[&args.encryption, &args.snapshot], env)?;
            let size = orglake::run::synthetic::SyntheticSize {
                accounts: args.org_accounts.max(1),
                instances: args.instances,
                users: args.users,
            };
            let report = orglake::run::synthetic::bench_load(&config, size).await?;
            println!("{}", serde_json::to_string(&report).expect("JSON"));
            Ok(ExitCode::SUCCESS)
        }
        Command::Tag(args) => {
            let mut config = args.resolve(env)?;
            config.tagging.plan = true;
            run_and_summarise(&config).await
        }
        Command::Export(args) => {
            let config = resolve(&args.lake, &[], env)?;
            let lake = open_lake_for_reading(&config).await?;
            let ctx = query::session(&lake).await?;
            let extension = match args.format {
                orglake::query::export_range::ExportFormat::Csv => "csv",
                orglake::query::export_range::ExportFormat::Parquet => "parquet",
            };
            let out = args
                .out
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("{}_{}_{}.{extension}", args.table, args.from, args.to)));
            let rows =
                orglake::query::export_range::export_range(&ctx, &args.table, &args.from, &args.to, args.format, &out)
                    .await?;
            println!(
                "wrote {rows} rows of {} ({} to {}) to {}",
                args.table,
                args.from,
                args.to,
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Query(args) => {
            let config = resolve(&args.lake, &[], env)?;
            let lake = open_lake_for_reading(&config).await?;
            let sql = match (&args.sql, &args.file) {
                (Some(sql), _) => sql.clone(),
                (None, Some(path)) => std::fs::read_to_string(path).map_err(|source| orglake::Error::SqlFile {
                    path: path.display().to_string(),
                    source,
                })?,
                (None, None) => unreachable!("clap requires SQL or --file"),
            };
            let batches = query::run_sql(&lake, &sql).await?;
            print!("{}", query::render(&batches, args.format)?);
            if args.format == OutputFormat::Table {
                println!();
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Glue(GlueCommand::Render { out }) => {
            for (path, content) in orglake::catalog::rendered_files() {
                let target = out.join(&path);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(&target, content)?;
                println!("wrote {}", target.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Glue(GlueCommand::Sync(args)) => {
            let config = resolve(&args.lake, &[&args.glue], env)?;
            let report = orglake::run::sync_catalog(&config).await?;
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Command::MemberPolicy => {
            let config = resolve(&LakeArgs::default(), &[], |_| None)?;
            let policy = orglake::sources::member_read_policy(&config);
            println!(
                "{}",
                serde_json::to_string_pretty(&policy).expect("a policy serialises")
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Tables { markdown: true } => {
            print!("{}", schema::data_dictionary_markdown());
            Ok(ExitCode::SUCCESS)
        }
        Command::Tables { markdown: false } => {
            for table in schema::all_tables() {
                println!("{}: {}", table.name(), table.def.description);
                for column in &table.def.columns {
                    println!("  {:<20} {:<24} {}", column.name, column.type_name, column.description);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
