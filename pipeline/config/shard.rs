//! Scale-out: `--shard i/n` scans a deterministic slice of the organization's accounts, so
//! that a scheduler (an AWS Batch array job, a Step Functions Map) can run `n` of them at
//! once into the same lake. Each shard commits its own run; the lake's views treat a
//! snapshot date as complete once every shard of it has committed (`queries/lake/`).

use std::fmt;

/// Most shards one run can be split into.
pub const MAX_SHARDS: u32 = 1000;

/// The variable AWS Batch sets to a job's index in an array job; `--shard batch/N` reads
/// the index from it.
pub const BATCH_INDEX_ENV: &str = "AWS_BATCH_JOB_ARRAY_INDEX";

/// Shard `index` of `count` (0-based, as `AWS_BATCH_JOB_ARRAY_INDEX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which slice, from 0 to `count - 1`.
    pub index: u32,
    /// How many slices.
    pub count: u32,
}

impl Shard {
    /// The whole organization: one shard.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Parses `i/n`, with 0 <= i < n <= [`MAX_SHARDS`], or `batch/n`: the index of this
    /// job in an AWS Batch array job ([`BATCH_INDEX_ENV`]).
    pub fn parse(value: &str) -> Result<Shard, String> {
        Shard::parse_with(value, |name| std::env::var(name).ok())
    }

    /// [`Shard::parse`] with the environment given.
    pub fn parse_with(value: &str, env: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let wrong = || {
            format!(
                "expected INDEX/COUNT with 0 <= INDEX < COUNT <= {MAX_SHARDS}, like 0/3, or batch/COUNT in an AWS Batch array job"
            )
        };
        let (index, count) = value.trim().split_once('/').ok_or_else(wrong)?;
        let index = match index.trim() {
            "batch" => env(BATCH_INDEX_ENV)
                .ok_or_else(|| format!("batch/COUNT needs {BATCH_INDEX_ENV}, which AWS Batch sets in array jobs"))?,
            other => other.to_string(),
        };
        let index: u32 = index.trim().parse().map_err(|_| wrong())?;
        let count: u32 = count.trim().parse().map_err(|_| wrong())?;
        if count == 0 || count > MAX_SHARDS || index >= count {
            return Err(wrong());
        }
        Ok(Shard { index, count })
    }

    /// Whether this shard scans `account_id`. The slice depends on the account id alone
    /// (the 12-digit id modulo the shard count), so it is the same in every run and does
    /// not move when accounts join or leave the organization.
    pub fn holds(&self, account_id: &str) -> bool {
        account_key(account_id) % u64::from(self.count) == u64::from(self.index)
    }

    /// Whether this is one slice of several.
    pub fn is_partial(&self) -> bool {
        self.count > 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The number an account id is sliced by: the id itself (account ids are 12 digits), or
/// for anything else a stable FNV-1a hash of its bytes.
fn account_key(account_id: &str) -> u64 {
    account_id.parse::<u64>().unwrap_or_else(|_| {
        account_id.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_index_over_count_and_rejects_the_rest() {
        assert_eq!(Shard::parse("0/3"), Ok(Shard { index: 0, count: 3 }));
        assert_eq!(Shard::parse(" 2 / 3 "), Ok(Shard { index: 2, count: 3 }));
        for bad in ["3/3", "1/0", "-1/3", "1", "a/b", "", "0/1001", "1/2/3"] {
            assert!(Shard::parse(bad).is_err(), "{bad:?} accepted");
        }
        let batch = |index: Option<&str>| {
            let index = index.map(str::to_string);
            Shard::parse_with("batch/4", move |name| {
                assert_eq!(name, BATCH_INDEX_ENV);
                index.clone()
            })
        };
        assert_eq!(batch(Some("3")), Ok(Shard { index: 3, count: 4 }));
        assert!(batch(Some("4")).is_err());
        assert!(batch(None).unwrap_err().contains(BATCH_INDEX_ENV));
    }

    #[test]
    fn every_account_is_in_exactly_one_shard_and_stays_there() {
        let ids: Vec<String> = (0..500u64)
            .map(|i| format!("{:012}", 100_000_000_000 + i * 7919))
            .chain(["not-numeric".to_string()])
            .collect();
        for count in [1, 2, 3, 7] {
            let shards: Vec<Shard> = (0..count).map(|index| Shard { index, count }).collect();
            for id in &ids {
                assert_eq!(
                    shards.iter().filter(|s| s.holds(id)).count(),
                    1,
                    "{id} in {count} shards"
                );
            }
            // Balanced enough for a scheduler: no shard gets less than half its share.
            for shard in &shards {
                let held = ids.iter().filter(|id| shard.holds(id)).count();
                assert!(
                    held * 2 * count as usize >= ids.len(),
                    "{shard}: {held} of {}",
                    ids.len()
                );
            }
        }
        // The slice is the id modulo the count, documented so operators can predict it:
        // 123456789012 = 3 x 41152263004, so it is in shard 0 of 3 and 2 of 5.
        assert!(Shard::parse("0/3").unwrap().holds("123456789012"));
        assert!(Shard::parse("2/5").unwrap().holds("123456789012"));
        assert!(!Shard::parse("1/3").unwrap().holds("123456789012"));
    }
}
