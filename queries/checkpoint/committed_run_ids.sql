-- `committed_run_ids` read through a checkpoint: the runs it covers, and the committed runs
-- it does not (`committed_run_ids_since_checkpoint`: `queries/lake/run_sets_committed.sql`
-- over only their manifests).
CREATE VIEW committed_run_ids AS
SELECT c.run_id, c.snapshot_date, c.as_of, c.finished_at, c.scope_key, c.shard_index, c.shard_count
FROM run_set_checkpoint c
WHERE c.account_id IS NULL
UNION ALL
SELECT s.run_id, s.snapshot_date, s.as_of, s.finished_at, s.scope_key, s.shard_index, s.shard_count
FROM committed_run_ids_since_checkpoint s
