-- `latest_account_run_ids`: for every account, the latest committed run that listed it (by
-- run clock, then finish time): the run whose rows `latest_<table>` shows for that account.
-- Runs of other scopes (an ad-hoc run of one account, another OU) never hide an account.
-- An account is gone (it leaves `latest_<table>`, its history stays) once a later run of
-- the same scope, whose slice would hold it, no longer listed it: closed, left the org or
-- moved out of the OU. Only the newest run of each slice of a scope is compared: a later
-- run of a slice exists exactly when its newest is later, and a year of nightly runs is
-- then one row per slice, not one per night, for every account.
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
LEFT JOIN (
  SELECT newest.run_id, newest.as_of, newest.finished_at, newest.scope_key, newest.shard_index, newest.shard_count
  FROM (
    SELECT c.run_id, c.as_of, c.finished_at, c.scope_key, c.shard_index, c.shard_count,
           row_number() OVER (PARTITION BY c.scope_key, c.shard_count, c.shard_index
                              ORDER BY c.as_of DESC, c.finished_at DESC, c.run_id DESC) AS rank_in_slice
    FROM committed_run_ids c
  ) newest
  WHERE newest.rank_in_slice = 1
) later
  ON later.scope_key = l.scope_key
 AND (later.as_of > l.as_of
      OR (later.as_of = l.as_of AND (later.finished_at > l.finished_at
                                     OR (later.finished_at = l.finished_at AND later.run_id > l.run_id))))
 AND (later.shard_count = 1 OR try_cast(l.account_id AS BIGINT) % later.shard_count = later.shard_index)
WHERE later.run_id IS NULL
