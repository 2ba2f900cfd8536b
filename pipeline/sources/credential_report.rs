//! IAM credential reports: generate, poll with a short backoff, download, keep the raw
//! bytes, and parse them into typed rows.
//!
//! The report's columns come from `schemas/iam_credential_report.toml` (one source of
//! truth): a column typed `boolean` or `timestamp` there is parsed as such; the special
//! values AWS writes (`N/A`, `no_information`, `not_supported`) become nulls with the raw
//! value kept in `special_values`; columns the schema does not know are kept in
//! `extra_columns`, so a new AWS column never fails a run.

use std::collections::BTreeMap;

use arrow::datatypes::DataType;
use aws_config::SdkConfig;
use aws_sdk_iam::types::ReportStateType;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::aws::AwsContext;
pub use crate::config::sources::ReportSettings;
use crate::error::{Error, Result};
use crate::schema::table;
use crate::sources::to_utc;

/// Stage name of the credential report source in `account_status`.
pub const STAGE: &str = "credential_report";
/// The user name AWS gives the root user's row.
pub const ROOT_USER: &str = "<root_account>";
/// Cells that mean "no value" in a credential report.
pub const SPECIAL_VALUES: &[&str] = &["N/A", "no_information", "not_supported"];

/// Columns that name the principal: always literal, never a special value (an IAM user may
/// be called `no_information` or `not_supported`).
const IDENTITY_COLUMNS: &[&str] = &["user", "arn"];
/// Columns of the table that are not report columns.
const DERIVED_COLUMNS: &[&str] = &[
    "account_id",
    "is_root",
    "special_values",
    "extra_columns",
    "report_generated_at",
    "run_id",
];

/// How old a report may be and still be used instead of asking for a new one: AWS itself
/// serves a report younger than four hours rather than generating one.
pub const REUSE_MAX_AGE: chrono::Duration = chrono::Duration::hours(4);

/// Error codes of report calls that mean "not yet, ask again later": waited out within
/// the poll budget, with the same backoff as a report still being generated.
const TRANSIENT_CODES: &[&str] = &[
    "ReportInProgress",
    "LimitExceeded",
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
];

/// A downloaded report.
#[derive(Debug, Clone)]
pub struct Downloaded {
    /// The bytes exactly as AWS returned them.
    pub content: Vec<u8>,
    /// When AWS generated the report.
    pub generated_at: Option<DateTime<Utc>>,
    /// Report calls answered "not yet" (a report still generating, no capacity, throttled).
    pub polls: u32,
    /// Where the report came from, for `account_status`.
    pub origin: Origin,
    /// Each transient answer that was waited out, with how often it came.
    pub waited: BTreeMap<String, u32>,
}

/// Where a downloaded report came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The account's existing report was young enough to keep.
    Reused,
    /// A new report was generated; `expired` says the previous one had expired.
    Generated {
        /// GetCredentialReport answered `ReportExpired` first.
        expired: bool,
    },
}

impl Downloaded {
    /// One line for `account_status`: where the report came from and what was waited out.
    pub fn describe(&self) -> String {
        let mut text = match (&self.origin, self.generated_at) {
            (Origin::Reused, Some(at)) => {
                let age = Utc::now().signed_duration_since(at).num_minutes().max(0);
                format!("reused the report generated {} ({age} min old)", at.to_rfc3339())
            }
            (Origin::Reused, None) => "reused the existing report".to_string(),
            (Origin::Generated { expired: true }, _) => "the last report had expired; generated a new one".to_string(),
            (Origin::Generated { expired: false }, _) => "generated a new report".to_string(),
        };
        text.push_str(&format!(" ({} polls", self.polls));
        if !self.waited.is_empty() {
            let waits: Vec<String> = self.waited.iter().map(|(code, n)| format!("{code} x{n}")).collect();
            text.push_str(&format!("; waited out {}", waits.join(", ")));
        }
        text.push(')');
        text
    }
}

/// What to ask next in the report cycle.
enum Step {
    Download,
    Generate,
}

/// Downloads one account's report: keeps an existing report younger than
/// [`REUSE_MAX_AGE`], otherwise generates one and polls until it is complete. Transient
/// answers (`ReportInProgress`, `LimitExceeded`, throttling) are waits within the poll
/// budget; an expired or missing report starts a generation. Waiting is a timer, not a
/// thread, so many accounts wait at once.
pub async fn fetch(
    aws: &AwsContext,
    sdk: &SdkConfig,
    account_id: &str,
    settings: &ReportSettings,
) -> Result<Downloaded> {
    let conf = aws_sdk_iam::config::Builder::from(sdk)
        .retry_partition(AwsContext::retry_partition("iam", account_id))
        .build();
    let client = aws_sdk_iam::Client::from_conf(conf);
    let mut wait = settings.first_poll_interval;
    let mut polls = 0;
    let mut waited = BTreeMap::new();
    let mut step = Step::Download;
    let mut generated = false;
    let mut expired = false;
    // A server that keeps answering "complete" and then "not present" must not loop forever.
    let mut calls_left = 2 * settings.max_polls + 4;
    loop {
        calls_left = calls_left.saturating_sub(1);
        // Not ready yet: the transient error code to count (none for a report still being
        // generated), and how to describe the answer if it was the last one.
        let (transient, last): (Option<String>, String) = match step {
            Step::Download => match client.get_credential_report().send().await {
                Ok(report) => {
                    let generated_at = report.generated_time().and_then(to_utc);
                    let young = generated_at.is_some_and(|at| Utc::now().signed_duration_since(at) < REUSE_MAX_AGE);
                    if generated || young {
                        return Ok(Downloaded {
                            content: report.content().map(|b| b.as_ref().to_vec()).unwrap_or_default(),
                            generated_at,
                            polls,
                            origin: if generated {
                                Origin::Generated { expired }
                            } else {
                                Origin::Reused
                            },
                            waited,
                        });
                    }
                    step = Step::Generate;
                    continue;
                }
                Err(e) => {
                    let err = aws.error("iam:GetCredentialReport", e);
                    match err.code().as_deref() {
                        Some("ReportNotPresent") => {
                            step = Step::Generate;
                            continue;
                        }
                        Some("ReportExpired") => {
                            expired = true;
                            step = Step::Generate;
                            continue;
                        }
                        Some(code) if TRANSIENT_CODES.contains(&code) => {
                            (Some(code.to_string()), format!("last answer {code}"))
                        }
                        _ => return Err(err),
                    }
                }
            },
            Step::Generate => match client.generate_credential_report().send().await {
                Ok(state) if state.state() == Some(&ReportStateType::Complete) => {
                    generated = true;
                    step = Step::Download;
                    if calls_left == 0 {
                        return Err(poll_limit(polls, "COMPLETE, but the report could not be downloaded"));
                    }
                    continue;
                }
                Ok(state) => (None, format!("last state {:?}", state.state().map(|s| s.as_str()))),
                Err(e) => {
                    let err = aws.error("iam:GenerateCredentialReport", e);
                    match err.code().as_deref() {
                        Some(code) if TRANSIENT_CODES.contains(&code) => {
                            (Some(code.to_string()), format!("last answer {code}"))
                        }
                        _ => return Err(err),
                    }
                }
            },
        };
        polls += 1;
        if let Some(code) = transient {
            *waited.entry(code).or_insert(0) += 1;
        }
        if polls >= settings.max_polls || calls_left == 0 {
            return Err(poll_limit(polls, &last));
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(settings.max_poll_interval);
    }
}

fn poll_limit(polls: u32, last: &str) -> Error {
    Error::Aws {
        operation: "iam:GenerateCredentialReport".into(),
        code: "PollLimitExceeded".into(),
        message: format!("the report was not ready after {polls} polls ({last})"),
    }
}

/// Parsed rows of one report, ready for `rows_to_batch` on `iam_credential_report`.
#[derive(Debug, Default)]
pub struct Parsed {
    /// One line per report line, a value per table column.
    pub rows: Vec<ReportLine>,
    /// Cells that were neither a valid value nor a known special value (kept raw, counted).
    pub unreadable_cells: usize,
}

/// One parsed report line: a value for every column of `iam_credential_report_extracted`
/// (but `run_id`), in the schema's order. It serializes as a struct of those columns, so
/// rows reach Arrow without a map lookup per cell.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportLine {
    values: Vec<Value>,
}

/// The columns of a report line: the staging table's, but `run_id`.
fn line_columns() -> &'static [&'static str] {
    static COLUMNS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    COLUMNS.get_or_init(|| {
        let table = table("iam_credential_report_extracted").expect("the credential report schema is compiled in");
        table
            .file_schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .filter(|name| *name != crate::lake::batch::RUN_ID_COLUMN)
            .collect()
    })
}

impl Default for ReportLine {
    fn default() -> Self {
        ReportLine {
            values: vec![Value::Null; line_columns().len()],
        }
    }
}

impl ReportLine {
    /// Where `column` is among the line's values.
    fn index_of(column: &str) -> Option<usize> {
        line_columns().iter().position(|c| *c == column)
    }

    /// The value of `column`; `None` when the table has no such column.
    pub fn get(&self, column: &str) -> Option<&Value> {
        Self::index_of(column).map(|i| &self.values[i])
    }

    /// Sets `column`, which must be a column of the table (a programming error otherwise).
    pub(crate) fn set(&mut self, column: &str, value: Value) {
        let index = Self::index_of(column);
        debug_assert!(index.is_some(), "{column} is not a credential report column");
        if let Some(index) = index {
            self.values[index] = value;
        }
    }
}

impl std::ops::Index<&str> for ReportLine {
    type Output = Value;

    /// The value of `column`, null for a column the table does not have (as `Value` does).
    fn index(&self, column: &str) -> &Value {
        self.get(column).unwrap_or(&Value::Null)
    }
}

/// A line is one value per schema column already (its `Serialize`), which serde_arrow
/// converts about twice as fast as a struct of named fields.
impl crate::lake::columns::StagedRow for ReportLine {}

impl serde::Serialize for ReportLine {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut line = serializer.serialize_struct("ReportLine", self.values.len())?;
        for (column, value) in line_columns().iter().zip(&self.values) {
            match value.as_i64() {
                // serde_json writes a positive number as u64; a timestamp column takes i64.
                Some(micros) => line.serialize_field(column, &micros)?,
                None => line.serialize_field(column, value)?,
            }
        }
        line.end()
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Bool,
    Time,
}

/// The report columns the table knows, each with its index among the line's columns and
/// how its cells are read.
fn report_columns() -> Vec<(&'static str, usize, Kind)> {
    let table = table("iam_credential_report_extracted").expect("the credential report schema is compiled in");
    line_columns()
        .iter()
        .enumerate()
        .filter(|(_, name)| !DERIVED_COLUMNS.contains(name))
        .map(|(index, name)| {
            let field = table.file_schema.field_with_name(name).expect("a column of the table");
            let kind = match field.data_type() {
                DataType::Boolean => Kind::Bool,
                DataType::Timestamp(..) => Kind::Time,
                _ => Kind::Text,
            };
            (*name, index, kind)
        })
        .collect()
}

/// Parses one report. A report that is not CSV, or lacks the `user` column, is an error
/// (recorded for the account; nothing else is lost).
pub fn parse(
    account_id: &str,
    generated_at: Option<DateTime<Utc>>,
    content: &[u8],
) -> std::result::Result<Parsed, String> {
    let known = report_columns();
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(content);
    let headers = reader.headers().map_err(|e| format!("unreadable header: {e}"))?.clone();
    if !headers.iter().any(|h| h == "user") {
        return Err(format!(
            "not a credential report: no `user` column in header {:?}",
            headers.iter().collect::<Vec<_>>()
        ));
    }
    let header_columns: Vec<Option<(usize, Kind)>> = headers
        .iter()
        .map(|header| {
            known
                .iter()
                .find(|(name, _, _)| *name == header)
                .map(|(_, index, kind)| (*index, *kind))
        })
        .collect();
    let mut parsed = Parsed::default();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("line {}: {e}", line + 2))?;
        let mut row = ReportLine::default();
        let mut special = BTreeMap::new();
        let mut extra = BTreeMap::new();
        for ((name, cell), column) in headers.iter().zip(record.iter()).zip(&header_columns) {
            let Some((index, kind)) = *column else {
                extra.insert(name.to_string(), cell.to_string());
                continue;
            };
            let value = if SPECIAL_VALUES.contains(&cell) && !IDENTITY_COLUMNS.contains(&name) {
                special.insert(name.to_string(), cell.to_string());
                Value::Null
            } else {
                match (kind, cell) {
                    (Kind::Text, _) => Value::String(cell.to_string()),
                    (Kind::Bool, "true" | "TRUE" | "True") => Value::Bool(true),
                    (Kind::Bool, "false" | "FALSE" | "False") => Value::Bool(false),
                    (Kind::Time, _) => match DateTime::parse_from_rfc3339(cell) {
                        Ok(t) => Value::from(t.with_timezone(&Utc).timestamp_micros()),
                        Err(_) => unreadable(&mut parsed, &mut special, name, cell),
                    },
                    (Kind::Bool, _) => unreadable(&mut parsed, &mut special, name, cell),
                }
            };
            row.values[index] = value;
        }
        let user = row["user"].as_str().unwrap_or_default().to_string();
        if user.is_empty() {
            return Err(format!("line {}: empty user", line + 2));
        }
        row.set("account_id", Value::String(account_id.to_string()));
        row.set("is_root", Value::Bool(user == ROOT_USER));
        row.set("special_values", serde_json::to_value(special).expect("map"));
        row.set("extra_columns", serde_json::to_value(extra).expect("map"));
        row.set(
            "report_generated_at",
            generated_at
                .map(|t| Value::from(t.timestamp_micros()))
                .unwrap_or(Value::Null),
        );
        parsed.rows.push(row);
    }
    Ok(parsed)
}

fn unreadable(parsed: &mut Parsed, special: &mut BTreeMap<String, String>, name: &str, cell: &str) -> Value {
    if !cell.is_empty() {
        parsed.unreadable_cells += 1;
        special.insert(name.to_string(), cell.to_string());
    }
    Value::Null
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOLDEN: &str = include_str!("../../tests/golden/credential_report.csv");

    #[test]
    fn the_golden_report_parses_with_root_specials_and_an_extra_column() {
        let parsed = parse("111111111111", None, GOLDEN.as_bytes()).unwrap();
        assert_eq!(parsed.rows.len(), 4);
        let root = &parsed.rows[0];
        assert_eq!(root["user"], "<root_account>");
        assert_eq!(root["is_root"], true);
        assert_eq!(root["password_enabled"], Value::Null);
        assert_eq!(root["special_values"]["password_enabled"], "not_supported");
        assert_eq!(root["access_key_1_active"], true, "root with an active access key");
        let alice = &parsed.rows[1];
        let used = DateTime::parse_from_rfc3339("2026-11-20T08:15:00Z").unwrap();
        assert_eq!(
            alice["password_last_used"],
            used.timestamp_micros(),
            "times are kept as microseconds, the unit of the column"
        );
        assert_eq!(alice["mfa_active"], false);
        assert_eq!(
            alice["extra_columns"]["access_key_3_active"], "false",
            "unknown columns are kept"
        );
        let never = &parsed.rows[2];
        assert_eq!(never["password_last_used"], Value::Null);
        assert_eq!(never["special_values"]["password_last_used"], "no_information");
        assert_eq!(never["special_values"]["access_key_1_last_used_date"], "N/A");
        assert_eq!(
            parsed.unreadable_cells, 1,
            "the odd boolean in the last row is kept raw and counted"
        );
        assert_eq!(parsed.rows[3]["special_values"]["mfa_active"], "maybe");
        let batch =
            crate::lake::batch::rows_to_batch(table("iam_credential_report_extracted").unwrap(), "run", &parsed.rows)
                .unwrap();
        assert_eq!(batch.num_rows(), 4);
    }

    #[test]
    fn a_user_named_like_a_special_value_is_a_user() {
        let report = "user,arn,mfa_active\nno_information,arn:aws:iam::1:user/no_information,N/A\n";
        let parsed = parse("111111111111", None, report.as_bytes()).unwrap();
        assert_eq!(parsed.rows[0]["user"], "no_information");
        assert_eq!(parsed.rows[0]["mfa_active"], Value::Null);
        assert_eq!(parsed.rows[0]["special_values"]["mfa_active"], "N/A");
    }

    #[test]
    fn malformed_reports_are_errors_not_panics() {
        for bad in [
            "",
            "not,a,report\n1,2,3\n",
            "user,arn\nalice\n",
            "user,arn\n,arn:x\n",
            "\u{0}\u{1}\u{2}",
        ] {
            assert!(parse("1", None, bad.as_bytes()).is_err(), "{bad:?}");
        }
    }
}

/// The credential report source: each account's report, parsed, with a raw copy.
#[derive(Debug)]
pub struct CredentialReportSource(pub ReportSettings);

#[async_trait::async_trait]
impl crate::sources::Source for CredentialReportSource {
    fn name(&self) -> &'static str {
        STAGE
    }

    fn staged_tables(&self) -> &'static [&'static str] {
        &["iam_credential_report_extracted"]
    }

    fn pacing(&self) -> crate::sources::Pacing {
        crate::sources::Pacing::Waits
    }

    fn actions(&self) -> &'static [&'static str] {
        &["iam:GetCredentialReport", "iam:GenerateCredentialReport"]
    }

    async fn extract_account(
        &self,
        account: crate::sources::AccountInput<'_>,
        output: &crate::sources::RunOutput,
    ) -> Vec<crate::status::StageOutcome> {
        let outcome = match output.sink("iam_credential_report_extracted") {
            Ok(sink) => {
                let targets = ReportTargets {
                    lake: output.lake.clone(),
                    snapshot_date: output.snapshot_date.clone(),
                    run_id: output.run_id.clone(),
                    sink: sink.clone(),
                };
                extract_account(account.aws, account.sdk, account.account_id, &self.0, &targets).await
            }
            Err(err) => crate::status::StageOutcome::start(account.account_id, STAGE, None).fail(&err),
        };
        vec![outcome]
    }
}

/// Where reports go: the raw copy in the lake and the parsed rows to the staging sink.
#[derive(Clone, Debug)]
pub struct ReportTargets {
    /// The lake, for the raw copy.
    pub lake: crate::lake::Lake,
    /// This run's snapshot date.
    pub snapshot_date: String,
    /// This run's id.
    pub run_id: String,
    /// `iam_credential_report_extracted`.
    pub sink: crate::lake::sink::Sink,
}

/// Object path of the raw copy of one account's report in one run.
pub fn raw_path(
    lake: &crate::lake::Lake,
    snapshot_date: &str,
    account_id: &str,
    run_id: &str,
) -> object_store::path::Path {
    lake.table_path("raw")
        .join("credential_reports")
        .join(format!("snapshot_date={snapshot_date}"))
        .join(format!("{account_id}-{run_id}.csv"))
}

/// Fetches, stores and parses one account's report; one outcome.
pub async fn extract_account(
    aws: &AwsContext,
    sdk: &SdkConfig,
    account_id: &str,
    settings: &ReportSettings,
    targets: &ReportTargets,
) -> crate::status::StageOutcome {
    use crate::status::{StageOutcome, status};
    let timer = StageOutcome::start(account_id, STAGE, None);
    let result = async {
        let report = fetch(aws, sdk, account_id, settings).await?;
        let path = raw_path(&targets.lake, &targets.snapshot_date, account_id, &targets.run_id);
        object_store::ObjectStoreExt::put(targets.lake.store().as_ref(), &path, report.content.clone().into())
            .await
            .map_err(|e| Error::lake(path.to_string(), e))?;
        let parsed = parse(account_id, report.generated_at, &report.content).map_err(|message| Error::Aws {
            operation: "credential report".into(),
            code: "MalformedReport".into(),
            message,
        })?;
        targets.sink.send(&parsed.rows).await?;
        Ok::<_, Error>((parsed, report.describe()))
    }
    .await;
    match result {
        Ok((parsed, origin)) if parsed.unreadable_cells > 0 => timer.finish(
            status::OK,
            Some(format!(
                "{origin}; {} cells were not valid values, kept raw in special_values",
                parsed.unreadable_cells
            )),
        ),
        Ok((_, origin)) => timer.finish(status::OK, Some(origin)),
        Err(err) => timer.fail(&err),
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// A report cell: a value of some kind, a special value, or anything at all.
    fn cell() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("true".to_string()),
            Just("false".to_string()),
            Just("N/A".to_string()),
            Just("no_information".to_string()),
            Just("not_supported".to_string()),
            Just("2026-11-20T08:15:00+00:00".to_string()),
            "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})",
            any::<String>(),
        ]
    }

    /// A report: the real columns (or some of them), maybe a column AWS added later, and
    /// rows of any cells.
    fn report() -> impl Strategy<Value = (Vec<String>, Vec<Vec<String>>)> {
        let known: Vec<String> = report_columns()
            .into_iter()
            .map(|(name, _, _)| name.to_string())
            .collect();
        (
            proptest::sample::subsequence(known.clone(), 1..=known.len()),
            any::<bool>(),
        )
            .prop_flat_map(|(mut columns, extra)| {
                if !columns.iter().any(|c| c == "user") {
                    columns.insert(0, "user".to_string());
                }
                if extra {
                    columns.push("access_key_3_active".to_string());
                }
                let width = columns.len();
                (
                    Just(columns),
                    proptest::collection::vec(proptest::collection::vec(cell(), width), 0..6),
                )
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any bytes: rows or an error, never a panic; rows always make a valid batch.
        #[test]
        fn any_bytes_parse_or_fail_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            if let Ok(parsed) = parse("111111111111", None, &bytes) {
                let table = table("iam_credential_report_extracted").unwrap();
                prop_assert!(crate::lake::batch::rows_to_batch(table, "run", &parsed.rows).is_ok());
            }
        }

        /// Any cells under the real header: every row arrives, as a valid batch, and no
        /// cell is lost: it is typed, kept raw in special_values or extra_columns, or empty.
        #[test]
        fn no_cell_is_lost((columns, rows) in report()) {
            let mut writer = csv::Writer::from_writer(Vec::new());
            writer.write_record(&columns).unwrap();
            for row in &rows {
                writer.write_record(row).unwrap();
            }
            let content = writer.into_inner().unwrap();
            let user = columns.iter().position(|c| c == "user").unwrap();
            let result = parse("111111111111", None, &content);
            if rows.iter().any(|row| row[user].is_empty()) {
                prop_assert!(result.is_err(), "a row without a user is an error");
                return Ok(());
            }
            let parsed = result.map_err(|e| TestCaseError::fail(e))?;
            prop_assert_eq!(parsed.rows.len(), rows.len());
            let table = table("iam_credential_report_extracted").unwrap();
            let batch = crate::lake::batch::rows_to_batch(table, "run", &parsed.rows);
            prop_assert!(batch.is_ok(), "{:?}", batch.err());
            for (row, cells) in parsed.rows.iter().zip(&rows) {
                for (column, cell) in columns.iter().zip(cells) {
                    let kept = !row.get(column).unwrap_or(&Value::Null).is_null()
                        || cell.is_empty()
                        || row["special_values"][column] == *cell
                        || row["extra_columns"][column] == *cell;
                    prop_assert!(kept, "{column} = {cell:?} lost: {row:?}");
                }
            }
        }
    }
}
