//! Member-account sessions: assume the configured role in an account and keep the
//! session fresh for as long as the account's stages run.
//!
//! The first AssumeRole is made at once, so a missing role or a denied trust fails the
//! account with AWS's own error code. After that the session is a credential provider:
//! the SDK clients of the account ask it for credentials, and it assumes the role again
//! shortly before the session expires (one hour by default, and at most one hour when the
//! scanner itself runs on assumed-role credentials).

use std::sync::Arc;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};

use crate::aws::{AwsContext, renewal_due};
use crate::config::Config;
use crate::error::{Error, Result};

/// Session name shown in the member account's CloudTrail.
const SESSION_NAME: &str = "orglake";

/// An assumed-role session in one member account, renewed before it expires.
#[derive(Clone, Debug)]
pub struct AccountSession {
    inner: Arc<Renewing>,
}

#[derive(Debug)]
struct Renewing {
    aws: AwsContext,
    role_arn: String,
    external_id: Option<String>,
    current: tokio::sync::Mutex<Current>,
}

#[derive(Debug)]
struct Current {
    credentials: Credentials,
    fetched_at: SystemTime,
}

impl AccountSession {
    /// Assumes the configured role in `account_id`; fails with AWS's error when it cannot.
    pub async fn assume(aws: &AwsContext, config: &Config, account_id: &str) -> Result<AccountSession> {
        let role_arn = format!("arn:aws:iam::{account_id}:role/{}", config.role_name);
        let renewing = Renewing {
            aws: aws.clone(),
            role_arn,
            external_id: config.external_id.clone(),
            current: tokio::sync::Mutex::new(Current {
                credentials: Credentials::new("", "", None, None, "orglake-assume-role"),
                fetched_at: SystemTime::UNIX_EPOCH,
            }),
        };
        let first = renewing.assume_role().await?;
        *renewing.current.lock().await = Current {
            credentials: first,
            fetched_at: SystemTime::now(),
        };
        Ok(AccountSession {
            inner: Arc::new(renewing),
        })
    }

    /// The session as a credential provider for the account's SDK clients.
    pub fn provider(&self) -> SharedCredentialsProvider {
        SharedCredentialsProvider::new(self.clone())
    }

    async fn credentials(&self) -> Result<Credentials> {
        let mut current = self.inner.current.lock().await;
        let now = SystemTime::now();
        let expiry = current.credentials.expiry();
        if !renewal_due(current.fetched_at, expiry, now) {
            return Ok(current.credentials.clone());
        }
        tracing::debug!(role = %self.inner.role_arn, "renewing the assumed-role session");
        let renewed = self.inner.assume_role().await?;
        *current = Current {
            credentials: renewed.clone(),
            fetched_at: now,
        };
        Ok(renewed)
    }
}

impl ProvideCredentials for AccountSession {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(
            async move { self.credentials().await.map_err(CredentialsError::provider_error) },
        )
    }
}

impl Renewing {
    async fn assume_role(&self) -> Result<Credentials> {
        let mut request = self
            .aws
            .sts()
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name(SESSION_NAME);
        if let Some(external_id) = &self.external_id {
            request = request.external_id(external_id);
        }
        let response = request.send().await.map_err(|e| self.aws.error("sts:AssumeRole", e))?;
        let c = response.credentials().ok_or_else(|| Error::Aws {
            operation: "sts:AssumeRole".into(),
            code: "NoCredentials".into(),
            message: format!("AssumeRole on {} returned no credentials", self.role_arn),
        })?;
        let expiry = SystemTime::try_from(*c.expiration()).ok();
        Ok(Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            expiry,
            "orglake-assume-role",
        ))
    }
}
