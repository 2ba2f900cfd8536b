-- `complete_run_ids`: every committed run (its manifest is in `runs`) whose snapshot is
-- complete. An unsharded run is complete by itself; a run of `--shard i/n` once every slice
-- 0..n-1 of its snapshot date has committed. Manifests older than sharding read as 0 of 1.
CREATE VIEW complete_run_ids AS
SELECT r.run_id, r.snapshot_date, r.finished_at, r.shard_index, r.shard_count
FROM (
  SELECT run_id, snapshot_date, finished_at,
         coalesce(shard_index, 0) AS shard_index, coalesce(shard_count, 1) AS shard_count
  FROM raw_runs
) r
JOIN (
  SELECT snapshot_date, coalesce(shard_count, 1) AS shard_count
  FROM raw_runs
  GROUP BY snapshot_date, coalesce(shard_count, 1)
  HAVING count(DISTINCT coalesce(shard_index, 0)) = max(coalesce(shard_count, 1))
) complete_splits
  ON complete_splits.snapshot_date = r.snapshot_date AND complete_splits.shard_count = r.shard_count
