//! CSV records written straight into a byte buffer, exactly as the `csv` crate's writer
//! writes them with its defaults: fields joined by `,`, each record ended by `\n`, a field
//! quoted only when it holds a comma, a quote, CR or LF (its quotes then doubled), and a
//! record that would otherwise be an empty line (one empty field) written `""`.
//!
//! The exports wrote through `csv::Writer` before. It runs every byte of every field
//! through its state machine and a copy, which made a tenth of the CSV phase; here a field
//! is checked in one pass and copied with one `extend_from_slice`. A property test holds
//! the text byte for byte equal to the crate's, which stays the reader and the oracle.

/// A CSV text being written, one record after another.
pub struct CsvText {
    out: Vec<u8>,
    /// Where the current record starts in `out`.
    record_start: usize,
    /// Fields written of the current record.
    fields: usize,
}

impl CsvText {
    /// An empty text with room for `bytes` bytes.
    pub fn with_capacity(bytes: usize) -> Self {
        CsvText {
            out: Vec::with_capacity(bytes),
            record_start: 0,
            fields: 0,
        }
    }

    /// Appends the next field: `prefix` then `field` (the prefix is how a formula-like
    /// cell is neutralised without a copy), quoted if either needs it.
    pub fn field(&mut self, prefix: &[u8], field: &[u8]) {
        self.delimit();
        if needs_quotes(prefix) || needs_quotes(field) {
            self.out.push(b'"');
            push_doubling_quotes(&mut self.out, prefix);
            push_doubling_quotes(&mut self.out, field);
            self.out.push(b'"');
        } else {
            self.out.extend_from_slice(prefix);
            self.out.extend_from_slice(field);
        }
    }

    /// Appends the next field as `write` writes it into the text. Only for text that never
    /// needs quotes (digits, dates, signs, letters): it is not checked.
    pub fn unquoted_field(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        self.delimit();
        write(&mut self.out);
    }

    /// Ends the current record.
    pub fn end_record(&mut self) {
        if self.out.len() == self.record_start {
            // Nothing written (one empty field) would read back as an empty line, which
            // readers skip: the crate's rule, `""`.
            self.out.extend_from_slice(b"\"\"");
        }
        self.out.push(b'\n');
        self.record_start = self.out.len();
        self.fields = 0;
    }

    /// The text written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.out
    }

    fn delimit(&mut self) {
        if self.fields > 0 {
            self.out.push(b',');
        }
        self.fields += 1;
    }
}

/// Whether a field must be quoted: it holds a comma, a quote, CR or LF. One pass without
/// an early exit, which the compiler turns into wide compares.
pub fn needs_quotes(field: &[u8]) -> bool {
    field
        .iter()
        .fold(false, |found, &b| found | matches!(b, b',' | b'"' | b'\r' | b'\n'))
}

fn push_doubling_quotes(out: &mut Vec<u8>, text: &[u8]) {
    let mut rest = text;
    while let Some(at) = rest.iter().position(|&b| b == b'"') {
        out.extend_from_slice(&rest[..=at]);
        out.push(b'"');
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The crate's text of the same records.
    fn crate_text(records: &[Vec<String>]) -> Vec<u8> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        for record in records {
            writer.write_record(record).unwrap();
        }
        writer.into_inner().unwrap()
    }

    fn own_text(records: &[Vec<String>]) -> Vec<u8> {
        let mut text = CsvText::with_capacity(0);
        for record in records {
            for (i, field) in record.iter().enumerate() {
                // Half of the fields with a prefix split off, as a neutralised cell is written.
                let (prefix, rest) = field.as_bytes().split_at(i % 2 * field.len().min(1));
                text.field(prefix, rest);
            }
            text.end_record();
        }
        text.into_bytes()
    }

    /// Fields made of the bytes that matter to CSV and a few that do not.
    fn field() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop::sample::select(vec!["a", ",", "\"", "\r", "\n", " ", "'", "=", "é", ""]),
            0..6,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn records_are_written_byte_for_byte_as_the_csv_crate_writes_them(
            columns in 1usize..4,
            cells in proptest::collection::vec(field(), 0..24),
        ) {
            let records: Vec<Vec<String>> = cells.chunks_exact(columns).map(<[String]>::to_vec).collect();
            prop_assert_eq!(
                String::from_utf8(own_text(&records)).unwrap(),
                String::from_utf8(crate_text(&records)).unwrap()
            );
        }
    }

    #[test]
    fn an_unquoted_field_is_written_as_it_is_and_a_lone_empty_one_quoted() {
        let mut text = CsvText::with_capacity(0);
        text.unquoted_field(|out| out.extend_from_slice(b"2026-12-07T01:00:00Z"));
        text.unquoted_field(|_| {});
        text.end_record();
        let mut lone = CsvText::with_capacity(0);
        lone.unquoted_field(|_| {});
        lone.end_record();
        lone.field(b"", b"x");
        lone.end_record();
        assert_eq!(text.into_bytes(), b"2026-12-07T01:00:00Z,\n");
        assert_eq!(lone.into_bytes(), b"\"\"\nx\n");
    }
}
