-- Active access keys last rotated more than 90 days before the latest run's clock.
SELECT account_id, principal, key_slot, last_rotated, last_used
FROM (
  SELECT account_id, "user" AS principal, '1' AS key_slot,
         access_key_1_last_rotated AS last_rotated, access_key_1_last_used_date AS last_used
  FROM latest_iam_credential_report WHERE access_key_1_active = true
  UNION ALL
  SELECT account_id, "user", '2', access_key_2_last_rotated, access_key_2_last_used_date
  FROM latest_iam_credential_report WHERE access_key_2_active = true
) keys
WHERE last_rotated < (SELECT max(as_of) FROM runs) - INTERVAL '90' DAY
ORDER BY account_id, principal, key_slot
