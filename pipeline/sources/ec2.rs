//! EC2 source: enabled regions, every instance (paginated), and the AMIs they use.

use std::collections::{BTreeMap, BTreeSet};

use aws_config::SdkConfig;
use aws_sdk_ec2::types::{Filter, Image, Instance, InstanceStateName};
use chrono::{DateTime, NaiveDateTime, Utc};

use serde::Serialize;
use tracing::debug;

use crate::aws::tags::{tag_entry, tag_value};
use crate::aws::{AwsContext, ec2_client};
pub use crate::config::sources::Ec2Settings;
use crate::error::Result;
use crate::lake::batch::micros;
use crate::lake::sink::Sink;
use crate::sources::regions::{RegionRows, RegionScope, each_region};
use crate::sources::to_utc;
use crate::status::StageOutcome;

/// Stage name of the EC2 source in `account_status`.
pub const STAGE: &str = "ec2";
/// Page size for DescribeInstances. Paginated, unfiltered calls without `MaxResults` get
/// a smaller throttling bucket from EC2.
pub(crate) const PAGE_SIZE: i32 = 1000;
/// AMI ids per DescribeImages call (as an `image-id` filter, which, unlike `ImageIds`,
/// does not fail when one of them no longer exists).
pub(crate) const IMAGES_PER_CALL: usize = 100;

/// Where the EC2 source writes.
#[derive(Clone, Debug)]
pub struct Ec2Sinks {
    /// `ec2_instances_extracted`.
    pub instances: Sink,
    /// `ec2_images_extracted`.
    pub images: Sink,
}

/// One row of `ec2_instances_extracted`.
#[derive(Debug, Serialize)]
pub struct InstanceRow {
    pub(crate) account_id: String,
    pub(crate) region: String,
    pub(crate) availability_zone: Option<String>,
    pub(crate) instance_id: String,
    pub(crate) instance_type: Option<String>,
    pub(crate) state: Option<String>,
    pub(crate) state_reason: Option<String>,
    pub(crate) state_transition_reason: Option<String>,
    #[serde(serialize_with = "micros")]
    pub(crate) state_transition_time: Option<DateTime<Utc>>,
    #[serde(serialize_with = "micros")]
    pub(crate) launch_time: Option<DateTime<Utc>>,
    #[serde(serialize_with = "micros")]
    pub(crate) terminated_at: Option<DateTime<Utc>>,
    pub(crate) image_id: Option<String>,
    pub(crate) platform: Option<String>,
    pub(crate) platform_details: Option<String>,
    pub(crate) architecture: Option<String>,
    pub(crate) vpc_id: Option<String>,
    pub(crate) subnet_id: Option<String>,
    pub(crate) private_ip: Option<String>,
    pub(crate) public_ip: Option<String>,
    pub(crate) private_dns: Option<String>,
    pub(crate) public_dns: Option<String>,
    pub(crate) key_name: Option<String>,
    pub(crate) iam_instance_profile_arn: Option<String>,
    pub(crate) security_group_ids: Vec<String>,
    pub(crate) security_group_names: Vec<String>,
    pub(crate) root_device_type: Option<String>,
    pub(crate) root_device_name: Option<String>,
    pub(crate) monitoring_state: Option<String>,
    pub(crate) lifecycle: Option<String>,
    pub(crate) tenancy: Option<String>,
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) owner_tag: Option<String>,
    pub(crate) owner_tag_key: Option<String>,
    pub(crate) name_tag: Option<String>,
}

crate::lake::columns::staged_row_columns!(InstanceRow {
    account_id,
    region,
    availability_zone,
    instance_id,
    instance_type,
    state,
    state_reason,
    state_transition_reason,
    state_transition_time,
    launch_time,
    terminated_at,
    image_id,
    platform,
    platform_details,
    architecture,
    vpc_id,
    subnet_id,
    private_ip,
    public_ip,
    private_dns,
    public_dns,
    key_name,
    iam_instance_profile_arn,
    security_group_ids,
    security_group_names,
    root_device_type,
    root_device_name,
    monitoring_state,
    lifecycle,
    tenancy,
    tags,
    owner_tag,
    owner_tag_key,
    name_tag,
});

/// One row of `ec2_images_extracted`.
#[derive(Debug, Serialize)]
pub struct ImageRow {
    pub(crate) account_id: String,
    pub(crate) region: String,
    pub(crate) image_id: String,
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) owner_id: Option<String>,
    pub(crate) owner_alias: Option<String>,
    pub(crate) platform_details: Option<String>,
    pub(crate) architecture: Option<String>,
    pub(crate) image_type: Option<String>,
    pub(crate) state: Option<String>,
    #[serde(serialize_with = "micros")]
    pub(crate) creation_date: Option<DateTime<Utc>>,
    #[serde(serialize_with = "micros")]
    pub(crate) deprecation_time: Option<DateTime<Utc>>,
    pub(crate) public: Option<bool>,
    pub(crate) root_device_type: Option<String>,
    pub(crate) tags: BTreeMap<String, String>,
}

crate::lake::columns::staged_row_columns!(ImageRow {
    account_id,
    region,
    image_id,
    name,
    description,
    owner_id,
    owner_alias,
    platform_details,
    architecture,
    image_type,
    state,
    creation_date,
    deprecation_time,
    public,
    root_device_type,
    tags,
});

/// The EC2 source: instances and images of every scanned region.
#[derive(Debug)]
pub struct Ec2Source(pub Ec2Settings);

#[async_trait::async_trait]
impl crate::sources::Source for Ec2Source {
    fn name(&self) -> &'static str {
        STAGE
    }

    fn staged_tables(&self) -> &'static [&'static str] {
        &["ec2_instances_extracted", "ec2_images_extracted"]
    }

    fn actions(&self) -> &'static [&'static str] {
        &["ec2:DescribeRegions", "ec2:DescribeInstances", "ec2:DescribeImages"]
    }

    async fn extract_account(
        &self,
        account: crate::sources::AccountInput<'_>,
        output: &crate::sources::RunOutput,
    ) -> Vec<StageOutcome> {
        let sinks = match (
            output.sink("ec2_instances_extracted"),
            output.sink("ec2_images_extracted"),
        ) {
            (Ok(instances), Ok(images)) => Ec2Sinks {
                instances: instances.clone(),
                images: images.clone(),
            },
            (Err(err), _) | (_, Err(err)) => {
                return vec![StageOutcome::start(account.account_id, STAGE, None).fail(&err)];
            }
        };
        extract_account(account.aws, account.sdk, account.account_id, &self.0, &sinks).await
    }
}

/// Scans one account: its enabled regions in parallel. Returns one outcome per region
/// (ok, no_data, skipped for regions not enabled or denied by policy, error), plus an
/// account-level `no_data` outcome when no scanned region holds an instance.
pub async fn extract_account(
    aws: &AwsContext,
    sdk: &SdkConfig,
    account_id: &str,
    settings: &Ec2Settings,
    sinks: &Ec2Sinks,
) -> Vec<StageOutcome> {
    let scope = RegionScope {
        aws,
        sdk,
        account_id,
        settings,
        stage: STAGE,
        what: "instances",
    };
    each_region(&scope, |region| async move {
        let scan = extract_region(aws, sdk, account_id, &region, settings, sinks).await?;
        Ok(RegionRows {
            rows: scan.instances + scan.without_id,
            note: scan.note(),
        })
    })
    .await
}

/// What one region's scan found, with what AWS returned that this code did not expect.
#[derive(Debug, Default, PartialEq)]
struct RegionScan {
    /// Instances written.
    instances: usize,
    /// Of those, instances whose state name this SDK does not know (kept raw).
    unexpected_states: usize,
    /// Instances without an instance id (nothing to key them by: counted, not written).
    without_id: usize,
}

impl RegionScan {
    /// The outcome message: what was unexpected, if anything.
    fn note(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.unexpected_states > 0 {
            parts.push(format!(
                "{} instances with a state this version does not know, kept raw",
                self.unexpected_states
            ));
        }
        if self.without_id > 0 {
            parts.push(format!(
                "{} instances without an instance id, not written",
                self.without_id
            ));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }

    /// Counts what is unexpected in `instances`.
    fn inspect(&mut self, instances: &[&Instance]) {
        for instance in instances {
            if instance.instance_id().is_none() {
                self.without_id += 1;
            } else if instance
                .state()
                .and_then(|s| s.name())
                .is_some_and(|name| !InstanceStateName::values().contains(&name.as_str()))
            {
                self.unexpected_states += 1;
            }
        }
    }
}

/// Extracts one region: instances page by page, then the AMIs they use.
async fn extract_region(
    aws: &AwsContext,
    sdk: &SdkConfig,
    account_id: &str,
    region: &str,
    settings: &Ec2Settings,
    sinks: &Ec2Sinks,
) -> Result<RegionScan> {
    let client = ec2_client(sdk, account_id, Some(region));
    let mut pages = client
        .describe_instances()
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    let mut scan = RegionScan::default();
    let mut image_ids = BTreeSet::new();
    while let Some(page) = pages
        .try_next()
        .await
        .map_err(|e| aws.error("ec2:DescribeInstances", e))?
    {
        let instances: Vec<&Instance> = page.reservations().iter().flat_map(|r| r.instances()).collect();
        scan.inspect(&instances);
        let rows: Vec<InstanceRow> = instances
            .iter()
            .filter_map(|i| instance_row(account_id, region, i, &settings.owner_tag_key))
            .collect();
        image_ids.extend(rows.iter().filter_map(|r| r.image_id.clone()));
        scan.instances += rows.len();
        sinks.instances.send(&rows).await?;
    }
    let ids: Vec<String> = image_ids.into_iter().collect();
    for chunk in ids.chunks(IMAGES_PER_CALL) {
        let filter = Filter::builder()
            .name("image-id")
            .set_values(Some(chunk.to_vec()))
            .build();
        let images: Vec<Image> = client
            .describe_images()
            .filters(filter)
            .include_deprecated(true)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| aws.error("ec2:DescribeImages", e))?;
        let rows: Vec<ImageRow> = images.iter().filter_map(|i| image_row(account_id, region, i)).collect();
        sinks.images.send(&rows).await?;
    }
    debug!(
        account = account_id,
        region,
        instances = scan.instances,
        "region scanned"
    );
    Ok(scan)
}

/// Every tag of an EC2 resource, by key (a tag without a key is dropped).
pub(crate) fn tags_of(tags: &[aws_sdk_ec2::types::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string())))
        .collect()
}

/// Parses the time in a state transition reason such as
/// `User initiated (2026-11-02 10:00:00 GMT)`; `None` when there is none.
pub fn transition_time(reason: &str) -> Option<DateTime<Utc>> {
    let inner = reason.rsplit_once('(')?.1.split_once(')')?.0.trim();
    let (stamp, zone) = inner.rsplit_once(' ')?;
    if !matches!(zone, "GMT" | "UTC") {
        return None;
    }
    NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|t| t.and_utc())
}

fn instance_row(account_id: &str, region: &str, i: &Instance, owner_key: &str) -> Option<InstanceRow> {
    let instance_id = i.instance_id()?.to_string();
    let tags = tags_of(i.tags());
    let state = i.state().and_then(|s| s.name()).map(|n| n.as_str().to_string());
    let transition_reason = i
        .state_transition_reason()
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    let transition = transition_reason.as_deref().and_then(transition_time);
    let terminated_at = if state.as_deref() == Some("terminated") {
        transition
    } else {
        None
    };
    Some(InstanceRow {
        account_id: account_id.to_string(),
        region: region.to_string(),
        availability_zone: i.placement().and_then(|p| p.availability_zone()).map(str::to_string),
        instance_id,
        instance_type: i.instance_type().map(|t| t.as_str().to_string()),
        state,
        state_reason: i.state_reason().and_then(|r| r.message()).map(str::to_string),
        state_transition_reason: transition_reason,
        state_transition_time: transition,
        launch_time: i.launch_time().and_then(to_utc),
        terminated_at,
        image_id: i.image_id().map(str::to_string),
        platform: i.platform().map(|p| p.as_str().to_string()),
        platform_details: i.platform_details().map(str::to_string),
        architecture: i.architecture().map(|a| a.as_str().to_string()),
        vpc_id: i.vpc_id().map(str::to_string),
        subnet_id: i.subnet_id().map(str::to_string),
        private_ip: i.private_ip_address().map(str::to_string),
        public_ip: i.public_ip_address().map(str::to_string),
        private_dns: i.private_dns_name().filter(|d| !d.is_empty()).map(str::to_string),
        public_dns: i.public_dns_name().filter(|d| !d.is_empty()).map(str::to_string),
        key_name: i.key_name().map(str::to_string),
        iam_instance_profile_arn: i.iam_instance_profile().and_then(|p| p.arn()).map(str::to_string),
        security_group_ids: i
            .security_groups()
            .iter()
            .filter_map(|g| g.group_id())
            .map(str::to_string)
            .collect(),
        security_group_names: i
            .security_groups()
            .iter()
            .filter_map(|g| g.group_name())
            .map(str::to_string)
            .collect(),
        root_device_type: i.root_device_type().map(|t| t.as_str().to_string()),
        root_device_name: i.root_device_name().map(str::to_string),
        monitoring_state: i.monitoring().and_then(|m| m.state()).map(|s| s.as_str().to_string()),
        lifecycle: i.instance_lifecycle().map(|l| l.as_str().to_string()),
        tenancy: i.placement().and_then(|p| p.tenancy()).map(|t| t.as_str().to_string()),
        owner_tag: tag_value(&tags, owner_key).cloned(),
        owner_tag_key: tag_entry(&tags, owner_key).map(|(key, _)| key.clone()),
        name_tag: tag_value(&tags, "Name").cloned(),
        tags,
    })
}

fn image_row(account_id: &str, region: &str, i: &Image) -> Option<ImageRow> {
    let parse = |s: Option<&str>| {
        s.and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    Some(ImageRow {
        account_id: account_id.to_string(),
        region: region.to_string(),
        image_id: i.image_id()?.to_string(),
        name: i.name().map(str::to_string),
        description: i.description().map(str::to_string),
        owner_id: i.owner_id().map(str::to_string),
        owner_alias: i.image_owner_alias().map(str::to_string),
        platform_details: i.platform_details().map(str::to_string),
        architecture: i.architecture().map(|a| a.as_str().to_string()),
        image_type: i.image_type().map(|t| t.as_str().to_string()),
        state: i.state().map(|s| s.as_str().to_string()),
        creation_date: parse(i.creation_date()),
        deprecation_time: parse(i.deprecation_time()),
        public: i.public(),
        root_device_type: i.root_device_type().map(|t| t.as_str().to_string()),
        tags: tags_of(i.tags()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_times_are_parsed_from_reasons() {
        let t = transition_time("User initiated (2026-11-02 10:00:01 GMT)").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-02T10:00:01+00:00");
        assert!(transition_time("User initiated (2026-11-02 10:00:01 UTC)").is_some());
        for bad in [
            "",
            "User initiated",
            "Server.SpotInstanceTermination",
            "(garbage)",
            "x (2026-13-45 99:00:00 GMT)",
            "(2026-11-02 10:00:01 PST)",
        ] {
            assert_eq!(transition_time(bad), None, "{bad:?}");
        }
    }
}
