-- An active access key created or last rotated more than 90 days before the run clock.
SELECT k.account_id, k.principal, k.principal_arn,
       'access_key_older_than_90_days' AS check_id, 'medium' AS severity,
       concat('access key ', k.slot, ' last rotated ', CAST(k.last_rotated AS VARCHAR)) AS detail,
       k.observed, k.last_seen, k.observed_run_id
FROM run_params p
CROSS JOIN (
  SELECT account_id, user AS principal, arn AS principal_arn, '1' AS slot,
         access_key_1_active AS active, access_key_1_last_rotated AS last_rotated,
         observed, last_seen, observed_run_id
  FROM run_iam_credential_report
  UNION ALL
  SELECT account_id, user, arn, '2', access_key_2_active, access_key_2_last_rotated,
         observed, last_seen, observed_run_id
  FROM run_iam_credential_report
) k
WHERE k.active AND k.last_rotated < p.as_of - INTERVAL '90 days'
