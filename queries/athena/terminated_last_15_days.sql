-- Instances terminated in the 15 days before the latest run's clock, with their lifetime.
SELECT account_id, account_name, region, instance_id, name_tag, first_seen, terminated_at
FROM latest_ec2_instances
WHERE state = 'terminated'
  AND terminated_at >= (SELECT max(as_of) FROM runs) - INTERVAL '15' DAY
ORDER BY terminated_at DESC, instance_id
