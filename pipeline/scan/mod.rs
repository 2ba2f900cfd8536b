//! Per-account fan-out: assume the role in each account and run every registered source
//! with the account's credentials.
//!
//! Accounts are scanned as discovery finds them, while the rest of the OU tree is walked.
//! The scheduler never lets waiting hold capacity. Every account first opens its session
//! (at most [`SESSION_CONCURRENCY`] at a time: STS is fast and allows hundreds of calls a
//! second), then starts its waiting sources at once (the credential report is requested
//! as soon as the account is admitted: within the first seconds of a scan, for the first
//! [`ACCOUNTS_IN_FLIGHT`] accounts) and queues for one of
//! `max_concurrency` work slots for its working sources (EC2, IAM users). A report that is
//! still being generated waits on a timer, holding no slot. Within an account, each source
//! bounds its own calls (regions, users), which is where AWS's throttling buckets are.
//!
//! May import: `aws`, `config`, `discover`, `error`, `sources`, `status`.

use aws_credential_types::provider::SharedCredentialsProvider;
use std::collections::HashSet;

use futures::{Stream, StreamExt, future};
use tokio::sync::Semaphore;
use tracing::warn;

use crate::aws::AwsContext;
use crate::aws::session::AccountSession;
use crate::config::Config;
use crate::discover::AccountRecord;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::sources::{AccountInput, Pacing, RunOutput, Source};
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

/// Accounts whose AssumeRole and identity check run at once.
pub const SESSION_CONCURRENCY: usize = 64;

/// Accounts in flight at once (session open, credential report requested, waiting for or
/// holding a work slot). An account admitted waits for about this many accounts ahead of
/// it to be worked on, a minute or more at the scan's pace, so its report, requested on
/// admission, is mostly ready by then; and the scan's memory (a session, clients and a
/// timer per account in flight) stops growing with the organization past this many.
pub const ACCOUNTS_IN_FLIGHT: usize = 1024;

/// Scans every account of `accounts` (active ones only; an account that comes twice is
/// scanned once) as soon as it arrives, and returns every stage outcome, those of the
/// accounts not scanned first, each part sorted by account: sessions
/// [`SESSION_CONCURRENCY`] at a time, the working sources of at most
/// `config.max_concurrency` accounts at a time, the waiting sources of every account in
/// flight ([`ACCOUNTS_IN_FLIGHT`]) at once. A failing account never fails the scan; the
/// scan ends when `accounts` does and every account that came is done.
pub async fn scan_accounts(
    aws: &AwsContext,
    config: &Config,
    accounts: impl Stream<Item = AccountRecord>,
    sources: &[Box<dyn Source>],
    output: &RunOutput,
    progress: &dyn Progress,
) -> Vec<StageOutcome> {
    progress.begin("accounts", 0);
    let slots = Slots {
        sessions: Semaphore::new(SESSION_CONCURRENCY),
        work: Semaphore::new(config.max_concurrency),
    };
    let slots = &slots;
    let mut seen = HashSet::new();
    // Up to ACCOUNTS_IN_FLIGHT accounts at once: one not yet started holds a few
    // references, one waiting for its report a session, a client and a timer.
    let mut done: Vec<(bool, String, Vec<StageOutcome>)> = accounts
        .filter(move |account| future::ready(seen.insert(account.account_id.clone())))
        .map(|account| {
            if account.scanned {
                progress.grow(1);
            }
            async move {
                if !account.scanned {
                    let reason = format!(
                        "account status is {}; listed but not scanned",
                        account.status.as_deref().unwrap_or("unknown")
                    );
                    let skipped = StageOutcome::start(&account.account_id, stage::DISCOVER, None)
                        .finish(status::SKIPPED, Some(reason));
                    return (false, account.account_id, vec![skipped]);
                }
                let outcomes = scan_account(aws, config, &account, sources, output, slots).await;
                progress.advance(1);
                (true, account.account_id, outcomes)
            }
        })
        .buffer_unordered(ACCOUNTS_IN_FLIGHT)
        .collect()
        .await;
    progress.end();
    done.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    // One vector of the exact size: tens of outcomes per account are kept to the commit.
    let mut all = Vec::with_capacity(done.iter().map(|(_, _, outcomes)| outcomes.len()).sum());
    for (_, _, outcomes) in done {
        all.extend(outcomes);
    }
    all
}

/// The scan's two kinds of capacity.
struct Slots {
    /// AssumeRole + GetCallerIdentity.
    sessions: Semaphore,
    /// The working sources of one account.
    work: Semaphore,
}

async fn scan_account(
    aws: &AwsContext,
    config: &Config,
    account: &AccountRecord,
    sources: &[Box<dyn Source>],
    output: &RunOutput,
    slots: &Slots,
) -> Vec<StageOutcome> {
    let id = &account.account_id;
    let mut outcomes = Vec::new();
    let session_slot = slots
        .sessions
        .acquire()
        .await
        .expect("the scan never closes its semaphores");
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
    drop(session_slot);
    let sdk = aws.for_account(session.provider(), None);
    let input = AccountInput {
        aws,
        sdk: &sdk,
        account_id: id,
    };
    let of_pacing = |pacing: Pacing| sources.iter().filter(move |source| source.pacing() == pacing);
    let waiting =
        futures::future::join_all(of_pacing(Pacing::Waits).map(|source| source.extract_account(input, output)));
    let working = async {
        let _slot = slots
            .work
            .acquire()
            .await
            .expect("the scan never closes its semaphores");
        futures::future::join_all(of_pacing(Pacing::Works).map(|source| source.extract_account(input, output))).await
    };
    let (waited, worked) = futures::future::join(waiting, working).await;
    outcomes.extend(worked.into_iter().flatten());
    outcomes.extend(waited.into_iter().flatten());
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
