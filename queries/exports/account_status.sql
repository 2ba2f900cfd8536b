-- CSV export of this run's outcomes per account and stage: the older scripts' success /
-- auth failure / no-instances lists in one file.
SELECT *
FROM run_account_status
ORDER BY account_id, stage, region
