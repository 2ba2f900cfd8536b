//! The S3 object store behind an `s3://` warehouse, authenticated with the same
//! credential chain as the AWS SDK clients (environment, profile, SSO, container, IMDS).
//!
//! The SDK caches credentials in its clients, not in the provider chain itself, so the
//! store keeps its own copy and asks the chain again only shortly before it expires; S3
//! calls retry as often as the run's `max_retries` says.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use object_store::ObjectStore;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey, AwsCredential};
use object_store::client::CredentialProvider;
use object_store::{BackoffConfig, ClientOptions, RetryConfig};

use crate::error::{Error, Result};
use crate::lake::S3Options;

/// Adapts the SDK's credential provider chain to `object_store`, caching what it returns
/// until shortly before it expires.
#[derive(Debug)]
struct SdkCredentials {
    provider: SharedCredentialsProvider,
    cached: tokio::sync::Mutex<Option<Cached>>,
}

#[derive(Debug)]
struct Cached {
    credential: Arc<AwsCredential>,
    fetched_at: SystemTime,
    expires_at: Option<SystemTime>,
}

impl Cached {
    /// True while the credential may still be handed out at `now`.
    fn fresh(&self, now: SystemTime) -> bool {
        !crate::aws::renewal_due(self.fetched_at, self.expires_at, now)
    }
}

#[async_trait]
impl CredentialProvider for SdkCredentials {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        let mut cached = self.cached.lock().await;
        let now = SystemTime::now();
        if let Some(current) = cached.as_ref().filter(|c| c.fresh(now)) {
            return Ok(current.credential.clone());
        }
        let credentials = self
            .provider
            .provide_credentials()
            .await
            .map_err(|e| object_store::Error::Generic {
                store: "S3",
                source: Box::new(e),
            })?;
        let credential = Arc::new(AwsCredential {
            key_id: credentials.access_key_id().to_string(),
            secret_key: credentials.secret_access_key().to_string(),
            token: credentials.session_token().map(str::to_string),
        });
        *cached = Some(Cached {
            credential: credential.clone(),
            fetched_at: now,
            expires_at: credentials.expiry(),
        });
        Ok(credential)
    }
}

/// Builds the store for `bucket`.
pub async fn store(
    bucket: &str,
    options: &S3Options,
    aws: Option<&aws_config::SdkConfig>,
) -> Result<Arc<dyn ObjectStore>> {
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region(&options.region);
    if let Some(endpoint) = &options.endpoint_url {
        builder = builder
            .with_endpoint(endpoint)
            .with_allow_http(endpoint.starts_with("http://"));
    }
    match (options.sse.as_deref(), &options.kms_key_id) {
        // Without a key id only the encryption type is sent: S3 then uses the AWS managed key.
        (Some("aws:kms"), Some(key)) => builder = builder.with_sse_kms_encryption(key.clone()),
        (Some(other), _) => {
            let key: AmazonS3ConfigKey = "aws_server_side_encryption"
                .parse()
                .expect("a known object_store config key");
            builder = builder.with_config(key, other);
        }
        (None, _) => {}
    }
    if let Some(owner) = &options.expected_bucket_owner {
        // Every request says which account must own the bucket, so a bucket name taken over
        // by another account is refused by S3 instead of receiving the lake.
        let mut headers = http::HeaderMap::new();
        let value = http::HeaderValue::from_str(owner).map_err(|e| Error::lake(format!("s3://{bucket}"), e))?;
        headers.insert("x-amz-expected-bucket-owner", value);
        // Client options replace the builder's, so `allow_http` (for an emulator) is set again.
        let allow_http = options
            .endpoint_url
            .as_deref()
            .is_some_and(|e| e.starts_with("http://"));
        builder = builder.with_client_options(
            ClientOptions::new()
                .with_default_headers(headers)
                .with_allow_http(allow_http),
        );
    }
    builder = builder.with_retry(RetryConfig {
        max_retries: options.max_retries as usize,
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(20),
            base: 2.0,
        },
        retry_timeout: Duration::from_secs(180),
    });
    if let Some(provider) = aws.and_then(|sdk| sdk.credentials_provider()) {
        builder = builder.with_credentials(Arc::new(SdkCredentials {
            provider,
            cached: tokio::sync::Mutex::new(None),
        }));
    }
    let store = builder.build().map_err(|e| Error::lake(format!("s3://{bucket}"), e))?;
    Ok(Arc::new(store))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cached(lifetime: Option<Duration>) -> Cached {
        let fetched_at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        Cached {
            credential: Arc::new(AwsCredential {
                key_id: "k".into(),
                secret_key: "s".into(),
                token: None,
            }),
            fetched_at,
            expires_at: lifetime.map(|l| fetched_at + l),
        }
    }

    #[test]
    fn credentials_are_kept_until_shortly_before_they_expire() {
        let hour = cached(Some(Duration::from_secs(3600)));
        let at = |secs| hour.fetched_at + Duration::from_secs(secs);
        assert!(hour.fresh(at(0)));
        assert!(hour.fresh(at(3600 - 301)), "kept until five minutes are left");
        assert!(!hour.fresh(at(3600 - 299)));
        let short = cached(Some(Duration::from_secs(60)));
        assert!(
            short.fresh(short.fetched_at + Duration::from_secs(29)),
            "half the lifetime"
        );
        assert!(!short.fresh(short.fetched_at + Duration::from_secs(31)));
        let forever = cached(None);
        assert!(forever.fresh(forever.fetched_at + Duration::from_secs(10_000_000)));
    }
}
