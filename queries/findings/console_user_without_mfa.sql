-- A user who can sign in to the console with a password but has no active MFA device.
SELECT r.account_id, r.user AS principal, r.arn AS principal_arn,
       'console_user_without_mfa' AS check_id, 'high' AS severity,
       'console password enabled, no MFA device active' AS detail,
       r.observed, r.last_seen, r.observed_run_id
FROM run_iam_credential_report r
WHERE NOT r.is_root AND r.password_enabled AND NOT r.mfa_active
