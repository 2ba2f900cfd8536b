-- Users who can sign in to the console without MFA, latest run.
SELECT account_id, account_alias, user_name, password_last_used
FROM latest_iam_users
WHERE console_access = true AND mfa_enabled = false
ORDER BY account_id, user_name
