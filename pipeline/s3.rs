//! The S3 object store behind an `s3://` warehouse, authenticated with the same
//! credential chain as the AWS SDK clients (environment, profile, SSO, container, IMDS).

use std::sync::Arc;

use async_trait::async_trait;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use object_store::ClientOptions;
use object_store::ObjectStore;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey, AwsCredential};
use object_store::client::CredentialProvider;

use crate::error::{Error, Result};
use crate::lake::S3Options;

/// Adapts the SDK's credential provider (which caches and refreshes) to `object_store`.
#[derive(Debug)]
struct SdkCredentials(SharedCredentialsProvider);

#[async_trait]
impl CredentialProvider for SdkCredentials {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        let credentials = self
            .0
            .provide_credentials()
            .await
            .map_err(|e| object_store::Error::Generic {
                store: "S3",
                source: Box::new(e),
            })?;
        Ok(Arc::new(AwsCredential {
            key_id: credentials.access_key_id().to_string(),
            secret_key: credentials.secret_access_key().to_string(),
            token: credentials.session_token().map(str::to_string),
        }))
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
        (Some("aws:kms"), key) => builder = builder.with_sse_kms_encryption(key.clone().unwrap_or_default()),
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
    if let Some(provider) = aws.and_then(|sdk| sdk.credentials_provider()) {
        builder = builder.with_credentials(Arc::new(SdkCredentials(provider)));
    }
    let store = builder.build().map_err(|e| Error::lake(format!("s3://{bucket}"), e))?;
    Ok(Arc::new(store))
}
