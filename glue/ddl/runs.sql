-- Generated from schemas/runs.toml by `orglake glue render`; do not edit.
CREATE EXTERNAL TABLE IF NOT EXISTS `orglake`.`raw_runs` (
  `run_id` string COMMENT 'Id of the run: UTC start time plus a random suffix, sortable.',
  `status` string COMMENT 'complete (every account and stage ok) or partial (some failed; see account_status).',
  `as_of` timestamp COMMENT 'The run clock (--as-of, default: start time) that ages and cutoffs are computed against.',
  `started_at` timestamp COMMENT 'Wall-clock start of the run (UTC).',
  `finished_at` timestamp COMMENT 'Wall-clock end of the run, just before the manifest was written (UTC).',
  `organization_id` string COMMENT 'Id of the organization scanned.',
  `scope` array<string> COMMENT 'What was scanned: the OU ids, or the explicit account ids.',
  `accounts_total` bigint COMMENT 'Accounts discovered in scope (including suspended ones).',
  `accounts_ok` bigint COMMENT 'Accounts whose every stage succeeded.',
  `accounts_failed` bigint COMMENT 'Accounts with at least one failed stage.',
  `accounts_skipped` bigint COMMENT 'Accounts listed but not scanned (not ACTIVE).',
  `table_rows` map<string,bigint> COMMENT 'Rows written per table by this run.',
  `orglake_version` string COMMENT 'Version of orglake that wrote the run.',
  `shard_index` bigint COMMENT 'Which slice of the accounts the run scanned (--shard INDEX/COUNT, 0-based); 0 for an unsharded run, null in manifests written before sharding existed (read as 0).',
  `shard_count` bigint COMMENT 'Into how many slices the snapshot was split; 1 for an unsharded run (null read as 1). A snapshot date counts as complete once every slice has a manifest.'
)
COMMENT 'The run manifest: one row per run, written last. A run without a row here is invisible to queries.'
PARTITIONED BY (
  `snapshot_date` string COMMENT 'Partition: the run''s snapshot date (YYYY-MM-DD, UTC, from the run clock).'
)
STORED AS PARQUET
LOCATION 's3://LAKE_BUCKET/LAKE_PREFIX/runs/'
TBLPROPERTIES (
  'classification' = 'parquet',
  'parquet.compression' = 'ZSTD',
  'projection.enabled' = 'true',
  'projection.snapshot_date.type' = 'date',
  'projection.snapshot_date.format' = 'yyyy-MM-dd',
  'projection.snapshot_date.range' = '2020-01-01,NOW',
  'projection.snapshot_date.interval' = '1',
  'projection.snapshot_date.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://LAKE_BUCKET/LAKE_PREFIX/runs/snapshot_date=${snapshot_date}'
);
