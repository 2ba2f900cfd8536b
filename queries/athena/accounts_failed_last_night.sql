-- What failed in the latest run, per account and stage, with the reason.
SELECT account_id, stage, region, status, error_code, message
FROM latest_account_status
WHERE status IN ('auth_failed', 'error')
ORDER BY account_id, stage, region
