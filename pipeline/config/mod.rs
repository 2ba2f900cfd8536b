//! Run configuration: a TOML file, overridden by environment variables, overridden by flags.
//!
//! Every setting is declared once, in [`settings`]; this module collects each value as raw
//! text together with where it came from, then validates them all in one place, so an
//! error always names the key as the user wrote it (file key, environment variable or
//! flag) and says how to fix it.
//!
//! May import: `error`.

pub mod settings;
pub mod shard;
pub mod sources;
pub mod validate;

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};
pub use settings::{Config, Group, SETTINGS, Setting, Shape};

/// Where a value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A key in the config file.
    File(String),
    /// An environment variable.
    Env(&'static str),
    /// A command-line flag.
    Flag(&'static str),
    /// The setting's declared default.
    Default,
}

impl Source {
    fn describe(&self) -> String {
        match self {
            Source::File(path) => format!("config file {path}"),
            Source::Env(name) => format!("environment variable {name}"),
            Source::Flag(flag) => format!("flag {flag}"),
            Source::Default => "the default".to_string(),
        }
    }

    fn key_name(&self, setting: &Setting) -> String {
        match self {
            Source::File(_) | Source::Default => setting.key.to_string(),
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

/// Owner-tagging settings, as the act stage reads them.
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
    /// Which accounts to scan: the OUs, else the accounts, else the whole organization
    /// (resolution refuses both).
    pub fn scope(&self) -> Scope {
        match (self.ou_ids.is_empty(), self.accounts.is_empty()) {
            (false, _) => Scope::Ous(self.ou_ids.clone()),
            (true, false) => Scope::Accounts(self.accounts.clone()),
            (true, true) => Scope::Root,
        }
    }

    /// Owner tagging: planned when asked, or when tags are to be applied.
    pub fn tagging(&self) -> TagConfig {
        TagConfig {
            plan: self.plan_tags || self.apply,
            apply: self.apply,
            allow_many_changes: self.allow_many_tag_changes,
            key: self.tag_key.clone(),
            skip_domains: self.skip_owner_domains.clone(),
            include_accounts: self.tag_include_accounts.clone(),
            exclude_accounts: self.tag_exclude_accounts.clone(),
            include_states: self.tag_include_states.clone(),
            overwrite: self.tag_overwrite,
            max_changes: self.max_tag_changes,
        }
    }

    /// Settings of the EC2 source.
    pub fn ec2_settings(&self) -> sources::Ec2Settings {
        sources::Ec2Settings {
            regions: self.regions.clone(),
            region_concurrency: self.region_concurrency,
            fail_on_denied_regions: self.fail_on_denied_regions,
            owner_tag_key: self.tag_key.clone(),
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

/// The declaration of a key this module was handed; every caller passes a declared key.
fn declared(key: &str) -> &'static Setting {
    settings::setting(key).unwrap_or_else(|| panic!("{key} is not a declared setting"))
}

impl ConfigLayers {
    /// Reads a TOML config file. Unknown keys are errors that name the key.
    pub fn from_file(path: &Path) -> Result<Self> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| Error::ConfigFileRead {
            path: shown.clone(),
            source,
        })?;
        Self::from_toml(&text, &shown)
    }

    /// Parses TOML text (from the file named `shown`).
    pub fn from_toml(text: &str, shown: &str) -> Result<Self> {
        let table: toml::Table = toml::from_str(text).map_err(|source| Error::ConfigFileSyntax {
            path: shown.to_string(),
            source: Box::new(source),
        })?;
        let mut layers = ConfigLayers::default();
        for (key, value) in table {
            let source = Source::File(shown.to_string());
            let Some(spec) = SETTINGS.iter().find(|s| s.key == key && !s.flag_only) else {
                let message = match SETTINGS.iter().find(|s| s.key == key) {
                    Some(s) => format!("only the flag {} sets this, never a file or variable", s.flag),
                    None => {
                        let known: Vec<&str> = SETTINGS.iter().filter(|s| !s.flag_only).map(|s| s.key).collect();
                        format!("unknown key; known keys: {}", known.join(", "))
                    }
                };
                return Err(Error::config(key, source.describe(), message));
            };
            let list = spec.shape == Shape::List;
            let values = match value {
                toml::Value::Array(items) if list => items.iter().map(toml_scalar).collect::<Option<Vec<_>>>(),
                toml::Value::Array(_) => None,
                scalar => toml_scalar(&scalar).map(|v| vec![v]),
            }
            .ok_or_else(|| {
                let want = if list { "a list of strings" } else { "a single value" };
                Error::config(spec.key, source.describe(), format!("expected {want}"))
            })?;
            layers.values.insert(spec.key, Raw { values, source });
        }
        Ok(layers)
    }

    /// Reads the environment through `lookup` (so tests need not touch the process environment).
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let mut layers = ConfigLayers::default();
        for spec in SETTINGS {
            // The first name found wins: ORGLAKE_* before the legacy names.
            let Some((name, value)) = spec.env.iter().find_map(|name| lookup(name).map(|v| (*name, v))) else {
                continue;
            };
            if value.is_empty() {
                continue;
            }
            let value = match spec.env_prefix {
                Some((prefixed, prefix)) if prefixed == name => format!("{prefix}{value}"),
                _ => value,
            };
            let values = match spec.shape {
                Shape::List => split_list(&value),
                _ => vec![value],
            };
            layers.values.insert(
                spec.key,
                Raw {
                    values,
                    source: Source::Env(name),
                },
            );
        }
        layers
    }

    /// Sets a value from a flag. List flags may be repeated or comma-separated.
    pub fn set_flag(&mut self, key: &str, values: Vec<String>) {
        let spec = declared(key);
        if values.is_empty() {
            return;
        }
        let values = match spec.shape {
            Shape::List => values.iter().flat_map(|v| split_list(v)).collect(),
            _ => values,
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
        let config = Config::from_layers(self)?;
        self.check_combinations(&config)?;
        Ok(config)
    }

    /// Checks settings that only make sense together.
    fn check_combinations(&self, config: &Config) -> Result<()> {
        if !config.ou_ids.is_empty() && !config.accounts.is_empty() {
            return Err(self.error(
                "accounts",
                "both OU ids and an account list are set; use one of them (unset OU_ID / --ou-id or --account)".into(),
            ));
        }
        if config.kms_key_id.is_some() && config.sse.as_deref() != Some("aws:kms") {
            return Err(self.error("kms_key_id", "a KMS key needs sse = aws:kms (--sse aws:kms)".into()));
        }
        Ok(())
    }

    /// The raw value of `key`: as given, else its declared default.
    fn raw(&self, key: &str) -> Option<Raw> {
        let spec = declared(key);
        self.values.get(key).cloned().or_else(|| {
            spec.default.map(|text| Raw {
                values: match spec.shape {
                    Shape::List => split_list(text),
                    _ => vec![text.to_string()],
                },
                source: Source::Default,
            })
        })
    }

    fn error(&self, key: &str, message: String) -> Error {
        let spec = declared(key);
        let source = self
            .values
            .get(key)
            .map(|raw| raw.source.clone())
            .unwrap_or(Source::Default);
        Error::config(source.key_name(spec), source.describe(), message)
    }

    /// A single value given, or `None`.
    pub(crate) fn optional<T>(
        &self,
        key: &str,
        parse: impl Fn(&str) -> std::result::Result<T, String>,
    ) -> Result<Option<T>> {
        let Some(raw) = self.raw(key) else {
            return Ok(None);
        };
        let value = raw.values.first().map(String::as_str).unwrap_or("");
        parse(value.trim())
            .map(Some)
            .map_err(|m| self.error(key, format!("{value:?}: {m}")))
    }

    /// A single value, given or the declared default.
    pub(crate) fn one<T>(&self, key: &str, parse: impl Fn(&str) -> std::result::Result<T, String>) -> Result<T> {
        self.optional(key, parse)?
            .ok_or_else(|| self.error(key, "this setting needs a value and has no default".into()))
    }

    /// true or false, given or the declared default.
    pub(crate) fn switch(&self, key: &str, parse: impl Fn(&str) -> std::result::Result<bool, String>) -> Result<bool> {
        Ok(self.optional(key, parse)?.unwrap_or(false))
    }

    /// A list setting, each value parsed; a value given twice is kept once (first place), so
    /// that `--regions a,b,a` cannot scan a region twice and write its rows twice.
    pub(crate) fn list<T: PartialEq>(
        &self,
        key: &str,
        parse: impl Fn(&str) -> std::result::Result<T, String>,
    ) -> Result<Vec<T>> {
        let Some(raw) = self.raw(key) else {
            return Ok(Vec::new());
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
        Ok(out)
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

#[cfg(test)]
mod tests {
    use super::validate::*;
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
        assert_eq!(config.scope(), Scope::Ous(vec!["ou-ab12-cdef3456".into()]));
        assert_eq!(config.skip_owner_domains, vec!["example.com"]);
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
            config.scope(),
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
        assert_eq!(ConfigLayers::default().resolve().unwrap().scope(), Scope::Root);
    }

    #[test]
    fn as_of_accepts_dates_and_timestamps() {
        assert_eq!(
            as_of_time("2026-01-02").unwrap().to_rfc3339(),
            "2026-01-02T00:00:00+00:00"
        );
        assert_eq!(
            as_of_time("2026-01-02T03:04:05+01:00").unwrap().to_rfc3339(),
            "2026-01-02T02:04:05+00:00"
        );
        assert!(as_of_time("yesterday").is_err());
    }

    #[test]
    fn the_example_config_is_valid_with_its_commented_lines_too() {
        let example = include_str!("../../examples/orglake.toml");
        let config = ConfigLayers::from_toml(example, "examples/orglake.toml")
            .unwrap()
            .resolve()
            .unwrap();
        assert_eq!(config.scope(), Scope::Root);
        assert_eq!(config.max_concurrency, 32);
        // Every example value is valid: uncomment each `# key = value` line (all but the
        // account list, which excludes the OU list).
        let uncommented: String = example
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest)
                    if rest
                        .split_once(" = ")
                        .is_some_and(|(key, _)| key != "accounts" && settings::setting(key).is_some()) =>
                {
                    rest
                }
                _ => line,
            })
            .map(|line| format!("{line}\n"))
            .collect();
        let config = ConfigLayers::from_toml(&uncommented, "uncommented example")
            .unwrap()
            .resolve()
            .unwrap();
        assert_eq!(config.scope(), Scope::Ous(vec!["ou-ab12-cdef3456".into()]));
        assert_eq!(config.regions, vec!["us-east-1", "eu-west-1"]);
        assert_eq!(config.sse.as_deref(), Some("aws:kms"));
    }

    #[test]
    fn a_flag_only_setting_is_refused_from_a_file_and_ignored_in_the_environment() {
        let err = ConfigLayers::from_toml("apply = true", "c.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`apply`") && err.contains("only the flag --apply"),
            "{err}"
        );
        let config = env(&[("ORGLAKE_APPLY", "true"), ("APPLY", "true")]).resolve().unwrap();
        assert!(!config.apply && !config.tagging().apply);
        let mut flags = ConfigLayers::default();
        flags.set_flag("apply", vec!["true".into()]);
        let tagging = flags.resolve().unwrap().tagging();
        assert!(tagging.apply && tagging.plan, "--apply implies a plan");
    }

    #[test]
    fn each_setting_is_declared_with_its_own_flag_and_variables() {
        let mut flags = std::collections::BTreeSet::new();
        let mut names = std::collections::BTreeSet::new();
        for s in SETTINGS {
            assert!(
                s.flag.starts_with("--") && flags.insert(s.flag),
                "{}: a flag of its own",
                s.key
            );
            for name in s.env {
                assert!(names.insert(*name), "{name} sets one setting");
            }
            assert_eq!(s.flag_only, s.env.is_empty(), "{}: variables unless flag-only", s.key);
            assert!(!s.help.is_empty(), "{} has help", s.key);
        }
        // Every default is read by its validator: the empty configuration resolves.
        let defaults = ConfigLayers::default().resolve().unwrap();
        assert_eq!(
            defaults.tag_include_states,
            vec!["pending", "running", "stopping", "stopped"]
        );
        assert_eq!(defaults.shard, shard::Shard::WHOLE);
    }

    #[test]
    fn validators_reject_garbage() {
        assert!(ou_id("r-ab12").is_ok());
        for bad in [
            "",
            "ou-",
            "ou-AB12-cdef3456",
            "ou-ab12-cde",
            "root",
            "ou-ab12-cdef3456-x",
        ] {
            assert!(ou_id(bad).is_err(), "{bad}");
        }
        assert!(account_id("12345678901").is_err());
        assert!(endpoint("localhost:5000").is_err());
        assert!(warehouse("gs://bucket").is_err());
        assert!(warehouse("s3://Bad_Bucket").is_err());
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
        fn a_bad_file_value_names_its_key(entries in proptest::collection::btree_map(0..SETTINGS.len(), toml_value(), 1..4)) {
            let mut table = toml::Table::new();
            for (index, value) in &entries {
                table.insert(SETTINGS[*index].key.to_string(), value.clone());
            }
            let text = toml::to_string(&table).unwrap();
            match ConfigLayers::from_toml(&text, "orglake.toml").and_then(|l| l.resolve()) {
                Ok(_) => {}
                Err(err) => {
                    let message = err.to_string();
                    prop_assert!(
                        entries.keys().any(|i| message.contains(SETTINGS[*i].key)),
                        "{message} names none of the keys of {text}"
                    );
                }
            }
        }

        /// Any value in any variable: accepted, or an error that names the variable.
        #[test]
        fn a_bad_variable_names_itself(index in 0..SETTINGS.len(), value in any::<String>()) {
            let name = SETTINGS[index].env.first().copied().unwrap_or("ORGLAKE_NOTHING");
            let layers = ConfigLayers::from_env(|k| (k == name).then(|| value.clone()));
            if let Err(err) = layers.resolve() {
                let message = err.to_string();
                prop_assert!(message.contains(name), "{message} does not name {name}");
            }
        }
    }
}
