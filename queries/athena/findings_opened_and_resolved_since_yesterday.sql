-- Findings opened (added) or resolved (removed) by the runs of the last day.
SELECT c.snapshot_date, c.account_id, c.parent_id AS principal,
       split_part(c.entity_id, '/', 1) AS check_id,
       CASE WHEN c.change = 'added' THEN 'opened' ELSE 'resolved' END AS what
FROM changes c
WHERE c.entity_type = 'finding' AND c.change IN ('added', 'removed')
  AND c.detected_at > (SELECT max(as_of) FROM runs) - INTERVAL '1' DAY
ORDER BY c.detected_at DESC, what, c.account_id, check_id
