-- CSV export of this run's accounts: every column of schemas/accounts.toml (tags as JSON).
SELECT *
FROM raw_accounts
WHERE run_id = (SELECT run_id FROM run_params)
ORDER BY ou_path, account_id
