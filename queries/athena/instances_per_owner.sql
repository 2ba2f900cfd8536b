-- Instances per owner (the instance's owner tag, else its account's owner), latest run.
SELECT coalesce(owner_tag, account_owner, '(none)') AS owner,
       count(*) AS instances,
       sum(CASE WHEN state = 'running' THEN 1 ELSE 0 END) AS running
FROM latest_ec2_instances
GROUP BY coalesce(owner_tag, account_owner, '(none)')
ORDER BY instances DESC, owner
