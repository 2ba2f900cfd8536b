//! The EC2 security groups source: every security group of every scanned region, with its
//! ingress and egress rules (protocol, ports, IPv4 and IPv6 ranges, prefix lists,
//! referenced groups) and tags.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{IpPermission, SecurityGroup};
use serde::Serialize;

use crate::aws::ec2_client;
use crate::config::sources::Ec2Settings;
use crate::sources::ec2::tags_of;
use crate::sources::regions::{RegionRows, RegionScope, each_region};
use crate::sources::{AccountInput, RunOutput, Source};
use crate::status::StageOutcome;

/// Stage name of this source in `account_status`.
pub const STAGE: &str = "ec2_security_groups";
/// The staged table.
const TABLE: &str = "ec2_security_groups_extracted";

/// The security groups source; it scans the regions the EC2 source scans.
#[derive(Debug)]
pub struct SecurityGroupsSource(pub Ec2Settings);

/// One row of `ec2_security_groups_extracted`.
#[derive(Debug, Serialize)]
struct GroupRow {
    account_id: String,
    region: String,
    group_id: String,
    group_name: Option<String>,
    description: Option<String>,
    vpc_id: Option<String>,
    owner_id: Option<String>,
    ingress: Vec<RuleRow>,
    egress: Vec<RuleRow>,
    tags: BTreeMap<String, String>,
}

/// Few rows (groups, not instances): they convert through serde_arrow.
impl crate::lake::columns::StagedRow for GroupRow {}

/// One rule of a group, in either direction.
#[derive(Debug, Serialize)]
struct RuleRow {
    protocol: Option<String>,
    from_port: Option<i64>,
    to_port: Option<i64>,
    cidrs: Vec<String>,
    ipv6_cidrs: Vec<String>,
    prefix_list_ids: Vec<String>,
    referenced_groups: Vec<String>,
}

fn rule_row(p: &IpPermission) -> RuleRow {
    RuleRow {
        protocol: p.ip_protocol().map(str::to_string),
        from_port: p.from_port().map(i64::from),
        to_port: p.to_port().map(i64::from),
        cidrs: p
            .ip_ranges()
            .iter()
            .filter_map(|r| r.cidr_ip())
            .map(str::to_string)
            .collect(),
        ipv6_cidrs: p
            .ipv6_ranges()
            .iter()
            .filter_map(|r| r.cidr_ipv6())
            .map(str::to_string)
            .collect(),
        prefix_list_ids: p
            .prefix_list_ids()
            .iter()
            .filter_map(|r| r.prefix_list_id())
            .map(str::to_string)
            .collect(),
        referenced_groups: p
            .user_id_group_pairs()
            .iter()
            .filter_map(|g| g.group_id())
            .map(str::to_string)
            .collect(),
    }
}

/// The row of one group; `None` (counted by the caller) for a group without an id.
fn group_row(account_id: &str, region: &str, g: &SecurityGroup) -> Option<GroupRow> {
    Some(GroupRow {
        account_id: account_id.to_string(),
        region: region.to_string(),
        group_id: g.group_id()?.to_string(),
        group_name: g.group_name().map(str::to_string),
        description: g.description().map(str::to_string),
        vpc_id: g.vpc_id().map(str::to_string),
        owner_id: g.owner_id().map(str::to_string),
        ingress: g.ip_permissions().iter().map(rule_row).collect(),
        egress: g.ip_permissions_egress().iter().map(rule_row).collect(),
        tags: tags_of(g.tags()),
    })
}

#[async_trait::async_trait]
impl Source for SecurityGroupsSource {
    fn name(&self) -> &'static str {
        STAGE
    }

    fn staged_tables(&self) -> &'static [&'static str] {
        &[TABLE]
    }

    fn actions(&self) -> &'static [&'static str] {
        &["ec2:DescribeRegions", "ec2:DescribeSecurityGroups"]
    }

    async fn extract_account(&self, account: AccountInput<'_>, output: &RunOutput) -> Vec<StageOutcome> {
        let sink = match output.sink(TABLE) {
            Ok(sink) => sink,
            Err(err) => return vec![StageOutcome::start(account.account_id, STAGE, None).fail(&err)],
        };
        let scope = RegionScope {
            aws: account.aws,
            sdk: account.sdk,
            account_id: account.account_id,
            settings: &self.0,
            stage: STAGE,
            what: "security groups",
        };
        each_region(&scope, |region| async move {
            let client = ec2_client(account.sdk, account.account_id, Some(&region));
            let groups: Vec<SecurityGroup> = client
                .describe_security_groups()
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| account.aws.error("ec2:DescribeSecurityGroups", e))?;
            let rows: Vec<GroupRow> = groups
                .iter()
                .filter_map(|g| group_row(account.account_id, &region, g))
                .collect();
            let without_id = groups.len() - rows.len();
            sink.send(&rows).await?;
            Ok(RegionRows {
                rows: rows.len(),
                note: (without_id > 0).then(|| format!("{without_id} groups without an id, not written")),
            })
        })
        .await
    }
}
