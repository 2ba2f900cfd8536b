-- Generated from schemas/tag_actions.toml by `orglake glue render`; do not edit.
CREATE EXTERNAL TABLE IF NOT EXISTS `orglake`.`raw_tag_actions` (
  `account_id` string COMMENT '12-digit AWS account id.',
  `region` string COMMENT 'Region of the instance.',
  `instance_id` string COMMENT 'Instance id.',
  `instance_state` string COMMENT 'Instance state in this run.',
  `tag_key` string COMMENT 'The tag key (setting tag_key, default owner).',
  `old_value` string COMMENT 'The instance''s value for the key before this run (null when missing).',
  `new_value` string COMMENT 'The value the instance should carry: the account''s owner tag, trimmed; null when skipped.',
  `reason` string COMMENT 'missing, different, already_right, different_not_overwritten, skipped_account_excluded, skipped_instance_terminated, skipped_instance_state, skipped_account_has_no_owner or skipped_owner_in_skip_domain.',
  `change` boolean COMMENT 'True when the plan writes the tag (reason missing, or different with overwrite allowed).',
  `mode` string COMMENT 'dry_run (planned only), applied, failed (CreateTags failed: see error), refused (over max_tag_changes) or none (no change).',
  `error` string COMMENT 'Why CreateTags failed or was refused.',
  `run_id` string COMMENT 'Id of the run that wrote the row.'
)
COMMENT 'The owner-tag plan and its audit: one row per instance seen in a run where tagging was planned, with the decision, the reason and what was applied.'
PARTITIONED BY (
  `snapshot_date` string COMMENT 'Partition: the run''s snapshot date (YYYY-MM-DD, UTC, from the run clock).'
)
STORED AS PARQUET
LOCATION 's3://LAKE_BUCKET/LAKE_PREFIX/tag_actions/'
TBLPROPERTIES (
  'classification' = 'parquet',
  'parquet.compression' = 'ZSTD',
  'projection.enabled' = 'true',
  'projection.snapshot_date.type' = 'date',
  'projection.snapshot_date.format' = 'yyyy-MM-dd',
  'projection.snapshot_date.range' = '2020-01-01,NOW',
  'projection.snapshot_date.interval' = '1',
  'projection.snapshot_date.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://LAKE_BUCKET/LAKE_PREFIX/tag_actions/snapshot_date=${snapshot_date}'
);
