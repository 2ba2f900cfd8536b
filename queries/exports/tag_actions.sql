-- CSV export of this run's tag plan and audit.
SELECT account_id, region, instance_id, instance_state, tag_key, old_value, new_value, reason, change, mode, error, run_id
FROM raw_tag_actions
WHERE run_id = (SELECT run_id FROM run_params)
ORDER BY account_id, region, instance_id
