-- `daily_run_ids`: for each snapshot date, the runs that make up its latest complete
-- snapshot: the latest run of each slice, of the split (shard count) that finished last.
-- Unsharded, that is the day's latest run.
CREATE VIEW daily_run_ids AS
SELECT latest_slice.run_id, latest_slice.snapshot_date
FROM (
  SELECT run_id, snapshot_date, shard_count,
         row_number() OVER (PARTITION BY snapshot_date, shard_count, shard_index
                            ORDER BY finished_at DESC, run_id DESC) AS rank_in_slice
  FROM complete_run_ids
) latest_slice
JOIN (
  SELECT snapshot_date, shard_count,
         row_number() OVER (PARTITION BY snapshot_date ORDER BY split_finished_at DESC, shard_count DESC) AS rank_in_day
  FROM (
    SELECT snapshot_date, shard_count, max(finished_at) AS split_finished_at
    FROM complete_run_ids
    GROUP BY snapshot_date, shard_count
  ) splits
) latest_split
  ON latest_split.snapshot_date = latest_slice.snapshot_date AND latest_split.shard_count = latest_slice.shard_count
WHERE latest_slice.rank_in_slice = 1 AND latest_split.rank_in_day = 1
