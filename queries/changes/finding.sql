-- from: findings
-- A security finding: added when it opens, removed when it is resolved. Its detail (ages,
-- counts) changes by itself and is not a change.
SELECT account_id, concat(check_id, '/', principal) AS entity_id, principal AS parent_id,
       CAST(NULL AS VARCHAR) AS region, severity
FROM {rows}
