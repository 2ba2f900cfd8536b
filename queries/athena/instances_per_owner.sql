-- Instances per owner (the instance's owner tag, else its account's owner), latest run.
-- Owners are compared as the tag plan compares them: ignoring case and surrounding spaces.
SELECT lower(trim(coalesce(owner_tag, account_owner, '(none)'))) AS owner,
       count(*) AS instances,
       sum(CASE WHEN state = 'running' THEN 1 ELSE 0 END) AS running
FROM latest_ec2_instances
GROUP BY lower(trim(coalesce(owner_tag, account_owner, '(none)')))
ORDER BY instances DESC, owner
