-- Generated from schemas/account_status.toml by `orglake glue render`; do not edit.
CREATE EXTERNAL TABLE IF NOT EXISTS `orglake`.`raw_account_status` (
  `account_id` string COMMENT '12-digit AWS account id.',
  `stage` string COMMENT 'Pipeline stage: assume_role, identity, ec2, iam_users, credential_report, ...',
  `region` string COMMENT 'Region the outcome applies to; null for global stages.',
  `status` string COMMENT 'ok, auth_failed, error, skipped or no_data.',
  `error_code` string COMMENT 'AWS error code (for example AccessDenied, Throttling) when status is not ok.',
  `message` string COMMENT 'Human-readable reason when status is not ok.',
  `started_at` timestamp COMMENT 'When the stage started (UTC, wall clock).',
  `finished_at` timestamp COMMENT 'When the stage finished (UTC, wall clock).',
  `run_id` string COMMENT 'Id of the run that wrote the row.'
)
COMMENT 'One row per (account, stage[, region]) outcome of a run: what worked, what failed and why.'
PARTITIONED BY (
  `snapshot_date` string COMMENT 'Partition: the run''s snapshot date (YYYY-MM-DD, UTC, from the run clock).'
)
STORED AS PARQUET
LOCATION 's3://LAKE_BUCKET/LAKE_PREFIX/account_status/'
TBLPROPERTIES (
  'classification' = 'parquet',
  'parquet.compression' = 'ZSTD',
  'projection.enabled' = 'true',
  'projection.snapshot_date.type' = 'date',
  'projection.snapshot_date.format' = 'yyyy-MM-dd',
  'projection.snapshot_date.range' = '2020-01-01,NOW',
  'projection.snapshot_date.interval' = '1',
  'projection.snapshot_date.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://LAKE_BUCKET/LAKE_PREFIX/account_status/snapshot_date=${snapshot_date}'
);
