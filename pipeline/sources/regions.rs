//! The per-region multiplexer of the EC2 sources: which regions of an account are scanned
//! (the wanted ones that DescribeRegions lists as enabled), `region_concurrency` at a
//! time, with one outcome per region, a region that a service control policy denies
//! recorded as skipped (`denied_by_policy`), and an account-level `no_data` when nothing
//! was found anywhere.

use std::collections::BTreeMap;
use std::future::Future;

use aws_config::SdkConfig;
use futures::{StreamExt, stream};

use crate::aws::{AwsContext, ec2_client};
use crate::config::sources::Ec2Settings;
use crate::error::Result;
use crate::status::{StageOutcome, status};

/// Reason given for a region whose EC2 calls a service control policy denies.
pub const DENIED_BY_POLICY: &str = "denied_by_policy";

/// One account's regions, as a source scans them.
#[derive(Clone, Copy, Debug)]
pub struct RegionScope<'a> {
    /// The run's AWS context.
    pub aws: &'a AwsContext,
    /// The account's SDK configuration.
    pub sdk: &'a SdkConfig,
    /// The account id.
    pub account_id: &'a str,
    /// Which regions, how many at once, and what a policy denial counts as.
    pub settings: &'a Ec2Settings,
    /// The stage name of the outcomes.
    pub stage: &'static str,
    /// What the rows are, for `no_data` messages (`instances`, `security groups`).
    pub what: &'static str,
}

/// What one region's scan wrote.
#[derive(Debug, Default)]
pub struct RegionRows {
    /// Rows found (zero: the region is `no_data`).
    pub rows: usize,
    /// Anything unexpected worth saying in the outcome.
    pub note: Option<String>,
}

/// Whether a region's failure is a policy denying the region (Control Tower's region deny,
/// any SCP): an authorization error that says so, or one in a region while another region
/// of the same account was read fine (so the member role itself has the permission). A
/// denial in every region is the role's own permissions, a real failure.
fn denied_by_policy(outcome: &StageOutcome, another_region_worked: bool) -> bool {
    let authorization = matches!(
        outcome.error_code.as_deref(),
        Some("UnauthorizedOperation" | "AccessDenied" | "AccessDeniedException")
    );
    let says_policy = outcome
        .message
        .as_deref()
        .is_some_and(|m| m.contains("service control policy") || m.contains("explicit deny"));
    authorization && (says_policy || another_region_worked)
}

/// Runs `scan_region` in every wanted, enabled region of the scope's account; returns one
/// outcome per region, plus an account-level `no_data` outcome when no scanned region
/// held a row. A failure of DescribeRegions is the account's one outcome.
pub async fn each_region<F, Fut>(scope: &RegionScope<'_>, scan_region: F) -> Vec<StageOutcome>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<RegionRows>>,
{
    let (account_id, stage, settings) = (scope.account_id, scope.stage, scope.settings);
    let timer = StageOutcome::start(account_id, stage, None);
    let regions = match enabled_regions(scope.aws, scope.sdk, account_id).await {
        Ok(regions) => regions,
        Err(err) => return vec![timer.fail(&err)],
    };
    let mut outcomes = Vec::new();
    let mut to_scan = Vec::new();
    let wanted: Vec<&String> = if settings.regions.is_empty() {
        regions.keys().collect()
    } else {
        settings.regions.iter().collect()
    };
    for region in wanted {
        match regions.get(region) {
            Some(true) => to_scan.push(region.clone()),
            Some(false) => outcomes.push(StageOutcome::start(account_id, stage, Some(region)).finish(
                status::SKIPPED,
                Some("opt-in region not enabled in this account".into()),
            )),
            None => outcomes.push(StageOutcome::start(account_id, stage, Some(region)).finish(
                status::SKIPPED,
                Some("region unknown to this account's DescribeRegions".into()),
            )),
        }
    }
    let scan_region = &scan_region;
    let mut scanned: Vec<(StageOutcome, usize)> = stream::iter(to_scan)
        .map(|region| async move {
            let timer = StageOutcome::start(account_id, stage, Some(&region));
            match scan_region(region.clone()).await {
                Ok(found) if found.rows == 0 => (timer.finish(status::NO_DATA, Some(format!("no {}", scope.what))), 0),
                Ok(found) => (timer.finish(status::OK, found.note), found.rows),
                Err(err) => (timer.fail(&err), 0),
            }
        })
        .buffer_unordered(settings.region_concurrency)
        .collect()
        .await;
    // A failed region is never the one that worked, so one look serves every region.
    let another_region_worked = scanned.iter().any(|(o, _)| !o.is_failure());
    if !settings.fail_on_denied_regions {
        for (outcome, _) in scanned
            .iter_mut()
            .filter(|(o, _)| o.is_failure() && denied_by_policy(o, another_region_worked))
        {
            outcome.status = status::SKIPPED;
            outcome.message = Some(format!(
                "{DENIED_BY_POLICY}: {}",
                outcome.message.as_deref().unwrap_or_default()
            ));
        }
    }
    let all_ok = scanned.iter().all(|(o, _)| !o.is_failure());
    let total: usize = scanned.iter().map(|(_, n)| n).sum();
    outcomes.extend(scanned.into_iter().map(|(o, _)| o));
    if all_ok && total == 0 {
        outcomes.push(timer.finish(
            status::NO_DATA,
            Some(format!("no {} in any scanned region", scope.what)),
        ));
    }
    outcomes
}

/// Region name -> enabled, from DescribeRegions with every region listed.
async fn enabled_regions(aws: &AwsContext, sdk: &SdkConfig, account_id: &str) -> Result<BTreeMap<String, bool>> {
    let client = ec2_client(sdk, account_id, None);
    let response = client
        .describe_regions()
        .all_regions(true)
        .send()
        .await
        .map_err(|e| aws.error("ec2:DescribeRegions", e))?;
    Ok(response
        .regions()
        .iter()
        .filter_map(|r| {
            let enabled = !matches!(r.opt_in_status(), Some("not-opted-in"));
            r.region_name().map(|name| (name.to_string(), enabled))
        })
        .collect())
}
