-- `committed_run_ids`: every committed run (its manifest is in `runs`), with what decides
-- which rows are an account's latest: the run clock, the finish time, and the scope key
-- (organization and the sorted scope ids: runs of one nightly job share it; an ad-hoc run
-- of one account or one OU has its own) and the slice of a sharded run.
CREATE VIEW committed_run_ids AS
SELECT r.run_id, r.snapshot_date, r.as_of, r.finished_at,
       concat(coalesce(r.organization_id, ''), ':', array_join(array_sort(r.scope), ',')) AS scope_key,
       coalesce(r.shard_index, 0) AS shard_index,
       coalesce(r.shard_count, 1) AS shard_count
FROM raw_runs r
