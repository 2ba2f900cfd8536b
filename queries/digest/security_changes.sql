-- The security digest: this run's changes worth a message, one line each (account_id,
-- line), most important first. Over run_changes (this run's rows of `changes`) and
-- run_findings. Edit it to choose what is sent; an empty result sends nothing.
SELECT account_id, line
FROM (
  SELECT c.account_id,
         CASE
           WHEN c.entity_type = 'finding' THEN 1
           WHEN c.entity_type = 'mfa_device' THEN 2
           WHEN c.entity_type = 'access_key' THEN 3
           WHEN c.entity_type = 'user' THEN 4
           ELSE 5
         END AS rank,
         CASE
           WHEN c.entity_type = 'user' THEN concat('new IAM user ', c.entity_id)
           WHEN c.entity_type = 'access_key' AND c.change = 'added'
             THEN concat('new access key ', c.entity_id, ' of ', c.parent_id)
           WHEN c.entity_type = 'access_key' THEN concat('access key ', c.entity_id, ' of ', c.parent_id, ' reactivated')
           WHEN c.entity_type = 'mfa_device' THEN concat('MFA removed from ', c.parent_id)
           WHEN c.entity_type = 'finding' THEN concat('new ', f.severity, ' finding ', c.entity_id)
           WHEN c.entity_type = 'instance' THEN concat('instance ', c.entity_id, ' (', c.region, ') gained public IP ', c.new_value)
         END AS line,
         c.entity_id
  FROM run_changes c
  LEFT JOIN (SELECT DISTINCT account_id, check_id, principal, severity FROM run_findings) f
    ON c.entity_type = 'finding' AND f.account_id = c.account_id
   AND concat(f.check_id, '/', f.principal) = c.entity_id
  WHERE (c.entity_type = 'user' AND c.change = 'added')
     OR (c.entity_type = 'access_key' AND c.change = 'added')
     OR (c.entity_type = 'access_key' AND c.change = 'modified' AND c.field = 'status' AND c.new_value = 'Active')
     OR (c.entity_type = 'mfa_device' AND c.change = 'removed')
     OR (c.entity_type = 'finding' AND c.change = 'added' AND f.severity = 'high')
     OR (c.entity_type = 'instance' AND c.change = 'modified' AND c.field = 'public_ip'
         AND c.old_value IS NULL AND c.new_value IS NOT NULL)
) d
ORDER BY rank, account_id, entity_id
