//! Discovery: which accounts are in scope, with their place in the OU tree and their tags.
//!
//! May import: `aws`, `config`, `error`.

use std::collections::HashMap;

use aws_sdk_organizations::Client;
use aws_sdk_organizations::types::Account;
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt, stream};
use serde::Serialize;
use tracing::{debug, info};

use crate::aws::AwsContext;
use crate::aws::tags::tag_value;
use crate::config::Scope;
use crate::error::{Error, Result};

/// Organizations calls run at most this many at a time: its request limits are low.
const ORGANIZATIONS_CONCURRENCY: usize = 4;

/// One member account, as the `accounts` table stores it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AccountRecord {
    /// 12-digit account id.
    pub account_id: String,
    /// Account name.
    pub account_name: Option<String>,
    /// Root email.
    pub email: Option<String>,
    /// Organizations ARN.
    pub arn: Option<String>,
    /// Status as AWS reports it (raw value kept).
    pub status: Option<String>,
    /// INVITED or CREATED.
    pub joined_method: Option<String>,
    /// When the account joined.
    pub joined_at: Option<DateTime<Utc>>,
    /// Direct parent (OU or root) id.
    pub ou_id: String,
    /// Slash-joined names from the root to the parent.
    pub ou_path: String,
    /// The `owner` tag.
    pub owner_tag: Option<String>,
    /// Every tag.
    pub tags: std::collections::BTreeMap<String, String>,
    /// Whether the account will be scanned (only ACTIVE ones are).
    pub scanned: bool,
}

impl AccountRecord {
    /// True when the account can be scanned. Suspended or closing accounts are listed only.
    pub fn is_active(&self) -> bool {
        self.status.as_deref().is_none_or(|s| s == "ACTIVE")
    }
}

/// What discovery found.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// The organization id.
    pub organization_id: String,
    /// Accounts in scope, sorted by id.
    pub accounts: Vec<AccountRecord>,
}

/// Finds every account in `scope`, with OU paths; their tags come from [`account_tags`],
/// one call per account, which the run makes while it scans. `found` is called with each
/// account as soon as its OU's listing returns, before the walk ends, so that a scan can
/// start on it while the rest of the tree is walked (an account under two scope OUs is
/// found twice; the returned list holds it once). Every OU of the scope is checked before
/// any account is found, so a bad OU id fails the run before anything is scanned.
pub async fn discover(
    aws: &AwsContext,
    scope: &Scope,
    expected_org: Option<&str>,
    found: &(dyn Fn(&AccountRecord) + Send + Sync),
) -> Result<Discovery> {
    let client = aws.organizations();
    let org = client
        .describe_organization()
        .send()
        .await
        .map_err(|e| aws.error("organizations:DescribeOrganization", e))?;
    let organization_id = org.organization().and_then(|o| o.id()).unwrap_or_default().to_string();
    if let Some(expected) = expected_org
        && expected != organization_id
    {
        return Err(Error::config(
            "organization_id",
            "configuration",
            format!(
                "the credentials belong to organization {organization_id}, not {expected}; fix ORGANIZATION_ID or use the other organization's credentials"
            ),
        ));
    }
    let mut walker = Walker {
        aws,
        client: &client,
        paths: HashMap::new(),
        found,
    };
    let mut accounts = match scope {
        Scope::Root => {
            let root = walker.root().await?;
            walker.accounts_under(&root).await?
        }
        Scope::Ous(ous) => {
            for ou in ous {
                walker.check_ou(ou).await?;
            }
            let mut all = Vec::new();
            for ou in ous {
                all.extend(walker.accounts_under(ou).await?);
            }
            all
        }
        Scope::Accounts(ids) => walker.explicit_accounts(ids).await?,
    };
    accounts.sort_by(|a, b| a.account_id.cmp(&b.account_id));
    accounts.dedup_by(|a, b| a.account_id == b.account_id);
    info!(organization_id, accounts = accounts.len(), "discovered accounts");
    Ok(Discovery {
        organization_id,
        accounts,
    })
}

struct Walker<'a> {
    aws: &'a AwsContext,
    client: &'a Client,
    /// OU or root id -> slash-joined path of names.
    paths: HashMap<String, String>,
    /// Told of each account as soon as it is listed.
    found: &'a (dyn Fn(&AccountRecord) + Send + Sync),
}

impl Walker<'_> {
    async fn root(&mut self) -> Result<String> {
        let roots = self
            .client
            .list_roots()
            .send()
            .await
            .map_err(|e| self.aws.error("organizations:ListRoots", e))?;
        let root = roots.roots().first().ok_or_else(|| Error::Aws {
            operation: "organizations:ListRoots".into(),
            code: "NoRoot".into(),
            message: "the organization has no root; is AWS Organizations enabled for these credentials?".into(),
        })?;
        let id = root.id().unwrap_or_default().to_string();
        self.paths.insert(id.clone(), root.name().unwrap_or("Root").to_string());
        Ok(id)
    }

    /// Fails with [`Error::UnknownOu`] when the OU does not exist; records its path.
    async fn check_ou(&mut self, ou: &str) -> Result<()> {
        self.path_of(ou).await.map(|_| ())
    }

    /// The path of an OU or root id, walking parents up to the root.
    async fn path_of(&mut self, id: &str) -> Result<String> {
        if let Some(path) = self.paths.get(id) {
            return Ok(path.clone());
        }
        if id.starts_with("r-") {
            let root = self.root().await?;
            if root != id {
                return Err(Error::UnknownOu(id.to_string()));
            }
            return Ok(self.paths[id].clone());
        }
        let name = self.unit_name(id).await?;
        let parent = self.parent_of(id).await?;
        let path = format!("{}/{name}", Box::pin(self.path_of(&parent)).await?);
        self.paths.insert(id.to_string(), path.clone());
        Ok(path)
    }

    async fn parent_of(&self, child: &str) -> Result<String> {
        let parents = self
            .client
            .list_parents()
            .child_id(child)
            .send()
            .await
            .map_err(|e| self.aws.error("organizations:ListParents", e))?;
        parents
            .parents()
            .first()
            .and_then(|p| p.id())
            .map(str::to_string)
            .ok_or_else(|| Error::Aws {
                operation: "organizations:ListParents".into(),
                code: "NoParent".into(),
                message: format!("{child} has no parent"),
            })
    }

    /// Every account under `parent`, recursively (every OU below it, every page). One level
    /// of the tree at a time, a few units at once: each unit's accounts and its child units
    /// (with their names) are listed together, and its accounts are passed to `found` at
    /// once.
    async fn accounts_under(&mut self, parent: &str) -> Result<Vec<AccountRecord>> {
        let mut found = Vec::new();
        self.path_of(parent).await?;
        let mut level = vec![parent.to_string()];
        while !level.is_empty() {
            let this = &*self;
            let listed: Vec<(String, Vec<AccountRecord>, Vec<(String, String)>)> = stream::iter(level)
                .map(|ou| async move {
                    let (accounts, children) = futures::try_join!(this.accounts_of(&ou), this.child_units(&ou))?;
                    let path = &this.paths[&ou];
                    let records: Vec<AccountRecord> = accounts.iter().map(|a| record(a, &ou, path)).collect();
                    records.iter().for_each(this.found);
                    Ok::<_, Error>((ou, records, children))
                })
                .buffered(ORGANIZATIONS_CONCURRENCY / 2)
                .try_collect()
                .await?;
            level = Vec::new();
            for (ou, records, units) in listed {
                found.extend(records);
                for (unit, name) in units {
                    debug!(parent = %ou, child = %unit, "descending into OU");
                    let path = format!("{}/{name}", self.paths[&ou]);
                    self.paths.insert(unit.clone(), path);
                    level.push(unit);
                }
            }
        }
        Ok(found)
    }

    /// The accounts directly under an OU or root, every page.
    async fn accounts_of(&self, ou: &str) -> Result<Vec<Account>> {
        let pages: Vec<_> = self
            .client
            .list_accounts_for_parent()
            .parent_id(ou)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| self.aws.error("organizations:ListAccountsForParent", e))?;
        Ok(pages.iter().flat_map(|page| page.accounts().iter().cloned()).collect())
    }

    /// The OUs directly under an OU or root, as (id, name), every page: their names come
    /// with the listing, so no OU below the scope is described on its own.
    async fn child_units(&self, ou: &str) -> Result<Vec<(String, String)>> {
        let pages: Vec<_> = self
            .client
            .list_organizational_units_for_parent()
            .parent_id(ou)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| self.aws.error("organizations:ListOrganizationalUnitsForParent", e))?;
        Ok(pages
            .iter()
            .flat_map(|page| page.organizational_units())
            .filter_map(|unit| {
                let id = unit.id()?;
                Some((id.to_string(), unit.name().unwrap_or(id).to_string()))
            })
            .collect())
    }

    /// An OU's name; [`Error::UnknownOu`] when it does not exist.
    async fn unit_name(&self, id: &str) -> Result<String> {
        let described = self
            .client
            .describe_organizational_unit()
            .organizational_unit_id(id)
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error()
                    .is_some_and(|s| s.is_organizational_unit_not_found_exception())
                {
                    Error::UnknownOu(id.to_string())
                } else {
                    self.aws.error("organizations:DescribeOrganizationalUnit", e)
                }
            })?;
        Ok(described
            .organizational_unit()
            .and_then(|o| o.name())
            .unwrap_or(id)
            .to_string())
    }

    async fn explicit_accounts(&mut self, ids: &[String]) -> Result<Vec<AccountRecord>> {
        let mut found = Vec::new();
        for id in ids {
            let described = self
                .client
                .describe_account()
                .account_id(id)
                .send()
                .await
                .map_err(|e| {
                    if e.as_service_error().is_some_and(|s| s.is_account_not_found_exception()) {
                        Error::config(
                            "accounts",
                            "configuration",
                            format!("account {id} is not in the organization; check --account"),
                        )
                    } else {
                        self.aws.error("organizations:DescribeAccount", e)
                    }
                })?;
            let Some(account) = described.account() else {
                continue;
            };
            let parent = self.parent_of(id).await?;
            let path = self.path_of(&parent).await?;
            let account = record(account, &parent, &path);
            (self.found)(&account);
            found.push(account);
        }
        Ok(found)
    }
}

#[allow(deprecated)] // `status` is deprecated in favour of `state`; moto and older orgs fill only `status`.
fn record(account: &Account, ou_id: &str, ou_path: &str) -> AccountRecord {
    let status = account
        .state()
        .map(|s| s.as_str().to_string())
        .or_else(|| account.status().map(|s| s.as_str().to_string()));
    let record = AccountRecord {
        account_id: account.id().unwrap_or_default().to_string(),
        account_name: account.name().map(str::to_string),
        email: account.email().map(str::to_string),
        arn: account.arn().map(str::to_string),
        status,
        joined_method: account.joined_method().map(|m| m.as_str().to_string()),
        joined_at: account
            .joined_timestamp()
            .and_then(|t| DateTime::from_timestamp_micros(t.to_millis().ok()? * 1000)),
        ou_id: ou_id.to_string(),
        ou_path: ou_path.to_string(),
        owner_tag: None,
        tags: Default::default(),
        scanned: false,
    };
    AccountRecord {
        scanned: record.is_active(),
        ..record
    }
}

/// The tags of one account.
#[derive(Debug, Clone)]
pub struct AccountTags {
    /// The account.
    pub account_id: String,
    /// Every tag.
    pub tags: std::collections::BTreeMap<String, String>,
}

/// Reads the tags of every account, [`ORGANIZATIONS_CONCURRENCY`] calls at a time (one
/// ListTagsForResource per account: at thousands of accounts the longest part of
/// discovery, so the run makes it while it scans).
pub async fn account_tags(aws: &AwsContext, account_ids: Vec<String>) -> Result<Vec<AccountTags>> {
    let client = aws.organizations();
    let client = &client;
    let tags = stream::iter(account_ids)
        .map(|account_id| async move {
            let tags: Vec<_> = client
                .list_tags_for_resource()
                .resource_id(&account_id)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| aws.error("organizations:ListTagsForResource", e))?;
            Ok::<_, Error>(AccountTags {
                account_id,
                tags: tags
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect(),
            })
        })
        .buffer_unordered(ORGANIZATIONS_CONCURRENCY)
        .try_collect()
        .await?;
    debug!("read the tags of every account");
    Ok(tags)
}

impl Discovery {
    /// Sets each account's tags and `owner_tag`; `owner_key` names the tag whose value
    /// becomes `owner_tag` (matched exactly, else ignoring case).
    pub fn apply_tags(&mut self, tags: Vec<AccountTags>, owner_key: &str) {
        let mut by_account: HashMap<String, std::collections::BTreeMap<String, String>> =
            tags.into_iter().map(|t| (t.account_id, t.tags)).collect();
        for account in &mut self.accounts {
            if let Some(tags) = by_account.remove(&account.account_id) {
                account.owner_tag = tag_value(&tags, owner_key).cloned();
                account.tags = tags;
            }
        }
    }
}
