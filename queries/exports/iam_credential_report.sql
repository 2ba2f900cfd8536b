-- CSV export of this run's parsed credential reports, one row per report line (the raw
-- reports are kept byte for byte under raw/credential_reports/).
SELECT *
FROM raw_iam_credential_report
WHERE run_id = (SELECT run_id FROM run_params)
ORDER BY account_id, is_root DESC, "user"
