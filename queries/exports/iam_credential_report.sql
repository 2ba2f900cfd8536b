-- CSV export of this run's parsed credential reports, one row per report line (the raw
-- reports are kept byte for byte under raw/credential_reports/).
SELECT *
FROM run_iam_credential_report
ORDER BY account_id, is_root DESC, "user"
