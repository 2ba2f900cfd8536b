//! Owner tagging: the plan is SQL (`queries/act/owner_tag_plan.sql`) over this run's
//! instances and accounts; tags are written only with `--apply`, batched per account,
//! region and value; every decision lands in `tag_actions`.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::Tag;
use datafusion::prelude::SessionContext;
use futures::{StreamExt, stream};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use crate::aws::AwsContext;
use crate::batch::rows_to_batch;
use crate::config::{Config, TagConfig};
use crate::error::{Error, Result};
use crate::extract::ec2::ec2_client;
use crate::scan::assume_role;
use crate::schema::table;
use crate::status::{StageOutcome, status};

/// Stage name of tagging in `account_status`.
pub const STAGE: &str = "tag";
/// The plan query.
const PLAN_SQL: &str = include_str!("../queries/act/owner_tag_plan.sql");
/// Instances per CreateTags call (the API takes up to 1,000 resources).
const RESOURCES_PER_CALL: usize = 1000;

/// One instance's decision, as the plan query returns it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct PlanRow {
    /// Account id.
    pub account_id: String,
    /// Region.
    pub region: String,
    /// Instance id.
    pub instance_id: String,
    /// Instance state.
    pub instance_state: Option<String>,
    /// The tag key.
    pub tag_key: String,
    /// Current value.
    pub old_value: Option<String>,
    /// The value it should carry.
    pub new_value: Option<String>,
    /// Why.
    pub reason: String,
    /// Whether the plan writes the tag.
    pub change: bool,
}

/// One row of `tag_actions`.
#[derive(Debug, Clone, Serialize)]
pub struct ActionRow {
    account_id: String,
    region: String,
    instance_id: String,
    instance_state: Option<String>,
    tag_key: String,
    old_value: Option<String>,
    new_value: Option<String>,
    reason: String,
    change: bool,
    mode: String,
    error: Option<String>,
}

impl ActionRow {
    fn of(plan: &PlanRow, mode: &str, error: Option<String>) -> Self {
        ActionRow {
            account_id: plan.account_id.clone(),
            region: plan.region.clone(),
            instance_id: plan.instance_id.clone(),
            instance_state: plan.instance_state.clone(),
            tag_key: plan.tag_key.clone(),
            old_value: plan.old_value.clone(),
            new_value: plan.new_value.clone(),
            reason: plan.reason.clone(),
            change: plan.change,
            mode: mode.to_string(),
            error,
        }
    }
}

#[derive(Serialize)]
struct TagParams<'a> {
    tag_key: &'a str,
    skip_domains: &'a [String],
    include_accounts: &'a [String],
    exclude_accounts: &'a [String],
    include_states: &'a [String],
    overwrite: bool,
}

/// Computes the plan in a session where this run's inputs are registered.
pub async fn plan(ctx: &SessionContext, settings: &TagConfig, run_id: &str) -> Result<Vec<PlanRow>> {
    let params = [TagParams {
        tag_key: &settings.key,
        skip_domains: &settings.skip_domains,
        include_accounts: &settings.include_accounts,
        exclude_accounts: &settings.exclude_accounts,
        include_states: &settings.include_states,
        overwrite: settings.overwrite,
    }];
    let batch = rows_to_batch(table("tag_params")?, run_id, &params)?;
    let mem = datafusion::datasource::MemTable::try_new(batch.schema(), vec![vec![batch]])?;
    ctx.register_table("tag_params", std::sync::Arc::new(mem))?;
    let batches = ctx.sql(PLAN_SQL).await?.collect().await?;
    let mut writer = arrow::json::ArrayWriter::new(Vec::new());
    for batch in &batches {
        writer.write(batch)?;
    }
    writer.finish()?;
    let json = writer.into_inner();
    if json.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_slice(&json).map_err(|e| Error::Schema(format!("the owner tag plan does not match PlanRow: {e}")))
}

/// Applies the plan when `--apply` is set (else records a dry run); returns the audit
/// rows and one outcome per account with changes.
pub async fn apply(aws: &AwsContext, config: &Config, plan: &[PlanRow]) -> (Vec<ActionRow>, Vec<StageOutcome>) {
    let settings = &config.tagging;
    let changes = plan.iter().filter(|p| p.change).count() as u64;
    let mut rows: Vec<ActionRow> = plan
        .iter()
        .filter(|p| !p.change)
        .map(|p| ActionRow::of(p, "none", None))
        .collect();
    let mut by_account: BTreeMap<&str, Vec<&PlanRow>> = BTreeMap::new();
    for p in plan.iter().filter(|p| p.change) {
        by_account.entry(&p.account_id).or_default().push(p);
    }
    if !settings.apply {
        info!(changes, "owner tag plan stored as a dry run; pass --apply to write it");
        rows.extend(
            plan.iter()
                .filter(|p| p.change)
                .map(|p| ActionRow::of(p, "dry_run", None)),
        );
        return (rows, Vec::new());
    }
    if changes > settings.max_changes && !settings.allow_many_changes {
        let message = format!(
            "refused to apply {changes} tag changes: more than max_tag_changes ({}); check the plan in tag_actions, then raise --max-tag-changes or pass --allow-many-tag-changes",
            settings.max_changes
        );
        warn!("{message}");
        rows.extend(
            plan.iter()
                .filter(|p| p.change)
                .map(|p| ActionRow::of(p, "refused", Some(message.clone()))),
        );
        let outcomes = by_account
            .keys()
            .map(|account| {
                StageOutcome::start(account, STAGE, None).fail(&Error::Aws {
                    operation: "owner tagging".into(),
                    code: "TagLimitExceeded".into(),
                    message: message.clone(),
                })
            })
            .collect();
        return (rows, outcomes);
    }
    let results: Vec<(Vec<ActionRow>, StageOutcome)> = stream::iter(by_account)
        .map(|(account, planned)| apply_account(aws, config, account, planned))
        .buffer_unordered(config.max_concurrency)
        .collect()
        .await;
    let mut outcomes = Vec::new();
    for (account_rows, outcome) in results {
        rows.extend(account_rows);
        outcomes.push(outcome);
    }
    (rows, outcomes)
}

async fn apply_account(
    aws: &AwsContext,
    config: &Config,
    account: &str,
    planned: Vec<&PlanRow>,
) -> (Vec<ActionRow>, StageOutcome) {
    let timer = StageOutcome::start(account, STAGE, None);
    let credentials = match assume_role(aws, config, account).await {
        Ok(credentials) => credentials,
        Err(err) => {
            let rows = planned
                .iter()
                .map(|p| ActionRow::of(p, "failed", Some(err.to_string())))
                .collect();
            return (rows, timer.fail(&err));
        }
    };
    let sdk = aws.for_account(credentials, None);
    let mut groups: BTreeMap<(&str, &str), Vec<&PlanRow>> = BTreeMap::new();
    for p in &planned {
        groups
            .entry((&p.region, p.new_value.as_deref().unwrap_or_default()))
            .or_default()
            .push(p);
    }
    let mut rows = Vec::new();
    let mut first_error = None;
    for ((region, value), members) in groups {
        let client = ec2_client(&sdk, account, Some(region));
        for chunk in members.chunks(RESOURCES_PER_CALL) {
            let ids: Vec<String> = chunk.iter().map(|p| p.instance_id.clone()).collect();
            let tag = Tag::builder().key(&config.tagging.key).value(value).build();
            let result = client
                .create_tags()
                .set_resources(Some(ids))
                .tags(tag)
                .send()
                .await
                .map_err(|e| aws.error("ec2:CreateTags", e));
            match result {
                Ok(_) => rows.extend(chunk.iter().map(|p| ActionRow::of(p, "applied", None))),
                Err(err) => {
                    rows.extend(chunk.iter().map(|p| ActionRow::of(p, "failed", Some(err.to_string()))));
                    first_error.get_or_insert(err);
                }
            }
        }
    }
    let outcome = match first_error {
        None => timer.finish(status::OK, Some(format!("{} instances tagged", rows.len()))),
        Some(err) => timer.fail(&err),
    };
    (rows, outcome)
}
