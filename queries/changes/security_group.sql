-- from: ec2_security_groups
-- A security group and its rules.
SELECT account_id, group_id AS entity_id, CAST(NULL AS VARCHAR) AS parent_id, region,
       group_name, description, vpc_id, ingress, egress, tags
FROM {rows}
