-- `{table}`: rows of every complete run (see complete_run_ids: its manifest exists and, when
-- sharded, so do those of every other slice of its snapshot date). Data files of a run that
-- crashed before writing its manifest are never seen here.
CREATE VIEW {table} AS
SELECT t.*
FROM raw_{table} t
WHERE t.run_id IN (SELECT c.run_id FROM complete_run_ids c)
