//! Where run-set checkpoints live in a lake, and which of them `vacuum` may delete. What
//! a checkpoint holds, and how it is read, is `query::run_set_checkpoint`.

use chrono::{DateTime, Utc};
use object_store::ObjectMeta;
use object_store::path::Path;

use crate::lake::Lake;

/// Where checkpoints live, under the lake's root: outside every table's folder, and
/// with a leading `_`, which Athena and Hive skip.
pub const CHECKPOINT_DIR: &str = "_checkpoints/run_sets";

/// The folder of `lake`'s run-set checkpoints (`<run_id>.parquet` each).
pub fn checkpoint_dir(lake: &Lake) -> Path {
    let mut dir = lake.root().clone();
    for part in CHECKPOINT_DIR.split('/') {
        dir = dir.join(part);
    }
    dir
}

/// The checkpoints of `lake` that a newer one supersedes and that were written before
/// `cutoff` (a reader may still be reading a recent one): what `vacuum` may delete.
pub fn superseded(files: &[ObjectMeta], lake: &Lake, cutoff: DateTime<Utc>) -> Vec<ObjectMeta> {
    let dir = checkpoint_dir(lake);
    let mut checkpoints: Vec<&ObjectMeta> = files.iter().filter(|f| f.location.prefix_matches(&dir)).collect();
    checkpoints.sort_by(|a, b| (b.last_modified, &b.location).cmp(&(a.last_modified, &a.location)));
    checkpoints
        .into_iter()
        .skip(1)
        .filter(|f| f.last_modified < cutoff)
        .cloned()
        .collect()
}
