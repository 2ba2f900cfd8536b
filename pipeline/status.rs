//! Per-(account, stage) outcomes: the rows of the `account_status` table.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::Error;

/// The outcome of one stage for one account (and region, where it applies).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StageOutcome {
    /// Account id.
    pub account_id: String,
    /// Stage name, for example `assume_role` (one of the sources' constants: a run holds
    /// tens of outcomes per account, so neither this nor `status` is a string of its own).
    pub stage: &'static str,
    /// Region, for regional stages.
    pub region: Option<String>,
    /// `ok`, `auth_failed`, `error`, `skipped` or `no_data` (the constants of [`status`]).
    pub status: &'static str,
    /// AWS error code, when not ok.
    pub error_code: Option<String>,
    /// Reason, when not ok.
    pub message: Option<String>,
    /// When the stage started.
    pub started_at: DateTime<Utc>,
    /// When the stage finished.
    pub finished_at: DateTime<Utc>,
}

/// Status values of [`StageOutcome::status`].
pub mod status {
    /// The stage succeeded.
    pub const OK: &str = "ok";
    /// The stage was refused: access denied, expired or invalid credentials.
    pub const AUTH_FAILED: &str = "auth_failed";
    /// The stage failed for another reason (after retries).
    pub const ERROR: &str = "error";
    /// The stage was not run (for example, the account is suspended).
    pub const SKIPPED: &str = "skipped";
    /// The stage succeeded and found nothing (for example, no instances).
    pub const NO_DATA: &str = "no_data";
}

impl StageOutcome {
    /// Starts timing a stage.
    pub fn start(account_id: &str, stage: &'static str, region: Option<&str>) -> StageTimer {
        StageTimer {
            account_id: account_id.to_string(),
            stage,
            region: region.map(str::to_string),
            started_at: Utc::now(),
        }
    }

    /// Counts accounts per (stage, status), one status per account and stage: a failure
    /// anywhere wins, then `ok` (data found), then `no_data`, then `skipped`. This is the
    /// older scripts' success / authentication-failure / no-instances lists, as counts.
    pub fn rollup(outcomes: &[StageOutcome]) -> std::collections::BTreeMap<(String, String), usize> {
        let rank = |s: &str| match s {
            status::AUTH_FAILED => 0,
            status::ERROR => 1,
            status::OK => 2,
            status::NO_DATA => 3,
            _ => 4,
        };
        let mut per_account: std::collections::BTreeMap<(&str, &str), &str> = Default::default();
        for o in outcomes {
            let entry = per_account.entry((o.stage, o.account_id.as_str())).or_insert(o.status);
            if rank(o.status) < rank(entry) {
                *entry = o.status;
            }
        }
        let mut counts = std::collections::BTreeMap::new();
        for ((stage, _), status) in per_account {
            *counts.entry((stage.to_string(), status.to_string())).or_insert(0) += 1;
        }
        counts
    }

    /// True when the outcome counts as a failure of the account.
    pub fn is_failure(&self) -> bool {
        self.status == status::AUTH_FAILED || self.status == status::ERROR
    }
}

/// A stage being timed; finish it with a status.
#[derive(Debug)]
pub struct StageTimer {
    account_id: String,
    stage: &'static str,
    region: Option<String>,
    started_at: DateTime<Utc>,
}

impl StageTimer {
    /// Finishes with a non-error status (`ok`, `skipped`, `no_data`).
    pub fn finish(self, status: &'static str, message: Option<String>) -> StageOutcome {
        StageOutcome {
            account_id: self.account_id,
            stage: self.stage,
            region: self.region,
            status,
            error_code: None,
            message,
            started_at: self.started_at,
            finished_at: Utc::now(),
        }
    }

    /// Finishes with an error, classified as `auth_failed` or `error`.
    pub fn fail(self, err: &Error) -> StageOutcome {
        let status = if err.is_auth() {
            status::AUTH_FAILED
        } else {
            status::ERROR
        };
        StageOutcome {
            error_code: err.code(),
            ..self.finish(status, Some(err.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(account: &str, stage: &'static str, region: Option<&str>, s: &'static str) -> StageOutcome {
        StageOutcome::start(account, stage, region).finish(s, None)
    }

    #[test]
    fn rollup_keeps_one_status_per_account_and_failures_win() {
        let outcomes = [
            outcome("1", "ec2", Some("us-east-1"), status::OK),
            outcome("1", "ec2", Some("eu-west-1"), status::NO_DATA),
            outcome("2", "ec2", Some("us-east-1"), status::NO_DATA),
            outcome("2", "ec2", None, status::NO_DATA),
            outcome("3", "ec2", Some("us-east-1"), status::OK),
            outcome("3", "ec2", Some("eu-west-1"), status::ERROR),
            outcome("3", "ec2", Some("ap-east-1"), status::SKIPPED),
            outcome("4", "assume_role", None, status::AUTH_FAILED),
        ];
        let counts = StageOutcome::rollup(&outcomes);
        let get = |stage: &str, s: &str| counts.get(&(stage.to_string(), s.to_string())).copied().unwrap_or(0);
        assert_eq!(
            (get("ec2", "ok"), get("ec2", "no_data"), get("ec2", "error")),
            (1, 1, 1)
        );
        assert_eq!(get("assume_role", "auth_failed"), 1);
        assert_eq!(counts.values().sum::<usize>(), 4);
    }
}
