-- Generated from schemas/accounts.toml by `orglake glue render`; do not edit.
CREATE EXTERNAL TABLE IF NOT EXISTS `orglake`.`raw_accounts` (
  `account_id` string COMMENT '12-digit AWS account id.',
  `account_name` string COMMENT 'Account name as set in Organizations.',
  `email` string COMMENT 'Root email address of the account.',
  `arn` string COMMENT 'Organizations ARN of the account.',
  `status` string COMMENT 'Account status: ACTIVE, SUSPENDED, PENDING_CLOSURE (raw value kept if AWS adds one).',
  `joined_method` string COMMENT 'INVITED or CREATED.',
  `joined_at` timestamp COMMENT 'When the account joined the organization (UTC).',
  `ou_id` string COMMENT 'Id of the OU (or root) that is the account''s direct parent.',
  `ou_path` string COMMENT 'Slash-joined names from the root to the parent OU, for example Root/Workloads/Prod.',
  `owner_tag` string COMMENT 'Value of the account''s owner tag: the `tag_key` setting (default `owner`), key matched exactly, else ignoring case.',
  `tags` map<string,string> COMMENT 'All tags of the account.',
  `scanned` boolean COMMENT 'False for accounts that are listed but never scanned (not ACTIVE).',
  `run_id` string COMMENT 'Id of the run that wrote the row.'
)
COMMENT 'One row per member account in scope of a run, as AWS Organizations describes it.'
PARTITIONED BY (
  `snapshot_date` string COMMENT 'Partition: the run''s snapshot date (YYYY-MM-DD, UTC, from the run clock).'
)
STORED AS PARQUET
LOCATION 's3://LAKE_BUCKET/LAKE_PREFIX/accounts/'
TBLPROPERTIES (
  'classification' = 'parquet',
  'parquet.compression' = 'ZSTD',
  'projection.enabled' = 'true',
  'projection.snapshot_date.type' = 'date',
  'projection.snapshot_date.format' = 'yyyy-MM-dd',
  'projection.snapshot_date.range' = '2020-01-01,NOW',
  'projection.snapshot_date.interval' = '1',
  'projection.snapshot_date.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://LAKE_BUCKET/LAKE_PREFIX/accounts/snapshot_date=${snapshot_date}'
);
