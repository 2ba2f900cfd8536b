-- from: iam_users
-- An IAM user. A user deleted and created again under the same name has a new user_id.
SELECT account_id, user_name AS entity_id, CAST(NULL AS VARCHAR) AS parent_id, CAST(NULL AS VARCHAR) AS region,
       user_id, arn, path, tags
FROM {rows}
