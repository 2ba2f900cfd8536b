//! Every setting orglake accepts, each declared once below: its file key (the field name),
//! flag, environment variables, type, default, help and validator. From this one list come
//! the [`Config`] struct and its resolution, the config-file keys, the command-line flags
//! (built by the binary from [`SETTINGS`] and [`COMMANDS`]), the README's settings table
//! ([`settings_markdown`]) and `examples/orglake.toml` ([`example_toml`]); tests hold the
//! last two equal to the files.
//!
//! A default is raw text, read by the same validator as a value the user gives, so a
//! default can never be a value the user could not write.

use super::ConfigLayers;
use super::validate::*;
use crate::config::shard::Shard;
use crate::error::Result;

/// A group of settings: the commands that take one group take all of its flags, and the
/// help of a command shows each group under its own heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// Where the lake is and how to reach AWS: every command that opens a lake.
    Lake,
    /// How lake objects are encrypted: the commands that write a lake.
    Encryption,
    /// Which snapshot a commit writes.
    Snapshot,
    /// What to scan and how.
    Scan,
    /// The Glue catalog kept in sync.
    Glue,
    /// Owner tagging.
    Tagging,
}

impl Group {
    /// The heading of the group in `--help` and in the example file.
    pub fn heading(self) -> &'static str {
        match self {
            Group::Lake => "Lake and AWS",
            Group::Encryption => "Encryption",
            Group::Snapshot => "Snapshot",
            Group::Scan => "Scan",
            Group::Glue => "Glue catalog",
            Group::Tagging => "Owner tagging",
        }
    }
}

/// The setting groups each command takes; a flag of a group a command does not take is a
/// usage error (exit 2), never silently ignored.
pub const COMMANDS: &[(&str, &[Group])] = &[
    ("run", RUN),
    ("tag", RUN),
    ("query", LAKE_ONLY),
    ("export", LAKE_ONLY),
    ("changes", LAKE_ONLY),
    ("vacuum", LAKE_ONLY),
    ("glue sync", GLUE_SYNC),
    ("bench-load", BENCH_LOAD),
    ("bench-replay", LAKE_ONLY),
];

/// Groups of `run` and `tag`: all of them.
pub const RUN: &[Group] = &[
    Group::Lake,
    Group::Encryption,
    Group::Snapshot,
    Group::Scan,
    Group::Glue,
    Group::Tagging,
];
/// Groups of the commands that only read a lake.
pub const LAKE_ONLY: &[Group] = &[Group::Lake];
/// Groups of `glue sync`.
pub const GLUE_SYNC: &[Group] = &[Group::Lake, Group::Glue];
/// Groups of `bench-load` (a commit without a scan).
pub const BENCH_LOAD: &[Group] = &[Group::Lake, Group::Encryption, Group::Snapshot];

/// How a setting's text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One value.
    One,
    /// A list: an array in the file, comma-separated in a variable, a repeatable flag.
    List,
    /// true or false; the flag alone means true.
    Switch,
}

/// The declaration of one setting.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// The file key and the [`Config`] field.
    pub key: &'static str,
    /// The flag, with its dashes.
    pub flag: &'static str,
    /// Environment variables, strongest first (the `ORGLAKE_` name before the older
    /// scripts' names). Empty for a flag-only setting.
    pub env: &'static [&'static str],
    /// A variable whose value gets a prefix: the older scripts' `S3_BUCKET_NAME` holds a
    /// bucket, which becomes `s3://BUCKET`.
    pub env_prefix: Option<(&'static str, &'static str)>,
    /// How the text is read.
    pub shape: Shape,
    /// Which commands take it.
    pub group: Group,
    /// The default as raw text (a list comma-separated), read by the setting's validator.
    pub default: Option<&'static str>,
    /// What the default means, where the raw text does not say it (`none` otherwise).
    pub default_doc: Option<&'static str>,
    /// The value's name in `--help`.
    pub value_name: &'static str,
    /// A value for the example file (TOML), where there is no default to show.
    pub example: Option<&'static str>,
    /// Only a flag can set it (an action, such as writing tags).
    pub flag_only: bool,
    /// What it does: the help of the flag, the README and the example file.
    pub help: &'static str,
}

impl Setting {
    const BASE: Setting = Setting {
        key: "",
        flag: "",
        env: &[],
        env_prefix: None,
        shape: Shape::One,
        group: Group::Lake,
        default: None,
        default_doc: None,
        value_name: "VALUE",
        example: None,
        flag_only: false,
        help: "",
    };

    /// The help as one line.
    pub fn help_line(&self) -> String {
        self.help.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The default as a person reads it.
    pub fn default_text(&self) -> String {
        match (self.default_doc, self.default) {
            (Some(doc), _) => doc.to_string(),
            (None, Some(raw)) => format!("`{raw}`"),
            (None, None) => "none".to_string(),
        }
    }
}

/// The declaration of `key`.
pub fn setting(key: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.key == key)
}

/// The setting read from the environment variable `name`.
pub fn setting_of_env(name: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.env.contains(&name))
}

macro_rules! shape_of {
    (optional) => {
        Shape::One
    };
    (one) => {
        Shape::One
    };
    (list) => {
        Shape::List
    };
    (switch) => {
        Shape::Switch
    };
}

/// Declares the settings: each becomes a [`Config`] field, a [`Setting`] in [`SETTINGS`],
/// and a line of [`Config`]'s resolution (`optional`: `Option<T>`; `one`: `T` from the
/// default when unset; `list`: `Vec<T>`; `switch`: `bool`).
macro_rules! settings {
    ($(
        #[doc = $help:literal]
        $(#[doc = $more:literal])*
        $field:ident: $ty:ty = $kind:ident($parse:expr) { $($meta:ident: $value:expr),* $(,)? }
    )*) => {
        /// A run's configuration: every setting, validated. Built by
        /// [`ConfigLayers::resolve`] from the file, the environment and the flags.
        #[derive(Debug, Clone)]
        pub struct Config {
            $(
                #[doc = $help]
                $(#[doc = $more])*
                pub $field: $ty,
            )*
        }

        /// Every setting, in the order of the README table and the example file.
        pub const SETTINGS: &[Setting] = &[$(
            Setting {
                key: stringify!($field),
                shape: shape_of!($kind),
                help: concat!($help $(, "\n", $more)*),
                $($meta: $value,)*
                ..Setting::BASE
            },
        )*];

        impl Config {
            /// Reads every setting from `layers` with its validator.
            pub(crate) fn from_layers(layers: &ConfigLayers) -> Result<Config> {
                Ok(Config { $($field: layers.$kind(stringify!($field), $parse)?,)* })
            }
        }
    };
}

settings! {
    /// Refuse to scan any other organization.
    organization_id: Option<String> = optional(organization_id) {
        group: Group::Scan, flag: "--organization-id", value_name: "ID",
        env: &["ORGLAKE_ORGANIZATION_ID", "ORGANIZATION_ID"], example: Some("\"o-a1b2c3d4e5\""),
    }
    /// OUs (or a root `r-…`) scanned recursively; the whole organization when neither this
    /// nor `accounts` is set.
    ou_ids: Vec<String> = list(ou_id) {
        group: Group::Scan, flag: "--ou-id", value_name: "ID", env: &["ORGLAKE_OU_IDS", "OU_ID"],
        default_doc: Some("the root"), example: Some("[\"ou-ab12-cdef3456\"]"),
    }
    /// Exactly these accounts instead of OU discovery (not together with `ou_ids`).
    accounts: Vec<String> = list(account_id) {
        group: Group::Scan, flag: "--account", value_name: "ID", env: &["ORGLAKE_ACCOUNTS"],
        example: Some("[\"111111111111\", \"222222222222\"]"),
    }
    /// Role assumed in each member account (the name, not the ARN).
    role_name: String = one(role_name) {
        group: Group::Scan, flag: "--role-name", value_name: "NAME",
        env: &["ORGLAKE_ROLE_NAME", "ROLE_NAME"], default: Some("orglake-reader"),
    }
    /// External id passed to AssumeRole, if the role requires one.
    external_id: Option<String> = optional(external_id) {
        group: Group::Scan, flag: "--external-id", value_name: "ID", env: &["ORGLAKE_EXTERNAL_ID"],
        example: Some("\"replace-with-your-external-id\""),
    }
    /// Lake location: a directory or `s3://bucket/prefix`.
    warehouse: String = one(warehouse) {
        group: Group::Lake, flag: "--warehouse", value_name: "DIR|S3_URL",
        env: &["ORGLAKE_WAREHOUSE", "S3_BUCKET_NAME"], env_prefix: Some(("S3_BUCKET_NAME", "s3://")),
        default: Some("./lake"),
    }
    /// Endpoint for every AWS call: an emulator or a VPC endpoint.
    endpoint_url: Option<String> = optional(endpoint) {
        group: Group::Lake, flag: "--endpoint-url", value_name: "URL",
        env: &["ORGLAKE_ENDPOINT_URL", "AWS_ENDPOINT_URL"], default_doc: Some("AWS"),
        example: Some("\"http://127.0.0.1:5000\""),
    }
    /// Region of Organizations, STS and the lake bucket.
    region: String = one(region) {
        group: Group::Lake, flag: "--region", value_name: "REGION",
        env: &["ORGLAKE_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"], default: Some("us-east-1"),
    }
    /// Regions to scan.
    regions: Vec<String> = list(region) {
        group: Group::Scan, flag: "--regions", value_name: "REGION,…", env: &["ORGLAKE_REGIONS"],
        default_doc: Some("every enabled region"), example: Some("[\"us-east-1\", \"eu-west-1\"]"),
    }
    /// Count a region whose EC2 calls a service control policy denies as a failure; by
    /// default it is `skipped` with the reason `denied_by_policy`.
    fail_on_denied_regions: bool = switch(boolean) {
        group: Group::Scan, flag: "--fail-on-denied-regions", env: &["ORGLAKE_FAIL_ON_DENIED_REGIONS"],
        default: Some("false"),
    }
    /// The run clock, RFC 3339 or `YYYY-MM-DD`; sets `snapshot_date` (back-fills, tests).
    as_of: Option<chrono::DateTime<chrono::Utc>> = optional(as_of_time) {
        group: Group::Snapshot, flag: "--as-of", value_name: "TIME", env: &["ORGLAKE_AS_OF"],
        default_doc: Some("now"), example: Some("\"2026-11-24T06:00:00Z\""),
    }
    /// `INDEX/COUNT` (0-based, e.g. `0/3`): scan only the accounts whose id modulo COUNT is
    /// INDEX; `batch/COUNT` takes INDEX from `AWS_BATCH_JOB_ARRAY_INDEX`. Run every slice for
    /// the same date; the snapshot is complete when all have committed.
    shard: Shard = one(Shard::parse) {
        group: Group::Scan, flag: "--shard", value_name: "INDEX/COUNT", env: &["ORGLAKE_SHARD"],
        default: Some("0/1"), default_doc: Some("`0/1`: the whole organization"),
    }
    /// Accounts whose API calls run at once (1–1024). An account waiting for its credential
    /// report holds no slot: every account's report is requested at the start of the scan.
    max_concurrency: usize = one(|v| bounded(v, 1, 1024, "accounts scanned at once")) {
        group: Group::Scan, flag: "--max-concurrency", value_name: "N", env: &["ORGLAKE_MAX_CONCURRENCY"],
        default: Some("32"),
    }
    /// Regions scanned at once within one account (1–64), on top of `max_concurrency`. EC2
    /// throttles per account and region, so the default scans every standard region at once.
    region_concurrency: usize = one(|v| bounded(v, 1, 64, "regions scanned at once per account")) {
        group: Group::Scan, flag: "--region-concurrency", value_name: "N",
        env: &["ORGLAKE_REGION_CONCURRENCY"], default: Some("17"),
    }
    /// Days a terminated instance stays in `ec2_instances`, and a failed account's rows stay
    /// as `stale` (0–3650).
    terminated_retention_days: u32 = one(|v| bounded(v, 0, 3650, "days")) {
        group: Group::Snapshot, flag: "--terminated-retention-days", value_name: "DAYS",
        env: &["ORGLAKE_TERMINATED_RETENTION_DAYS"], default: Some("15"),
    }
    /// Staged rows per commit bucket (1–100,000,000): a larger snapshot is committed
    /// in contiguous ranges of account ids of about this many rows each, one after another,
    /// so that the commit's memory follows the bucket, not the organization.
    commit_bucket_rows: u64 = one(|v| bounded(v, 1, 100_000_000, "rows")) {
        group: Group::Snapshot, flag: "--commit-bucket-rows", value_name: "ROWS",
        env: &["ORGLAKE_COMMIT_BUCKET_ROWS"], default: Some("250000"),
    }
    /// Memory in MiB that the sorts of a commit's CSV exports hold before they spill to
    /// local temporary files (16–65,536): the exports of a large run (the findings sorted by
    /// severity across every account) then stay within it, whatever the run's size.
    export_sort_memory_mib: u64 = one(|v| bounded(v, 16, 65_536, "MiB")) {
        group: Group::Snapshot, flag: "--export-sort-memory-mib", value_name: "MIB",
        env: &["ORGLAKE_EXPORT_SORT_MEMORY_MIB"], default: Some("256"),
    }
    /// GenerateCredentialReport polls before an account's report is given up (1–1000; the
    /// old system's limit is the default).
    report_max_polls: u32 = one(|v| bounded(v, 1, 1000, "polls")) {
        group: Group::Scan, flag: "--report-max-polls", value_name: "N", env: &["ORGLAKE_REPORT_MAX_POLLS"],
        default: Some("45"),
    }
    /// SNS topic told about failed accounts (one message per run) and about a run that
    /// failed before its commit.
    sns_topic_arn: Option<String> = optional(topic_arn) {
        group: Group::Scan, flag: "--sns-topic-arn", value_name: "ARN",
        env: &["ORGLAKE_SNS_TOPIC_ARN", "SNS_TOPIC_ARN"],
        example: Some("\"arn:aws:sns:us-east-1:111111111111:orglake-failures\""),
    }
    /// Server-side encryption of every lake object: `AES256` (SSE-S3) or `aws:kms` (SSE-KMS).
    sse: Option<String> = optional(sse) {
        group: Group::Encryption, flag: "--sse", value_name: "AES256|aws:kms", env: &["ORGLAKE_SSE"],
        default_doc: Some("the bucket's default"), example: Some("\"aws:kms\""),
    }
    /// KMS key id, ARN or alias for `aws:kms` (an error without `sse = aws:kms`); without it
    /// only the encryption type is sent and S3 uses the AWS managed key.
    kms_key_id: Option<String> = optional(non_empty) {
        group: Group::Encryption, flag: "--kms-key-id", value_name: "KEY", env: &["ORGLAKE_KMS_KEY_ID"],
        default_doc: Some("the AWS managed key"), example: Some("\"alias/orglake\""),
    }
    /// Account that must own the lake bucket (a bucket in a separate logging account): sent
    /// as `x-amz-expected-bucket-owner` on every request.
    expected_bucket_owner: Option<String> = optional(account_id) {
        group: Group::Lake, flag: "--expected-bucket-owner", value_name: "ACCOUNT",
        env: &["ORGLAKE_EXPECTED_BUCKET_OWNER"], example: Some("\"222222222222\""),
    }
    /// Glue database synced at the end of every run into an `s3://` warehouse.
    glue_database: Option<String> = optional(glue_name) {
        group: Group::Glue, flag: "--glue-database", value_name: "NAME", env: &["ORGLAKE_GLUE_DATABASE"],
        example: Some("\"orglake\""),
    }
    /// Plan owner tags in every run, stored in `tag_actions` (`orglake tag` and `--apply`
    /// imply it).
    plan_tags: bool = switch(boolean) {
        group: Group::Tagging, flag: "--plan-tags", env: &["ORGLAKE_PLAN_TAGS"], default: Some("false"),
    }
    /// Write the planned owner tags (CreateTags); without it nothing is written to AWS.
    apply: bool = switch(boolean) {
        group: Group::Tagging, flag: "--apply", flag_only: true, default: Some("false"),
    }
    /// Apply even when the plan has more than `max_tag_changes` changes.
    allow_many_tag_changes: bool = switch(boolean) {
        group: Group::Tagging, flag: "--allow-many-tag-changes", flag_only: true, default: Some("false"),
    }
    /// The tag key read from accounts and written to instances (matched exactly, else
    /// ignoring case, on both).
    tag_key: String = one(tag_key) {
        group: Group::Tagging, flag: "--tag-key", value_name: "KEY", env: &["ORGLAKE_TAG_KEY"],
        default: Some("owner"),
    }
    /// Accounts whose owner's e-mail domain is listed are never tagged.
    skip_owner_domains: Vec<String> = list(domain) {
        group: Group::Tagging, flag: "--skip-owner-domain", value_name: "DOMAIN",
        env: &["ORGLAKE_SKIP_OWNER_DOMAINS"], example: Some("[\"contractors.example.com\"]"),
    }
    /// Only these accounts are tagged.
    tag_include_accounts: Vec<String> = list(account_id) {
        group: Group::Tagging, flag: "--tag-include-account", value_name: "ID",
        env: &["ORGLAKE_TAG_INCLUDE_ACCOUNTS"], default_doc: Some("all"),
        example: Some("[\"111111111111\"]"),
    }
    /// These accounts are never tagged.
    tag_exclude_accounts: Vec<String> = list(account_id) {
        group: Group::Tagging, flag: "--tag-exclude-account", value_name: "ID",
        env: &["ORGLAKE_TAG_EXCLUDE_ACCOUNTS"], example: Some("[\"333333333333\"]"),
    }
    /// Instance states that are tagged.
    tag_include_states: Vec<String> = list(instance_state) {
        group: Group::Tagging, flag: "--tag-include-state", value_name: "STATE",
        env: &["ORGLAKE_TAG_INCLUDE_STATES"], default: Some("pending,running,stopping,stopped"),
    }
    /// Overwrite an existing owner tag that differs.
    tag_overwrite: bool = switch(boolean) {
        group: Group::Tagging, flag: "--tag-overwrite", env: &["ORGLAKE_TAG_OVERWRITE"], default: Some("false"),
    }
    /// Most tag writes in one run; more are refused unless `--allow-many-tag-changes`.
    max_tag_changes: u64 = one(|v| bounded(v, 0, 1_000_000, "tag changes")) {
        group: Group::Tagging, flag: "--max-tag-changes", value_name: "N", env: &["ORGLAKE_MAX_TAG_CHANGES"],
        default: Some("100"),
    }
    /// Retries per AWS call after throttling or a transient error (0–20), with adaptive
    /// backoff.
    max_retries: u32 = one(|v| bounded(v, 0, 20, "retries per call")) {
        group: Group::Lake, flag: "--max-retries", value_name: "N", env: &["ORGLAKE_MAX_RETRIES"],
        default: Some("5"),
    }
}

/// The README's settings table (Markdown), one row per setting.
pub fn settings_markdown() -> String {
    let mut out = String::from(
        "| file key | environment | flag | default | commands | meaning |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    for s in SETTINGS {
        let key = match s.flag_only {
            true => "(flag only)".to_string(),
            false => format!("`{}`", s.key),
        };
        let mut env: Vec<String> = s.env.iter().map(|e| format!("`{e}`")).collect();
        if let Some((name, prefix)) = s.env_prefix {
            let at = s
                .env
                .iter()
                .position(|e| *e == name)
                .expect("a prefixed variable is one of the setting's");
            env[at] = format!("`{name}` (becomes `{prefix}VALUE`)");
        }
        let mut env = env.join(", ");
        if s.shape == Shape::List && !env.is_empty() {
            env.push_str(" (comma-separated)");
        }
        let flag = match s.shape {
            Shape::List => format!("`{} {}` (repeatable)", s.flag, s.value_name),
            Shape::Switch => format!("`{}` or `{}=false`", s.flag, s.flag),
            Shape::One => format!("`{} {}`", s.flag, s.value_name),
        };
        let commands: Vec<&str> = COMMANDS
            .iter()
            .filter(|(_, groups)| groups.contains(&s.group))
            .map(|(name, _)| *name)
            .collect();
        out.push_str(&format!(
            "| {key} | {env} | {} | {} | {} | {} |\n",
            flag.replace('|', "\\|"),
            s.default_text().replace('|', "\\|"),
            commands.join(", "),
            s.help_line().replace('|', "\\|"),
        ));
    }
    out
}

/// `examples/orglake.toml`: every setting a file may hold, by group, with its help; a
/// setting with a default is written with it, the others commented out with an example.
pub fn example_toml() -> String {
    let mut out = String::from(
        "# orglake configuration example (generated from the settings' declarations by\n\
         # `orglake settings --example`). Every key is optional; precedence is this file <\n\
         # environment variables < command-line flags. The README's Configuration table lists\n\
         # the variable and the flag of each key.\n",
    );
    let mut groups: Vec<Group> = SETTINGS.iter().map(|s| s.group).collect();
    groups.sort();
    groups.dedup();
    for group in groups {
        out.push_str(&format!("\n# --- {} ---\n", group.heading()));
        for s in SETTINGS.iter().filter(|s| s.group == group && !s.flag_only) {
            out.push('\n');
            for line in wrap(&s.help_line(), 88) {
                out.push_str(&format!("# {line}\n"));
            }
            match (s.default, s.example) {
                (Some(raw), _) => out.push_str(&format!("{} = {}\n", s.key, toml_literal(s, raw))),
                (None, Some(example)) => out.push_str(&format!("# {} = {example}\n", s.key)),
                (None, None) => out.push_str(&format!("# {} =\n", s.key)),
            }
        }
    }
    out
}

/// A default's raw text as a TOML value of the setting's shape.
fn toml_literal(s: &Setting, raw: &str) -> String {
    let scalar = |v: &str| match v.parse::<i64>() {
        Ok(_) => v.to_string(),
        Err(_) if s.shape == Shape::Switch => v.to_string(),
        Err(_) => format!("{v:?}"),
    };
    match s.shape {
        Shape::List => format!("[{}]", raw.split(',').map(scalar).collect::<Vec<_>>().join(", ")),
        _ => scalar(raw),
    }
}

/// Words of `text` in lines of at most `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}
