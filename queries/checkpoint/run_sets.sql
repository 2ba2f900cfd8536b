-- `run_set_checkpoint`: what `latest_account_run_ids` and a commit's `previous_runs` need
-- from every run committed so far, in one small file that a commit writes after its
-- manifest (`_checkpoints/run_sets/<run_id>.parquet`):
-- - one row per committed run (`account_id` null): its row of `committed_run_ids`; these
--   are the runs the checkpoint covers;
-- - one row per account: its row of `account_run_ids` that ranks first (run clock, then
--   finish time, then run id), with the shard columns null.
-- Both answers keep only the first-ranked row per account and ask whether a later run of
-- a scope exists, so this file plus the runs it does not cover give the answer of every run.
CREATE VIEW run_set_checkpoint AS
SELECT CAST(NULL AS VARCHAR) AS account_id, c.run_id, c.snapshot_date, c.as_of, c.finished_at, c.scope_key,
       c.shard_index, c.shard_count
FROM committed_run_ids c
UNION ALL
SELECT ranked.account_id, ranked.run_id, ranked.snapshot_date, ranked.as_of, ranked.finished_at, ranked.scope_key,
       CAST(NULL AS BIGINT) AS shard_index, CAST(NULL AS BIGINT) AS shard_count
FROM (
  SELECT ar.account_id, ar.run_id, ar.snapshot_date, ar.as_of, ar.finished_at, ar.scope_key,
         row_number() OVER (PARTITION BY ar.account_id
                            ORDER BY ar.as_of DESC, ar.finished_at DESC, ar.run_id DESC) AS rank_for_account
  FROM account_run_ids ar
) ranked
WHERE ranked.rank_for_account = 1
