-- `{table}`: rows of every committed run (its manifest exists). Data files of a run that
-- crashed before writing its manifest are never seen here.
CREATE VIEW {table} AS
SELECT t.*
FROM raw_{table} t
WHERE t.run_id IN (SELECT c.run_id FROM committed_run_ids c)
