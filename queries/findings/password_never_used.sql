-- A console password that has never been used to sign in.
SELECT r.account_id, r.user AS principal, r.arn AS principal_arn,
       'password_never_used' AS check_id, 'low' AS severity,
       concat('console password set ', coalesce(CAST(r.password_last_changed AS VARCHAR), 'at an unknown time'), ', never used') AS detail,
       r.observed, r.last_seen, r.observed_run_id
FROM run_iam_credential_report r
WHERE NOT r.is_root AND r.password_enabled AND r.password_last_used IS NULL
  AND r.special_values['password_last_used'] = 'no_information'
