-- Access keys created, or made active again, in the last 7 days.
SELECT c.snapshot_date, c.account_id, c.parent_id AS user_name, c.entity_id AS access_key_id,
       CASE WHEN c.change = 'added' THEN 'created' ELSE 'activated' END AS what
FROM changes c
WHERE c.entity_type = 'access_key'
  AND (c.change = 'added' OR (c.change = 'modified' AND c.field = 'status' AND c.new_value = 'Active'))
  AND c.detected_at > (SELECT max(as_of) FROM runs) - INTERVAL '7' DAY
ORDER BY c.detected_at DESC, c.account_id, c.parent_id
