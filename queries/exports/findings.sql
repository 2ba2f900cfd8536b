-- CSV export of this run's security findings, most severe first.
SELECT *
FROM run_findings
ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END,
         account_id, principal, check_id
