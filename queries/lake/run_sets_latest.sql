-- `latest_account_run_ids`: for every account, the latest committed run that listed it (by
-- run clock, then finish time): the run whose rows `latest_<table>` shows for that account.
-- Runs of other scopes (an ad-hoc run of one account, another OU) never hide an account.
-- An account is gone (it leaves `latest_<table>`, its history stays) once a later run of
-- the same scope, whose slice would hold it, no longer listed it: closed, left the org or
-- moved out of the OU.
CREATE VIEW latest_account_run_ids AS
SELECT l.account_id, l.run_id, l.snapshot_date
FROM (
  SELECT ranked.account_id, ranked.run_id, ranked.snapshot_date, ranked.as_of, ranked.finished_at, ranked.scope_key
  FROM (
    SELECT ar.account_id, ar.run_id, ar.snapshot_date, ar.as_of, ar.finished_at, ar.scope_key,
           row_number() OVER (PARTITION BY ar.account_id
                              ORDER BY ar.as_of DESC, ar.finished_at DESC, ar.run_id DESC) AS rank_for_account
    FROM account_run_ids ar
  ) ranked
  WHERE ranked.rank_for_account = 1
) l
LEFT JOIN committed_run_ids later
  ON later.scope_key = l.scope_key
 AND (later.as_of > l.as_of
      OR (later.as_of = l.as_of AND (later.finished_at > l.finished_at
                                     OR (later.finished_at = l.finished_at AND later.run_id > l.run_id))))
 AND (later.shard_count = 1 OR try_cast(l.account_id AS BIGINT) % later.shard_count = later.shard_index)
WHERE later.run_id IS NULL
