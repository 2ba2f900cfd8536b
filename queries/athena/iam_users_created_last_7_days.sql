-- IAM users created in the last 7 days (by the runs of the last 7 days), newest first.
SELECT c.snapshot_date, c.account_id, a.account_name, c.entity_id AS user_name, c.detected_at
FROM changes c
LEFT JOIN latest_accounts a ON a.account_id = c.account_id
WHERE c.entity_type = 'user' AND c.change = 'added'
  AND c.detected_at > (SELECT max(as_of) FROM runs) - INTERVAL '7' DAY
ORDER BY c.detected_at DESC, c.account_id, c.entity_id
