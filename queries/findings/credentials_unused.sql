-- A user with an active credential (console password or access key) that has not been used
-- for 45 days (low) or 90 days (medium); a credential never used counts from its creation.
WITH usage AS (
  SELECT r.account_id, r.user AS principal, r.arn AS principal_arn,
         greatest(
           CASE WHEN r.password_enabled THEN coalesce(r.password_last_used, r.password_last_changed, r.user_creation_time) END,
           CASE WHEN r.access_key_1_active THEN coalesce(r.access_key_1_last_used_date, r.access_key_1_last_rotated) END,
           CASE WHEN r.access_key_2_active THEN coalesce(r.access_key_2_last_used_date, r.access_key_2_last_rotated) END
         ) AS last_use,
         r.observed, r.last_seen, r.observed_run_id
  FROM run_iam_credential_report r
  WHERE NOT r.is_root AND (r.password_enabled OR r.access_key_1_active OR r.access_key_2_active)
)
SELECT u.account_id, u.principal, u.principal_arn,
       CASE WHEN u.last_use < p.as_of - INTERVAL '90 days' THEN 'credentials_unused_90_days' ELSE 'credentials_unused_45_days' END AS check_id,
       CASE WHEN u.last_use < p.as_of - INTERVAL '90 days' THEN 'medium' ELSE 'low' END AS severity,
       concat('active credentials not used since ', CAST(u.last_use AS VARCHAR)) AS detail,
       u.observed, u.last_seen, u.observed_run_id
FROM run_params p CROSS JOIN usage u
WHERE u.last_use < p.as_of - INTERVAL '45 days'
