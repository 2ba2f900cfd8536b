-- Generated from schemas/findings.toml by `orglake glue render`; do not edit.
CREATE EXTERNAL TABLE IF NOT EXISTS `orglake`.`raw_findings` (
  `account_id` string COMMENT '12-digit AWS account id.',
  `principal` string COMMENT 'User name, or <root_account>.',
  `principal_arn` string COMMENT 'ARN of the principal.',
  `check_id` string COMMENT 'console_user_without_mfa, root_access_keys, root_without_mfa, access_key_older_than_90_days, credentials_unused_45_days, credentials_unused_90_days, password_never_used.',
  `severity` string COMMENT 'critical, high, medium or low.',
  `detail` string COMMENT 'What was found, in words.',
  `observed` string COMMENT 'seen (computed from a credential report line of this run) or stale (computed now from a stale line: the account''s credential_report stage failed, and its last known report is carried forward). Null in files written before orglake 0.2.',
  `last_seen` timestamp COMMENT 'Run clock of the run that observed the credential report line the finding comes from: this run''s for seen rows, an earlier run''s for stale ones.',
  `observed_run_id` string COMMENT 'Id of the run that observed the report line the finding comes from.',
  `run_id` string COMMENT 'Id of the run that wrote the row.'
)
COMMENT 'Security findings computed from this run''s credential reports (SQL in queries/findings/): one row per principal and failed check.'
PARTITIONED BY (
  `snapshot_date` string COMMENT 'Partition: the run''s snapshot date (YYYY-MM-DD, UTC, from the run clock).'
)
STORED AS PARQUET
LOCATION 's3://LAKE_BUCKET/LAKE_PREFIX/findings/'
TBLPROPERTIES (
  'classification' = 'parquet',
  'parquet.compression' = 'ZSTD',
  'projection.enabled' = 'true',
  'projection.snapshot_date.type' = 'date',
  'projection.snapshot_date.format' = 'yyyy-MM-dd',
  'projection.snapshot_date.range' = '2020-01-01,NOW',
  'projection.snapshot_date.interval' = '1',
  'projection.snapshot_date.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://LAKE_BUCKET/LAKE_PREFIX/findings/snapshot_date=${snapshot_date}'
);
