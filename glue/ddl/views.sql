-- Generated from queries/lake/ by `orglake glue render`; run in Athena, in database orglake, after the tables exist.

CREATE OR REPLACE VIEW complete_run_ids AS
SELECT r.run_id, r.snapshot_date, r.finished_at, r.shard_index, r.shard_count
FROM (
  SELECT run_id, snapshot_date, finished_at,
         coalesce(shard_index, 0) AS shard_index, coalesce(shard_count, 1) AS shard_count
  FROM raw_runs
) r
JOIN (
  SELECT snapshot_date, coalesce(shard_count, 1) AS shard_count
  FROM raw_runs
  GROUP BY snapshot_date, coalesce(shard_count, 1)
  HAVING count(DISTINCT coalesce(shard_index, 0)) = max(coalesce(shard_count, 1))
) complete_splits
  ON complete_splits.snapshot_date = r.snapshot_date AND complete_splits.shard_count = r.shard_count;

CREATE OR REPLACE VIEW daily_run_ids AS
SELECT latest_slice.run_id, latest_slice.snapshot_date
FROM (
  SELECT run_id, snapshot_date, shard_count,
         row_number() OVER (PARTITION BY snapshot_date, shard_count, shard_index
                            ORDER BY finished_at DESC, run_id DESC) AS rank_in_slice
  FROM complete_run_ids
) latest_slice
JOIN (
  SELECT snapshot_date, shard_count,
         row_number() OVER (PARTITION BY snapshot_date ORDER BY split_finished_at DESC, shard_count DESC) AS rank_in_day
  FROM (
    SELECT snapshot_date, shard_count, max(finished_at) AS split_finished_at
    FROM complete_run_ids
    GROUP BY snapshot_date, shard_count
  ) splits
) latest_split
  ON latest_split.snapshot_date = latest_slice.snapshot_date AND latest_split.shard_count = latest_slice.shard_count
WHERE latest_slice.rank_in_slice = 1 AND latest_split.rank_in_day = 1;

CREATE OR REPLACE VIEW latest_run_ids AS
SELECT d.run_id, d.snapshot_date
FROM daily_run_ids d
WHERE d.snapshot_date = (SELECT max(l.snapshot_date) FROM daily_run_ids l);

CREATE OR REPLACE VIEW accounts AS
SELECT t.*
FROM raw_accounts t
WHERE t.run_id IN (SELECT c.run_id FROM complete_run_ids c);

CREATE OR REPLACE VIEW latest_accounts AS
SELECT t.*
FROM raw_accounts t
WHERE t.run_id IN (SELECT l.run_id FROM latest_run_ids l);

CREATE OR REPLACE VIEW daily_accounts AS
SELECT t.*
FROM raw_accounts t
WHERE t.run_id IN (SELECT d.run_id FROM daily_run_ids d);

CREATE OR REPLACE VIEW account_status AS
SELECT t.*
FROM raw_account_status t
WHERE t.run_id IN (SELECT c.run_id FROM complete_run_ids c);

CREATE OR REPLACE VIEW latest_account_status AS
SELECT t.*
FROM raw_account_status t
WHERE t.run_id IN (SELECT l.run_id FROM latest_run_ids l);

CREATE OR REPLACE VIEW daily_account_status AS
SELECT t.*
FROM raw_account_status t
WHERE t.run_id IN (SELECT d.run_id FROM daily_run_ids d);

CREATE OR REPLACE VIEW ec2_instances AS
SELECT t.*
FROM raw_ec2_instances t
WHERE t.run_id IN (SELECT c.run_id FROM complete_run_ids c);

CREATE OR REPLACE VIEW latest_ec2_instances AS
SELECT t.*
FROM raw_ec2_instances t
WHERE t.run_id IN (SELECT l.run_id FROM latest_run_ids l);

CREATE OR REPLACE VIEW daily_ec2_instances AS
SELECT t.*
FROM raw_ec2_instances t
WHERE t.run_id IN (SELECT d.run_id FROM daily_run_ids d);

CREATE OR REPLACE VIEW ec2_images AS
SELECT t.*
FROM raw_ec2_images t
WHERE t.run_id IN (SELECT c.run_id FROM complete_run_ids c);

CREATE OR REPLACE VIEW latest_ec2_images AS
SELECT t.*
FROM raw_ec2_images t
WHERE t.run_id IN (SELECT l.run_id FROM latest_run_ids l);

CREATE OR REPLACE VIEW daily_ec2_images AS
SELECT t.*
FROM raw_ec2_images t
WHERE t.run_id IN (SELECT d.run_id FROM daily_run_ids d);

CREATE OR REPLACE VIEW iam_users AS
SELECT t.*
FROM raw_iam_users t
WHERE t.run_id IN (SELECT c.run_id FROM complete_run_ids c);

CREATE OR REPLACE VIEW latest_iam_users AS
SELECT t.*
FROM raw_iam_users t
WHERE t.run_id IN (SELECT l.run_id FROM latest_run_ids l);

CREATE OR REPLACE VIEW daily_iam_users AS
SELECT t.*
FROM raw_iam_users t
WHERE t.run_id IN (SELECT d.run_id FROM daily_run_ids d);

CREATE OR REPLACE VIEW iam_credential_report AS
SELECT t.*
FROM raw_iam_credential_report t
WHERE t.run_id IN (SELECT c.run_id FROM complete_run_ids c);

CREATE OR REPLACE VIEW latest_iam_credential_report AS
SELECT t.*
FROM raw_iam_credential_report t
WHERE t.run_id IN (SELECT l.run_id FROM latest_run_ids l);

CREATE OR REPLACE VIEW daily_iam_credential_report AS
SELECT t.*
FROM raw_iam_credential_report t
WHERE t.run_id IN (SELECT d.run_id FROM daily_run_ids d);

CREATE OR REPLACE VIEW findings AS
SELECT t.*
FROM raw_findings t
WHERE t.run_id IN (SELECT c.run_id FROM complete_run_ids c);

CREATE OR REPLACE VIEW latest_findings AS
SELECT t.*
FROM raw_findings t
WHERE t.run_id IN (SELECT l.run_id FROM latest_run_ids l);

CREATE OR REPLACE VIEW daily_findings AS
SELECT t.*
FROM raw_findings t
WHERE t.run_id IN (SELECT d.run_id FROM daily_run_ids d);

CREATE OR REPLACE VIEW tag_actions AS
SELECT t.*
FROM raw_tag_actions t
WHERE t.run_id IN (SELECT c.run_id FROM complete_run_ids c);

CREATE OR REPLACE VIEW latest_tag_actions AS
SELECT t.*
FROM raw_tag_actions t
WHERE t.run_id IN (SELECT l.run_id FROM latest_run_ids l);

CREATE OR REPLACE VIEW daily_tag_actions AS
SELECT t.*
FROM raw_tag_actions t
WHERE t.run_id IN (SELECT d.run_id FROM daily_run_ids d);

CREATE OR REPLACE VIEW runs AS
SELECT t.*
FROM raw_runs t
WHERE t.run_id IN (SELECT c.run_id FROM complete_run_ids c);

CREATE OR REPLACE VIEW latest_runs AS
SELECT t.*
FROM raw_runs t
WHERE t.run_id IN (SELECT l.run_id FROM latest_run_ids l);

CREATE OR REPLACE VIEW daily_runs AS
SELECT t.*
FROM raw_runs t
WHERE t.run_id IN (SELECT d.run_id FROM daily_run_ids d);
