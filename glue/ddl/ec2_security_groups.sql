-- Generated from schemas/ec2_security_groups.toml by `orglake glue render`; do not edit.
CREATE EXTERNAL TABLE IF NOT EXISTS `orglake`.`raw_ec2_security_groups` (
  `account_id` string COMMENT '12-digit AWS account id.',
  `region` string COMMENT 'AWS region of the group.',
  `group_id` string COMMENT 'Security group id (sg-...).',
  `group_name` string COMMENT 'Group name.',
  `description` string COMMENT 'Group description.',
  `vpc_id` string COMMENT 'VPC of the group.',
  `owner_id` string COMMENT 'Account that owns the group.',
  `ingress` array<struct<protocol:string,from_port:bigint,to_port:bigint,cidrs:array<string>,ipv6_cidrs:array<string>,prefix_list_ids:array<string>,referenced_groups:array<string>>> COMMENT 'Inbound rules: protocol (`-1` is every protocol), port range, IPv4 and IPv6 ranges, prefix lists and referenced group ids.',
  `egress` array<struct<protocol:string,from_port:bigint,to_port:bigint,cidrs:array<string>,ipv6_cidrs:array<string>,prefix_list_ids:array<string>,referenced_groups:array<string>>> COMMENT 'Outbound rules, as ingress.',
  `tags` map<string,string> COMMENT 'Every tag of the group.',
  `observed` string COMMENT 'seen (returned by the API in this run) or stale (its account or region failed in this run: last known row kept within the retention window).',
  `last_seen` timestamp COMMENT 'Run clock of the run that last saw the group.',
  `observed_run_id` string COMMENT 'Id of the run that last saw the group.',
  `run_id` string COMMENT 'Id of the run that wrote the row.'
)
COMMENT 'One row per EC2 security group of every scanned region of every scanned account, with its ingress and egress rules.'
PARTITIONED BY (
  `snapshot_date` string COMMENT 'Partition: the run''s snapshot date (YYYY-MM-DD, UTC, from the run clock).'
)
STORED AS PARQUET
LOCATION 's3://LAKE_BUCKET/LAKE_PREFIX/ec2_security_groups/'
TBLPROPERTIES (
  'classification' = 'parquet',
  'parquet.compression' = 'ZSTD',
  'projection.enabled' = 'true',
  'projection.snapshot_date.type' = 'date',
  'projection.snapshot_date.format' = 'yyyy-MM-dd',
  'projection.snapshot_date.range' = '2020-01-01,NOW',
  'projection.snapshot_date.interval' = '1',
  'projection.snapshot_date.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://LAKE_BUCKET/LAKE_PREFIX/ec2_security_groups/snapshot_date=${snapshot_date}'
);
