-- Generated from schemas/changes.toml by `orglake glue render`; do not edit.
CREATE EXTERNAL TABLE IF NOT EXISTS `orglake`.`raw_changes` (
  `account_id` string COMMENT '12-digit AWS account id.',
  `entity_type` string COMMENT 'What changed: instance, image, security_group, user, access_key, mfa_device, login_profile, group_membership, finding or account (one file each in queries/changes/).',
  `entity_id` string COMMENT 'Its id: the instance, image, group, access key or account id; the user name for user, mfa_device and login_profile; user/group for group_membership; check_id/principal for finding.',
  `parent_id` string COMMENT 'What it belongs to: the user of an access key, MFA, login profile or group membership; the principal of a finding.',
  `region` string COMMENT 'Region of a regional entity (instance, image, security group).',
  `change` string COMMENT 'added, removed or modified.',
  `field` string COMMENT 'For modified: the field that changed (one row per field); null for added and removed.',
  `old_value` string COMMENT 'For modified: the previous value as text (nested values as JSON); null when it was unset.',
  `new_value` string COMMENT 'For modified: the new value as text (nested values as JSON); null when unset.',
  `previous_run_id` string COMMENT 'Id of the run whose rows of this account were compared (the latest committed run before this one that listed the account).',
  `detected_at` timestamp COMMENT 'Run clock of the run that found the change.',
  `run_id` string COMMENT 'Id of the run that wrote the row.'
)
COMMENT 'What changed since the previous snapshot of the same account: one row per entity added or removed, and one per changed field of a modified entity (queries/changes/: which entities, and which fields count). The first run of an account records none. An account that failed keeps its last known rows as stale, so a failure is never a removal.'
PARTITIONED BY (
  `snapshot_date` string COMMENT 'Partition: the run''s snapshot date (YYYY-MM-DD, UTC, from the run clock).'
)
STORED AS PARQUET
LOCATION 's3://LAKE_BUCKET/LAKE_PREFIX/changes/'
TBLPROPERTIES (
  'classification' = 'parquet',
  'parquet.compression' = 'ZSTD',
  'projection.enabled' = 'true',
  'projection.snapshot_date.type' = 'date',
  'projection.snapshot_date.format' = 'yyyy-MM-dd',
  'projection.snapshot_date.range' = '2020-01-01,NOW',
  'projection.snapshot_date.interval' = '1',
  'projection.snapshot_date.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://LAKE_BUCKET/LAKE_PREFIX/changes/snapshot_date=${snapshot_date}'
);
