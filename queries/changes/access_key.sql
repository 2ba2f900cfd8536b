-- from: iam_users
-- An access key of a user: added when created, modified when (de)activated.
SELECT account_id, k['access_key_id'] AS entity_id, user_name AS parent_id, CAST(NULL AS VARCHAR) AS region,
       k['status'] AS status
FROM (SELECT account_id, user_name, unnest(access_keys) AS k FROM {rows})
