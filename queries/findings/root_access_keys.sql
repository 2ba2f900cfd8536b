-- The root user has an active access key.
SELECT r.account_id, r.user AS principal, r.arn AS principal_arn,
       'root_access_keys' AS check_id, 'critical' AS severity,
       concat('root has active access key(s):',
              CASE WHEN r.access_key_1_active THEN ' 1' ELSE '' END,
              CASE WHEN r.access_key_2_active THEN ' 2' ELSE '' END) AS detail,
       r.observed, r.last_seen, r.observed_run_id
FROM run_iam_credential_report r
WHERE r.is_root AND (r.access_key_1_active OR r.access_key_2_active)
