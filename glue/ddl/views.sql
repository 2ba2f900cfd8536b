-- Generated from queries/lake/ by `orglake glue render`; run in Athena, in database orglake, after the tables exist.

CREATE OR REPLACE VIEW accounts AS
SELECT t.*
FROM raw_accounts t
WHERE t.run_id IN (SELECT r.run_id FROM raw_runs r);

CREATE OR REPLACE VIEW latest_accounts AS
SELECT t.*
FROM raw_accounts t
WHERE t.run_id = (
  SELECT r.run_id FROM raw_runs r
  ORDER BY r.snapshot_date DESC, r.finished_at DESC, r.run_id DESC
  LIMIT 1
);

CREATE OR REPLACE VIEW daily_accounts AS
SELECT t.*
FROM raw_accounts t
WHERE t.run_id IN (
  SELECT ranked.run_id FROM (
    SELECT r.run_id,
           row_number() OVER (PARTITION BY r.snapshot_date ORDER BY r.finished_at DESC, r.run_id DESC) AS rank_in_day
    FROM raw_runs r
  ) ranked
  WHERE ranked.rank_in_day = 1
);

CREATE OR REPLACE VIEW account_status AS
SELECT t.*
FROM raw_account_status t
WHERE t.run_id IN (SELECT r.run_id FROM raw_runs r);

CREATE OR REPLACE VIEW latest_account_status AS
SELECT t.*
FROM raw_account_status t
WHERE t.run_id = (
  SELECT r.run_id FROM raw_runs r
  ORDER BY r.snapshot_date DESC, r.finished_at DESC, r.run_id DESC
  LIMIT 1
);

CREATE OR REPLACE VIEW daily_account_status AS
SELECT t.*
FROM raw_account_status t
WHERE t.run_id IN (
  SELECT ranked.run_id FROM (
    SELECT r.run_id,
           row_number() OVER (PARTITION BY r.snapshot_date ORDER BY r.finished_at DESC, r.run_id DESC) AS rank_in_day
    FROM raw_runs r
  ) ranked
  WHERE ranked.rank_in_day = 1
);

CREATE OR REPLACE VIEW ec2_instances AS
SELECT t.*
FROM raw_ec2_instances t
WHERE t.run_id IN (SELECT r.run_id FROM raw_runs r);

CREATE OR REPLACE VIEW latest_ec2_instances AS
SELECT t.*
FROM raw_ec2_instances t
WHERE t.run_id = (
  SELECT r.run_id FROM raw_runs r
  ORDER BY r.snapshot_date DESC, r.finished_at DESC, r.run_id DESC
  LIMIT 1
);

CREATE OR REPLACE VIEW daily_ec2_instances AS
SELECT t.*
FROM raw_ec2_instances t
WHERE t.run_id IN (
  SELECT ranked.run_id FROM (
    SELECT r.run_id,
           row_number() OVER (PARTITION BY r.snapshot_date ORDER BY r.finished_at DESC, r.run_id DESC) AS rank_in_day
    FROM raw_runs r
  ) ranked
  WHERE ranked.rank_in_day = 1
);

CREATE OR REPLACE VIEW ec2_images AS
SELECT t.*
FROM raw_ec2_images t
WHERE t.run_id IN (SELECT r.run_id FROM raw_runs r);

CREATE OR REPLACE VIEW latest_ec2_images AS
SELECT t.*
FROM raw_ec2_images t
WHERE t.run_id = (
  SELECT r.run_id FROM raw_runs r
  ORDER BY r.snapshot_date DESC, r.finished_at DESC, r.run_id DESC
  LIMIT 1
);

CREATE OR REPLACE VIEW daily_ec2_images AS
SELECT t.*
FROM raw_ec2_images t
WHERE t.run_id IN (
  SELECT ranked.run_id FROM (
    SELECT r.run_id,
           row_number() OVER (PARTITION BY r.snapshot_date ORDER BY r.finished_at DESC, r.run_id DESC) AS rank_in_day
    FROM raw_runs r
  ) ranked
  WHERE ranked.rank_in_day = 1
);

CREATE OR REPLACE VIEW iam_users AS
SELECT t.*
FROM raw_iam_users t
WHERE t.run_id IN (SELECT r.run_id FROM raw_runs r);

CREATE OR REPLACE VIEW latest_iam_users AS
SELECT t.*
FROM raw_iam_users t
WHERE t.run_id = (
  SELECT r.run_id FROM raw_runs r
  ORDER BY r.snapshot_date DESC, r.finished_at DESC, r.run_id DESC
  LIMIT 1
);

CREATE OR REPLACE VIEW daily_iam_users AS
SELECT t.*
FROM raw_iam_users t
WHERE t.run_id IN (
  SELECT ranked.run_id FROM (
    SELECT r.run_id,
           row_number() OVER (PARTITION BY r.snapshot_date ORDER BY r.finished_at DESC, r.run_id DESC) AS rank_in_day
    FROM raw_runs r
  ) ranked
  WHERE ranked.rank_in_day = 1
);

CREATE OR REPLACE VIEW iam_credential_report AS
SELECT t.*
FROM raw_iam_credential_report t
WHERE t.run_id IN (SELECT r.run_id FROM raw_runs r);

CREATE OR REPLACE VIEW latest_iam_credential_report AS
SELECT t.*
FROM raw_iam_credential_report t
WHERE t.run_id = (
  SELECT r.run_id FROM raw_runs r
  ORDER BY r.snapshot_date DESC, r.finished_at DESC, r.run_id DESC
  LIMIT 1
);

CREATE OR REPLACE VIEW daily_iam_credential_report AS
SELECT t.*
FROM raw_iam_credential_report t
WHERE t.run_id IN (
  SELECT ranked.run_id FROM (
    SELECT r.run_id,
           row_number() OVER (PARTITION BY r.snapshot_date ORDER BY r.finished_at DESC, r.run_id DESC) AS rank_in_day
    FROM raw_runs r
  ) ranked
  WHERE ranked.rank_in_day = 1
);

CREATE OR REPLACE VIEW findings AS
SELECT t.*
FROM raw_findings t
WHERE t.run_id IN (SELECT r.run_id FROM raw_runs r);

CREATE OR REPLACE VIEW latest_findings AS
SELECT t.*
FROM raw_findings t
WHERE t.run_id = (
  SELECT r.run_id FROM raw_runs r
  ORDER BY r.snapshot_date DESC, r.finished_at DESC, r.run_id DESC
  LIMIT 1
);

CREATE OR REPLACE VIEW daily_findings AS
SELECT t.*
FROM raw_findings t
WHERE t.run_id IN (
  SELECT ranked.run_id FROM (
    SELECT r.run_id,
           row_number() OVER (PARTITION BY r.snapshot_date ORDER BY r.finished_at DESC, r.run_id DESC) AS rank_in_day
    FROM raw_runs r
  ) ranked
  WHERE ranked.rank_in_day = 1
);

CREATE OR REPLACE VIEW tag_actions AS
SELECT t.*
FROM raw_tag_actions t
WHERE t.run_id IN (SELECT r.run_id FROM raw_runs r);

CREATE OR REPLACE VIEW latest_tag_actions AS
SELECT t.*
FROM raw_tag_actions t
WHERE t.run_id = (
  SELECT r.run_id FROM raw_runs r
  ORDER BY r.snapshot_date DESC, r.finished_at DESC, r.run_id DESC
  LIMIT 1
);

CREATE OR REPLACE VIEW daily_tag_actions AS
SELECT t.*
FROM raw_tag_actions t
WHERE t.run_id IN (
  SELECT ranked.run_id FROM (
    SELECT r.run_id,
           row_number() OVER (PARTITION BY r.snapshot_date ORDER BY r.finished_at DESC, r.run_id DESC) AS rank_in_day
    FROM raw_runs r
  ) ranked
  WHERE ranked.rank_in_day = 1
);

CREATE OR REPLACE VIEW runs AS
SELECT t.*
FROM raw_runs t
WHERE t.run_id IN (SELECT r.run_id FROM raw_runs r);

CREATE OR REPLACE VIEW latest_runs AS
SELECT t.*
FROM raw_runs t
WHERE t.run_id = (
  SELECT r.run_id FROM raw_runs r
  ORDER BY r.snapshot_date DESC, r.finished_at DESC, r.run_id DESC
  LIMIT 1
);

CREATE OR REPLACE VIEW daily_runs AS
SELECT t.*
FROM raw_runs t
WHERE t.run_id IN (
  SELECT ranked.run_id FROM (
    SELECT r.run_id,
           row_number() OVER (PARTITION BY r.snapshot_date ORDER BY r.finished_at DESC, r.run_id DESC) AS rank_in_day
    FROM raw_runs r
  ) ranked
  WHERE ranked.rank_in_day = 1
);
