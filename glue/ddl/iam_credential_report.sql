-- Generated from schemas/iam_credential_report.toml by `orglake glue render`; do not edit.
CREATE EXTERNAL TABLE IF NOT EXISTS `orglake`.`raw_iam_credential_report` (
  `account_id` string COMMENT '12-digit AWS account id whose report this is.',
  `user` string COMMENT 'User name as the report gives it; <root_account> for the root user.',
  `arn` string COMMENT 'ARN of the user (or of the root).',
  `is_root` boolean COMMENT 'True for the <root_account> row.',
  `user_creation_time` timestamp COMMENT 'When the user was created.',
  `password_enabled` boolean COMMENT 'Whether the user has a console password (null for the root: not_supported).',
  `password_last_used` timestamp COMMENT 'Last console sign-in; null when never (no_information) or N/A, see special_values.',
  `password_last_changed` timestamp COMMENT 'When the password was last set.',
  `password_next_rotation` timestamp COMMENT 'When the password must next be rotated, under a rotation policy.',
  `mfa_active` boolean COMMENT 'Whether an MFA device is active.',
  `access_key_1_active` boolean COMMENT 'Whether access key 1 is active.',
  `access_key_1_last_rotated` timestamp COMMENT 'When access key 1 was created or last rotated.',
  `access_key_1_last_used_date` timestamp COMMENT 'Last use of access key 1.',
  `access_key_1_last_used_region` string COMMENT 'Region of the last use of access key 1.',
  `access_key_1_last_used_service` string COMMENT 'Service of the last use of access key 1.',
  `access_key_2_active` boolean COMMENT 'Whether access key 2 is active.',
  `access_key_2_last_rotated` timestamp COMMENT 'When access key 2 was created or last rotated.',
  `access_key_2_last_used_date` timestamp COMMENT 'Last use of access key 2.',
  `access_key_2_last_used_region` string COMMENT 'Region of the last use of access key 2.',
  `access_key_2_last_used_service` string COMMENT 'Service of the last use of access key 2.',
  `cert_1_active` boolean COMMENT 'Whether signing certificate 1 is active.',
  `cert_1_last_rotated` timestamp COMMENT 'When signing certificate 1 was created or last rotated.',
  `cert_2_active` boolean COMMENT 'Whether signing certificate 2 is active.',
  `cert_2_last_rotated` timestamp COMMENT 'When signing certificate 2 was created or last rotated.',
  `special_values` map<string,string> COMMENT 'For each column whose cell was a special value (N/A, no_information, not_supported) or could not be read: the raw cell. The typed column is null.',
  `extra_columns` map<string,string> COMMENT 'Columns the report had that this schema does not know (AWS adds some from time to time), raw.',
  `report_generated_at` timestamp COMMENT 'When AWS generated the report (GetCredentialReport GeneratedTime).',
  `observed` string COMMENT 'seen (returned by AWS in this run) or stale (its account''s credential_report stage failed in this run: the last known row is carried forward, until the retention window). Null in files written before orglake 0.2.',
  `last_seen` timestamp COMMENT 'Run clock of the run that observed the row: this run''s for seen rows, an earlier run''s for stale ones.',
  `observed_run_id` string COMMENT 'Id of the run that observed the row (this run for seen rows; the run it was carried from for stale ones).',
  `run_id` string COMMENT 'Id of the run that wrote the row.'
)
COMMENT 'One row per line of each account''s IAM credential report per run, typed: booleans, UTC timestamps, special values as nulls with the raw value kept.'
PARTITIONED BY (
  `snapshot_date` string COMMENT 'Partition: the run''s snapshot date (YYYY-MM-DD, UTC, from the run clock).'
)
STORED AS PARQUET
LOCATION 's3://LAKE_BUCKET/LAKE_PREFIX/iam_credential_report/'
TBLPROPERTIES (
  'classification' = 'parquet',
  'parquet.compression' = 'ZSTD',
  'projection.enabled' = 'true',
  'projection.snapshot_date.type' = 'date',
  'projection.snapshot_date.format' = 'yyyy-MM-dd',
  'projection.snapshot_date.range' = '2020-01-01,NOW',
  'projection.snapshot_date.interval' = '1',
  'projection.snapshot_date.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://LAKE_BUCKET/LAKE_PREFIX/iam_credential_report/snapshot_date=${snapshot_date}'
);
