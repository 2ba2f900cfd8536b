-- `daily_account_run_ids`: for every snapshot date and account, the latest committed run of
-- that date that listed the account; gone for that date once a later run of the same date
-- and scope, whose slice would hold it, no longer listed it (as in latest_account_run_ids).
CREATE VIEW daily_account_run_ids AS
SELECT d.account_id, d.run_id, d.snapshot_date
FROM (
  SELECT ranked.account_id, ranked.run_id, ranked.snapshot_date, ranked.as_of, ranked.finished_at, ranked.scope_key
  FROM (
    SELECT ar.account_id, ar.run_id, ar.snapshot_date, ar.as_of, ar.finished_at, ar.scope_key,
           row_number() OVER (PARTITION BY ar.snapshot_date, ar.account_id
                              ORDER BY ar.as_of DESC, ar.finished_at DESC, ar.run_id DESC) AS rank_for_day
    FROM account_run_ids ar
  ) ranked
  WHERE ranked.rank_for_day = 1
) d
LEFT JOIN committed_run_ids later
  ON later.scope_key = d.scope_key
 AND later.snapshot_date = d.snapshot_date
 AND (later.as_of > d.as_of
      OR (later.as_of = d.as_of AND (later.finished_at > d.finished_at
                                     OR (later.finished_at = d.finished_at AND later.run_id > d.run_id))))
 AND (later.shard_count = 1 OR try_cast(d.account_id AS BIGINT) % later.shard_count = later.shard_index)
WHERE later.run_id IS NULL
