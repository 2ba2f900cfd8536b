//! `orglake vacuum`: finds, and with `--apply` deletes, the files that runs which never
//! committed (killed, crashed) left in the lake. Such files are invisible to every query of
//! complete runs; vacuuming only saves storage and keeps `raw_<table>` tidy.
//!
//! A file belongs to a run by its name: `<run_id>-<part>.parquet` for table files,
//! `<account_id>-<run_id>.csv` for raw credential reports, and the run id's random suffix
//! at the end of a CSV export's name (the IAM export keeps the older script's name, with
//! only the run's start second: it belongs to the one run that started in that second). A run counts as committed when its manifest exists
//! (`runs/snapshot_date=D/<run_id>.parquet`). Only runs that started more than the
//! grace period ago and hold no live lease (`lease`) are touched, so a run still writing
//! is never vacuumed; the owner-tag audit (`tag_actions`) is never touched at all.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDateTime, Utc};
use futures::TryStreamExt;
use object_store::ObjectStoreExt;
use object_store::path::Path;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::lake::{Lake, MANIFEST_TABLE};

/// The table vacuum never deletes from: the audit of owner tags written to AWS.
pub const AUDIT_TABLE: &str = "tag_actions";

/// One file of a run that never committed.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Orphan {
    /// Where it is, as a user would write it.
    pub path: String,
    /// The run that wrote it.
    pub run_id: String,
    /// Its size in bytes.
    pub bytes: u64,
}

/// What a vacuum found and did.
#[derive(Debug, Serialize)]
pub struct VacuumReport {
    /// Runs with a manifest (never touched).
    pub committed_runs: usize,
    /// Files of runs that never committed and started before the grace period.
    pub orphans: Vec<Orphan>,
    /// Whether they were deleted (`--apply`) or only listed.
    pub deleted: bool,
    /// Files of uncommitted runs left alone: the run started too recently, or still holds
    /// its lease (it may still be writing).
    pub recent_files_kept: usize,
}

/// The start time in a run id (`20261124T213344.527Z-4fcdf13c`), if it is one.
pub fn run_started_at(run_id: &str) -> Option<DateTime<Utc>> {
    let (stamp, suffix) = run_id.split_once('-')?;
    if suffix.is_empty() || !suffix.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%S%.3fZ")
        .ok()
        .map(|t| t.and_utc())
}

/// Runs by what export names carry: the random suffix, and the start second.
#[derive(Default)]
struct ExportKeys {
    by_suffix: BTreeMap<String, String>,
    by_second: BTreeMap<String, Vec<String>>,
}

impl ExportKeys {
    fn of<'a>(runs: impl Iterator<Item = &'a String>) -> Self {
        let mut keys = ExportKeys::default();
        for run in runs {
            if let (Some((_, suffix)), Some(started)) = (run.rsplit_once('-'), run_started_at(run)) {
                keys.by_suffix.insert(suffix.to_string(), run.clone());
                let second = started.format("%Y-%m-%d_%H-%M-%S").to_string();
                keys.by_second.entry(second).or_default().push(run.clone());
            }
        }
        keys
    }

    /// The run of an export named `..._<suffix>.csv` or (the IAM export) `..._<second>.csv`.
    fn run_of_export(&self, stem: &str) -> Option<String> {
        let (_, last) = stem.rsplit_once('_')?;
        if let Some(run) = self.by_suffix.get(last) {
            return Some(run.clone());
        }
        let second = stem.get(stem.len().checked_sub(19)?..)?;
        match self.by_second.get(second).map(Vec::as_slice) {
            Some([only]) => Some(only.clone()),
            _ => None,
        }
    }
}

/// The run a lake file belongs to, from its name; `None` for files that are not a run's,
/// or whose run cannot be told for sure.
fn run_of(file_name: &str, exports: &ExportKeys) -> Option<String> {
    if let Some(stem) = file_name.strip_suffix(".parquet") {
        if run_started_at(stem).is_some() {
            return Some(stem.to_string()); // a manifest: `<run_id>.parquet`
        }
        let (run_id, part) = stem.rsplit_once('-')?;
        return (part.chars().all(|c| c.is_ascii_digit()) && run_started_at(run_id).is_some())
            .then(|| run_id.to_string());
    }
    let stem = file_name.strip_suffix(".csv")?;
    if let Some((_, run_id)) = stem.split_once('-')
        && run_started_at(run_id).is_some()
    {
        return Some(run_id.to_string()); // a raw credential report
    }
    exports.run_of_export(stem)
}

/// Lists (and with `apply`, deletes) the files of runs that never committed and started
/// before `now - grace`.
pub async fn vacuum(lake: &Lake, grace: chrono::Duration, now: DateTime<Utc>, apply: bool) -> Result<VacuumReport> {
    let store = lake.store();
    let files: Vec<object_store::ObjectMeta> = store
        .list(Some(lake.root()))
        .try_collect()
        .await
        .map_err(|e| Error::lake(lake.display(), e))?;
    let manifests = lake.table_path(MANIFEST_TABLE);
    // The owner-tag audit is never vacuumed, committed or not.
    let audit = lake.table_path(AUDIT_TABLE);
    let checkpoints = crate::lake::checkpoints::checkpoint_dir(lake);
    let file_name = |path: &Path| path.filename().unwrap_or_default().to_string();
    let no_exports = ExportKeys::default();
    let committed: BTreeSet<String> = files
        .iter()
        .filter(|f| f.location.prefix_matches(&manifests))
        .filter_map(|f| run_of(&file_name(&f.location), &no_exports))
        .collect();
    // Every run seen in a table file or raw report, to attribute the CSV exports.
    let runs: BTreeSet<String> = files
        .iter()
        .filter_map(|f| run_of(&file_name(&f.location), &no_exports))
        .collect();
    let exports = ExportKeys::of(runs.iter());
    let cutoff = now - grace;
    let (leased, expired_leases) = crate::lake::lease::leases(lake, &files, now).await?;
    let mut orphans = Vec::new();
    let mut recent_files_kept = 0;
    for file in &files {
        let Some(run_id) = run_of(&file_name(&file.location), &exports) else {
            continue;
        };
        // Checkpoints are judged below, by whether a newer one supersedes them.
        if committed.contains(&run_id)
            || file.location.prefix_matches(&audit)
            || file.location.prefix_matches(&checkpoints)
        {
            continue;
        }
        // A run that still holds its lease may still be writing: never touched.
        if leased.contains(&run_id) || run_started_at(&run_id).is_none_or(|started| started >= cutoff) {
            recent_files_kept += 1;
            continue;
        }
        orphans.push((file.location.clone(), run_id, file.size));
    }
    // Expired leases: of killed runs, or of runs that ended without deleting theirs.
    for file in files.iter().filter(|f| expired_leases.contains(&f.location)) {
        let run_id = file
            .location
            .filename()
            .unwrap_or_default()
            .trim_end_matches(".json")
            .to_string();
        if run_started_at(&run_id).is_some_and(|started| started < cutoff) {
            orphans.push((file.location.clone(), run_id, file.size));
        }
    }
    // Run-set checkpoints that a newer one supersedes: each is a summary of the runs, never
    // the only copy of anything.
    for file in crate::lake::checkpoints::superseded(&files, lake, cutoff) {
        let run_id = file
            .location
            .filename()
            .unwrap_or_default()
            .trim_end_matches(".parquet")
            .to_string();
        orphans.push((file.location.clone(), run_id, file.size));
    }
    if apply {
        for (path, _, _) in &orphans {
            store.delete(path).await.map_err(|e| Error::lake(path.to_string(), e))?;
        }
    }
    Ok(VacuumReport {
        committed_runs: committed.len(),
        orphans: orphans
            .into_iter()
            .map(|(path, run_id, bytes)| Orphan {
                path: lake.display_path(&path),
                run_id,
                bytes,
            })
            .collect(),
        deleted: apply,
        recent_files_kept,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_told_apart_by_their_names() {
        let run = "20261124T213344.527Z-4fcdf13c".to_string();
        let twins = [
            "20261124T100000.100Z-aaaaaaaa".to_string(),
            "20261124T100000.900Z-bbbbbbbb".to_string(),
        ];
        let exports = ExportKeys::of([&run, &twins[0], &twins[1]].into_iter());
        let run = run.as_str();
        assert_eq!(run_of(&format!("{run}-00000.parquet"), &exports).as_deref(), Some(run));
        assert_eq!(
            run_of(&format!("{run}.parquet"), &exports).as_deref(),
            Some(run),
            "a manifest"
        );
        assert_eq!(
            run_of(&format!("123456789012-{run}.csv"), &exports).as_deref(),
            Some(run)
        );
        assert_eq!(
            run_of("EC2_INSTANCES_o-abc_2026-11-24_21-33-44_4fcdf13c.csv", &exports).as_deref(),
            Some(run)
        );
        assert_eq!(
            run_of("IAM_USER_TAGS_o-abc_combined_2026-11-24_21-33-44.csv", &exports).as_deref(),
            Some(run),
            "the IAM export, by the one run that started in its second"
        );
        for foreign in [
            "IAM_USER_TAGS_o-abc_combined_2026-11-24_10-00-00.csv", // two runs started then
            "IAM_USER_TAGS_o-abc_combined_2026-11-24_11-00-00.csv", // no run started then
            "notes.txt",
            "part-00000.parquet",
            "EC2_INSTANCES_o-abc_2026-11-24_21-33-44_ffffffff.csv",
        ] {
            assert_eq!(run_of(foreign, &exports), None, "{foreign}");
        }
        assert_eq!(
            run_started_at(run).unwrap().to_rfc3339(),
            "2026-11-24T21:33:44.527+00:00"
        );
        assert!(run_started_at("20261124T213344.527Z-").is_none());
        assert!(run_started_at("yesterday-abc").is_none());
    }
}
