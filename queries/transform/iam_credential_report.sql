-- iam_credential_report for this run: every parsed report line (seen), and for accounts
-- whose credential_report stage did not finish, their last known lines carried forward as
-- stale (one per user, within the retention window).
WITH previous AS (
  SELECT ranked.*
  FROM (
    SELECT p.*, pr.as_of AS previous_as_of,
           row_number() OVER (PARTITION BY p.account_id, p.user ORDER BY p.last_seen DESC) AS copy
    FROM raw_iam_credential_report p
    JOIN previous_runs pr
      ON pr.snapshot_date = p.snapshot_date AND pr.run_id = p.run_id AND pr.account_id = p.account_id
    JOIN unfinished_stages u ON u.account_id = p.account_id AND u.stage = 'credential_report'
  ) ranked
  WHERE ranked.copy = 1
),
merged AS (
  SELECT e.* EXCLUDE (run_id),
         'seen' AS observed, params.as_of AS last_seen, params.run_id AS observed_run_id
  FROM iam_credential_report_extracted e CROSS JOIN run_params params
  UNION ALL
  SELECT p.* EXCLUDE (run_id, snapshot_date, observed, last_seen, observed_run_id, previous_as_of, copy),
         'stale' AS observed, coalesce(p.last_seen, p.previous_as_of) AS last_seen,
         coalesce(p.observed_run_id, p.run_id) AS observed_run_id
  FROM previous p
)
SELECT m.*, params.run_id
FROM merged m CROSS JOIN run_params params
WHERE NOT (m.observed = 'stale' AND m.last_seen < params.retention_cutoff)
