-- from: iam_users
-- A user's console password (login profile): added, removed, or reset (a new creation time).
SELECT account_id, user_name AS entity_id, user_name AS parent_id, CAST(NULL AS VARCHAR) AS region,
       password_created_at
FROM {rows}
WHERE console_access
