//! Where run-set checkpoints live in a lake, and which of them `vacuum` may delete. What
//! a checkpoint holds, and how it is read, is `query::run_set_checkpoint`.

use chrono::{DateTime, Utc};
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStoreExt};

use crate::lake::Lake;

/// Where checkpoints live, under the lake's root: outside every table's folder, and
/// with a leading `_`, which Athena and Hive skip.
pub const CHECKPOINT_DIR: &str = "_checkpoints/run_sets";

/// The folder of `lake`'s run-set checkpoints (`<run_id>.parquet` each).
pub fn checkpoint_dir(lake: &Lake) -> Path {
    under_root(lake, CHECKPOINT_DIR)
}

/// Orders checkpoint files newest first: by time written, then by path.
pub fn newer_first(a: &ObjectMeta, b: &ObjectMeta) -> std::cmp::Ordering {
    (b.last_modified, &b.location).cmp(&(a.last_modified, &a.location))
}

/// The checkpoints of `lake` that a newer one supersedes and that were written before
/// `cutoff` (a reader may still be reading a recent one): what `vacuum` may delete.
pub fn superseded(files: &[ObjectMeta], lake: &Lake, cutoff: DateTime<Utc>) -> Vec<ObjectMeta> {
    let dir = checkpoint_dir(lake);
    let mut checkpoints: Vec<&ObjectMeta> = files.iter().filter(|f| f.location.prefix_matches(&dir)).collect();
    checkpoints.sort_by(|a, b| newer_first(a, b));
    checkpoints
        .into_iter()
        .skip(1)
        .filter(|f| f.last_modified < cutoff)
        .cloned()
        .collect()
}

/// Where the commit journal lives: one empty object per committed run, written just before
/// its manifest, in a folder per UTC day of the commit
/// (`_checkpoints/commits/commit_date=YYYY-MM-DD/<snapshot_date>_<run_id>.commit`). A reader
/// of a checkpoint finds the runs committed since it here, in the few days after the
/// checkpoint was written, instead of listing every manifest the lake holds.
pub const JOURNAL_DIR: &str = "_checkpoints/commits";

/// How long a journal day is kept after the newest checkpoint that read it: readers look
/// one day back from a checkpoint (a commit's journal entry and its manifest are seconds
/// apart; the day covers clocks that disagree), so three days leave a margin.
pub const JOURNAL_DAYS_KEPT: i64 = 3;

/// Checkpoints kept when a new one is written: the newest few, so a reader that listed
/// them just before still finds the one it chose (and a reader that does not falls back
/// to reading every run). `vacuum` deletes the rest of the superseded ones too.
pub const CHECKPOINTS_KEPT: usize = 3;

fn under_root(lake: &Lake, dir: &str) -> Path {
    let mut path = lake.root().clone();
    for part in dir.split('/') {
        path = path.join(part);
    }
    path
}

/// The folder of the commit journal of `lake`.
pub fn journal_dir(lake: &Lake) -> Path {
    under_root(lake, JOURNAL_DIR)
}

/// The journal folder of commits made on `day` (UTC).
pub fn journal_day_dir(lake: &Lake, day: chrono::NaiveDate) -> Path {
    journal_dir(lake).join(journal_day_folder(day))
}

/// The name of the journal folder of commits made on `day` (UTC).
fn journal_day_folder(day: chrono::NaiveDate) -> String {
    format!("commit_date={}", day.format("%Y-%m-%d"))
}

/// The UTC day of a journal day folder's name (`commit_date=YYYY-MM-DD`, as
/// [`journal_day_dir`] names it); `None` for any other name.
pub fn parse_journal_day(folder: &str) -> Option<chrono::NaiveDate> {
    let date = folder.strip_prefix("commit_date=")?;
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

/// The journal entry's file name of run `run_id` of snapshot `snapshot_date`.
pub fn journal_entry_name(snapshot_date: &str, run_id: &str) -> String {
    format!("{snapshot_date}_{run_id}.commit")
}

/// The (snapshot date, run id) a journal entry's file name names; `None` for any other file.
pub fn parse_journal_entry(file_name: &str) -> Option<(String, String)> {
    let (date, run_id) = file_name.strip_suffix(".commit")?.split_once('_')?;
    let valid_date = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok();
    (valid_date && !run_id.is_empty()).then(|| (date.to_string(), run_id.to_string()))
}

/// Records in the journal, at `now`, that run `run_id` is about to write its manifest for
/// `snapshot_date`. Called right before the manifest: an entry whose manifest never came
/// (the run died between the two) is skipped by readers, who check the manifest exists.
pub async fn journal_commit(lake: &Lake, snapshot_date: &str, run_id: &str, now: DateTime<Utc>) -> crate::Result<()> {
    let path = journal_day_dir(lake, now.date_naive()).join(journal_entry_name(snapshot_date, run_id));
    lake.store()
        .put(&path, object_store::PutPayload::new())
        .await
        .map_err(|e| crate::Error::lake(lake.display_path(&path), e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_entry_names_its_snapshot_date_and_run_and_nothing_else_parses() {
        let name = journal_entry_name("2026-11-24", "20261124T060000.000Z-964a572d");
        assert_eq!(name, "2026-11-24_20261124T060000.000Z-964a572d.commit");
        assert_eq!(
            parse_journal_entry(&name),
            Some(("2026-11-24".to_string(), "20261124T060000.000Z-964a572d".to_string()))
        );
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        assert_eq!(journal_day_folder(day), "commit_date=2026-11-24");
        assert_eq!(parse_journal_day(&journal_day_folder(day)), Some(day));
        assert_eq!(parse_journal_day("snapshot_date=2026-11-24"), None);
        for other in [
            "2026-11-24_20261124T060000.000Z-964a572d.parquet",
            "20261124T060000.000Z-964a572d.commit",
            "2026-13-40_run.commit",
            "2026-11-24_.commit",
        ] {
            assert_eq!(parse_journal_entry(other), None, "{other}");
        }
    }
}
