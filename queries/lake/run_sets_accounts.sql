-- `account_run_ids`: each committed run with every account it listed in its scope (its rows
-- in `accounts`: scanned, or listed but not ACTIVE). Reads only the small `accounts` table.
CREATE VIEW account_run_ids AS
SELECT a.account_id, r.run_id, r.snapshot_date, r.as_of, r.finished_at, r.scope_key
FROM raw_accounts a
JOIN committed_run_ids r ON r.run_id = a.run_id AND r.snapshot_date = a.snapshot_date
