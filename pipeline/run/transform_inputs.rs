//! What a commit's transforms read, written out for another engine (`orglake bench-load
//! --keep-inputs DIR`): the staging Parquet as extraction wrote it, the run's own inputs
//! (`run_params`, `run_accounts`, `run_account_status`) as Parquet, and every SQL text the
//! commit runs, in order, as `sql.json`. The load benchmark runs that same SQL in DuckDB over
//! these files and the lake, next to orglake's own commit.

use std::path::Path;

use serde::Serialize;

use crate::discover::AccountRecord;
use crate::error::Result;
use crate::lake::{Lake, S3Options};
use crate::schema::table;
use crate::status::StageOutcome;

/// The run whose inputs are kept, and what it read.
pub struct KeptRun<'a> {
    /// The run's id.
    pub run_id: &'a str,
    /// The run clock.
    pub as_of: chrono::DateTime<chrono::Utc>,
    /// Terminated instances (and stale rows) older than this are dropped.
    pub retention_cutoff: chrono::DateTime<chrono::Utc>,
    /// The run's accounts.
    pub accounts: &'a [AccountRecord],
    /// The run's stage outcomes.
    pub outcomes: &'a [StageOutcome],
    /// The staging folder extraction wrote (one folder per staged table).
    pub staging_dir: &'a Path,
    /// The staged tables (`<table>_extracted`).
    pub staged: &'a [&'static str],
}

/// Every SQL text the transforms phase of a commit runs, in order.
#[derive(Serialize)]
struct CommitSql {
    run_id: String,
    /// The run-set views of `queries/lake/` (name, CREATE VIEW).
    run_set_views: Vec<(&'static str, &'static str)>,
    /// `queries/transform/inputs/`: CREATE VIEW statements.
    input_views: Vec<&'static str>,
    /// `queries/transform/templates/previous_rows.sql` (`{table}` to fill in).
    previous_rows_template: &'static str,
    /// Lake tables with an `account_id`: those that have previous rows.
    tables_with_accounts: Vec<&'static str>,
    /// (lake table, SELECT) for each staged table.
    transforms: Vec<(&'static str, String)>,
    /// (check, SELECT of its `findings` rows with the run id) of each security check, over
    /// `run_<table>` and `run_params`.
    findings: Vec<(&'static str, String)>,
}

/// Writes `run`'s inputs and the commit's SQL into `dir` (created; it must not hold
/// anything else): `staging/<table>_extracted/`, `inputs/{run_params,accounts,account_status}/`
/// (what the commit registers as `run_params`, `run_accounts` and `run_account_status`),
/// `lake_schemas/<table>/` (one empty file with each lake table's columns) and `sql.json`.
pub async fn keep(run: &KeptRun<'_>, dir: &Path) -> Result<()> {
    copy_dir(run.staging_dir, &dir.join("staging"))?;
    for staged in run.staged {
        write_empty_if_missing(&dir.join("staging").join(staged), table(staged)?)?;
    }
    // Each lake table's columns, for a table the lake holds no file of yet.
    for lake_table in crate::schema::all_tables() {
        write_empty_if_missing(&dir.join("lake_schemas").join(lake_table.name()), lake_table)?;
    }
    let inputs = Lake::open(
        &dir.join("inputs").display().to_string(),
        &S3Options::default(),
        None,
        true,
    )
    .await?;
    let batches =
        crate::transform::run_input_batches(run.run_id, run.as_of, run.retention_cutoff, run.accounts, run.outcomes)?;
    for (_, input_table, batch) in batches {
        let mut writer = inputs.staging_writer(input_table, run.run_id);
        writer.write(&batch).await?;
        writer.finish().await?;
    }
    let sql = CommitSql {
        run_id: run.run_id.to_string(),
        run_set_views: crate::query::RUN_SET_VIEWS.to_vec(),
        input_views: crate::transform::input_views(),
        previous_rows_template: crate::transform::previous_rows_template()?,
        tables_with_accounts: crate::schema::all_tables()
            .iter()
            .filter(|t| t.has_accounts())
            .map(|t| t.name())
            .collect(),
        transforms: crate::transform::transforms(run.staged)?,
        findings: crate::transform::findings()
            .into_iter()
            .map(|(check, sql)| (check, crate::transform::finding_rows_sql(sql)))
            .collect(),
    };
    let json = serde_json::to_vec_pretty(&sql).map_err(|e| crate::error::Error::Schema(e.to_string()))?;
    std::fs::write(dir.join("sql.json"), json)?;
    Ok(())
}

/// A staged table that extraction wrote no file of (no rows) gets one empty file with its
/// schema, so that another engine sees its columns.
fn write_empty_if_missing(folder: &Path, staged: &crate::schema::Table) -> Result<()> {
    std::fs::create_dir_all(folder)?;
    let has_file = std::fs::read_dir(folder)?
        .filter_map(|e| e.ok())
        .any(|e| e.path().extension().is_some_and(|x| x == "parquet"));
    if has_file {
        return Ok(());
    }
    let file = std::fs::File::create(folder.join("empty.parquet"))?;
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, staged.file_schema.clone(), None)?;
    writer.write(&arrow::array::RecordBatch::new_empty(staged.file_schema.clone()))?;
    writer.close()?;
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
