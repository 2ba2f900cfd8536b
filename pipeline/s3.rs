//! The S3 object store behind an `s3://` warehouse, authenticated with the same
//! credential chain as the AWS SDK clients (environment, profile, SSO, container, IMDS).

use std::sync::Arc;

use async_trait::async_trait;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use object_store::ObjectStore;
use object_store::aws::{AmazonS3Builder, AwsCredential};
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
    if let Some(provider) = aws.and_then(|sdk| sdk.credentials_provider()) {
        builder = builder.with_credentials(Arc::new(SdkCredentials(provider)));
    }
    let store = builder.build().map_err(|e| Error::lake(format!("s3://{bucket}"), e))?;
    Ok(Arc::new(store))
}
