-- {table} for this run: every row extracted (seen), and for accounts whose {stage} stage
-- did not finish, their last known rows carried forward as stale (one row per {key},
-- within the retention window). The transform of every table whose schema says
-- [carry_forward] by = "account" and that has no queries/transform/{table}.sql.
WITH previous AS (
  SELECT ranked.*
  FROM (
    SELECT p.*, pr.as_of AS previous_as_of,
           row_number() OVER (PARTITION BY {partition} ORDER BY p.last_seen DESC) AS copy
    FROM previous_{table} p
    JOIN previous_runs pr ON pr.account_id = p.account_id
    JOIN unfinished_stages u ON u.account_id = p.account_id AND u.stage = '{stage}'
  ) ranked
  WHERE ranked.copy = 1
),
merged AS (
  SELECT e.* EXCLUDE (run_id),
         'seen' AS observed, params.as_of AS last_seen, params.run_id AS observed_run_id
  FROM run_params params CROSS JOIN {table}_extracted e
  UNION ALL
  SELECT p.* EXCLUDE (run_id, snapshot_date, observed, last_seen, observed_run_id, previous_as_of, copy),
         'stale' AS observed, coalesce(p.last_seen, p.previous_as_of) AS last_seen,
         coalesce(p.observed_run_id, p.run_id) AS observed_run_id
  FROM previous p
)
SELECT m.*, params.run_id
FROM run_params params CROSS JOIN merged m
WHERE NOT (m.observed = 'stale' AND m.last_seen < params.retention_cutoff)
