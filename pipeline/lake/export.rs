//! CSV exports for spreadsheet users: one file per table and snapshot, streamed to the
//! lake, with nested values as JSON and formula-like cells neutralised.

use std::fmt::Write as _;

use arrow::array::{
    Array, ArrayRef, AsArray, LargeStringArray, RecordBatch, StringArray, StringViewArray, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use crate::error::{Error, Result};
use crate::lake::Lake;
use crate::lake::csv_text::CsvText;
use crate::lake::utc_text::push_utc_micros;
use crate::schema::UTC;

/// One table's per-snapshot CSV export.
#[derive(Debug, Clone)]
pub struct Export {
    /// The lake table exported.
    pub table: &'static str,
    /// File name template: `{org}` is the organization id, `{datetime}` the run's start
    /// (YYYY-MM-DD_HH-MM-SS, UTC), `{shard}` the slice of a sharded run (`_shard-1-of-3`,
    /// empty when unsharded) and `{suffix}` the random part of the run id, always last: two
    /// runs (or shards) never write the same name. The seed scripts' names are the prefix.
    /// `<TABLE>_{org}_{datetime}{shard}_{suffix}.csv` unless the SQL file says otherwise
    /// in a `-- file_name: …` line.
    pub file_name: String,
    /// The query (over `run_<table>`: this run's rows, its partition only) whose result is the file:
    /// `queries/exports/<table>.sql`, or every column of this run's rows.
    pub sql: String,
    /// Whether its rows are ordered by account first (its `ORDER BY` starts with
    /// `account_id`), so that it can be written one range of accounts after another.
    pub by_account: bool,
}

/// The exports, one per lake table. `runs` is exported after the manifest is written.
pub fn exports() -> &'static [Export] {
    static EXPORTS: std::sync::OnceLock<Vec<Export>> = std::sync::OnceLock::new();
    EXPORTS.get_or_init(|| {
        crate::schema::all_tables()
            .iter()
            .map(|table| {
                let name = table.def.table.as_str();
                let sql = crate::embedded::file(&format!("queries/exports/{name}.sql"))
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("SELECT * FROM run_{name}"));
                let file_name = sql
                    .lines()
                    .find_map(|l| l.strip_prefix("-- file_name: "))
                    .map(|n| n.trim().to_string())
                    .unwrap_or_else(|| format!("{}_{{org}}_{{datetime}}{{shard}}_{{suffix}}.csv", name.to_uppercase()));
                let by_account = sql
                    .rsplit_once("ORDER BY")
                    .is_some_and(|(_, order)| order.trim_start().starts_with("account_id"));
                Export {
                    table: name,
                    file_name,
                    sql,
                    by_account,
                }
            })
            .collect()
    })
}

/// What export file names are made of.
#[derive(Debug, Clone)]
pub struct ExportNaming {
    /// The organization id.
    pub organization_id: String,
    /// The run's start, formatted YYYY-MM-DD_HH-MM-SS.
    pub datetime: String,
    /// The slice of a sharded run, `_shard-<index>-of-<count>`; empty when unsharded.
    pub shard: String,
    /// The random part of the run id.
    pub suffix: String,
}

impl ExportNaming {
    /// Fills a file name template.
    pub fn file_name(&self, template: &str) -> String {
        template
            .replace("{org}", &self.organization_id)
            .replace("{datetime}", &self.datetime)
            .replace("{shard}", &self.shard)
            .replace("{suffix}", &self.suffix)
    }
}

/// Bytes that make a spreadsheet (Excel, LibreOffice, Google Sheets, QuickSight) treat a
/// cell as a formula when they start it.
const FORMULA_STARTS: &[u8] = b"=+-@\t\r";

/// Whether a spreadsheet would run a text cell that starts this way as a formula.
pub fn starts_a_formula(cell: &[u8]) -> bool {
    cell.first().is_some_and(|b| FORMULA_STARTS.contains(b))
}

/// Object path of an export file.
pub fn export_path(lake: &Lake, table: &str, snapshot_date: &str, file_name: &str) -> Path {
    lake.table_path("exports")
        .join(table)
        .join(format!("snapshot_date={snapshot_date}"))
        .join(file_name)
}

/// How many tables are exported at once. One export keeps about one core busy (its query
/// on DataFusion's tasks, its text on a blocking thread, each waiting on the other now and
/// then); two fill the two cores of a small runner. Their sorts share one memory pool
/// (the caller's sessions), so the bound on what they hold stays the same.
pub const EXPORTS_AT_ONCE: usize = 2;

/// Runs the export query of each table for which `wanted` says yes and writes its CSV,
/// [`EXPORTS_AT_ONCE`] tables at a time; returns (table, path) of every file, in the order
/// of [`exports`]. `whole` holds the run's rows; `slices`, when there is more than one, the
/// same rows cut into ascending ranges of accounts: an export ordered by account is then
/// written one slice after another (so its sort holds one slice), the others from `whole`.
pub async fn write_exports(
    whole: &SessionContext,
    slices: &[SessionContext],
    lake: &Lake,
    snapshot_date: &str,
    naming: &ExportNaming,
    wanted: impl Fn(&str) -> bool,
) -> Result<Vec<(String, String)>> {
    let jobs = exports().iter().filter(|e| wanted(e.table)).map(|export| {
        let sessions = match export.by_account && slices.len() > 1 {
            true => slices.to_vec(),
            false => vec![whole.clone()],
        };
        let path = export_path(lake, export.table, snapshot_date, &naming.file_name(&export.file_name));
        let lake = lake.clone();
        async move { write_export(export, &sessions, &lake, path).await }
    });
    crate::tasks::run_at_most(EXPORTS_AT_ONCE, "a CSV export", jobs).await
}

/// Writes one export's CSV at `path`: its query over each of `sessions` in turn, one
/// batch rendered on a blocking thread while the query makes the next (the text of a
/// batch costs about as much CPU as sorting it). Returns (table, path).
async fn write_export(
    export: &Export,
    sessions: &[SessionContext],
    lake: &Lake,
    path: Path,
) -> Result<(String, String)> {
    let started = std::time::Instant::now();
    let mut out = BufWriter::new(lake.store(), path.clone());
    let mut header_written = false;
    let mut schema = None;
    let mut rendering: Option<tokio::task::JoinHandle<Result<Vec<u8>>>> = None;
    for ctx in sessions {
        let mut stream = ctx.sql(&export.sql).await?.execute_stream().await?;
        schema = Some(stream.schema());
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            let header = !header_written;
            header_written = true;
            let next = tokio::task::spawn_blocking(move || csv_bytes(&batch, header));
            if let Some(done) = rendering.replace(next) {
                write_rendered(&mut out, done, &path).await?;
            }
        }
    }
    if let Some(done) = rendering {
        write_rendered(&mut out, done, &path).await?;
    }
    if let (false, Some(schema)) = (header_written, schema) {
        // No rows: the file still says what its columns are.
        let empty = RecordBatch::new_empty(schema);
        out.put(bytes::Bytes::from(csv_bytes(&empty, true)?))
            .await
            .map_err(|e| Error::lake(path.to_string(), e))?;
    }
    out.shutdown().await.map_err(|e| Error::lake(path.to_string(), e))?;
    tracing::debug!(
        table = export.table,
        seconds = started.elapsed().as_secs_f64(),
        "CSV export written"
    );
    Ok((export.table.to_string(), lake.display_path(&path)))
}

/// Waits for one batch's CSV text and appends it to the file at `path`.
async fn write_rendered(
    out: &mut BufWriter,
    rendering: tokio::task::JoinHandle<Result<Vec<u8>>>,
    path: &Path,
) -> Result<()> {
    let bytes = rendering.await.map_err(|source| Error::Task {
        what: format!("rendering a batch of CSV for {path}"),
        source,
    })??;
    // Handed over as it is: the writer uploads it without copying it into its own buffer.
    out.put(bytes::Bytes::from(bytes))
        .await
        .map_err(|e| Error::lake(path.to_string(), e))
}

/// Renders a batch as CSV rows (with the header row first when asked) into a [`CsvText`].
/// How each column's cells become text is decided once per batch ([`Cells`]): text is
/// written straight from its array (neutralised where it would start a formula), UTC
/// timestamps by [`push_utc_micros`], maps and lists of text as JSON straight from their
/// arrays, other values through one reused buffer.
pub fn csv_bytes(batch: &RecordBatch, header: bool) -> Result<Vec<u8>> {
    let options = FormatOptions::default().with_null("");
    let columns = batch
        .columns()
        .iter()
        .map(|column| Ok((Cells::of(column, &options)?, column.nulls())))
        .collect::<Result<Vec<_>>>()?;
    // Sized up front: a buffer that doubles as it fills copies the text again each time.
    let expected: usize = columns
        .iter()
        .map(|(cells, _)| cells.expected_len(batch.num_rows()))
        .sum();
    let mut text = CsvText::with_capacity(expected + expected / 8 + 1024);
    if header {
        for field in batch.schema_ref().fields() {
            text.field(b"", field.name().as_bytes());
        }
        text.end_record();
    }
    // One buffer for the cells that are not text already: no allocation per cell.
    let mut cell = String::new();
    let mut json = Vec::new();
    for row in 0..batch.num_rows() {
        for (cells, nulls) in &columns {
            if nulls.is_some_and(|nulls| nulls.is_null(row)) {
                text.unquoted_field(|_| {});
                continue;
            }
            match cells {
                // Text (and JSON text) is neutralised; numbers, booleans and timestamps
                // cannot start a formula but with a sign, which a spreadsheet reads as the
                // number.
                Cells::Text(texts) => push_neutralised(&mut text, texts.value(row).as_bytes()),
                Cells::Nested(column) => {
                    json.clear();
                    write_json(&mut json, column, row)?;
                    push_neutralised(&mut text, &json);
                }
                Cells::Utc(times, formatter) => {
                    let micros = times.value(row);
                    let mut written = Ok(());
                    text.unquoted_field(|out| {
                        if !push_utc_micros(out, micros) {
                            // A year it does not write: Arrow's text, which has no comma either.
                            written = std::io::Write::write_fmt(out, format_args!("{}", formatter.value(row)));
                        }
                    });
                    written.map_err(|e| Error::Schema(format!("csv: {e}")))?;
                }
                Cells::Formatted(formatter) => {
                    cell.clear();
                    write!(cell, "{}", formatter.value(row)).map_err(|e| Error::Schema(format!("csv: {e}")))?;
                    text.field(b"", cell.as_bytes());
                }
            }
        }
        text.end_record();
    }
    Ok(text.into_bytes())
}

/// Appends a text cell, prefixed with `'` where a spreadsheet would run it as a formula
/// ([`starts_a_formula`]), so that it is shown, not run.
fn push_neutralised(text: &mut CsvText, cell: &[u8]) {
    text.field(if starts_a_formula(cell) { b"'" } else { b"" }, cell);
}

/// How the cells of one column of a batch become CSV text, decided once per batch.
enum Cells<'a> {
    /// Text, written as it is.
    Text(Texts<'a>),
    /// Maps, lists and structs, written as JSON ([`write_json`]).
    Nested(&'a ArrayRef),
    /// UTC timestamps in microseconds ([`push_utc_micros`]; the formatter for a year it
    /// does not write).
    Utc(&'a TimestampMicrosecondArray, ArrayFormatter<'a>),
    /// Any other value, by Arrow's formatter.
    Formatted(ArrayFormatter<'a>),
}

impl<'a> Cells<'a> {
    fn of(column: &'a ArrayRef, options: &'a FormatOptions<'a>) -> Result<Self> {
        if let Some(texts) = Texts::of(column) {
            return Ok(Cells::Text(texts));
        }
        Ok(match column.data_type() {
            DataType::Map(..) | DataType::List(_) | DataType::LargeList(_) | DataType::Struct(_) => {
                Cells::Nested(column)
            }
            DataType::Timestamp(TimeUnit::Microsecond, Some(zone)) if zone.as_ref() == UTC => Cells::Utc(
                column.as_primitive::<TimestampMicrosecondType>(),
                ArrayFormatter::try_new(column.as_ref(), options)?,
            ),
            _ => Cells::Formatted(ArrayFormatter::try_new(column.as_ref(), options)?),
        })
    }

    /// About how many bytes of CSV `rows` cells of the column make, with their delimiters:
    /// text as long as its values, a UTC time 27 characters, nested values as large as
    /// their arrays, anything else 16.
    fn expected_len(&self, rows: usize) -> usize {
        let cells = match self {
            Cells::Text(texts) => texts.value_bytes(),
            Cells::Nested(column) => nested_bytes(column),
            Cells::Utc(..) => 27 * rows,
            Cells::Formatted(_) => 16 * rows,
        };
        cells + rows
    }
}

/// A column of text in any of Arrow's three layouts, read without a downcast per value.
#[derive(Clone, Copy)]
enum Texts<'a> {
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    View(&'a StringViewArray),
}

impl<'a> Texts<'a> {
    /// The column as text, if it is text.
    fn of(column: &'a ArrayRef) -> Option<Self> {
        match column.data_type() {
            DataType::Utf8 => Some(Texts::Utf8(column.as_string::<i32>())),
            DataType::LargeUtf8 => Some(Texts::LargeUtf8(column.as_string::<i64>())),
            DataType::Utf8View => Some(Texts::View(column.as_string_view())),
            _ => None,
        }
    }

    fn value(&self, row: usize) -> &'a str {
        match self {
            Texts::Utf8(texts) => texts.value(row),
            Texts::LargeUtf8(texts) => texts.value(row),
            Texts::View(texts) => texts.value(row),
        }
    }

    fn is_valid(&self, row: usize) -> bool {
        match self {
            Texts::Utf8(texts) => texts.is_valid(row),
            Texts::LargeUtf8(texts) => texts.is_valid(row),
            Texts::View(texts) => texts.is_valid(row),
        }
    }

    /// The bytes of all the column's values.
    fn value_bytes(&self) -> usize {
        match self {
            Texts::Utf8(texts) => entry_range(texts.value_offsets()).len(),
            Texts::LargeUtf8(texts) => entry_range(texts.value_offsets()).len(),
            Texts::View(texts) => texts.views().iter().map(|view| *view as u32 as usize).sum(),
        }
    }

    /// The value at `row`, or `None` where it is null.
    fn get(&self, row: usize) -> Option<&'a str> {
        self.is_valid(row).then(|| self.value(row))
    }
}

/// The bytes a nested column's rows hold. A sliced map or list keeps all of its entries,
/// so only those its offsets point at are counted.
fn nested_bytes(column: &ArrayRef) -> usize {
    let size = |array: &dyn Array| array.to_data().get_slice_memory_size().unwrap_or(0);
    match column.data_type() {
        DataType::Map(..) => {
            let map = column.as_map();
            let entries = entry_range(map.value_offsets());
            size(&map.entries().slice(entries.start, entries.len()))
        }
        DataType::List(_) => {
            let list = column.as_list::<i32>();
            let entries = entry_range(list.value_offsets());
            size(list.values().slice(entries.start, entries.len()).as_ref())
        }
        _ => size(column.as_ref()),
    }
}

/// The values (bytes of text, entries of a map or list) from the first to the last of
/// `offsets`: all of an array's rows with its offsets, one row's with `offsets[row..=row + 1]`.
fn entry_range<O: arrow::array::OffsetSizeTrait>(offsets: &[O]) -> std::ops::Range<usize> {
    match (offsets.first(), offsets.last()) {
        (Some(first), Some(last)) => first.as_usize()..last.as_usize(),
        _ => 0..0,
    }
}

/// Writes one nested value as JSON, exactly as `json_value(column, row).to_string()` does.
/// The common shapes, a map of text to text (tags) and a list of text, are written
/// straight from the arrays (no slice per row); any other goes through [`json_value`].
pub fn write_json(out: &mut Vec<u8>, column: &ArrayRef, row: usize) -> Result<()> {
    let json_error = |e: serde_json::Error| Error::Schema(format!("csv: {e}"));
    match column.data_type() {
        DataType::Map(..) => {
            let map = column.as_map();
            let std::ops::Range { start, end } = entry_range(&map.value_offsets()[row..=row + 1]);
            if let (Some(keys), Some(values)) = (Texts::of(map.keys()), Texts::of(map.values())) {
                // A JSON object's keys come out sorted and unique; stored entries that are not
                // take the general path.
                let sorted = (start..end).all(|i| keys.is_valid(i))
                    && (start + 1..end).all(|i| keys.value(i - 1) < keys.value(i));
                if sorted {
                    out.push(b'{');
                    for i in start..end {
                        if i > start {
                            out.push(b',');
                        }
                        serde_json::to_writer(&mut *out, keys.value(i)).map_err(json_error)?;
                        out.push(b':');
                        serde_json::to_writer(&mut *out, &values.get(i)).map_err(json_error)?;
                    }
                    out.push(b'}');
                    return Ok(());
                }
            }
        }
        DataType::List(_) => {
            let list = column.as_list::<i32>();
            let std::ops::Range { start, end } = entry_range(&list.value_offsets()[row..=row + 1]);
            if let Some(items) = Texts::of(list.values()) {
                out.push(b'[');
                for i in start..end {
                    if i > start {
                        out.push(b',');
                    }
                    serde_json::to_writer(&mut *out, &items.get(i)).map_err(json_error)?;
                }
                out.push(b']');
                return Ok(());
            }
        }
        _ => {}
    }
    serde_json::to_writer(out, &json_value(column, row)).map_err(json_error)
}

/// One nested value as JSON: maps as objects, lists as arrays, scalars as strings.
pub fn json_value(column: &ArrayRef, row: usize) -> Value {
    if column.is_null(row) {
        return Value::Null;
    }
    match column.data_type() {
        DataType::Map(..) => {
            let entries = column.as_map().value(row);
            let (keys, values) = (entries.column(0).clone(), entries.column(1).clone());
            let object = (0..entries.len())
                .map(|i| (scalar_text(&keys, i), json_value(&values, i)))
                .collect();
            Value::Object(object)
        }
        DataType::List(_) => {
            let items = column.as_list::<i32>().value(row);
            Value::Array((0..items.len()).map(|i| json_value(&items, i)).collect())
        }
        DataType::Struct(fields) => {
            let array = column.as_struct();
            let object = fields
                .iter()
                .zip(array.columns())
                .map(|(f, c)| (f.name().clone(), json_value(c, row)))
                .collect();
            Value::Object(object)
        }
        DataType::Boolean => Value::Bool(column.as_boolean().value(row)),
        _ => Value::String(scalar_text(column, row)),
    }
}

fn scalar_text(column: &ArrayRef, row: usize) -> String {
    if let Some(texts) = column.as_string_opt::<i32>() {
        return texts.value(row).to_string();
    }
    ArrayFormatter::try_new(column.as_ref(), &FormatOptions::default())
        .map(|f| f.value(row).to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lake_table_has_exactly_one_export() {
        let exported: Vec<&str> = exports().iter().map(|e| e.table).collect();
        let tables: Vec<&str> = crate::schema::all_tables().iter().map(|t| t.name()).collect();
        assert_eq!(exported, tables);
        for (stem, _) in crate::embedded::files_in("queries/exports", "sql") {
            assert!(tables.contains(&stem), "queries/exports/{stem}.sql names no lake table");
        }
        let users = exports().iter().find(|e| e.table == "iam_users").unwrap();
        assert_eq!(
            users.file_name,
            "IAM_USER_TAGS_{org}_combined_{datetime}{shard}_{suffix}.csv"
        );
        let accounts = exports().iter().find(|e| e.table == "accounts").unwrap();
        assert_eq!(accounts.file_name, "ACCOUNTS_{org}_{datetime}{shard}_{suffix}.csv");
        for export in exports() {
            assert!(
                export.sql.contains(&format!("FROM run_{}", export.table)),
                "{} exports another table, or more than this run's rows",
                export.table
            );
        }
    }

    #[test]
    fn the_text_is_sized_up_front_close_to_its_length_also_for_a_slice() {
        let golden = include_str!("../../tests/golden/credential_report.csv");
        let lines = crate::sources::credential_report::parse("111111111111", None, golden.as_bytes())
            .unwrap()
            .rows;
        let many: Vec<_> = (0..200).flat_map(|_| lines.iter()).collect();
        let table = crate::schema::table("iam_credential_report_extracted").unwrap();
        let whole = crate::lake::batch::rows_to_batch(table, "run", &many).unwrap();
        let options = FormatOptions::default().with_null("");
        for batch in [whole.clone(), whole.slice(10, whole.num_rows() / 3)] {
            let expected: usize = batch
                .columns()
                .iter()
                .map(|column| Cells::of(column, &options).unwrap().expected_len(batch.num_rows()))
                .sum();
            let written = csv_bytes(&batch, false).unwrap().len();
            let ratio = expected as f64 / written as f64;
            assert!(
                (0.7..1.5).contains(&ratio),
                "{} rows: {expected} bytes expected, {written} written",
                batch.num_rows()
            );
        }
    }

    #[test]
    fn formula_like_cells_are_neutralised_and_others_kept() {
        // Each cell written as the exports write text, then read back by the csv crate.
        let read_back = |cell: &str| {
            let mut text = CsvText::with_capacity(0);
            push_neutralised(&mut text, cell.as_bytes());
            text.end_record();
            let bytes = text.into_bytes();
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(bytes.as_slice());
            reader.records().next().unwrap().unwrap()[0].to_string()
        };
        for risky in ["=1+1", "+SUM(A1)", "-2", "@cmd", "\t=x", "\r=x", "=cmd|' /C calc'!A0"] {
            assert_eq!(read_back(risky), format!("'{risky}"));
        }
        for safe in ["", "web", "a=b", " =x", "'quoted", "平台"] {
            assert_eq!(read_back(safe), safe);
        }
    }

    #[test]
    fn nested_values_become_json_and_survive_a_csv_round_trip() {
        let table = crate::schema::table("accounts").unwrap();
        #[derive(serde::Serialize)]
        struct Row {
            account_id: &'static str,
            account_name: &'static str,
            email: Option<&'static str>,
            arn: Option<&'static str>,
            status: Option<&'static str>,
            joined_method: Option<&'static str>,
            joined_at: Option<&'static str>,
            ou_id: &'static str,
            ou_path: &'static str,
            owner_tag: Option<&'static str>,
            tags: std::collections::BTreeMap<&'static str, &'static str>,
            scanned: bool,
        }
        let tags = [("owner", "=HYPERLINK(\"x\")"), ("note", "a, \"b\"\nc")]
            .into_iter()
            .collect();
        let row = Row {
            account_id: "111111111111",
            account_name: "-x",
            email: None,
            arn: None,
            status: None,
            joined_method: None,
            joined_at: None,
            ou_id: "r-ab12",
            ou_path: "Root",
            owner_tag: Some("@me"),
            tags,
            scanned: true,
        };
        let batch = crate::lake::batch::rows_to_batch(table, "run", &[row]).unwrap();
        let bytes = csv_bytes(&batch, true).unwrap();
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let headers = reader.headers().unwrap().clone();
        let record = reader.records().next().unwrap().unwrap();
        let get = |name: &str| {
            record
                .get(headers.iter().position(|h| h == name).unwrap())
                .unwrap()
                .to_string()
        };
        assert_eq!(get("account_name"), "'-x");
        assert_eq!(get("owner_tag"), "'@me");
        assert_eq!(get("email"), "");
        let tags: Value = serde_json::from_str(&get("tags")).unwrap();
        assert_eq!(
            tags["owner"], "=HYPERLINK(\"x\")",
            "JSON starts with {{, so it is safe as is"
        );
        assert_eq!(tags["note"], "a, \"b\"\nc");
    }

    #[test]
    fn nested_text_is_written_exactly_as_through_json_values() {
        use arrow::array::{ListBuilder, MapBuilder, StringBuilder};
        use std::sync::Arc;
        let mut maps = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
        let entries: &[&[(&str, Option<&str>)]] = &[
            &[
                ("Name", Some("web \"1\"")),
                ("env", Some("prod\n\u{1}")),
                ("team", None),
            ],
            &[("b", Some("second")), ("a", Some("unsorted"))],
            &[("same", Some("1")), ("same", Some("2"))],
            &[("平台", Some("é/\\"))],
            &[],
        ];
        for row in entries {
            for (key, value) in *row {
                maps.keys().append_value(key);
                maps.values().append_option(*value);
            }
            maps.append(true).unwrap();
        }
        maps.append(false).unwrap();
        let mut lists = ListBuilder::new(StringBuilder::new());
        for row in [vec![Some("sg-1"), None, Some("\"quoted\"")], vec![]] {
            for item in row {
                lists.values().append_option(item);
            }
            lists.append(true);
        }
        let columns: Vec<ArrayRef> = vec![Arc::new(maps.finish()), Arc::new(lists.finish())];
        for column in &columns {
            for row in 0..column.len() {
                if column.is_null(row) {
                    continue;
                }
                let mut written = Vec::new();
                write_json(&mut written, column, row).unwrap();
                assert_eq!(
                    String::from_utf8(written).unwrap(),
                    json_value(column, row).to_string(),
                    "row {row} of {}",
                    column.data_type()
                );
            }
        }
    }
}
