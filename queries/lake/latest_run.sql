-- `latest_{table}`: rows of the latest complete snapshot of the latest snapshot date.
CREATE VIEW latest_{table} AS
SELECT t.*
FROM raw_{table} t
WHERE t.run_id IN (SELECT l.run_id FROM latest_run_ids l)
