//! Account buckets: a large snapshot is committed one slice of accounts at a time, so that
//! the commit's joins, windows and sorts hold one bucket's rows, not the whole snapshot's.
//!
//! Everything the commit computes is per account (an account's history, carried-forward
//! rows, findings and changes never look at another account), so the accounts can be cut
//! into contiguous ranges of their ids and each range committed on its own. A range is
//! contiguous, so the files each bucket writes hold a narrow span of account ids, and the
//! next run reads only the files of its own bucket's previous rows (Parquet statistics).
//! The first range is open below and the last open above: every account id, also one that
//! no run listed, falls in exactly one bucket.

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int64Type};
use datafusion::prelude::{Expr, SessionContext, col, lit};

use crate::error::Result;

/// The account ids `from <= id < until` (an open end where `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountRange {
    /// The first account id of the range; `None`: from the lowest.
    pub from: Option<String>,
    /// The first account id after the range; `None`: to the highest.
    pub until: Option<String>,
}

impl AccountRange {
    /// Every account.
    pub fn all() -> Self {
        AccountRange::default()
    }

    /// Whether the range covers every account.
    pub fn is_all(&self) -> bool {
        self.from.is_none() && self.until.is_none()
    }

    /// Whether `account_id` is in the range.
    pub fn contains(&self, account_id: &str) -> bool {
        self.from.as_deref().is_none_or(|from| account_id >= from)
            && self.until.as_deref().is_none_or(|until| account_id < until)
    }

    /// The range as a filter on the `account_id` column: a pair of literal comparisons,
    /// which Parquet statistics prune by. `None` for every account.
    pub fn filter(&self) -> Option<Expr> {
        let lower = self.from.as_deref().map(|from| col("account_id").gt_eq(lit(from)));
        let upper = self.until.as_deref().map(|until| col("account_id").lt(lit(until)));
        match (lower, upper) {
            (Some(lower), Some(upper)) => Some(lower.and(upper)),
            (lower, upper) => lower.or(upper),
        }
    }
}

/// Rows per account over every staged table in `ctx` (where each is registered under its
/// name): what the buckets are planned by. Reads the `account_id` column only.
pub async fn rows_per_account(ctx: &SessionContext, staged: &[&str]) -> Result<BTreeMap<String, u64>> {
    let mut rows = BTreeMap::new();
    for name in staged {
        let sql = format!("SELECT account_id, count(*) AS n FROM {name} GROUP BY account_id");
        for batch in ctx.sql(&sql).await?.collect().await? {
            let accounts = crate::lake::text_values(batch.column(0))?;
            let counts = cast(batch.column(1), &DataType::Int64)?;
            let counts = counts.as_primitive::<Int64Type>();
            for row in 0..batch.num_rows() {
                if accounts.is_valid(row) {
                    *rows.entry(accounts.value(row).to_string()).or_insert(0) += counts.value(row).max(0) as u64;
                }
            }
        }
    }
    Ok(rows)
}

/// Cuts the accounts into contiguous ranges of at most `max_rows` rows each (an account
/// with more rows than that is a bucket of its own), in ascending order of account id.
/// `rows` gives each account's rows; accounts absent from it count as none. One range,
/// [`AccountRange::all`], when everything fits in one bucket.
pub fn plan(rows: &BTreeMap<String, u64>, max_rows: u64) -> Vec<AccountRange> {
    let mut ranges = Vec::new();
    let mut from: Option<String> = None;
    let mut in_bucket = 0u64;
    for (account_id, &count) in rows {
        if in_bucket > 0 && in_bucket + count > max_rows {
            ranges.push(AccountRange {
                from: from.take(),
                until: Some(account_id.clone()),
            });
            from = Some(account_id.clone());
            in_bucket = 0;
        }
        in_bucket += count;
    }
    ranges.push(AccountRange { from, until: None });
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(counts: &[(&str, u64)]) -> BTreeMap<String, u64> {
        counts.iter().map(|(a, n)| (a.to_string(), *n)).collect()
    }

    #[test]
    fn a_small_snapshot_is_one_bucket_of_every_account() {
        let ranges = plan(&rows(&[("111", 5), ("222", 7)]), 100);
        assert_eq!(ranges, vec![AccountRange::all()]);
        assert!(ranges[0].is_all());
        assert!(ranges[0].filter().is_none());
        assert_eq!(plan(&BTreeMap::new(), 100), vec![AccountRange::all()]);
    }

    #[test]
    fn buckets_are_contiguous_bounded_and_cover_every_account_id() {
        let counts = rows(&[
            ("111", 40),
            ("222", 40),
            ("333", 40),
            ("444", 250),
            ("555", 10),
            ("666", 10),
        ]);
        let ranges = plan(&counts, 100);
        let bounds: Vec<(Option<&str>, Option<&str>)> =
            ranges.iter().map(|r| (r.from.as_deref(), r.until.as_deref())).collect();
        assert_eq!(
            bounds,
            vec![
                (None, Some("333")),
                (Some("333"), Some("444")),
                (Some("444"), Some("555")), // one account above the limit: a bucket of its own
                (Some("555"), None),
            ]
        );
        // Every id, listed or not, lies in exactly one range.
        for id in ["000", "111", "222", "3", "333", "400", "444", "555", "999", ""] {
            let holding = ranges.iter().filter(|r| r.contains(id)).count();
            assert_eq!(holding, 1, "{id}");
        }
        // No bucket holds more than the limit, unless it is one account.
        for range in &ranges {
            let (accounts, total) = counts
                .iter()
                .filter(|(a, _)| range.contains(a))
                .fold((0, 0), |(n, t), (_, c)| (n + 1, t + c));
            assert!(total <= 100 || accounts == 1, "{range:?}: {total} rows");
        }
    }
}
