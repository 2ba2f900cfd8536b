-- CSV export of this run's outcomes per account and stage: the older scripts' success /
-- auth failure / no-instances lists in one file.
SELECT *
FROM raw_account_status
WHERE run_id = (SELECT run_id FROM run_params)
ORDER BY account_id, stage, region
