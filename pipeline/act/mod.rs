//! Owner tagging: the plan is SQL (`queries/act/owner_tag_plan.sql`) over this run's
//! instances and accounts; tags are written only with `--apply`, batched per account,
//! region and value; every decision lands in `tag_actions`.
//!
//! Order with `--apply`: the plan and an `intended` row per change are committed with the
//! run (its manifest written), then CreateTags is called, then the `applied` / `failed`
//! rows are added to the committed run. A process killed between the call and its outcome
//! still leaves the intent in a committed table.
//!
//! May import: `aws`, `config`, `error`, `lake`, `schema`, `status`.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::Tag;
use datafusion::prelude::SessionContext;
use futures::{StreamExt, stream};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use crate::aws::AwsContext;
use crate::aws::ec2_client;
use crate::aws::session::AccountSession;
use crate::config::{Config, TagConfig};
use crate::error::{Error, Result};
use crate::lake::batch::rows_to_batch;
use crate::schema::table;
use crate::status::{StageOutcome, status};

/// Stage name of tagging in `account_status`.
pub const STAGE: &str = "tag";
/// The plan query.
const PLAN_SQL: &str = include_str!("../../queries/act/owner_tag_plan.sql");
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

/// What the plan decides before anything is written to AWS: the audit rows to commit with
/// the run, the outcomes of refused accounts, and the changes to apply once committed.
pub struct Decision {
    /// Rows of `tag_actions` committed with the run: every instance's decision, and for
    /// `--apply` an `intended` row for each change (the record that covers the CreateTags
    /// call even if the process dies right after it).
    pub rows: Vec<ActionRow>,
    /// Outcomes of accounts whose changes were refused (over the limit).
    pub outcomes: Vec<StageOutcome>,
    /// The changes to write with CreateTags after the run has committed.
    pub to_apply: Vec<PlanRow>,
}

/// Decides what the plan does: a dry run without `--apply`; with it, the changes become
/// intents to apply after the commit, unless there are more than the limit allows.
pub fn decide(settings: &TagConfig, plan: &[PlanRow]) -> Decision {
    let changes = plan.iter().filter(|p| p.change).count() as u64;
    let mut rows: Vec<ActionRow> = plan
        .iter()
        .filter(|p| !p.change)
        .map(|p| ActionRow::of(p, "none", None))
        .collect();
    let changed = || plan.iter().filter(|p| p.change);
    if !settings.apply {
        info!(changes, "owner tag plan stored as a dry run; pass --apply to write it");
        rows.extend(changed().map(|p| ActionRow::of(p, "dry_run", None)));
        return Decision {
            rows,
            outcomes: Vec::new(),
            to_apply: Vec::new(),
        };
    }
    if changes > settings.max_changes && !settings.allow_many_changes {
        let message = format!(
            "refused to apply {changes} tag changes: more than max_tag_changes ({}); check the plan in tag_actions, then raise --max-tag-changes or pass --allow-many-tag-changes",
            settings.max_changes
        );
        warn!("{message}");
        rows.extend(changed().map(|p| ActionRow::of(p, "refused", Some(message.clone()))));
        let accounts: std::collections::BTreeSet<&str> = changed().map(|p| p.account_id.as_str()).collect();
        let outcomes = accounts
            .into_iter()
            .map(|account| {
                StageOutcome::start(account, STAGE, None).fail(&Error::Aws {
                    operation: "owner tagging".into(),
                    code: "TagLimitExceeded".into(),
                    message: message.clone(),
                })
            })
            .collect();
        return Decision {
            rows,
            outcomes,
            to_apply: Vec::new(),
        };
    }
    rows.extend(changed().map(|p| ActionRow::of(p, "intended", None)));
    Decision {
        rows,
        outcomes: Vec::new(),
        to_apply: changed().cloned().collect(),
    }
}

/// Writes the decided changes with CreateTags, batched per account, region and value;
/// returns one `applied` or `failed` audit row per change and one outcome per account.
/// Called only once the run that records their intent has committed.
pub async fn apply(aws: &AwsContext, config: &Config, to_apply: &[PlanRow]) -> (Vec<ActionRow>, Vec<StageOutcome>) {
    let mut by_account: BTreeMap<&str, Vec<&PlanRow>> = BTreeMap::new();
    for p in to_apply {
        by_account.entry(&p.account_id).or_default().push(p);
    }
    let results: Vec<(Vec<ActionRow>, StageOutcome)> = stream::iter(by_account)
        .map(|(account, planned)| apply_account(aws, config, account, planned))
        .buffer_unordered(config.max_concurrency)
        .collect()
        .await;
    let mut rows = Vec::new();
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
    let session = match AccountSession::assume(aws, config, account).await {
        Ok(session) => session,
        Err(err) => {
            let rows = planned
                .iter()
                .map(|p| ActionRow::of(p, "failed", Some(err.to_string())))
                .collect();
            return (rows, timer.fail(&err));
        }
    };
    let sdk = aws.for_account(session.provider(), None);
    let mut groups: BTreeMap<(&str, &str, &str), Vec<&PlanRow>> = BTreeMap::new();
    for p in &planned {
        groups
            .entry((&p.region, &p.tag_key, p.new_value.as_deref().unwrap_or_default()))
            .or_default()
            .push(p);
    }
    let mut rows = Vec::new();
    let mut first_error = None;
    for ((region, key, value), members) in groups {
        let client = ec2_client(&sdk, account, Some(region));
        for chunk in members.chunks(RESOURCES_PER_CALL) {
            let ids: Vec<String> = chunk.iter().map(|p| p.instance_id.clone()).collect();
            let tag = Tag::builder().key(key).value(value).build();
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
