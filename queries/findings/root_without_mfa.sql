-- The root user has no active MFA device.
SELECT r.account_id, r.user AS principal, r.arn AS principal_arn,
       'root_without_mfa' AS check_id, 'critical' AS severity,
       'root user has no MFA device active' AS detail,
       r.observed, r.last_seen, r.observed_run_id
FROM run_iam_credential_report r
WHERE r.is_root AND NOT r.mfa_active
