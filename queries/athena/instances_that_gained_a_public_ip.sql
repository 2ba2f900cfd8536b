-- Instances that had no public IP in the previous snapshot and have one now.
SELECT c.snapshot_date, c.account_id, c.region, c.entity_id AS instance_id, c.new_value AS public_ip,
       i.name_tag, i.state
FROM changes c
LEFT JOIN latest_ec2_instances i ON i.account_id = c.account_id AND i.instance_id = c.entity_id
WHERE c.entity_type = 'instance' AND c.field = 'public_ip' AND c.old_value IS NULL AND c.new_value IS NOT NULL
ORDER BY c.detected_at DESC, c.account_id, c.entity_id
