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
