-- `daily_{table}` of the manifests: every run that is, on its snapshot date, the latest of at
-- least one account.
CREATE VIEW daily_{table} AS
SELECT t.*
FROM raw_{table} t
WHERE t.run_id IN (SELECT d.run_id FROM daily_account_run_ids d)
