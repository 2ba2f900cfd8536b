//! AWS client construction and error classification.
//!
//! One [`AwsContext`] per run holds the base SDK configuration (region, endpoint override,
//! adaptive retries, timeouts) and with it one HTTP client and connection pool. Clients for
//! a member account are derived from it with that account's credentials and a retry
//! partition of their own: the SDK shares its retry token bucket per service and region
//! across the process by default, so one throttled account could otherwise starve all the
//! healthy ones (smithy-rs issue 3964).
//!
//! May import: `config`, `error`.

pub mod http_client;
pub mod session;
pub mod tags;

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig, retry::RetryConfig, timeout::TimeoutConfig};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_sts::config::retry::RetryPartition;
use aws_sdk_sts::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::config::Config;
use crate::error::{Error, Result};

/// The shared AWS configuration of one run.
#[derive(Clone, Debug)]
pub struct AwsContext {
    base: SdkConfig,
    endpoint: Option<String>,
}

impl AwsContext {
    /// Loads credentials and settings the standard way (environment, profile, SSO, IMDS)
    /// and applies the run's region, endpoint override and retry policy.
    ///
    /// Fails with [`Error::NoCredentials`] when no credentials can be found, before any
    /// call is made.
    pub async fn load(config: &Config) -> Result<Self> {
        let retry = RetryConfig::adaptive()
            .with_max_attempts(config.max_retries + 1)
            .with_initial_backoff(Duration::from_millis(200))
            .with_max_backoff(Duration::from_secs(20));
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(5))
            .operation_attempt_timeout(Duration::from_secs(60))
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(config.region.clone()))
            .retry_config(retry)
            .timeout_config(timeouts);
        if let Some(url) = &config.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        // One HTTP client for every SDK client of the run (http_client.rs).
        loader = loader.http_client(http_client::shared_https_client());
        let base = loader.load().await;
        let provider = base
            .credentials_provider()
            .ok_or_else(|| Error::NoCredentials("no credential provider is configured".into()))?;
        provider.provide_credentials().await.map_err(|e| {
            tracing::debug!(error = %DisplayErrorContext(&e), "credential chain failed");
            Error::NoCredentials(
                "none found in the environment, shared config, SSO cache, container or instance metadata".into(),
            )
        })?;
        Ok(AwsContext {
            base,
            endpoint: config.endpoint_url.clone(),
        })
    }

    /// The base SDK configuration (the caller's own credentials).
    pub fn base(&self) -> &SdkConfig {
        &self.base
    }

    /// The endpoint in use, for error messages.
    pub fn endpoint_label(&self) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| "the default AWS endpoint".to_string())
    }

    /// Organizations client with the caller's credentials.
    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        aws_sdk_organizations::Client::new(&self.base)
    }

    /// STS client with the caller's credentials.
    pub fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.base)
    }

    /// Configuration for one member account: its credentials (a renewing session) and the
    /// given region; the HTTP client is shared with every other account. Service clients
    /// built from it get a retry partition of their own with [`AwsContext::retry_partition`].
    pub fn for_account(&self, credentials: SharedCredentialsProvider, region: Option<&str>) -> SdkConfig {
        let mut builder = self.base.to_builder().credentials_provider(credentials);
        if let Some(region) = region {
            builder = builder.region(Region::new(region.to_string()));
        }
        builder.build()
    }

    /// The retry partition name for `service` calls in `account_id`.
    pub fn retry_partition(service: &str, account_id: &str) -> RetryPartition {
        RetryPartition::new(format!("{service}-{account_id}"))
    }

    /// STS client for a member account.
    pub fn account_sts(&self, account_id: &str, credentials: SharedCredentialsProvider) -> aws_sdk_sts::Client {
        let sdk = self.for_account(credentials, None);
        let conf = aws_sdk_sts::config::Builder::from(&sdk)
            .retry_partition(Self::retry_partition("sts", account_id))
            .build();
        aws_sdk_sts::Client::from_conf(conf)
    }

    /// Turns an SDK error into the library error, telling "cannot reach" from "AWS said no".
    pub fn error<E>(&self, operation: &str, err: SdkError<E, HttpResponse>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        classify(operation, &self.endpoint_label(), err)
    }
}

/// Credentials fetched at `fetched_at` are renewed when less than this is left of them, or
/// half their lifetime for sessions shorter than twice this.
pub const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);

/// True when credentials fetched at `fetched_at` and expiring at `expires_at` (never, when
/// `None`) should be renewed at `now`.
pub fn renewal_due(
    fetched_at: std::time::SystemTime,
    expires_at: Option<std::time::SystemTime>,
    now: std::time::SystemTime,
) -> bool {
    let Some(expires_at) = expires_at else {
        return false;
    };
    let lifetime = expires_at.duration_since(fetched_at).unwrap_or_default();
    now + RENEW_BEFORE_EXPIRY.min(lifetime / 2) >= expires_at
}

/// An EC2 client for one account (its own retry partition), in `region` if given.
pub fn ec2_client(sdk: &SdkConfig, account_id: &str, region: Option<&str>) -> aws_sdk_ec2::Client {
    let mut builder =
        aws_sdk_ec2::config::Builder::from(sdk).retry_partition(AwsContext::retry_partition("ec2", account_id));
    if let Some(region) = region {
        builder = builder.region(Region::new(region.to_string()));
    }
    aws_sdk_ec2::Client::from_conf(builder.build())
}

/// Turns an SDK error into the library error.
pub fn classify<E>(operation: &str, endpoint: &str, err: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => Error::Unreachable {
            operation: operation.to_string(),
            endpoint: endpoint.to_string(),
            message: root_cause(&err),
            source: Box::new(err),
        },
        _ => {
            let status = err.raw_response().map(|r| r.status().as_u16());
            let code = err.code().map(str::to_string).unwrap_or_else(|| match status {
                Some(status) => format!("HTTP{status}"),
                None => "Unknown".to_string(),
            });
            let message = err.message().map(str::to_string).unwrap_or_else(|| match status {
                Some(status) => format!("HTTP status {status} with an unreadable error body"),
                None => root_cause(&err),
            });
            Error::Aws {
                operation: operation.to_string(),
                code,
                message,
            }
        }
    }
}

/// The innermost cause of an error: the part worth showing on one line.
pub fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}
