-- previous_{table}: the rows of {table} that this run's history continues from: per account,
-- those of the latest committed run that listed it (previous_runs, inputs/).
-- previous_partitions_{table} is raw_{table} cut to the (snapshot_date, run_id) partitions
-- that previous_runs names (each date listed by its own prefix, then a literal filter on
-- run_id), so that the lake lists and reads those partitions only and a commit costs the
-- same on day 365 as on day 2. The join then keeps each account's own run (sharded runs and mixed scopes leave
-- different accounts in different runs). previous_runs (one row per account) comes first:
-- the join holds it, while the previous rows stream past.
CREATE VIEW previous_{table} AS
SELECT p.*
FROM previous_runs pr
JOIN previous_partitions_{table} p
  ON pr.snapshot_date = p.snapshot_date AND pr.run_id = p.run_id AND pr.account_id = p.account_id
