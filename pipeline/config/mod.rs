//! Run configuration: a TOML file, overridden by environment variables, overridden by flags.
//!
//! Every value is collected as raw text together with where it came from, then validated in
//! one place, so an error always names the key as the user wrote it (file key, environment
//! variable or flag) and says how to fix it.
//!
//! May import: `error`.

pub mod shard;
pub mod sources;

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::{Error, Result};

/// Default name of the role assumed in each member account.
pub const DEFAULT_ROLE_NAME: &str = "orglake-reader";
/// Default lake location.
pub const DEFAULT_WAREHOUSE: &str = "./lake";
/// Default number of accounts scanned at once.
pub const DEFAULT_MAX_CONCURRENCY: usize = 32;
/// Default number of regions scanned at once within one account.
pub const DEFAULT_REGION_CONCURRENCY: usize = 8;
/// Default number of days a terminated instance stays in the inventory.
pub const DEFAULT_TERMINATED_RETENTION_DAYS: u32 = 15;
/// Default number of credential report polls (the old system's limit).
pub const DEFAULT_REPORT_MAX_POLLS: u32 = 45;
/// Default tag key of owner tagging.
pub const DEFAULT_TAG_KEY: &str = "owner";
/// Instance states tagged by default.
pub const DEFAULT_TAG_STATES: &[&str] = &["pending", "running", "stopping", "stopped"];
/// Default limit of tag changes applied in one run.
pub const DEFAULT_MAX_TAG_CHANGES: u64 = 100;
/// Default number of retries after a throttled or failed call (the old scripts used 5).
pub const DEFAULT_MAX_RETRIES: u32 = 5;
/// Default region for the organization-wide calls (Organizations, STS).
pub const DEFAULT_HOME_REGION: &str = "us-east-1";

/// One configuration key: its canonical (file) name, the flag that sets it, and the
/// environment variables that set it, strongest first.
struct KeySpec {
    key: &'static str,
    flag: &'static str,
    env: &'static [&'static str],
    list: bool,
}

/// Every key orglake accepts. The legacy names of the older scripts come after the
/// `ORGLAKE_` names, so the new names win when both are set.
const KEYS: &[KeySpec] = &[
    KeySpec {
        key: "organization_id",
        flag: "--organization-id",
        env: &["ORGLAKE_ORGANIZATION_ID", "ORGANIZATION_ID"],
        list: false,
    },
    KeySpec {
        key: "ou_ids",
        flag: "--ou-id",
        env: &["ORGLAKE_OU_IDS", "OU_ID"],
        list: true,
    },
    KeySpec {
        key: "accounts",
        flag: "--account",
        env: &["ORGLAKE_ACCOUNTS"],
        list: true,
    },
    KeySpec {
        key: "role_name",
        flag: "--role-name",
        env: &["ORGLAKE_ROLE_NAME", "ROLE_NAME"],
        list: false,
    },
    KeySpec {
        key: "external_id",
        flag: "--external-id",
        env: &["ORGLAKE_EXTERNAL_ID"],
        list: false,
    },
    KeySpec {
        key: "warehouse",
        flag: "--warehouse",
        env: &["ORGLAKE_WAREHOUSE", "S3_BUCKET_NAME"],
        list: false,
    },
    KeySpec {
        key: "endpoint_url",
        flag: "--endpoint-url",
        env: &["ORGLAKE_ENDPOINT_URL", "AWS_ENDPOINT_URL"],
        list: false,
    },
    KeySpec {
        key: "region",
        flag: "--region",
        env: &["ORGLAKE_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"],
        list: false,
    },
    KeySpec {
        key: "regions",
        flag: "--regions",
        env: &["ORGLAKE_REGIONS"],
        list: true,
    },
    KeySpec {
        key: "fail_on_denied_regions",
        flag: "--fail-on-denied-regions",
        env: &["ORGLAKE_FAIL_ON_DENIED_REGIONS"],
        list: false,
    },
    KeySpec {
        key: "as_of",
        flag: "--as-of",
        env: &["ORGLAKE_AS_OF"],
        list: false,
    },
    KeySpec {
        key: "shard",
        flag: "--shard",
        env: &["ORGLAKE_SHARD"],
        list: false,
    },
    KeySpec {
        key: "max_concurrency",
        flag: "--max-concurrency",
        env: &["ORGLAKE_MAX_CONCURRENCY"],
        list: false,
    },
    KeySpec {
        key: "region_concurrency",
        flag: "--region-concurrency",
        env: &["ORGLAKE_REGION_CONCURRENCY"],
        list: false,
    },
    KeySpec {
        key: "terminated_retention_days",
        flag: "--terminated-retention-days",
        env: &["ORGLAKE_TERMINATED_RETENTION_DAYS"],
        list: false,
    },
    KeySpec {
        key: "report_max_polls",
        flag: "--report-max-polls",
        env: &["ORGLAKE_REPORT_MAX_POLLS"],
        list: false,
    },
    KeySpec {
        key: "sns_topic_arn",
        flag: "--sns-topic-arn",
        env: &["ORGLAKE_SNS_TOPIC_ARN", "SNS_TOPIC_ARN"],
        list: false,
    },
    KeySpec {
        key: "sse",
        flag: "--sse",
        env: &["ORGLAKE_SSE"],
        list: false,
    },
    KeySpec {
        key: "kms_key_id",
        flag: "--kms-key-id",
        env: &["ORGLAKE_KMS_KEY_ID"],
        list: false,
    },
    KeySpec {
        key: "expected_bucket_owner",
        flag: "--expected-bucket-owner",
        env: &["ORGLAKE_EXPECTED_BUCKET_OWNER"],
        list: false,
    },
    KeySpec {
        key: "glue_database",
        flag: "--glue-database",
        env: &["ORGLAKE_GLUE_DATABASE"],
        list: false,
    },
    KeySpec {
        key: "plan_tags",
        flag: "--plan-tags",
        env: &["ORGLAKE_PLAN_TAGS"],
        list: false,
    },
    KeySpec {
        key: "tag_key",
        flag: "--tag-key",
        env: &["ORGLAKE_TAG_KEY"],
        list: false,
    },
    KeySpec {
        key: "skip_owner_domains",
        flag: "--skip-owner-domain",
        env: &["ORGLAKE_SKIP_OWNER_DOMAINS"],
        list: true,
    },
    KeySpec {
        key: "tag_include_accounts",
        flag: "--tag-include-account",
        env: &["ORGLAKE_TAG_INCLUDE_ACCOUNTS"],
        list: true,
    },
    KeySpec {
        key: "tag_exclude_accounts",
        flag: "--tag-exclude-account",
        env: &["ORGLAKE_TAG_EXCLUDE_ACCOUNTS"],
        list: true,
    },
    KeySpec {
        key: "tag_include_states",
        flag: "--tag-include-state",
        env: &["ORGLAKE_TAG_INCLUDE_STATES"],
        list: true,
    },
    KeySpec {
        key: "tag_overwrite",
        flag: "--tag-overwrite",
        env: &["ORGLAKE_TAG_OVERWRITE"],
        list: false,
    },
    KeySpec {
        key: "max_tag_changes",
        flag: "--max-tag-changes",
        env: &["ORGLAKE_MAX_TAG_CHANGES"],
        list: false,
    },
    KeySpec {
        key: "max_retries",
        flag: "--max-retries",
        env: &["ORGLAKE_MAX_RETRIES"],
        list: false,
    },
];

/// Where a value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A key in the config file.
    File(String),
    /// An environment variable.
    Env(&'static str),
    /// A command-line flag.
    Flag(&'static str),
}

impl Source {
    fn describe(&self) -> String {
        match self {
            Source::File(path) => format!("config file {path}"),
            Source::Env(name) => format!("environment variable {name}"),
            Source::Flag(flag) => format!("flag {flag}"),
        }
    }

    fn key_name(&self, key: &str) -> String {
        match self {
            Source::File(_) => key.to_string(),
            Source::Env(name) => (*name).to_string(),
            Source::Flag(flag) => (*flag).to_string(),
        }
    }
}

#[derive(Debug, Clone)]
struct Raw {
    values: Vec<String>,
    source: Source,
}

/// Raw configuration values collected from the file, the environment and flags.
#[derive(Debug, Default, Clone)]
pub struct ConfigLayers {
    values: BTreeMap<&'static str, Raw>,
}

/// How the set of accounts to scan is chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every account under the organization root.
    Root,
    /// Every account under these OUs (recursively).
    Ous(Vec<String>),
    /// Exactly these accounts.
    Accounts(Vec<String>),
}

impl Scope {
    /// The ids that define the scope, for the run manifest.
    pub fn ids(&self) -> Vec<String> {
        match self {
            Scope::Root => vec!["root".to_string()],
            Scope::Ous(ids) | Scope::Accounts(ids) => ids.clone(),
        }
    }
}

/// Validated configuration of one run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Expected organization id; the run refuses to scan another organization.
    pub organization_id: Option<String>,
    /// Which accounts to scan.
    pub scope: Scope,
    /// Name of the role assumed in each account.
    pub role_name: String,
    /// External id passed to AssumeRole, if the role requires one.
    pub external_id: Option<String>,
    /// Lake location: a local directory or `s3://bucket/prefix`.
    pub warehouse: String,
    /// Endpoint override for every AWS client (an emulator, a VPC endpoint).
    pub endpoint_url: Option<String>,
    /// Region for the organization-wide calls.
    pub home_region: String,
    /// Regions to scan; empty means every enabled region.
    pub regions: Vec<String>,
    /// Count a region whose EC2 calls a service control policy denies as a failure
    /// (default: skipped, with the reason `denied_by_policy`).
    pub fail_on_denied_regions: bool,
    /// The run clock; `None` means now.
    pub as_of: Option<DateTime<Utc>>,
    /// The slice of the accounts this run scans (`--shard i/n`); the whole by default.
    pub shard: crate::config::shard::Shard,
    /// Accounts scanned at once.
    pub max_concurrency: usize,
    /// Regions scanned at once within one account (on top of `max_concurrency`).
    pub region_concurrency: usize,
    /// Days a terminated instance is kept, counted from its termination.
    pub terminated_retention_days: u32,
    /// GenerateCredentialReport polls before an account's report is given up.
    pub report_max_polls: u32,
    /// SNS topic told about failed accounts, once per run.
    pub sns_topic_arn: Option<String>,
    /// Server-side encryption of lake objects: `AES256` or `aws:kms`.
    pub sse: Option<String>,
    /// KMS key for `aws:kms`.
    pub kms_key_id: Option<String>,
    /// Account that must own the lake bucket.
    pub expected_bucket_owner: Option<String>,
    /// Glue database kept in sync with the lake after each run (S3 warehouses only).
    pub glue_database: Option<String>,
    /// Owner tagging: whether to plan it, how, and whether to apply it.
    pub tagging: TagConfig,
    /// Retries after a throttled or transient failure, per call.
    pub max_retries: u32,
}

/// Owner-tagging settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TagConfig {
    /// Compute and store the plan in this run.
    pub plan: bool,
    /// Write the planned tags (only from the `--apply` flag, never from a file or variable).
    pub apply: bool,
    /// Apply even when the plan has more than `max_changes` changes (flag only).
    pub allow_many_changes: bool,
    /// The tag key (default `owner`).
    pub key: String,
    /// Owner e-mail domains whose accounts are skipped, lowercase.
    pub skip_domains: Vec<String>,
    /// Only these accounts are tagged (empty: all).
    pub include_accounts: Vec<String>,
    /// These accounts are never tagged.
    pub exclude_accounts: Vec<String>,
    /// Instance states that are tagged.
    pub include_states: Vec<String>,
    /// Whether a different existing owner may be overwritten.
    pub overwrite: bool,
    /// Most changes applied in one run without `--allow-many-tag-changes`.
    pub max_changes: u64,
}

impl Config {
    /// Settings of the EC2 source.
    pub fn ec2_settings(&self) -> sources::Ec2Settings {
        sources::Ec2Settings {
            regions: self.regions.clone(),
            region_concurrency: self.region_concurrency,
            fail_on_denied_regions: self.fail_on_denied_regions,
            owner_tag_key: self.tagging.key.clone(),
        }
    }

    /// Settings of the credential report source.
    pub fn report_settings(&self) -> sources::ReportSettings {
        sources::ReportSettings {
            max_polls: self.report_max_polls,
            ..Default::default()
        }
    }
}

impl ConfigLayers {
    /// Reads a TOML config file. Unknown keys are errors that name the key.
    pub fn from_file(path: &Path) -> Result<Self> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::ConfigFile {
            path: shown.clone(),
            message: format!("{e}; check --config"),
        })?;
        Self::from_toml(&text, &shown)
    }

    /// Parses TOML text (from the file named `shown`).
    pub fn from_toml(text: &str, shown: &str) -> Result<Self> {
        let table: toml::Table = toml::from_str(text).map_err(|e| Error::ConfigFile {
            path: shown.to_string(),
            message: e.to_string(),
        })?;
        let mut layers = ConfigLayers::default();
        for (key, value) in table {
            let Some(spec) = KEYS.iter().find(|s| s.key == key) else {
                let known: Vec<&str> = KEYS.iter().map(|s| s.key).collect();
                return Err(Error::config(
                    key,
                    format!("config file {shown}"),
                    format!("unknown key; known keys: {}", known.join(", ")),
                ));
            };
            let source = Source::File(shown.to_string());
            let values = match value {
                toml::Value::Array(items) if spec.list => items.iter().map(toml_scalar).collect::<Option<Vec<_>>>(),
                toml::Value::Array(_) => None,
                scalar => toml_scalar(&scalar).map(|v| vec![v]),
            }
            .ok_or_else(|| {
                let want = if spec.list {
                    "a list of strings"
                } else {
                    "a single value"
                };
                Error::config(spec.key, source.describe(), format!("expected {want}"))
            })?;
            layers.values.insert(spec.key, Raw { values, source });
        }
        Ok(layers)
    }

    /// Reads the environment through `lookup` (so tests need not touch the process environment).
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let mut layers = ConfigLayers::default();
        for spec in KEYS {
            // The first name found wins: ORGLAKE_* before the legacy names.
            if let Some((name, value)) = spec.env.iter().find_map(|name| lookup(name).map(|v| (*name, v))) {
                if value.is_empty() {
                    continue;
                }
                let values = if spec.list { split_list(&value) } else { vec![value] };
                layers.values.insert(
                    spec.key,
                    Raw {
                        values,
                        source: Source::Env(name),
                    },
                );
            }
        }
        layers
    }

    /// Sets a value from a flag. List flags may be repeated or comma-separated.
    pub fn set_flag(&mut self, key: &'static str, values: Vec<String>) {
        let spec = KEYS
            .iter()
            .find(|s| s.key == key)
            .unwrap_or_else(|| panic!("no config key {key}"));
        if values.is_empty() {
            return;
        }
        let values = if spec.list {
            values.iter().flat_map(|v| split_list(v)).collect()
        } else {
            values
        };
        self.values.insert(
            spec.key,
            Raw {
                values,
                source: Source::Flag(spec.flag),
            },
        );
    }

    /// Overlays `other` on top of `self`: a key set in `other` wins.
    pub fn overlay(mut self, other: ConfigLayers) -> Self {
        self.values.extend(other.values);
        self
    }

    /// Validates every value and builds the [`Config`].
    pub fn resolve(&self) -> Result<Config> {
        let config = self.resolve_values()?;
        self.check_combinations(&config)?;
        Ok(config)
    }

    fn resolve_values(&self) -> Result<Config> {
        let organization_id = self.single("organization_id", validate_organization_id)?;
        let ou_ids = self.list("ou_ids", validate_ou_id)?;
        let accounts = self.list("accounts", validate_account_id)?;
        let scope = match (ou_ids, accounts) {
            (Some(_), Some(_)) => {
                let raw = &self.values["accounts"];
                return Err(Error::config(
                    raw.source.key_name("accounts"),
                    raw.source.describe(),
                    "both OU ids and an account list are set; use one of them (unset OU_ID / --ou-id or --account)",
                ));
            }
            (Some(ous), None) => Scope::Ous(ous),
            (None, Some(accounts)) => Scope::Accounts(accounts),
            (None, None) => Scope::Root,
        };
        let warehouse = match self.values.get("warehouse") {
            Some(raw) if raw.source == Source::Env("S3_BUCKET_NAME") => {
                let bucket = &raw.values[0];
                validate_bucket(bucket).map_err(|m| self.error("warehouse", m))?;
                format!("s3://{bucket}")
            }
            _ => self
                .single("warehouse", validate_warehouse)?
                .unwrap_or_else(|| DEFAULT_WAREHOUSE.to_string()),
        };
        Ok(Config {
            organization_id,
            scope,
            role_name: self
                .single("role_name", validate_role_name)?
                .unwrap_or_else(|| DEFAULT_ROLE_NAME.to_string()),
            external_id: self.single("external_id", validate_external_id)?,
            warehouse,
            endpoint_url: self.single("endpoint_url", validate_endpoint)?,
            home_region: self
                .single("region", validate_region)?
                .unwrap_or_else(|| DEFAULT_HOME_REGION.to_string()),
            regions: self.list("regions", validate_region)?.unwrap_or_default(),
            fail_on_denied_regions: self.single("fail_on_denied_regions", parse_bool)?.unwrap_or(false),
            as_of: self.single("as_of", parse_as_of)?,
            shard: self
                .single("shard", crate::config::shard::Shard::parse)?
                .unwrap_or(crate::config::shard::Shard::WHOLE),
            max_concurrency: self
                .single("max_concurrency", |v| {
                    parse_bounded(v, 1, 1024, "accounts scanned at once")
                })?
                .unwrap_or(DEFAULT_MAX_CONCURRENCY as u64) as usize,
            region_concurrency: self
                .single("region_concurrency", |v| {
                    parse_bounded(v, 1, 64, "regions scanned at once per account")
                })?
                .unwrap_or(DEFAULT_REGION_CONCURRENCY as u64) as usize,
            terminated_retention_days: self
                .single("terminated_retention_days", |v| parse_bounded(v, 0, 3650, "days"))?
                .unwrap_or(DEFAULT_TERMINATED_RETENTION_DAYS as u64) as u32,
            report_max_polls: self
                .single("report_max_polls", |v| parse_bounded(v, 1, 1000, "polls"))?
                .unwrap_or(DEFAULT_REPORT_MAX_POLLS as u64) as u32,
            sns_topic_arn: self.single("sns_topic_arn", validate_topic_arn)?,
            sse: self.single("sse", |v| match v {
                "AES256" | "aws:kms" => Ok(v.to_string()),
                _ => Err("expected AES256 (SSE-S3) or aws:kms (SSE-KMS)".to_string()),
            })?,
            kms_key_id: self.single("kms_key_id", |v| {
                if v.is_empty() {
                    Err("empty".to_string())
                } else {
                    Ok(v.to_string())
                }
            })?,
            expected_bucket_owner: self.single("expected_bucket_owner", validate_account_id)?,
            glue_database: self.single("glue_database", validate_glue_name)?,
            tagging: TagConfig {
                plan: self.single("plan_tags", parse_bool)?.unwrap_or(false),
                apply: false,
                allow_many_changes: false,
                key: self
                    .single("tag_key", validate_tag_key)?
                    .unwrap_or_else(|| DEFAULT_TAG_KEY.to_string()),
                skip_domains: self.list("skip_owner_domains", validate_domain)?.unwrap_or_default(),
                include_accounts: self
                    .list("tag_include_accounts", validate_account_id)?
                    .unwrap_or_default(),
                exclude_accounts: self
                    .list("tag_exclude_accounts", validate_account_id)?
                    .unwrap_or_default(),
                include_states: self
                    .list("tag_include_states", validate_state)?
                    .unwrap_or_else(|| DEFAULT_TAG_STATES.iter().map(|s| s.to_string()).collect()),
                overwrite: self.single("tag_overwrite", parse_bool)?.unwrap_or(false),
                max_changes: self
                    .single("max_tag_changes", |v| parse_bounded(v, 0, 1_000_000, "tag changes"))?
                    .unwrap_or(DEFAULT_MAX_TAG_CHANGES),
            },
            max_retries: self
                .single("max_retries", |v| parse_bounded(v, 0, 20, "retries per call"))?
                .unwrap_or(DEFAULT_MAX_RETRIES as u64) as u32,
        })
    }

    /// Checks settings that only make sense together.
    fn check_combinations(&self, config: &Config) -> Result<()> {
        if config.kms_key_id.is_some() && config.sse.as_deref() != Some("aws:kms") {
            return Err(self.error("kms_key_id", "a KMS key needs sse = aws:kms (--sse aws:kms)".into()));
        }
        Ok(())
    }

    fn error(&self, key: &str, message: String) -> Error {
        let raw = &self.values[key];
        Error::config(raw.source.key_name(key), raw.source.describe(), message)
    }

    fn single<T>(&self, key: &str, parse: impl Fn(&str) -> std::result::Result<T, String>) -> Result<Option<T>> {
        let Some(raw) = self.values.get(key) else {
            return Ok(None);
        };
        let value = raw.values.first().map(String::as_str).unwrap_or("");
        parse(value.trim())
            .map(Some)
            .map_err(|m| self.error(key, format!("{value:?}: {m}")))
    }

    /// A list setting, each value parsed; a value given twice is kept once (first place), so
    /// that `--regions a,b,a` cannot scan a region twice and write its rows twice.
    fn list<T: PartialEq>(
        &self,
        key: &str,
        parse: impl Fn(&str) -> std::result::Result<T, String>,
    ) -> Result<Option<Vec<T>>> {
        let Some(raw) = self.values.get(key) else {
            return Ok(None);
        };
        if raw.values.is_empty() {
            return Err(self.error(
                key,
                "the list is empty; give at least one value or remove the key".into(),
            ));
        }
        let mut out = Vec::new();
        for value in &raw.values {
            let parsed = parse(value.trim()).map_err(|m| self.error(key, format!("{value:?}: {m}")))?;
            if !out.contains(&parsed) {
                out.push(parsed);
            }
        }
        Ok(Some(out))
    }
}

fn toml_scalar(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        toml::Value::Datetime(d) => Some(d.to_string()),
        _ => None,
    }
}

fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(String::from)
        .collect()
}

fn is_lower_alnum(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
}

/// Checks an organization id (`o-` followed by 10 to 32 lowercase letters or digits).
pub fn validate_organization_id(v: &str) -> std::result::Result<String, String> {
    match v.strip_prefix("o-") {
        Some(rest) if (10..=32).contains(&rest.len()) && is_lower_alnum(rest) => Ok(v.to_string()),
        _ => Err(
            "not an organization id; expected o- followed by 10-32 lowercase letters or digits, e.g. o-a1b2c3d4e5"
                .into(),
        ),
    }
}

/// Checks an OU or root id (`ou-xxxx-xxxxxxxx` or `r-xxxx`).
pub fn validate_ou_id(v: &str) -> std::result::Result<String, String> {
    let ok = if let Some(rest) = v.strip_prefix("ou-") {
        match rest.split_once('-') {
            Some((root, ou)) => {
                (4..=32).contains(&root.len())
                    && is_lower_alnum(root)
                    && (8..=32).contains(&ou.len())
                    && is_lower_alnum(ou)
            }
            None => false,
        }
    } else if let Some(rest) = v.strip_prefix("r-") {
        (4..=32).contains(&rest.len()) && is_lower_alnum(rest)
    } else {
        false
    };
    if ok {
        Ok(v.to_string())
    } else {
        Err("not an OU id; expected ou-<root>-<id> such as ou-ab12-cdef3456, or a root id such as r-ab12".into())
    }
}

/// Checks a 12-digit account id.
pub fn validate_account_id(v: &str) -> std::result::Result<String, String> {
    if v.len() == 12 && v.chars().all(|c| c.is_ascii_digit()) {
        Ok(v.to_string())
    } else {
        Err("not an AWS account id; expected exactly 12 digits".into())
    }
}

fn validate_role_name(v: &str) -> std::result::Result<String, String> {
    let ok = (1..=64).contains(&v.len()) && v.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
        Ok(v.to_string())
    } else {
        Err("not an IAM role name; use 1-64 letters, digits or +=,.@_- (the name only, not the ARN)".into())
    }
}

fn validate_external_id(v: &str) -> std::result::Result<String, String> {
    if (2..=1224).contains(&v.len()) {
        Ok(v.to_string())
    } else {
        Err("an external id is 2-1224 characters".into())
    }
}

fn validate_bucket(v: &str) -> std::result::Result<String, String> {
    let ok = (3..=63).contains(&v.len())
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    if ok {
        Ok(v.to_string())
    } else {
        Err(format!(
            "{v:?} is not an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)"
        ))
    }
}

fn validate_warehouse(v: &str) -> std::result::Result<String, String> {
    if v.is_empty() {
        return Err("empty; give a directory or s3://bucket/prefix".into());
    }
    if let Some(rest) = v.strip_prefix("s3://") {
        let bucket = rest.split('/').next().unwrap_or("");
        validate_bucket(bucket)?;
        return Ok(v.trim_end_matches('/').to_string());
    }
    if v.contains("://") && !v.starts_with("file://") {
        return Err("unsupported scheme; use a local directory, file:///dir or s3://bucket/prefix".into());
    }
    Ok(v.to_string())
}

fn validate_endpoint(v: &str) -> std::result::Result<String, String> {
    match url::Url::parse(v) {
        Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.host().is_some() => {
            Ok(v.trim_end_matches('/').to_string())
        }
        _ => Err("not an http(s) URL; expected something like http://127.0.0.1:5000".into()),
    }
}

fn validate_glue_name(v: &str) -> std::result::Result<String, String> {
    let ok = (1..=255).contains(&v.len())
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(v.to_string())
    } else {
        Err("a Glue database name is lowercase letters, digits and underscores".into())
    }
}

fn parse_bool(v: &str) -> std::result::Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        _ => Err("expected true or false".into()),
    }
}

fn validate_tag_key(v: &str) -> std::result::Result<String, String> {
    if (1..=128).contains(&v.chars().count()) && !v.to_ascii_lowercase().starts_with("aws:") {
        Ok(v.to_string())
    } else {
        Err("a tag key is 1-128 characters and may not start with aws:".into())
    }
}

fn validate_domain(v: &str) -> std::result::Result<String, String> {
    let domain = v.trim_start_matches('@').to_ascii_lowercase();
    if domain.contains('.') && !domain.contains(char::is_whitespace) && !domain.contains('@') {
        Ok(domain)
    } else {
        Err("not an e-mail domain; expected something like example.com".into())
    }
}

fn validate_state(v: &str) -> std::result::Result<String, String> {
    const STATES: &[&str] = &[
        "pending",
        "running",
        "shutting-down",
        "terminated",
        "stopping",
        "stopped",
    ];
    if STATES.contains(&v) {
        Ok(v.to_string())
    } else {
        Err(format!("not an instance state; one of {}", STATES.join(", ")))
    }
}

fn validate_topic_arn(v: &str) -> std::result::Result<String, String> {
    let parts: Vec<&str> = v.split(':').collect();
    if parts.len() == 6 && parts[0] == "arn" && parts[2] == "sns" && parts[4].len() == 12 && !parts[5].is_empty() {
        Ok(v.to_string())
    } else {
        Err("not an SNS topic ARN; expected arn:aws:sns:REGION:ACCOUNT:TOPIC".into())
    }
}

/// Checks a region name such as `eu-west-1`.
pub fn validate_region(v: &str) -> std::result::Result<String, String> {
    let ok = v.len() >= 4
        && v.len() <= 32
        && v.contains('-')
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(v.to_string())
    } else {
        Err("not a region name; expected something like eu-west-1".into())
    }
}

/// Parses the run clock: RFC 3339 (`2026-11-24T06:00:00Z`) or a date (midnight UTC).
pub fn parse_as_of(v: &str) -> std::result::Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    Err("not a time; use RFC 3339 like 2026-11-24T06:00:00Z, or a date like 2026-11-24".into())
}

fn parse_bounded(v: &str, min: u64, max: u64, what: &str) -> std::result::Result<u64, String> {
    match v.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number of {what} between {min} and {max}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> ConfigLayers {
        let map: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ConfigLayers::from_env(|k| map.get(k).cloned())
    }

    #[test]
    fn a_value_given_twice_in_a_list_is_kept_once() {
        let mut flags = ConfigLayers::default();
        flags.set_flag("regions", vec!["us-east-1,eu-west-1,us-east-1".into()]);
        flags.set_flag("ou_ids", vec!["ou-ab12-cdef3456".into(), "ou-ab12-cdef3456".into()]);
        flags.set_flag("skip_owner_domains", vec!["Example.com,@example.com".into()]);
        let config = flags.resolve().unwrap();
        assert_eq!(config.regions, vec!["us-east-1", "eu-west-1"]);
        assert_eq!(config.scope, Scope::Ous(vec!["ou-ab12-cdef3456".into()]));
        assert_eq!(config.tagging.skip_domains, vec!["example.com"]);
    }

    #[test]
    fn flags_beat_env_beat_file() {
        let file = ConfigLayers::from_toml(
            "role_name = \"from-file\"\nmax_concurrency = 4\nregions = [\"eu-west-1\"]",
            "t.toml",
        )
        .unwrap();
        let env = env(&[("ROLE_NAME", "from-env"), ("ORGLAKE_MAX_CONCURRENCY", "8")]);
        let mut flags = ConfigLayers::default();
        flags.set_flag("max_concurrency", vec!["16".into()]);
        let config = file.overlay(env).overlay(flags).resolve().unwrap();
        assert_eq!(config.role_name, "from-env");
        assert_eq!(config.max_concurrency, 16);
        assert_eq!(config.regions, vec!["eu-west-1"]);
    }

    #[test]
    fn legacy_names_are_accepted_and_new_names_win() {
        let config = env(&[
            ("OU_ID", "ou-ab12-cdef3456, ou-ab12-99998888"),
            ("S3_BUCKET_NAME", "my-bucket"),
            ("ORGANIZATION_ID", "o-abcdefghij"),
        ])
        .resolve()
        .unwrap();
        assert_eq!(
            config.scope,
            Scope::Ous(vec!["ou-ab12-cdef3456".into(), "ou-ab12-99998888".into()])
        );
        assert_eq!(config.warehouse, "s3://my-bucket");
        let config = env(&[("ROLE_NAME", "old"), ("ORGLAKE_ROLE_NAME", "new")])
            .resolve()
            .unwrap();
        assert_eq!(config.role_name, "new");
    }

    #[test]
    fn errors_name_the_key_as_written() {
        let err = env(&[("ORGLAKE_MAX_CONCURRENCY", "lots")])
            .resolve()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("ORGLAKE_MAX_CONCURRENCY") && err.contains("between 1 and 1024"),
            "{err}"
        );
        let mut flags = ConfigLayers::default();
        flags.set_flag("ou_ids", vec!["ou-bad".into()]);
        let err = flags.resolve().unwrap_err().to_string();
        assert!(err.contains("--ou-id") && err.contains("ou-ab12-cdef3456"), "{err}");
        let err = ConfigLayers::from_toml("max_concurency = 3", "c.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("max_concurency") && err.contains("max_concurrency"),
            "{err}"
        );
        let err = ConfigLayers::from_toml("regions = \"eu-west-1\"\nrole_name = [1]", "c.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("role_name"), "{err}");
    }

    #[test]
    fn scope_is_exclusive() {
        let err = env(&[("OU_ID", "r-ab12"), ("ORGLAKE_ACCOUNTS", "111111111111")])
            .resolve()
            .unwrap_err()
            .to_string();
        assert!(err.contains("use one of them"), "{err}");
        assert_eq!(ConfigLayers::default().resolve().unwrap().scope, Scope::Root);
    }

    #[test]
    fn as_of_accepts_dates_and_timestamps() {
        assert_eq!(
            parse_as_of("2026-01-02").unwrap().to_rfc3339(),
            "2026-01-02T00:00:00+00:00"
        );
        assert_eq!(
            parse_as_of("2026-01-02T03:04:05+01:00").unwrap().to_rfc3339(),
            "2026-01-02T02:04:05+00:00"
        );
        assert!(parse_as_of("yesterday").is_err());
    }

    #[test]
    fn the_example_config_is_valid() {
        let example = include_str!("../../examples/orglake.toml");
        let config = ConfigLayers::from_toml(example, "examples/orglake.toml")
            .unwrap()
            .resolve()
            .unwrap();
        assert_eq!(config.scope, Scope::Ous(vec!["ou-ab12-cdef3456".into()]));
        assert_eq!(config.regions, vec!["us-east-1", "eu-west-1"]);
    }

    #[test]
    fn validators_reject_garbage() {
        assert!(validate_ou_id("r-ab12").is_ok());
        for bad in [
            "",
            "ou-",
            "ou-AB12-cdef3456",
            "ou-ab12-cde",
            "root",
            "ou-ab12-cdef3456-x",
        ] {
            assert!(validate_ou_id(bad).is_err(), "{bad}");
        }
        assert!(validate_account_id("12345678901").is_err());
        assert!(validate_endpoint("localhost:5000").is_err());
        assert!(validate_warehouse("gs://bucket").is_err());
        assert!(validate_warehouse("s3://Bad_Bucket").is_err());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// TOML values of every shape a user might write.
    fn toml_value() -> impl Strategy<Value = toml::Value> {
        prop_oneof![
            any::<String>().prop_map(toml::Value::String),
            "[a-z0-9:/._-]{0,24}".prop_map(toml::Value::String),
            any::<i64>().prop_map(toml::Value::Integer),
            any::<bool>().prop_map(toml::Value::Boolean),
            proptest::collection::vec(any::<String>().prop_map(toml::Value::String), 0..3).prop_map(toml::Value::Array),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any text as a config file: a config or an error, never a panic.
        #[test]
        fn any_text_is_a_config_or_an_error(text in any::<String>()) {
            if let Ok(layers) = ConfigLayers::from_toml(&text, "orglake.toml") {
                let _ = layers.resolve();
            }
        }

        /// Any value for any known key in a file: accepted, or an error that names a key
        /// of the file.
        #[test]
        fn a_bad_file_value_names_its_key(entries in proptest::collection::btree_map(0..KEYS.len(), toml_value(), 1..4)) {
            let mut table = toml::Table::new();
            for (index, value) in &entries {
                table.insert(KEYS[*index].key.to_string(), value.clone());
            }
            let text = toml::to_string(&table).unwrap();
            match ConfigLayers::from_toml(&text, "orglake.toml").and_then(|l| l.resolve()) {
                Ok(_) => {}
                Err(err) => {
                    let message = err.to_string();
                    prop_assert!(
                        entries.keys().any(|i| message.contains(KEYS[*i].key)),
                        "{message} names none of the keys of {text}"
                    );
                }
            }
        }

        /// Any value in any variable: accepted, or an error that names the variable.
        #[test]
        fn a_bad_variable_names_itself(index in 0..KEYS.len(), value in any::<String>()) {
            let name = KEYS[index].env[0];
            let layers = ConfigLayers::from_env(|k| (k == name).then(|| value.clone()));
            if let Err(err) = layers.resolve() {
                let message = err.to_string();
                prop_assert!(message.contains(name), "{message} does not name {name}");
            }
        }
    }
}
