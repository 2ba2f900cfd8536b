//! The run's one HTTP client, validated once.
//!
//! Every SDK client built from a configuration asks its HTTP client to validate that
//! configuration, and the SDK's default (hyper + rustls) does it by building a TLS
//! connector: it parses every trusted root certificate and throws the connector away
//! (aws-sdk-rust issue 975: milliseconds per client). orglake builds a few dozen clients per
//! account (one per service and region), so at a thousand accounts that was most of the
//! scan's CPU. This wrapper lets the first client validate and skips the rest: the
//! connectors that serve requests are built and cached by the wrapped client as before.

use std::sync::atomic::{AtomicBool, Ordering};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector};
use aws_smithy_runtime_api::client::runtime_components::{RuntimeComponents, RuntimeComponentsBuilder};
use aws_smithy_types::config_bag::ConfigBag;

/// An HTTP client whose base-configuration check runs for the first SDK client only.
#[derive(Debug)]
pub struct ValidatedOnce {
    inner: SharedHttpClient,
    validated: AtomicBool,
}

impl ValidatedOnce {
    /// Wraps `inner` (the configuration's HTTP client) as a shared client.
    pub fn wrap(inner: SharedHttpClient) -> SharedHttpClient {
        SharedHttpClient::new(ValidatedOnce {
            inner,
            validated: AtomicBool::new(false),
        })
    }
}

impl HttpClient for ValidatedOnce {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        self.inner.http_connector(settings, components)
    }

    fn validate_base_client_config(
        &self,
        runtime_components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        if self.validated.load(Ordering::Acquire) {
            return Ok(());
        }
        self.inner.validate_base_client_config(runtime_components, cfg)?;
        self.validated.store(true, Ordering::Release);
        Ok(())
    }

    fn validate_final_config(&self, runtime_components: &RuntimeComponents, cfg: &ConfigBag) -> Result<(), BoxError> {
        self.inner.validate_final_config(runtime_components, cfg)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}
