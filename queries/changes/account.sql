-- from: accounts
-- A member account: its name, e-mail, status, place in the organization, owner and tags.
SELECT account_id, account_id AS entity_id, CAST(NULL AS VARCHAR) AS parent_id, CAST(NULL AS VARCHAR) AS region,
       account_name, email, status, ou_id, ou_path, owner_tag, tags
FROM {rows}
