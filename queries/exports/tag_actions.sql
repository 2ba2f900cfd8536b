-- CSV export of this run's tag plan and audit.
SELECT account_id, region, instance_id, instance_state, tag_key, old_value, new_value, reason, change, mode, error, run_id
FROM run_tag_actions
ORDER BY account_id, region, instance_id
