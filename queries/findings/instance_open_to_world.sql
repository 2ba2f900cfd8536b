-- A running or stopped instance with a security group whose ingress lets the whole
-- internet (0.0.0.0/0 or ::/0) reach SSH (22), RDP (3389) or every port (protocol -1,
-- or a port range covering them). One row per instance, naming the groups.
WITH open_rules AS (
  SELECT account_id, region, group_id
  FROM (
    SELECT account_id, region, group_id, unnest(ingress) AS rule
    FROM run_ec2_security_groups
  ) rules
  WHERE (array_has(rule['cidrs'], '0.0.0.0/0') OR array_has(rule['ipv6_cidrs'], '::/0'))
    AND (rule['protocol'] = '-1'
         OR (rule['from_port'] <= 22 AND rule['to_port'] >= 22)
         OR (rule['from_port'] <= 3389 AND rule['to_port'] >= 3389))
),
instance_groups AS (
  SELECT account_id, region, instance_id, observed, last_seen, run_id,
         unnest(security_group_ids) AS group_id
  FROM run_ec2_instances
  WHERE state IN ('running', 'stopped')
)
SELECT i.account_id, i.instance_id AS principal,
       concat('arn:aws:ec2:', i.region, ':', i.account_id, ':instance/', i.instance_id) AS principal_arn,
       'instance_open_to_world' AS check_id, 'high' AS severity,
       concat('reachable from the internet on SSH, RDP or every port through ',
              array_to_string(array_sort(array_agg(DISTINCT i.group_id)), ', ')) AS detail,
       i.observed, i.last_seen,
       CASE WHEN i.observed = 'seen' THEN i.run_id END AS observed_run_id
FROM instance_groups i
JOIN (SELECT DISTINCT account_id, region, group_id FROM open_rules) r
  ON r.account_id = i.account_id AND r.region = i.region AND r.group_id = i.group_id
GROUP BY i.account_id, i.region, i.instance_id, i.observed, i.last_seen, i.run_id
