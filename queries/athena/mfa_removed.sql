-- Users whose last MFA device was removed, and whether they can still sign in with a password.
SELECT c.snapshot_date, c.account_id, c.parent_id AS user_name, u.console_access
FROM changes c
LEFT JOIN latest_iam_users u ON u.account_id = c.account_id AND u.user_name = c.parent_id
WHERE c.entity_type = 'mfa_device' AND c.change = 'removed'
ORDER BY c.detected_at DESC, c.account_id, c.parent_id
