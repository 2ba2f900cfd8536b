-- `latest_{table}` of the manifests: every run that is the latest of at least one account.
CREATE VIEW latest_{table} AS
SELECT t.*
FROM raw_{table} t
WHERE t.run_id IN (SELECT l.run_id FROM latest_account_run_ids l)
