-- `daily_{table}`: for every snapshot date and account, its rows of that date's latest
-- committed run that listed it (see daily_account_run_ids).
CREATE VIEW daily_{table} AS
SELECT t.*
FROM raw_{table} t
JOIN daily_account_run_ids d
  ON d.snapshot_date = t.snapshot_date AND d.run_id = t.run_id AND d.account_id = t.account_id
