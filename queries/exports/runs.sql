-- CSV export of this run's manifest row (written after the manifest itself).
SELECT *
FROM raw_runs
WHERE run_id = (SELECT run_id FROM run_params)
