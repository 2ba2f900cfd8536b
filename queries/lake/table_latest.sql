-- `latest_{table}`: for every account, its rows of the latest committed run that listed it
-- (see latest_account_run_ids).
CREATE VIEW latest_{table} AS
SELECT t.*
FROM raw_{table} t
JOIN latest_account_run_ids l
  ON l.snapshot_date = t.snapshot_date AND l.run_id = t.run_id AND l.account_id = t.account_id
