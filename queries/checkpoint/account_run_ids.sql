-- `account_run_ids` read through a checkpoint: each account's first-ranked row of the runs
-- it covers, and every row of the committed runs it does not
-- (`account_run_ids_since_checkpoint`: `queries/lake/run_sets_accounts.sql` over only
-- their `accounts` rows).
CREATE VIEW account_run_ids AS
SELECT c.account_id, c.run_id, c.snapshot_date, c.as_of, c.finished_at, c.scope_key
FROM run_set_checkpoint c
WHERE c.account_id IS NOT NULL
UNION ALL
SELECT s.account_id, s.run_id, s.snapshot_date, s.as_of, s.finished_at, s.scope_key
FROM account_run_ids_since_checkpoint s
