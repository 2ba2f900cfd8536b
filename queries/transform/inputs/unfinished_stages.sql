-- `unfinished_stages`: (account, stage) pairs of this run's scanned accounts whose
-- account-wide stage did not finish (no ok or no_data outcome: it failed, or the account's
-- role could not be assumed). Their last known rows are carried forward as stale.
CREATE VIEW unfinished_stages AS
SELECT a.account_id, s.stage
FROM run_accounts a
CROSS JOIN (SELECT 'iam_users' AS stage UNION ALL SELECT 'credential_report' AS stage) s
WHERE a.scanned
  AND NOT EXISTS (
    SELECT 1 FROM run_account_status o
    WHERE o.account_id = a.account_id AND o.stage = s.stage AND o.status IN ('ok', 'no_data')
  )
