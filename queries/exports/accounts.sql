-- CSV export of this run's accounts: every column of schemas/accounts.toml (tags as JSON).
SELECT *
FROM run_accounts
ORDER BY ou_path, account_id
