-- `daily_{table}`: rows of the latest complete snapshot of each snapshot date (one run per
-- day, or one per slice when sharded).
CREATE VIEW daily_{table} AS
SELECT t.*
FROM raw_{table} t
WHERE t.run_id IN (SELECT d.run_id FROM daily_run_ids d)
