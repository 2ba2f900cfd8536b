//! Per-account fan-out: assume the role in each account, with bounded concurrency, and
//! run every registered source with the account's credentials.
//!
//! May import: `aws`, `config`, `discover`, `error`, `sources`, `status`.

use aws_credential_types::provider::SharedCredentialsProvider;
use futures::{StreamExt, stream};
use tracing::warn;

use crate::aws::AwsContext;
use crate::aws::session::AccountSession;
use crate::config::Config;
use crate::discover::AccountRecord;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::sources::{AccountInput, RunOutput, Source};
use crate::status::{StageOutcome, status};

/// Stage names recorded in `account_status`.
pub mod stage {
    /// STS AssumeRole into the member account.
    pub const ASSUME_ROLE: &str = "assume_role";
    /// STS GetCallerIdentity with the assumed credentials: proves the session works and
    /// landed in the right account.
    pub const IDENTITY: &str = "identity";
    /// The account was listed but not scanned (not ACTIVE).
    pub const DISCOVER: &str = "discover";
}

/// Scans every account (active ones only), at most `config.max_concurrency` at a time,
/// and returns every stage outcome. A failing account never fails the scan.
pub async fn scan_accounts(
    aws: &AwsContext,
    config: &Config,
    accounts: &[AccountRecord],
    sources: &[Box<dyn Source>],
    output: &RunOutput,
    progress: &dyn Progress,
) -> Vec<StageOutcome> {
    let mut outcomes = Vec::new();
    let mut active = Vec::new();
    for account in accounts {
        if account.scanned {
            active.push(account);
        } else {
            let reason = format!(
                "account status is {}; listed but not scanned",
                account.status.as_deref().unwrap_or("unknown")
            );
            outcomes.push(
                StageOutcome::start(&account.account_id, stage::DISCOVER, None).finish(status::SKIPPED, Some(reason)),
            );
        }
    }
    progress.begin("accounts", active.len() as u64);
    let results: Vec<Vec<StageOutcome>> = stream::iter(active)
        .map(|account| async move {
            let result = scan_account(aws, config, account, sources, output).await;
            progress.advance(1);
            result
        })
        .buffer_unordered(config.max_concurrency)
        .collect()
        .await;
    progress.end();
    outcomes.extend(results.into_iter().flatten());
    outcomes
}

async fn scan_account(
    aws: &AwsContext,
    config: &Config,
    account: &AccountRecord,
    sources: &[Box<dyn Source>],
    output: &RunOutput,
) -> Vec<StageOutcome> {
    let id = &account.account_id;
    let mut outcomes = Vec::new();
    let timer = StageOutcome::start(id, stage::ASSUME_ROLE, None);
    let session = match AccountSession::assume(aws, config, id).await {
        Ok(session) => {
            outcomes.push(timer.finish(status::OK, None));
            session
        }
        Err(err) => {
            warn!(account = %id, error = %err, "cannot assume role; account skipped");
            outcomes.push(timer.fail(&err));
            return outcomes;
        }
    };
    let timer = StageOutcome::start(id, stage::IDENTITY, None);
    if let Err(err) = check_identity(aws, id, session.provider()).await {
        warn!(account = %id, error = %err, "assumed session does not work");
        outcomes.push(timer.fail(&err));
        return outcomes;
    }
    outcomes.push(timer.finish(status::OK, None));
    let sdk = aws.for_account(session.provider(), None);
    let input = AccountInput {
        aws,
        sdk: &sdk,
        account_id: id,
    };
    let per_source =
        futures::future::join_all(sources.iter().map(|source| source.extract_account(input, output))).await;
    outcomes.extend(per_source.into_iter().flatten());
    tracing::debug!(account = %id, "account scanned");
    outcomes
}

async fn check_identity(aws: &AwsContext, account_id: &str, credentials: SharedCredentialsProvider) -> Result<()> {
    let identity = aws
        .account_sts(account_id, credentials)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| aws.error("sts:GetCallerIdentity", e))?;
    match identity.account() {
        Some(actual) if actual == account_id => Ok(()),
        other => Err(Error::Aws {
            operation: "sts:GetCallerIdentity".into(),
            code: "WrongAccount".into(),
            message: format!(
                "the assumed role answers as account {}, not {account_id}; check the role's trust and name",
                other.unwrap_or("?")
            ),
        }),
    }
}
