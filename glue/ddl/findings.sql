-- Generated from schemas/findings.toml by `orglake glue render`; do not edit.
CREATE EXTERNAL TABLE IF NOT EXISTS `orglake`.`raw_findings` (
  `account_id` string COMMENT '12-digit AWS account id.',
  `principal` string COMMENT 'What the finding is about: an IAM user name, <root_account>, or a resource id (an instance id).',
  `principal_arn` string COMMENT 'ARN of the principal or resource.',
  `check_id` string COMMENT 'The check, named as in its file of queries/findings/ (credentials_unused.sql yields credentials_unused_45_days and credentials_unused_90_days); the README lists them.',
  `severity` string COMMENT 'critical, high, medium or low.',
  `detail` string COMMENT 'What was found, in words.',
  `observed` string COMMENT 'seen (computed from rows observed in this run) or stale (computed now from a row carried forward: the stage that observes it failed in this run, and its last known rows are kept). Null in files written before orglake 0.2.',
  `last_seen` timestamp COMMENT 'Run clock of the run that observed the row the finding comes from: this run''s for seen rows, an earlier run''s for stale ones.',
  `observed_run_id` string COMMENT 'Id of the run that observed the row the finding comes from.',
  `run_id` string COMMENT 'Id of the run that wrote the row.'
)
COMMENT 'Security findings of this run, one SQL file per check in queries/findings/ (over this run''s rows of the other tables): one row per principal or resource and failed check.'
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
