//! The library's error type. Every variant says what went wrong and what to do.

use thiserror::Error;

/// Result with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can stop orglake.
#[derive(Debug, Error)]
pub enum Error {
    /// A configuration value is missing or invalid.
    #[error("invalid configuration: `{key}` (from {source_name}): {message}")]
    Config {
        /// The key as the user wrote it (file key, environment variable or flag).
        key: String,
        /// Where the value came from.
        source_name: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The configuration file could not be read.
    #[error("cannot read config file {path}: {source}; check --config")]
    ConfigFileRead {
        /// Path of the file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The configuration file is not valid TOML.
    #[error("config file {path} is not valid TOML: {source}")]
    ConfigFileSyntax {
        /// Path of the file.
        path: String,
        /// The parser's error (it names the line and the key).
        #[source]
        source: Box<toml::de::Error>,
    },
    /// The SQL file given to `query --file` could not be read.
    #[error("cannot read SQL file {path}: {source}; check the path given to --file")]
    SqlFile {
        /// Path of the file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A schema file in `schemas/` is invalid (a build defect, caught by the tests).
    #[error("schema error: {0}")]
    Schema(String),
    /// A table name that no schema file defines.
    #[error("unknown table `{0}`; run `orglake tables` to list them")]
    UnknownTable(String),
    /// The OU id given does not exist in the organization.
    #[error(
        "OU `{0}` was not found in the organization; check --ou-id (list OUs with `aws organizations list-organizational-units-for-parent`)"
    )]
    UnknownOu(String),
    /// No AWS credentials could be found.
    #[error(
        "no AWS credentials: {0}; set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), run `aws sso login`, or run inside AWS with a role"
    )]
    NoCredentials(String),
    /// The AWS endpoint could not be reached at all.
    #[error(
        "cannot reach AWS ({operation}) at {endpoint}: {message}; check --endpoint-url / AWS_ENDPOINT_URL and your network"
    )]
    Unreachable {
        /// The API call that failed.
        operation: String,
        /// The endpoint in use, or "the default AWS endpoint".
        endpoint: String,
        /// The transport error's innermost cause, on one line.
        message: String,
        /// The transport error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// AWS answered with an error.
    #[error("{operation} failed: {code}: {message}")]
    Aws {
        /// The API call that failed.
        operation: String,
        /// The AWS error code, for example `AccessDenied`.
        code: String,
        /// The AWS error message.
        message: String,
    },
    /// Reading or writing the lake failed.
    #[error("lake I/O failed at {location}: {source}")]
    Lake {
        /// The object path or warehouse involved.
        location: String,
        /// The underlying error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Building or reading Arrow data failed.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// Writing Parquet failed.
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// A query failed.
    #[error("query failed: {0}")]
    Query(#[from] datafusion::error::DataFusionError),
    /// A statement that would change something was given to a read-only command.
    #[error(
        "{command} is read-only: {reason}; use SELECT (or WITH ... SELECT, EXPLAIN); DDL (CREATE, DROP), DML (INSERT) and COPY are refused"
    )]
    ReadOnly {
        /// The command that refused it, for example `orglake query`.
        command: String,
        /// DataFusion's reason for refusing the statement.
        reason: String,
    },
    /// Local I/O failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A job run on a task of its own panicked or was cancelled.
    #[error("{what} stopped: {source}; this is a bug in orglake, please report it with the log")]
    Task {
        /// The work the task was doing.
        what: String,
        /// Why the task ended without a result.
        #[source]
        source: tokio::task::JoinError,
    },
}

impl Error {
    /// A configuration error for `key` from `source_name`.
    pub fn config(key: impl Into<String>, source_name: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config {
            key: key.into(),
            source_name: source_name.into(),
            message: message.into(),
        }
    }

    /// A lake I/O error at `location`.
    pub fn lake(location: impl Into<String>, err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error::Lake {
            location: location.into(),
            source: err.into(),
        }
    }
}

/// Error codes that mean "not allowed" rather than "broken": the account is recorded as
/// `auth_failed`.
const AUTH_ERROR_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "AuthFailure",
    "UnauthorizedOperation",
    "InvalidClientTokenId",
    "ExpiredToken",
    "UnrecognizedClientException",
    "RegionDisabledException",
];

impl Error {
    /// True when the error means the caller is not allowed (or no longer allowed) to act.
    pub fn is_auth(&self) -> bool {
        matches!(self, Error::Aws { code, .. } if AUTH_ERROR_CODES.contains(&code.as_str()))
    }

    /// The AWS error code, if the error has one (`Unreachable` for a transport failure).
    pub fn code(&self) -> Option<String> {
        match self {
            Error::Aws { code, .. } => Some(code.clone()),
            Error::Unreachable { .. } => Some("Unreachable".to_string()),
            _ => None,
        }
    }
}
