//! Sources: what orglake reads in each member account, turned from AWS API responses
//! into rows of staged tables.
//!
//! Every source implements [`Source`] and is listed once, in [`registry`]; the scan runs
//! every registered source in every account, the run opens a staging sink for every table
//! a source declares, and the member policy grants exactly the actions the sources
//! declare (tested). A new source is a module here, its `schemas/` and `queries/` files,
//! and one line in [`registry`].
//!
//! May import: `aws`, `config`, `error`, `lake`, `schema`, `status`.

pub mod credential_report;
pub mod ec2;
pub mod ec2_security_groups;
pub mod iam_users;
pub mod regions;

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_config::SdkConfig;

use crate::aws::AwsContext;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::lake::Lake;
use crate::lake::sink::Sink;
use crate::status::StageOutcome;

/// One member account, as a source sees it.
#[derive(Clone, Copy, Debug)]
pub struct AccountInput<'a> {
    /// The run's AWS context (error classification, shared HTTP client).
    pub aws: &'a AwsContext,
    /// The account's SDK configuration: its renewing session, the home region.
    pub sdk: &'a SdkConfig,
    /// The account id.
    pub account_id: &'a str,
}

/// Where the sources of one run write: a staging sink per declared table, and the lake
/// for raw copies.
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// The lake (for raw copies such as credential reports).
    pub lake: Lake,
    /// This run's snapshot date.
    pub snapshot_date: String,
    /// This run's id.
    pub run_id: String,
    sinks: BTreeMap<&'static str, Sink>,
}

impl RunOutput {
    /// Output for one run, with a sink per staged table.
    pub fn new(lake: Lake, snapshot_date: &str, run_id: &str, sinks: BTreeMap<&'static str, Sink>) -> RunOutput {
        RunOutput {
            lake,
            snapshot_date: snapshot_date.to_string(),
            run_id: run_id.to_string(),
            sinks,
        }
    }

    /// The sink of a staged table the source declared.
    pub fn sink(&self, table: &str) -> Result<&Sink> {
        self.sinks.get(table).ok_or_else(|| {
            Error::Schema(format!(
                "no staging sink for `{table}`: the source must list it in staged_tables()"
            ))
        })
    }
}

/// How a source spends an account's time, which decides the capacity the scan gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pacing {
    /// Makes calls back to back: runs in one of the scan's `max_concurrency` work slots.
    Works,
    /// Mostly waits for AWS (a report being generated): starts as soon as the account's
    /// session is open and holds no work slot, so its wait overlaps everything else.
    Waits,
}

/// One kind of data read in every member account.
#[async_trait]
pub trait Source: Send + Sync + std::fmt::Debug {
    /// The stage name in `account_status`.
    fn name(&self) -> &'static str;
    /// Whether it works or waits (see [`Pacing`]); most sources work.
    fn pacing(&self) -> Pacing {
        Pacing::Works
    }
    /// The staged tables it writes (each defined in `schemas/`).
    fn staged_tables(&self) -> &'static [&'static str];
    /// The IAM actions it calls in the member account (the member policy grants exactly
    /// the union of these).
    fn actions(&self) -> &'static [&'static str];
    /// Reads one account into the output's sinks; returns its outcomes (never fails: a
    /// failure is an outcome).
    async fn extract_account(&self, account: AccountInput<'_>, output: &RunOutput) -> Vec<StageOutcome>;
}

/// Every source, configured for one run.
pub fn registry(config: &Config, as_of: chrono::DateTime<chrono::Utc>) -> Vec<Box<dyn Source>> {
    vec![
        Box::new(ec2::Ec2Source(config.ec2_settings())),
        Box::new(iam_users::IamUsersSource(iam_users::IamSettings {
            user_concurrency: iam_users::USER_CONCURRENCY,
            as_of,
        })),
        Box::new(credential_report::CredentialReportSource(config.report_settings())),
        Box::new(ec2_security_groups::SecurityGroupsSource(config.ec2_settings())),
    ]
}

use chrono::{DateTime, Utc};

/// Converts an SDK timestamp to UTC; `None` when it is out of chrono's range.
pub fn to_utc(t: &aws_smithy_types::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// Every staged table the registered sources write (`<table>_extracted`), in registry order.
pub fn staged_tables(config: &Config, as_of: chrono::DateTime<chrono::Utc>) -> Vec<&'static str> {
    registry(config, as_of)
        .iter()
        .flat_map(|source| source.staged_tables().iter().copied())
        .collect()
}

/// The member account's read-only policy document: exactly the actions the registered
/// sources declare, one statement per service (`deploy/iam/member-read-policy.json` is this,
/// written by `scripts/regenerate.sh`; a test keeps them equal).
pub fn member_read_policy(config: &Config) -> PolicyDocument {
    let mut by_service: BTreeMap<&str, std::collections::BTreeSet<&str>> = BTreeMap::new();
    for source in registry(config, chrono::Utc::now()) {
        for action in source.actions() {
            let service = action.split(':').next().unwrap_or_default();
            by_service.entry(service).or_default().insert(action);
        }
    }
    PolicyDocument {
        version: "2012-10-17",
        statement: by_service
            .into_iter()
            .map(|(service, actions)| {
                let mut title = service.to_string();
                title[..1].make_ascii_uppercase();
                PolicyStatement {
                    sid: format!("Inventory{title}"),
                    effect: "Allow",
                    action: actions.into_iter().map(str::to_string).collect(),
                    resource: "*",
                }
            })
            .collect(),
    }
}

/// An IAM policy document, serialised with AWS's key names in AWS's order.
#[derive(Debug, serde::Serialize)]
pub struct PolicyDocument {
    /// The policy language version.
    #[serde(rename = "Version")]
    pub version: &'static str,
    /// The statements.
    #[serde(rename = "Statement")]
    pub statement: Vec<PolicyStatement>,
}

/// One statement of a [`PolicyDocument`].
#[derive(Debug, serde::Serialize)]
pub struct PolicyStatement {
    /// Statement id.
    #[serde(rename = "Sid")]
    pub sid: String,
    /// Always `Allow`.
    #[serde(rename = "Effect")]
    pub effect: &'static str,
    /// The actions, sorted.
    #[serde(rename = "Action")]
    pub action: Vec<String>,
    /// Always `*`: the inventory reads every resource of the account.
    #[serde(rename = "Resource")]
    pub resource: &'static str,
}
