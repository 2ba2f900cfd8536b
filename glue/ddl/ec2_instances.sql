-- Generated from schemas/ec2_instances.toml by `orglake glue render`; do not edit.
CREATE EXTERNAL TABLE IF NOT EXISTS `orglake`.`raw_ec2_instances` (
  `account_id` string COMMENT '12-digit AWS account id.',
  `account_name` string COMMENT 'Account name from Organizations.',
  `ou_path` string COMMENT 'OU path of the account.',
  `account_owner` string COMMENT 'The account''s owner tag (from Organizations).',
  `region` string COMMENT 'Region of the instance.',
  `availability_zone` string COMMENT 'Availability zone.',
  `instance_id` string COMMENT 'Instance id.',
  `instance_type` string COMMENT 'Instance type, for example t3.micro.',
  `state` string COMMENT 'pending, running, shutting-down, terminated, stopping or stopped (raw value kept).',
  `state_reason` string COMMENT 'Why the state last changed (StateReason message).',
  `state_transition_reason` string COMMENT 'The raw state transition reason, for example User initiated (2026-11-02 10:00:00 GMT).',
  `state_transition_time` timestamp COMMENT 'Time parsed from the state transition reason, when it holds one.',
  `launch_time` timestamp COMMENT 'Last launch time.',
  `terminated_at` timestamp COMMENT 'When the instance was terminated: from the transition reason, or the last time it was seen for an instance that vanished from the API.',
  `image_id` string COMMENT 'AMI id.',
  `image_name` string COMMENT 'AMI name; null when the AMI no longer exists or is not visible.',
  `image_description` string COMMENT 'AMI description.',
  `image_owner_id` string COMMENT 'Account that owns the AMI.',
  `platform` string COMMENT 'windows, or null for Linux/UNIX.',
  `platform_details` string COMMENT 'Platform details, for example Linux/UNIX or Red Hat Enterprise Linux.',
  `architecture` string COMMENT 'x86_64, arm64, ...',
  `vpc_id` string COMMENT 'VPC id.',
  `subnet_id` string COMMENT 'Subnet id.',
  `private_ip` string COMMENT 'Primary private IPv4 address.',
  `public_ip` string COMMENT 'Public IPv4 address.',
  `private_dns` string COMMENT 'Private DNS name.',
  `public_dns` string COMMENT 'Public DNS name.',
  `key_name` string COMMENT 'EC2 key pair name.',
  `iam_instance_profile_arn` string COMMENT 'ARN of the IAM instance profile.',
  `security_group_ids` array<string> COMMENT 'Security group ids.',
  `security_group_names` array<string> COMMENT 'Security group names.',
  `root_device_type` string COMMENT 'ebs or instance-store.',
  `root_device_name` string COMMENT 'Root device name, for example /dev/xvda.',
  `monitoring_state` string COMMENT 'Detailed monitoring: disabled, enabled, pending, ...',
  `lifecycle` string COMMENT 'spot, scheduled or capacity-block; null for on-demand.',
  `tenancy` string COMMENT 'default, dedicated or host.',
  `tags` map<string,string> COMMENT 'Every tag of the instance.',
  `owner_tag` string COMMENT 'Value of the instance''s owner tag (key matched case-insensitively).',
  `name_tag` string COMMENT 'Value of the instance''s Name tag (key matched case-insensitively).',
  `first_seen` timestamp COMMENT 'Run clock of the first run that saw the instance (kept across runs).',
  `last_seen` timestamp COMMENT 'Run clock of the last run that saw the instance in the API.',
  `observed` string COMMENT 'seen (returned by the API in this run), vanished (not returned although its region was scanned: carried forward as terminated) or stale (its account or region failed in this run: last known row kept).',
  `run_id` string COMMENT 'Id of the run that wrote the row.'
)
COMMENT 'One row per EC2 instance per run: every in-scope account and enabled region, with its AMI and account, history (first_seen / last_seen) and terminated instances kept for terminated_retention_days.'
PARTITIONED BY (
  `snapshot_date` string COMMENT 'Partition: the run''s snapshot date (YYYY-MM-DD, UTC, from the run clock).'
)
STORED AS PARQUET
LOCATION 's3://LAKE_BUCKET/LAKE_PREFIX/ec2_instances/'
TBLPROPERTIES (
  'classification' = 'parquet',
  'parquet.compression' = 'ZSTD',
  'projection.enabled' = 'true',
  'projection.snapshot_date.type' = 'date',
  'projection.snapshot_date.format' = 'yyyy-MM-dd',
  'projection.snapshot_date.range' = '2020-01-01,NOW',
  'projection.snapshot_date.interval' = '1',
  'projection.snapshot_date.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://LAKE_BUCKET/LAKE_PREFIX/ec2_instances/snapshot_date=${snapshot_date}'
);
