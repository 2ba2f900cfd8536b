//! The command line: a thin layer that parses flags, builds the configuration and calls
//! the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::flags::{self, SettingFlags};
use crate::logging::LogFormat;
use crate::progress_bar::ProgressBar;
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
    /// List what changed (the `changes` table) since a date, as a table.
    Changes(ChangesArgs),
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
    /// Benchmark (hidden): copy the latest committed run of a `bench-load` lake onto each of
    /// the following days as a new run, to make an old lake fast; prints what it wrote as JSON.
    #[command(name = "bench-replay", hide = true)]
    BenchReplay(BenchReplayArgs),
    /// Print the member account's read-only IAM policy (hidden): exactly the actions the
    /// registered sources declare; `scripts/regenerate.sh` writes it to `deploy/`.
    #[command(name = "member-policy", hide = true)]
    MemberPolicy,
    /// List every setting: its file key, variable, flag, default and commands.
    Settings {
        /// Print the README's settings table (Markdown).
        #[arg(long, conflicts_with = "example")]
        markdown: bool,
        /// Print examples/orglake.toml.
        #[arg(long)]
        example: bool,
    },
    /// List the lake's tables and their columns.
    Tables {
        /// Print the data dictionary as Markdown (as in the README).
        #[arg(long)]
        markdown: bool,
        /// Print the entity types of the `changes` table as Markdown (as in the README).
        #[arg(long, conflicts_with = "markdown")]
        changes: bool,
    },
}

/// Flags of `orglake run` and `orglake tag`: every setting.
pub type RunArgs = SettingFlags<flags::Run>;

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
    pub lake: SettingFlags<flags::LakeOnly>,
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
    /// Also write what the commit's transforms read (staging Parquet, the run's inputs) and
    /// the SQL they run into this new folder, for running the same SQL in another engine.
    #[arg(long)]
    pub keep_inputs: Option<std::path::PathBuf>,
    /// Where to write, how, and which snapshot.
    #[command(flatten)]
    pub settings: SettingFlags<flags::BenchLoad>,
}

/// Flags of `orglake bench-replay`.
#[derive(Debug, Args)]
pub struct BenchReplayArgs {
    /// Days to fill after the latest committed run, one copy of it each.
    #[arg(long)]
    pub days: u32,
    /// Which lake.
    #[command(flatten)]
    pub lake: SettingFlags<flags::LakeOnly>,
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
    /// Which lake and which database.
    #[command(flatten)]
    pub settings: SettingFlags<flags::GlueSync>,
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
    pub lake: SettingFlags<flags::LakeOnly>,
}

/// Arguments of `orglake changes`.
#[derive(Debug, Args)]
pub struct ChangesArgs {
    /// First snapshot date, YYYY-MM-DD.
    #[arg(long)]
    pub since: String,
    /// Only this account; repeatable.
    #[arg(long = "account")]
    pub accounts: Vec<String>,
    /// Only this entity type (user, access_key, instance, ...); repeatable.
    #[arg(long = "entity")]
    pub entities: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Where the lake is, and how to reach it.
    #[command(flatten)]
    pub lake: SettingFlags<flags::LakeOnly>,
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
    pub lake: SettingFlags<flags::LakeOnly>,
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
    let report = run::run(config, &ProgressBar::default()).await?;
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
            let config = args.lake.resolve(env)?;
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
            let config = args.settings.resolve(env)?;
            let size = orglake::run::synthetic::SyntheticSize {
                accounts: args.org_accounts.max(1),
                instances: args.instances,
                users: args.users,
            };
            let report = orglake::run::synthetic::bench_load(&config, size, args.keep_inputs.as_deref()).await?;
            println!("{}", serde_json::to_string(&report).expect("JSON"));
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchReplay(args) => {
            let config = args.lake.resolve(env)?;
            let report = orglake::run::replay::replay_latest(&config, args.days).await?;
            println!("{}", serde_json::to_string(&report).expect("JSON"));
            Ok(ExitCode::SUCCESS)
        }
        Command::Tag(args) => {
            let mut config = args.resolve(env)?;
            config.plan_tags = true;
            run_and_summarise(&config).await
        }
        Command::Export(args) => {
            let config = args.lake.resolve(env)?;
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
        Command::Changes(args) => {
            let config = args.lake.resolve(env)?;
            let sql = query::changes::changes_sql(&query::changes::ChangesFilter {
                since: args.since.clone(),
                accounts: args.accounts.clone(),
                entities: args.entities.clone(),
            })?;
            let lake = open_lake_for_reading(&config).await?;
            let batches = query::run_sql(&lake, &sql).await?;
            print!("{}", query::render(&batches, args.format)?);
            if args.format == OutputFormat::Table {
                println!();
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Query(args) => {
            let config = args.lake.resolve(env)?;
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
            let config = args.settings.resolve(env)?;
            let report = orglake::run::sync_catalog(&config).await?;
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Command::MemberPolicy => {
            let config = ConfigLayers::default().resolve()?;
            let policy = orglake::sources::member_read_policy(&config);
            println!(
                "{}",
                serde_json::to_string_pretty(&policy).expect("a policy serialises")
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Settings { markdown: true, .. } => {
            print!("{}", orglake::config::settings::settings_markdown());
            Ok(ExitCode::SUCCESS)
        }
        Command::Settings { example: true, .. } => {
            print!("{}", orglake::config::settings::example_toml());
            Ok(ExitCode::SUCCESS)
        }
        Command::Settings { .. } => {
            for s in orglake::config::SETTINGS {
                let file_key = if s.flag_only { "(flag only)" } else { s.key };
                println!("{file_key:<28} {:<28} {}", s.flag, s.env.join(", "));
                println!("    {} (default: {})", s.help_line(), s.default_text().replace('`', ""));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Tables { changes: true, .. } => {
            print!("{}", orglake::transform::changes::entities_markdown().await?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Tables { markdown: true, .. } => {
            print!("{}", schema::data_dictionary_markdown());
            Ok(ExitCode::SUCCESS)
        }
        Command::Tables { .. } => {
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
