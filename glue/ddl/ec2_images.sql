-- Generated from schemas/ec2_images.toml by `orglake glue render`; do not edit.
CREATE EXTERNAL TABLE IF NOT EXISTS `orglake`.`raw_ec2_images` (
  `account_id` string COMMENT 'Account whose instances use the AMI.',
  `region` string COMMENT 'Region of the AMI.',
  `image_id` string COMMENT 'AMI id.',
  `name` string COMMENT 'AMI name.',
  `description` string COMMENT 'AMI description.',
  `owner_id` string COMMENT 'Account that owns the AMI.',
  `owner_alias` string COMMENT 'Owner alias, for example amazon.',
  `platform_details` string COMMENT 'Platform details.',
  `architecture` string COMMENT 'x86_64, arm64, ...',
  `image_type` string COMMENT 'machine, kernel or ramdisk.',
  `state` string COMMENT 'available, deregistered, ... (raw value kept).',
  `creation_date` timestamp COMMENT 'When the AMI was created.',
  `deprecation_time` timestamp COMMENT 'When the AMI is or was deprecated.',
  `public` boolean COMMENT 'Whether the AMI is public.',
  `root_device_type` string COMMENT 'ebs or instance-store.',
  `tags` map<string,string> COMMENT 'Tags of the AMI visible to the account.',
  `observed` string COMMENT 'seen (returned by AWS in this run) or stale (its account''s ec2 (in the image''s region) stage failed in this run: the last known row is carried forward, until the retention window). Null in files written before orglake 0.2.',
  `last_seen` timestamp COMMENT 'Run clock of the run that observed the row: this run''s for seen rows, an earlier run''s for stale ones.',
  `observed_run_id` string COMMENT 'Id of the run that observed the row (this run for seen rows; the run it was carried from for stale ones).',
  `run_id` string COMMENT 'Id of the run that wrote the row.'
)
COMMENT 'One row per AMI used by an instance, per account and region, per run, as DescribeImages returned it.'
PARTITIONED BY (
  `snapshot_date` string COMMENT 'Partition: the run''s snapshot date (YYYY-MM-DD, UTC, from the run clock).'
)
STORED AS PARQUET
LOCATION 's3://LAKE_BUCKET/LAKE_PREFIX/ec2_images/'
TBLPROPERTIES (
  'classification' = 'parquet',
  'parquet.compression' = 'ZSTD',
  'projection.enabled' = 'true',
  'projection.snapshot_date.type' = 'date',
  'projection.snapshot_date.format' = 'yyyy-MM-dd',
  'projection.snapshot_date.range' = '2020-01-01,NOW',
  'projection.snapshot_date.interval' = '1',
  'projection.snapshot_date.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://LAKE_BUCKET/LAKE_PREFIX/ec2_images/snapshot_date=${snapshot_date}'
);
