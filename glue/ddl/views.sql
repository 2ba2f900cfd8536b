-- Generated from queries/lake/ by `orglake glue render`; `orglake glue sync` creates these views in Glue, or run them in Athena, in database orglake, after the tables exist.

CREATE OR REPLACE VIEW committed_run_ids AS
SELECT r.run_id, r.snapshot_date, r.as_of, r.finished_at,
       concat(coalesce(r.organization_id, ''), ':', array_join(array_sort(r.scope), ',')) AS scope_key,
       coalesce(r.shard_index, 0) AS shard_index,
       coalesce(r.shard_count, 1) AS shard_count
FROM raw_runs r;

CREATE OR REPLACE VIEW account_run_ids AS
SELECT a.account_id, r.run_id, r.snapshot_date, r.as_of, r.finished_at, r.scope_key
FROM raw_accounts a
JOIN committed_run_ids r ON r.run_id = a.run_id AND r.snapshot_date = a.snapshot_date;

CREATE OR REPLACE VIEW latest_account_run_ids AS
SELECT l.account_id, l.run_id, l.snapshot_date
FROM (
  SELECT ranked.account_id, ranked.run_id, ranked.snapshot_date, ranked.as_of, ranked.finished_at, ranked.scope_key
  FROM (
    SELECT ar.account_id, ar.run_id, ar.snapshot_date, ar.as_of, ar.finished_at, ar.scope_key,
           row_number() OVER (PARTITION BY ar.account_id
                              ORDER BY ar.as_of DESC, ar.finished_at DESC, ar.run_id DESC) AS rank_for_account
    FROM account_run_ids ar
  ) ranked
  WHERE ranked.rank_for_account = 1
) l
LEFT JOIN (
  SELECT newest.run_id, newest.as_of, newest.finished_at, newest.scope_key, newest.shard_index, newest.shard_count
  FROM (
    SELECT c.run_id, c.as_of, c.finished_at, c.scope_key, c.shard_index, c.shard_count,
           row_number() OVER (PARTITION BY c.scope_key, c.shard_count, c.shard_index
                              ORDER BY c.as_of DESC, c.finished_at DESC, c.run_id DESC) AS rank_in_slice
    FROM committed_run_ids c
  ) newest
  WHERE newest.rank_in_slice = 1
) later
  ON later.scope_key = l.scope_key
 AND (later.as_of > l.as_of
      OR (later.as_of = l.as_of AND (later.finished_at > l.finished_at
                                     OR (later.finished_at = l.finished_at AND later.run_id > l.run_id))))
 AND (later.shard_count = 1 OR try_cast(l.account_id AS BIGINT) % later.shard_count = later.shard_index)
WHERE later.run_id IS NULL;

CREATE OR REPLACE VIEW daily_account_run_ids AS
SELECT d.account_id, d.run_id, d.snapshot_date
FROM (
  SELECT ranked.account_id, ranked.run_id, ranked.snapshot_date, ranked.as_of, ranked.finished_at, ranked.scope_key
  FROM (
    SELECT ar.account_id, ar.run_id, ar.snapshot_date, ar.as_of, ar.finished_at, ar.scope_key,
           row_number() OVER (PARTITION BY ar.snapshot_date, ar.account_id
                              ORDER BY ar.as_of DESC, ar.finished_at DESC, ar.run_id DESC) AS rank_for_day
    FROM account_run_ids ar
  ) ranked
  WHERE ranked.rank_for_day = 1
) d
LEFT JOIN committed_run_ids later
  ON later.scope_key = d.scope_key
 AND later.snapshot_date = d.snapshot_date
 AND (later.as_of > d.as_of
      OR (later.as_of = d.as_of AND (later.finished_at > d.finished_at
                                     OR (later.finished_at = d.finished_at AND later.run_id > d.run_id))))
 AND (later.shard_count = 1 OR try_cast(d.account_id AS BIGINT) % later.shard_count = later.shard_index)
WHERE later.run_id IS NULL;

CREATE OR REPLACE VIEW account_status AS
SELECT t.*
FROM raw_account_status t
WHERE t.run_id IN (SELECT c.run_id FROM committed_run_ids c);

CREATE OR REPLACE VIEW latest_account_status AS
SELECT t.*
FROM raw_account_status t
JOIN latest_account_run_ids l
  ON l.snapshot_date = t.snapshot_date AND l.run_id = t.run_id AND l.account_id = t.account_id;

CREATE OR REPLACE VIEW daily_account_status AS
SELECT t.*
FROM raw_account_status t
JOIN daily_account_run_ids d
  ON d.snapshot_date = t.snapshot_date AND d.run_id = t.run_id AND d.account_id = t.account_id;

CREATE OR REPLACE VIEW accounts AS
SELECT t.*
FROM raw_accounts t
WHERE t.run_id IN (SELECT c.run_id FROM committed_run_ids c);

CREATE OR REPLACE VIEW latest_accounts AS
SELECT t.*
FROM raw_accounts t
JOIN latest_account_run_ids l
  ON l.snapshot_date = t.snapshot_date AND l.run_id = t.run_id AND l.account_id = t.account_id;

CREATE OR REPLACE VIEW daily_accounts AS
SELECT t.*
FROM raw_accounts t
JOIN daily_account_run_ids d
  ON d.snapshot_date = t.snapshot_date AND d.run_id = t.run_id AND d.account_id = t.account_id;

CREATE OR REPLACE VIEW changes AS
SELECT t.*
FROM raw_changes t
WHERE t.run_id IN (SELECT c.run_id FROM committed_run_ids c);

CREATE OR REPLACE VIEW latest_changes AS
SELECT t.*
FROM raw_changes t
JOIN latest_account_run_ids l
  ON l.snapshot_date = t.snapshot_date AND l.run_id = t.run_id AND l.account_id = t.account_id;

CREATE OR REPLACE VIEW daily_changes AS
SELECT t.*
FROM raw_changes t
JOIN daily_account_run_ids d
  ON d.snapshot_date = t.snapshot_date AND d.run_id = t.run_id AND d.account_id = t.account_id;

CREATE OR REPLACE VIEW ec2_images AS
SELECT t.*
FROM raw_ec2_images t
WHERE t.run_id IN (SELECT c.run_id FROM committed_run_ids c);

CREATE OR REPLACE VIEW latest_ec2_images AS
SELECT t.*
FROM raw_ec2_images t
JOIN latest_account_run_ids l
  ON l.snapshot_date = t.snapshot_date AND l.run_id = t.run_id AND l.account_id = t.account_id;

CREATE OR REPLACE VIEW daily_ec2_images AS
SELECT t.*
FROM raw_ec2_images t
JOIN daily_account_run_ids d
  ON d.snapshot_date = t.snapshot_date AND d.run_id = t.run_id AND d.account_id = t.account_id;

CREATE OR REPLACE VIEW ec2_instances AS
SELECT t.*
FROM raw_ec2_instances t
WHERE t.run_id IN (SELECT c.run_id FROM committed_run_ids c);

CREATE OR REPLACE VIEW latest_ec2_instances AS
SELECT t.*
FROM raw_ec2_instances t
JOIN latest_account_run_ids l
  ON l.snapshot_date = t.snapshot_date AND l.run_id = t.run_id AND l.account_id = t.account_id;

CREATE OR REPLACE VIEW daily_ec2_instances AS
SELECT t.*
FROM raw_ec2_instances t
JOIN daily_account_run_ids d
  ON d.snapshot_date = t.snapshot_date AND d.run_id = t.run_id AND d.account_id = t.account_id;

CREATE OR REPLACE VIEW ec2_security_groups AS
SELECT t.*
FROM raw_ec2_security_groups t
WHERE t.run_id IN (SELECT c.run_id FROM committed_run_ids c);

CREATE OR REPLACE VIEW latest_ec2_security_groups AS
SELECT t.*
FROM raw_ec2_security_groups t
JOIN latest_account_run_ids l
  ON l.snapshot_date = t.snapshot_date AND l.run_id = t.run_id AND l.account_id = t.account_id;

CREATE OR REPLACE VIEW daily_ec2_security_groups AS
SELECT t.*
FROM raw_ec2_security_groups t
JOIN daily_account_run_ids d
  ON d.snapshot_date = t.snapshot_date AND d.run_id = t.run_id AND d.account_id = t.account_id;

CREATE OR REPLACE VIEW findings AS
SELECT t.*
FROM raw_findings t
WHERE t.run_id IN (SELECT c.run_id FROM committed_run_ids c);

CREATE OR REPLACE VIEW latest_findings AS
SELECT t.*
FROM raw_findings t
JOIN latest_account_run_ids l
  ON l.snapshot_date = t.snapshot_date AND l.run_id = t.run_id AND l.account_id = t.account_id;

CREATE OR REPLACE VIEW daily_findings AS
SELECT t.*
FROM raw_findings t
JOIN daily_account_run_ids d
  ON d.snapshot_date = t.snapshot_date AND d.run_id = t.run_id AND d.account_id = t.account_id;

CREATE OR REPLACE VIEW iam_credential_report AS
SELECT t.*
FROM raw_iam_credential_report t
WHERE t.run_id IN (SELECT c.run_id FROM committed_run_ids c);

CREATE OR REPLACE VIEW latest_iam_credential_report AS
SELECT t.*
FROM raw_iam_credential_report t
JOIN latest_account_run_ids l
  ON l.snapshot_date = t.snapshot_date AND l.run_id = t.run_id AND l.account_id = t.account_id;

CREATE OR REPLACE VIEW daily_iam_credential_report AS
SELECT t.*
FROM raw_iam_credential_report t
JOIN daily_account_run_ids d
  ON d.snapshot_date = t.snapshot_date AND d.run_id = t.run_id AND d.account_id = t.account_id;

CREATE OR REPLACE VIEW iam_users AS
SELECT t.*
FROM raw_iam_users t
WHERE t.run_id IN (SELECT c.run_id FROM committed_run_ids c);

CREATE OR REPLACE VIEW latest_iam_users AS
SELECT t.*
FROM raw_iam_users t
JOIN latest_account_run_ids l
  ON l.snapshot_date = t.snapshot_date AND l.run_id = t.run_id AND l.account_id = t.account_id;

CREATE OR REPLACE VIEW daily_iam_users AS
SELECT t.*
FROM raw_iam_users t
JOIN daily_account_run_ids d
  ON d.snapshot_date = t.snapshot_date AND d.run_id = t.run_id AND d.account_id = t.account_id;

CREATE OR REPLACE VIEW runs AS
SELECT t.*
FROM raw_runs t
WHERE t.run_id IN (SELECT c.run_id FROM committed_run_ids c);

CREATE OR REPLACE VIEW latest_runs AS
SELECT t.*
FROM raw_runs t
WHERE t.run_id IN (SELECT l.run_id FROM latest_account_run_ids l);

CREATE OR REPLACE VIEW daily_runs AS
SELECT t.*
FROM raw_runs t
WHERE t.run_id IN (SELECT d.run_id FROM daily_account_run_ids d);

CREATE OR REPLACE VIEW tag_actions AS
SELECT t.*
FROM raw_tag_actions t
WHERE t.run_id IN (SELECT c.run_id FROM committed_run_ids c);

CREATE OR REPLACE VIEW latest_tag_actions AS
SELECT t.*
FROM raw_tag_actions t
JOIN latest_account_run_ids l
  ON l.snapshot_date = t.snapshot_date AND l.run_id = t.run_id AND l.account_id = t.account_id;

CREATE OR REPLACE VIEW daily_tag_actions AS
SELECT t.*
FROM raw_tag_actions t
JOIN daily_account_run_ids d
  ON d.snapshot_date = t.snapshot_date AND d.run_id = t.run_id AND d.account_id = t.account_id;
