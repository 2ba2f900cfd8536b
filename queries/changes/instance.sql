-- from: ec2_instances
-- An EC2 instance. A terminated instance is a change of state; it is removed only when it
-- leaves the inventory after the terminated retention window.
SELECT account_id, instance_id AS entity_id, CAST(NULL AS VARCHAR) AS parent_id, region,
       state, instance_type, image_id, public_ip, private_ip, vpc_id, subnet_id, key_name,
       iam_instance_profile_arn, security_group_ids, tags
FROM {rows}
