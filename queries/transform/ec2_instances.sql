-- ec2_instances for this run: the instances extracted now, joined to their account and
-- AMI, merged with the previous complete run for history, with the terminated cutoff.
--
-- Inputs: ec2_instances_extracted, ec2_images_extracted, run_accounts, run_account_status,
-- run_params (one row: as_of, retention_cutoff, run_id), previous_ec2_instances (templates/previous_rows.sql).
--
-- The previous rows of an account come from the latest committed run (as of this run's clock)
-- that listed it (previous_ec2_instances). A past mistake that wrote an instance twice is merged
-- into one row: by key for the history columns, and among the carried rows (few, so the
-- window that picks one of each is cheap; the previous rows themselves stream).
WITH previous AS (
  SELECT * FROM previous_ec2_instances
),
previous_history AS (
  SELECT account_id, instance_id, min(first_seen) AS first_seen, max(terminated_at) AS terminated_at
  FROM previous
  GROUP BY account_id, instance_id
),
scanned_regions AS (
  SELECT DISTINCT account_id, region
  FROM run_account_status
  WHERE stage = 'ec2' AND region IS NOT NULL AND status IN ('ok', 'no_data')
),
seen AS (
  SELECT
    i.account_id, a.account_name, a.ou_path, a.owner_tag AS account_owner,
    i.region, i.availability_zone, i.instance_id, i.instance_type, i.state, i.state_reason,
    i.state_transition_reason, i.state_transition_time, i.launch_time,
    -- A terminated instance still returned by the API: the time in its transition reason,
    -- else the time an earlier run recorded, else this run's clock.
    CASE WHEN i.state = 'terminated' THEN COALESCE(i.terminated_at, p.terminated_at, params.as_of) END AS terminated_at,
    i.image_id, img.name AS image_name, img.description AS image_description, img.owner_id AS image_owner_id,
    i.platform, i.platform_details, i.architecture, i.vpc_id, i.subnet_id, i.private_ip, i.public_ip,
    i.private_dns, i.public_dns, i.key_name, i.iam_instance_profile_arn, i.security_group_ids,
    i.security_group_names, i.root_device_type, i.root_device_name, i.monitoring_state, i.lifecycle,
    i.tenancy, i.tags, i.owner_tag, i.name_tag,
    COALESCE(p.first_seen, params.as_of) AS first_seen,
    params.as_of AS last_seen,
    'seen' AS observed
  FROM run_params params
  CROSS JOIN ec2_instances_extracted i
  LEFT JOIN run_accounts a ON a.account_id = i.account_id
  LEFT JOIN ec2_images_extracted img
    ON img.account_id = i.account_id AND img.region = i.region AND img.image_id = i.image_id
  LEFT JOIN previous_history p ON p.account_id = i.account_id AND p.instance_id = i.instance_id
),
-- Keys of the previous rows that this run did not return. Only keys here: the join holds
-- one side in memory, and two columns of a million rows are a few dozen MB, all of them
-- are not.
unreturned AS (
  SELECT p.account_id, p.instance_id
  FROM (SELECT account_id, instance_id FROM previous_history) p
  LEFT JOIN (SELECT account_id, instance_id FROM ec2_instances_extracted) i
    ON i.account_id = p.account_id AND i.instance_id = p.instance_id
  WHERE i.instance_id IS NULL
),
-- Instances of the previous run that this run did not return, for accounts still in scope.
-- Region scanned fine: the instance vanished (terminated instances leave the API after about
-- an hour), so it is carried forward as terminated. Region or account failed: the last
-- known row is kept as stale. The unreturned keys come first, so that the join holds them,
-- not the previous rows, which stream past.
carried AS (
  SELECT
    p.account_id, a.account_name, a.ou_path, a.owner_tag AS account_owner,
    p.region, p.availability_zone, p.instance_id, p.instance_type,
    CASE WHEN s.region IS NOT NULL THEN 'terminated' ELSE p.state END AS state,
    p.state_reason, p.state_transition_reason, p.state_transition_time, p.launch_time,
    CASE WHEN s.region IS NOT NULL THEN COALESCE(p.terminated_at, p.last_seen) ELSE p.terminated_at END AS terminated_at,
    p.image_id, p.image_name, p.image_description, p.image_owner_id,
    p.platform, p.platform_details, p.architecture, p.vpc_id, p.subnet_id, p.private_ip, p.public_ip,
    p.private_dns, p.public_dns, p.key_name, p.iam_instance_profile_arn, p.security_group_ids,
    p.security_group_names, p.root_device_type, p.root_device_name, p.monitoring_state, p.lifecycle,
    p.tenancy, p.tags, p.owner_tag, p.name_tag,
    p.first_seen, p.last_seen,
    CASE WHEN s.region IS NOT NULL THEN 'vanished' ELSE 'stale' END AS observed,
    row_number() OVER (PARTITION BY p.account_id, p.instance_id ORDER BY p.last_seen DESC) AS copy
  FROM unreturned u
  JOIN previous p ON p.account_id = u.account_id AND p.instance_id = u.instance_id
  JOIN run_accounts a ON a.account_id = p.account_id
  LEFT JOIN scanned_regions s ON s.account_id = p.account_id AND s.region = p.region
),
merged AS (
  SELECT * FROM seen
  UNION ALL
  SELECT c.* EXCLUDE (copy) FROM carried c WHERE c.copy = 1
)
SELECT m.*, params.run_id
FROM run_params params CROSS JOIN merged m
-- The cutoff: terminated longer than terminated_retention_days ago, or not seen for that
-- long because its account keeps failing.
WHERE NOT (m.state = 'terminated' AND m.terminated_at < params.retention_cutoff)
  AND NOT (m.observed = 'stale' AND m.last_seen < params.retention_cutoff)
