-- `previous_runs`: for every account of this run, the latest committed run (as of this run's
-- clock) that listed it, where its history continues from: right for unsharded runs, for
-- `--shard i/n` (whose slices commit separately), when the shard count changes, and for runs
-- of different scopes sharing one lake.
CREATE VIEW previous_runs AS
SELECT ranked.account_id, ranked.run_id, ranked.snapshot_date, ranked.as_of
FROM (
  SELECT ar.account_id, ar.run_id, ar.snapshot_date, ar.as_of,
         row_number() OVER (PARTITION BY ar.account_id
                            ORDER BY ar.as_of DESC, ar.finished_at DESC, ar.run_id DESC) AS rank_for_account
  FROM run_params params
  CROSS JOIN account_run_ids ar
  WHERE ar.as_of <= params.as_of
    AND ar.account_id IN (SELECT account_id FROM run_accounts)
) ranked
WHERE ranked.rank_for_account = 1
