//! The floor: the shortest time any scheduler could scan the organization in, under the
//! simulator's latencies, buckets and report times. The longer of the slowest account's
//! critical path (unlimited concurrency) and the organization-wide rate limits.

use serde::Serialize;

use crate::limits::{Limit, Limits};
use crate::model::{Account, Org};

/// The floor and its parts, in seconds.
#[derive(Debug, Serialize)]
pub struct Floor {
    /// The longest critical path of one account.
    pub slowest_account_s: f64,
    /// Organizations calls over the Organizations rate.
    pub organizations_rate_s: f64,
    /// AssumeRole calls over the STS rate.
    pub sts_rate_s: f64,
    /// The largest of the three.
    pub floor_s: f64,
}

fn over_rate(calls: f64, limit: Limit) -> f64 {
    ((calls - limit.bucket).max(0.0)) / limit.refill
}

fn account_path(account: &Account, limits: &Limits) -> f64 {
    let (org, sts, ec2, iam) = (
        limits.organizations.latency.as_secs_f64(),
        limits.sts.latency.as_secs_f64(),
        limits.ec2.latency.as_secs_f64(),
        limits.iam.latency.as_secs_f64(),
    );
    // Discovery before the account is known: DescribeOrganization, its OU, its page.
    let discovery = 3.0 * org;
    let session = 2.0 * sts;
    // DescribeRegions, then per region DescribeInstances and DescribeImages (or
    // DescribeSecurityGroups alone), all regions at once.
    let with_images = account
        .regions
        .values()
        .any(|r| r.reservations.iter().any(|x| !x.instances.is_empty()));
    let ec2_path = ec2 * (1.0 + if with_images { 2.0 } else { 1.0 });
    let users = account.users.len() as f64;
    let pages = (users / 100.0).ceil().max(1.0);
    let keys = account.users.iter().any(|u| !u.keys.is_empty());
    let iam_chain = iam * (pages + if keys { 2.0 } else { 1.0 });
    let iam_calls = 2.0 * pages
        + 1.0
        + account
            .users
            .iter()
            .map(|u| 4.0 + 2.0 * u.keys.len() as f64)
            .sum::<f64>()
        + 4.0;
    let iam_path = iam_chain.max(over_rate(iam_calls, limits.iam));
    // GetCredentialReport (not present), GenerateCredentialReport, the generation, then
    // GenerateCredentialReport (complete) and GetCredentialReport.
    let report = account.report_generation.as_secs_f64() + 4.0 * iam;
    discovery + session + ec2_path.max(iam_path).max(report)
}

/// The floor of a scan of `accounts` (the ones in scope).
pub fn floor(org: &Org, accounts: &[&Account], limits: &Limits) -> Floor {
    let slowest = accounts
        .iter()
        .filter(|a| a.active())
        .map(|a| account_path(a, limits))
        .fold(0.0, f64::max);
    // DescribeOrganization and ListRoots; per OU in scope DescribeOrganizationalUnit and
    // ListParents (its path); per OU, ListAccountsForParent and
    // ListOrganizationalUnitsForParent (which names the OUs below); a page per 20 accounts
    // more; a ListTagsForResource per account.
    let top = org.ous.iter().filter(|o| o.parent.starts_with("r-")).count() as f64;
    let ous = org.ous.len() as f64;
    let org_calls = 2.0 + 2.0 * top + 2.0 * ous + (accounts.len() as f64 / 20.0).ceil() + accounts.len() as f64;
    let organizations_rate_s = over_rate(org_calls, limits.organizations);
    let sts_rate_s = over_rate(accounts.len() as f64, limits.sts);
    Floor {
        slowest_account_s: slowest,
        organizations_rate_s,
        sts_rate_s,
        floor_s: slowest.max(organizations_rate_s).max(sts_rate_s),
    }
}
