-- `latest_{table}`: rows of the latest complete run of the latest snapshot date.
CREATE VIEW latest_{table} AS
SELECT t.*
FROM raw_{table} t
WHERE t.run_id = (
  SELECT r.run_id FROM raw_runs r
  ORDER BY r.snapshot_date DESC, r.finished_at DESC, r.run_id DESC
  LIMIT 1
)
