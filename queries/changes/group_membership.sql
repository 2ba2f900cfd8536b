-- from: iam_users
-- A user's membership of an IAM group: added or removed.
SELECT account_id, concat(user_name, '/', group_name) AS entity_id, user_name AS parent_id,
       CAST(NULL AS VARCHAR) AS region
FROM (SELECT account_id, user_name, unnest(groups) AS group_name FROM {rows})
