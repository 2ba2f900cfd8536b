-- `{table}`: rows of every complete run (a run is complete once its manifest exists in `runs`).
-- Data files of a run that crashed before writing its manifest are never seen here.
CREATE VIEW {table} AS
SELECT t.*
FROM raw_{table} t
WHERE t.run_id IN (SELECT r.run_id FROM raw_runs r)
