//! IAM users source: per account, every user with groups, tags, console and MFA status,
//! access keys and their last use, and signing certificates.
//!
//! IAM's request limits are low and cannot be raised, so account-wide calls come first:
//! ListUsers (PasswordLastUsed) and GetAccountAuthorizationDetails (groups, tags, paths),
//! a few pages per account. Per user, only what nothing account-wide gives: ListAccessKeys,
//! GetAccessKeyLastUsed per key, ListMFADevices, GetLoginProfile, ListSigningCertificates.

use std::collections::{BTreeMap, HashMap};

use aws_config::SdkConfig;
use aws_sdk_iam::types::{EntityType, User};
use chrono::{DateTime, Utc};
use futures::{StreamExt, stream};
use serde::Serialize;

use crate::aws::AwsContext;
pub use crate::config::sources::IamSettings;
use crate::error::{Error, Result};
use crate::lake::batch::micros;
use crate::lake::sink::Sink;
use crate::sources::to_utc;
use crate::status::{StageOutcome, status};

/// Stage name of the IAM users source in `account_status`.
pub const STAGE: &str = "iam_users";

/// One access key of a user.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AccessKey {
    pub(crate) access_key_id: String,
    pub(crate) status: Option<String>,
    #[serde(serialize_with = "micros")]
    pub(crate) created_at: Option<DateTime<Utc>>,
    pub(crate) age_days: Option<i64>,
    #[serde(serialize_with = "micros")]
    pub(crate) last_used_at: Option<DateTime<Utc>>,
    pub(crate) last_used_service: Option<String>,
    pub(crate) last_used_region: Option<String>,
}

/// One signing certificate of a user.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SigningCertificate {
    pub(crate) certificate_id: String,
    pub(crate) status: Option<String>,
    #[serde(serialize_with = "micros")]
    pub(crate) uploaded_at: Option<DateTime<Utc>>,
}

/// One row of `iam_users_extracted` (and `iam_users`).
#[derive(Debug, Clone, Serialize)]
pub struct UserRow {
    pub(crate) account_id: String,
    pub(crate) account_alias: Option<String>,
    pub(crate) user_name: String,
    pub(crate) user_id: Option<String>,
    pub(crate) arn: Option<String>,
    pub(crate) path: Option<String>,
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) groups: Vec<String>,
    #[serde(serialize_with = "micros")]
    pub(crate) created_at: Option<DateTime<Utc>>,
    pub(crate) age_days: Option<i64>,
    pub(crate) mfa_enabled: Option<bool>,
    pub(crate) mfa_device_count: Option<i64>,
    pub(crate) console_access: Option<bool>,
    #[serde(serialize_with = "micros")]
    pub(crate) password_created_at: Option<DateTime<Utc>>,
    pub(crate) password_age_days: Option<i64>,
    #[serde(serialize_with = "micros")]
    pub(crate) password_last_used: Option<DateTime<Utc>>,
    #[serde(serialize_with = "micros")]
    pub(crate) last_activity: Option<DateTime<Utc>>,
    pub(crate) access_keys: Option<Vec<AccessKey>>,
    pub(crate) active_key_id: Option<String>,
    pub(crate) active_key_age_days: Option<i64>,
    #[serde(serialize_with = "micros")]
    pub(crate) active_key_last_used_at: Option<DateTime<Utc>>,
    pub(crate) active_key_count: Option<i64>,
    pub(crate) signing_certificates: Option<Vec<SigningCertificate>>,
    pub(crate) detail_error: Option<String>,
}

crate::lake::columns::staged_row_columns!(UserRow {
    account_id,
    account_alias,
    user_name,
    user_id,
    arn,
    path,
    tags,
    groups,
    created_at,
    age_days,
    mfa_enabled,
    mfa_device_count,
    console_access,
    password_created_at,
    password_age_days,
    password_last_used,
    last_activity,
    access_keys,
    active_key_id,
    active_key_age_days,
    active_key_last_used_at,
    active_key_count,
    signing_certificates,
    detail_error,
});

/// Users of one account whose details are read at once: IAM's request limits are low,
/// shared by the whole account, and cannot be raised.
pub const USER_CONCURRENCY: usize = 4;

/// The IAM users source: every user with keys, MFA, login profile, groups and tags.
#[derive(Debug)]
pub struct IamUsersSource(pub IamSettings);

#[async_trait::async_trait]
impl crate::sources::Source for IamUsersSource {
    fn name(&self) -> &'static str {
        STAGE
    }

    fn staged_tables(&self) -> &'static [&'static str] {
        &["iam_users_extracted"]
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "iam:ListUsers",
            "iam:GetAccountAuthorizationDetails",
            "iam:ListAccessKeys",
            "iam:GetAccessKeyLastUsed",
            "iam:ListMFADevices",
            "iam:GetLoginProfile",
            "iam:ListSigningCertificates",
            "iam:ListAccountAliases",
        ]
    }

    async fn extract_account(
        &self,
        account: crate::sources::AccountInput<'_>,
        output: &crate::sources::RunOutput,
    ) -> Vec<StageOutcome> {
        let outcome = match output.sink("iam_users_extracted") {
            Ok(sink) => extract_account(account.aws, account.sdk, account.account_id, &self.0, sink).await,
            Err(err) => StageOutcome::start(account.account_id, STAGE, None).fail(&err),
        };
        vec![outcome]
    }
}

/// Groups and tags of a user, from GetAccountAuthorizationDetails.
#[derive(Default, Clone)]
struct Authorization {
    groups: Vec<String>,
    tags: BTreeMap<String, String>,
}

fn iam_client(sdk: &SdkConfig, account_id: &str) -> aws_sdk_iam::Client {
    let conf = aws_sdk_iam::config::Builder::from(sdk)
        .retry_partition(AwsContext::retry_partition("iam", account_id))
        .build();
    aws_sdk_iam::Client::from_conf(conf)
}

/// Whole days from `from` to `to`.
fn days(from: Option<DateTime<Utc>>, to: DateTime<Utc>) -> Option<i64> {
    from.map(|f| (to - f).num_days())
}

/// Reads every user of one account and sends them to `sink`. One outcome: `ok`, `no_data`
/// (no users), or `error` / `auth_failed`; users whose details failed after retries are
/// still written, with `detail_error` set, and make the outcome an `error`.
pub async fn extract_account(
    aws: &AwsContext,
    sdk: &SdkConfig,
    account_id: &str,
    settings: &IamSettings,
    sink: &Sink,
) -> StageOutcome {
    let timer = StageOutcome::start(account_id, STAGE, None);
    match extract(aws, sdk, account_id, settings, sink).await {
        Ok((0, _)) => timer.finish(status::NO_DATA, Some("no IAM users".into())),
        Ok((_, 0)) => timer.finish(status::OK, None),
        Ok((users, failed)) => {
            let err = Error::Aws {
                operation: "iam user details".into(),
                code: "IncompleteUsers".into(),
                message: format!("{failed} of {users} users have incomplete details; see iam_users.detail_error"),
            };
            timer.fail(&err)
        }
        Err(err) => timer.fail(&err),
    }
}

/// Returns (users written, users with a detail error).
async fn extract(
    aws: &AwsContext,
    sdk: &SdkConfig,
    account_id: &str,
    settings: &IamSettings,
    sink: &Sink,
) -> Result<(usize, usize)> {
    let client = iam_client(sdk, account_id);
    let aliases = client
        .list_account_aliases()
        .send()
        .await
        .map_err(|e| aws.error("iam:ListAccountAliases", e))?;
    let alias = aliases.account_aliases().first().cloned();
    let users: Vec<User> = client
        .list_users()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| aws.error("iam:ListUsers", e))?;
    let authorization = authorization_details(aws, &client).await?;
    // Owned users: a stream over borrowed ones makes a future that is not provably Send.
    let client = &client;
    let rows: Vec<UserRow> = stream::iter(users)
        .map(|user| {
            let auth = authorization.get(user.user_name()).cloned().unwrap_or_default();
            let alias = alias.clone();
            async move { user_row(aws, client, account_id, alias, &user, auth, settings.as_of).await }
        })
        .buffer_unordered(settings.user_concurrency)
        .collect()
        .await;
    let failed = rows.iter().filter(|r| r.detail_error.is_some()).count();
    sink.send(&rows).await?;
    Ok((rows.len(), failed))
}

async fn authorization_details(
    aws: &AwsContext,
    client: &aws_sdk_iam::Client,
) -> Result<HashMap<String, Authorization>> {
    let pages: Vec<_> = client
        .get_account_authorization_details()
        .filter(EntityType::User)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| aws.error("iam:GetAccountAuthorizationDetails", e))?;
    let mut out = HashMap::new();
    for detail in pages.iter().flat_map(|p| p.user_detail_list()) {
        let Some(name) = detail.user_name() else { continue };
        let tags = detail
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
        out.insert(
            name.to_string(),
            Authorization {
                groups: detail.group_list().to_vec(),
                tags,
            },
        );
    }
    Ok(out)
}

async fn user_row(
    aws: &AwsContext,
    client: &aws_sdk_iam::Client,
    account_id: &str,
    alias: Option<String>,
    user: &User,
    auth: Authorization,
    as_of: DateTime<Utc>,
) -> UserRow {
    let name = user.user_name();
    let mut errors = Vec::new();
    let mut note = |what: &str, err: Error| errors.push(format!("{what}: {err}"));

    let access_keys = match access_keys(aws, client, name, as_of).await {
        Ok(keys) => Some(keys),
        Err(err) => {
            note("access keys", err);
            None
        }
    };
    let mfa = client
        .list_mfa_devices()
        .user_name(name)
        .send()
        .await
        .map_err(|e| aws.error("iam:ListMFADevices", e));
    let mfa_device_count = match mfa {
        Ok(out) => Some(out.mfa_devices().len() as i64),
        Err(err) => {
            note("MFA devices", err);
            None
        }
    };
    let (console_access, password_created_at) = match client.get_login_profile().user_name(name).send().await {
        Ok(out) => (Some(true), out.login_profile().and_then(|p| to_utc(p.create_date()))),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => (Some(false), None),
        Err(e) => {
            note("login profile", aws.error("iam:GetLoginProfile", e));
            (None, None)
        }
    };
    let certificates = client
        .list_signing_certificates()
        .user_name(name)
        .send()
        .await
        .map_err(|e| aws.error("iam:ListSigningCertificates", e));
    let signing_certificates = match certificates {
        Ok(out) => Some(
            out.certificates()
                .iter()
                .map(|c| SigningCertificate {
                    certificate_id: c.certificate_id().to_string(),
                    status: Some(c.status().as_str().to_string()),
                    uploaded_at: c.upload_date().and_then(to_utc),
                })
                .collect(),
        ),
        Err(err) => {
            note("signing certificates", err);
            None
        }
    };

    let created_at = to_utc(user.create_date());
    let password_last_used = user.password_last_used().and_then(to_utc);
    let keys = access_keys.as_deref().unwrap_or_default();
    let oldest_active = keys
        .iter()
        .filter(|k| k.status.as_deref() == Some("Active"))
        .min_by_key(|k| k.created_at);
    let last_activity = keys
        .iter()
        .filter_map(|k| k.last_used_at)
        .chain(password_last_used)
        .max();
    UserRow {
        account_id: account_id.to_string(),
        account_alias: alias,
        user_name: name.to_string(),
        user_id: Some(user.user_id().to_string()),
        arn: Some(user.arn().to_string()),
        path: Some(user.path().to_string()),
        tags: auth.tags,
        groups: auth.groups,
        created_at,
        age_days: days(created_at, as_of),
        mfa_enabled: mfa_device_count.map(|n| n > 0),
        mfa_device_count,
        console_access,
        password_created_at,
        password_age_days: days(password_created_at, as_of),
        password_last_used,
        last_activity,
        active_key_id: oldest_active.map(|k| k.access_key_id.clone()),
        active_key_age_days: oldest_active.and_then(|k| k.age_days),
        active_key_last_used_at: oldest_active.and_then(|k| k.last_used_at),
        active_key_count: access_keys
            .as_ref()
            .map(|k| k.iter().filter(|k| k.status.as_deref() == Some("Active")).count() as i64),
        access_keys,
        signing_certificates,
        detail_error: (!errors.is_empty()).then(|| errors.join("; ")),
    }
}

async fn access_keys(
    aws: &AwsContext,
    client: &aws_sdk_iam::Client,
    user: &str,
    as_of: DateTime<Utc>,
) -> Result<Vec<AccessKey>> {
    let listed = client
        .list_access_keys()
        .user_name(user)
        .send()
        .await
        .map_err(|e| aws.error("iam:ListAccessKeys", e))?;
    let mut keys = Vec::new();
    for meta in listed.access_key_metadata() {
        let Some(id) = meta.access_key_id() else { continue };
        let used = client
            .get_access_key_last_used()
            .access_key_id(id)
            .send()
            .await
            .map_err(|e| aws.error("iam:GetAccessKeyLastUsed", e))?;
        let last = used.access_key_last_used();
        // AWS reports "N/A" for the service and region of a key never used.
        let known = |v: Option<&str>| v.filter(|v| *v != "N/A").map(str::to_string);
        let created_at = meta.create_date().and_then(to_utc);
        keys.push(AccessKey {
            access_key_id: id.to_string(),
            status: meta.status().map(|s| s.as_str().to_string()),
            created_at,
            age_days: days(created_at, as_of),
            last_used_at: last.and_then(|l| l.last_used_date()).and_then(to_utc),
            last_used_service: known(last.map(|l| l.service_name())),
            last_used_region: known(last.map(|l| l.region())),
        });
    }
    Ok(keys)
}
