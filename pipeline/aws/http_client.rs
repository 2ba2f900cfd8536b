//! The run's one HTTP client, made once and validated once.
//!
//! Without an HTTP client in the shared configuration, the SDK gives every service client
//! a default one of its own (a runtime plugin per client), with its own connection pool and
//! TLS connector, whose trusted root certificates it parses again. orglake builds a few
//! dozen clients per account (one per service and region), so at a thousand accounts that
//! was tens of thousands of HTTP clients, pools and certificate parses. [`shared_https_client`]
//! makes the SDK's default client once, for every client of the run. And every SDK client
//! built asks its HTTP client to validate the configuration, which the default does by
//! building a TLS connector and throwing it away (aws-sdk-rust issue 975: milliseconds per
//! client); [`ValidatedOnce`] lets the first client validate and skips the rest. The
//! connectors that serve requests are built and cached by the wrapped client as before.

use std::sync::atomic::{AtomicBool, Ordering};

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector};
use aws_smithy_runtime_api::client::runtime_components::{RuntimeComponents, RuntimeComponentsBuilder};
use aws_smithy_types::config_bag::ConfigBag;

/// One HTTPS client for every SDK client of the run, made as the SDK makes its default (hyper
/// with rustls on aws-lc, a proxy from the standard environment variables, the client's
/// timeouts and sleep), validated once.
pub fn shared_https_client() -> SharedHttpClient {
    let client = Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    });
    ValidatedOnce::wrap(client)
}

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
