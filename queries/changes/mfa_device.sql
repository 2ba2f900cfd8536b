-- from: iam_users
-- A user's MFA: present while the user has at least one MFA device (removed: the user's
-- last device was deactivated or deleted).
SELECT account_id, user_name AS entity_id, user_name AS parent_id, CAST(NULL AS VARCHAR) AS region,
       mfa_device_count
FROM {rows}
WHERE mfa_device_count > 0
