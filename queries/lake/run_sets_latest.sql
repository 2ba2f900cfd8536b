-- `latest_run_ids`: the runs of the latest complete snapshot of the latest snapshot date.
CREATE VIEW latest_run_ids AS
SELECT d.run_id, d.snapshot_date
FROM daily_run_ids d
WHERE d.snapshot_date = (SELECT max(l.snapshot_date) FROM daily_run_ids l)
