//! The settings types of the sources, built from [`Config`](super::Config) in one place
//! so that no source module is imported by the configuration.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Settings of the EC2 source.
#[derive(Clone, Debug)]
pub struct Ec2Settings {
    /// Regions to scan; empty: every enabled region.
    pub regions: Vec<String>,
    /// Regions scanned at once within one account.
    pub region_concurrency: usize,
    /// Tag key flattened into `owner_tag`.
    pub owner_tag_key: String,
    /// Count a region denied by a service control policy as a failure, not as skipped.
    pub fail_on_denied_regions: bool,
}

/// Settings of the IAM users source.
#[derive(Clone, Debug)]
pub struct IamSettings {
    /// Users of one account whose details are read at once.
    pub user_concurrency: usize,
    /// The run clock, for ages.
    pub as_of: DateTime<Utc>,
}

/// Settings of the credential report source.
#[derive(Clone, Debug)]
pub struct ReportSettings {
    /// GenerateCredentialReport calls before the account is given up (the old system: 45).
    pub max_polls: u32,
    /// First wait between polls; doubles up to `max_poll_interval`.
    pub first_poll_interval: Duration,
    /// Longest wait between polls.
    pub max_poll_interval: Duration,
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings {
            max_polls: 45,
            first_poll_interval: Duration::from_millis(500),
            max_poll_interval: Duration::from_secs(8),
        }
    }
}
