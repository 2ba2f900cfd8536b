-- Generated from schemas/iam_users.toml by `orglake glue render`; do not edit.
CREATE EXTERNAL TABLE IF NOT EXISTS `orglake`.`raw_iam_users` (
  `account_id` string COMMENT '12-digit AWS account id.',
  `account_alias` string COMMENT 'The account''s IAM alias, if it has one.',
  `user_name` string COMMENT 'IAM user name.',
  `user_id` string COMMENT 'Stable IAM user id (AIDA...).',
  `arn` string COMMENT 'ARN of the user.',
  `path` string COMMENT 'IAM path, for example / or /admins/.',
  `tags` map<string,string> COMMENT 'Every tag of the user.',
  `groups` array<string> COMMENT 'Names of the groups the user belongs to.',
  `created_at` timestamp COMMENT 'When the user was created.',
  `age_days` bigint COMMENT 'Whole days from created_at to the run clock (--as-of).',
  `mfa_enabled` boolean COMMENT 'True when at least one MFA device is assigned; null when it could not be read.',
  `mfa_device_count` bigint COMMENT 'Number of MFA devices assigned (virtual and hardware).',
  `console_access` boolean COMMENT 'True when the user has a login profile (a console password); null when it could not be read.',
  `password_created_at` timestamp COMMENT 'When the login profile was created (the password set date that GetLoginProfile reports).',
  `password_age_days` bigint COMMENT 'Whole days from password_created_at to the run clock.',
  `password_last_used` timestamp COMMENT 'Last console sign-in (ListUsers PasswordLastUsed).',
  `last_activity` timestamp COMMENT 'Latest of password_last_used and every access key''s last use.',
  `access_keys` array<struct<access_key_id:string,status:string,created_at:timestamp,age_days:bigint,last_used_at:timestamp,last_used_service:string,last_used_region:string>> COMMENT 'Every access key: id, Active/Inactive, creation, age in days, and its last use (time, service, region).',
  `active_key_id` string COMMENT 'The oldest active access key (the one most overdue for rotation); null when none is active.',
  `active_key_age_days` bigint COMMENT 'Age in days of active_key_id.',
  `active_key_last_used_at` timestamp COMMENT 'Last use of active_key_id.',
  `active_key_count` bigint COMMENT 'Number of active access keys.',
  `signing_certificates` array<struct<certificate_id:string,status:string,uploaded_at:timestamp>> COMMENT 'X.509 signing certificates: id, Active/Inactive, upload time.',
  `detail_error` string COMMENT 'Set when a per-user call failed after retries: the row keeps what was read, and says what is missing.',
  `observed` string COMMENT 'seen (returned by AWS in this run) or stale (its account''s iam_users stage failed in this run: the last known row is carried forward, until the retention window). Null in files written before orglake 0.2.',
  `last_seen` timestamp COMMENT 'Run clock of the run that observed the row: this run''s for seen rows, an earlier run''s for stale ones.',
  `observed_run_id` string COMMENT 'Id of the run that observed the row (this run for seen rows; the run it was carried from for stale ones).',
  `run_id` string COMMENT 'Id of the run that wrote the row.'
)
COMMENT 'One row per IAM user per account per run: identity, groups, tags, console and MFA status, access keys and their use, signing certificates.'
PARTITIONED BY (
  `snapshot_date` string COMMENT 'Partition: the run''s snapshot date (YYYY-MM-DD, UTC, from the run clock).'
)
STORED AS PARQUET
LOCATION 's3://LAKE_BUCKET/LAKE_PREFIX/iam_users/'
TBLPROPERTIES (
  'classification' = 'parquet',
  'parquet.compression' = 'ZSTD',
  'projection.enabled' = 'true',
  'projection.snapshot_date.type' = 'date',
  'projection.snapshot_date.format' = 'yyyy-MM-dd',
  'projection.snapshot_date.range' = '2020-01-01,NOW',
  'projection.snapshot_date.interval' = '1',
  'projection.snapshot_date.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://LAKE_BUCKET/LAKE_PREFIX/iam_users/snapshot_date=${snapshot_date}'
);
