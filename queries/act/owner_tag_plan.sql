-- The owner-tag plan for this run: for every instance extracted now, the owner it should
-- carry (its account's owner tag) and why it will or will not be written. Values compare
-- case- and whitespace-insensitively; the new value is the account owner, trimmed.
--
-- Inputs: ec2_instances_extracted, run_accounts, tag_params (one row).
WITH decided AS (
  SELECT
    i.account_id, i.region, i.instance_id, i.state AS instance_state,
    -- The key the instance already carries (in its own case) is rewritten, not doubled.
    coalesce(i.owner_tag_key, p.tag_key) AS tag_key,
    i.owner_tag AS old_value,
    trim(a.owner_tag) AS account_owner,
    CASE
      WHEN array_has(p.exclude_accounts, i.account_id)
        OR (cardinality(p.include_accounts) > 0 AND NOT array_has(p.include_accounts, i.account_id))
        THEN 'skipped_account_excluded'
      WHEN i.state = 'terminated' THEN 'skipped_instance_terminated'
      WHEN NOT array_has(p.include_states, coalesce(i.state, '')) THEN 'skipped_instance_state'
      WHEN a.owner_tag IS NULL OR trim(a.owner_tag) = '' THEN 'skipped_account_has_no_owner'
      WHEN array_has(p.skip_domains, lower(split_part(trim(a.owner_tag), '@', 2))) THEN 'skipped_owner_in_skip_domain'
      WHEN i.owner_tag IS NULL OR trim(i.owner_tag) = '' THEN 'missing'
      WHEN lower(trim(i.owner_tag)) = lower(trim(a.owner_tag)) THEN 'already_right'
      WHEN p.overwrite THEN 'different'
      ELSE 'different_not_overwritten'
    END AS reason
  FROM tag_params p
  CROSS JOIN ec2_instances_extracted i
  LEFT JOIN run_accounts a ON a.account_id = i.account_id
)
SELECT
  account_id, region, instance_id, instance_state, tag_key, old_value,
  CASE WHEN reason IN ('missing', 'different', 'already_right', 'different_not_overwritten') THEN account_owner END AS new_value,
  reason,
  reason IN ('missing', 'different') AS change
FROM decided
ORDER BY account_id, region, instance_id
