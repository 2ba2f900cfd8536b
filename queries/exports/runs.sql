-- CSV export of this run's manifest row (written after the manifest itself).
SELECT *
FROM run_runs
