-- `daily_{table}`: rows of the latest complete run of each snapshot date (one run per day).
CREATE VIEW daily_{table} AS
SELECT t.*
FROM raw_{table} t
WHERE t.run_id IN (
  SELECT ranked.run_id FROM (
    SELECT r.run_id,
           row_number() OVER (PARTITION BY r.snapshot_date ORDER BY r.finished_at DESC, r.run_id DESC) AS rank_in_day
    FROM raw_runs r
  ) ranked
  WHERE ranked.rank_in_day = 1
)
