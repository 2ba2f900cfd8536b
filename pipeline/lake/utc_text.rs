//! Timestamps as the CSV exports write them, without going through a formatter per cell.
//!
//! Arrow's display of a `Timestamp(Microsecond, "UTC")` is chrono's RFC 3339 with `Z` and
//! as many fraction digits as the value needs (none, 3, 6). It allocates a string per
//! value and looks the zone up each time, which made timestamps a tenth of an export's
//! CPU. [`push_utc_micros`] writes the same text straight into a buffer; a unit test
//! holds it equal to Arrow's for dates across the range it covers.

/// Appends the RFC 3339 text of `micros` (microseconds since 1970 in UTC) to `out`, as
/// Arrow displays a UTC timestamp: `2026-11-24T06:00:00Z`, `…:00.120Z`, `…:00.123456Z`.
/// Returns false and appends nothing for a year outside 0000–9999 (the caller then uses
/// Arrow's formatter).
pub fn push_utc_micros(out: &mut Vec<u8>, micros: i64) -> bool {
    let seconds = micros.div_euclid(1_000_000);
    let fraction = micros.rem_euclid(1_000_000) as u32;
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400) as u32);
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return false;
    }
    out.reserve(27);
    push_digits(out, year as u32, 4);
    out.push(b'-');
    push_digits(out, month, 2);
    out.push(b'-');
    push_digits(out, day, 2);
    out.push(b'T');
    push_digits(out, second_of_day / 3600, 2);
    out.push(b':');
    push_digits(out, second_of_day / 60 % 60, 2);
    out.push(b':');
    push_digits(out, second_of_day % 60, 2);
    // As many fraction digits as the value needs: none, milliseconds or microseconds.
    match fraction {
        0 => {}
        f if f % 1000 == 0 => {
            out.push(b'.');
            push_digits(out, f / 1000, 3);
        }
        f => {
            out.push(b'.');
            push_digits(out, f, 6);
        }
    }
    out.push(b'Z');
    true
}

/// Appends `value` as `width` decimal digits, zero-padded.
fn push_digits(out: &mut Vec<u8>, mut value: u32, width: usize) {
    let start = out.len();
    out.resize(start + width, b'0');
    for digit in out[start..].iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// (year, month, day) of the proleptic Gregorian calendar for a count of days since
/// 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::TimestampMicrosecondArray;
    use arrow::util::display::{ArrayFormatter, FormatOptions};

    use super::*;

    /// Arrow's text of each value, as the exports wrote it before.
    fn arrow_text(values: &[i64]) -> Vec<String> {
        let array = Arc::new(TimestampMicrosecondArray::from(values.to_vec()).with_timezone("UTC"));
        let options = FormatOptions::default();
        let formatter = ArrayFormatter::try_new(array.as_ref(), &options).unwrap();
        (0..values.len()).map(|i| formatter.value(i).to_string()).collect()
    }

    #[test]
    fn the_text_is_arrows_for_dates_and_fractions_across_the_range() {
        let mut values = vec![
            0,
            1,
            999,
            1_000,
            120_000,
            123_456,
            999_999,
            -1,
            -1_000,
            -1_000_000,
            1_796_545_293_518_183,   // 2026-12-06T08:21:33.518183Z
            1_796_515_200_000_000,   // 2026-12-06T00:00:00Z
            951_782_400_000_000,     // 2000-02-29T00:00:00Z
            4_107_542_400_000_000,   // 2100-03-01T00:00:00Z
            -62_167_219_200_000_000, // 0000-01-01T00:00:00Z
            253_402_300_799_999_999, // 9999-12-31T23:59:59.999999Z
        ];
        // A walk through four centuries in steps that are not a whole day, second or
        // millisecond, so that every month, day, time of day and fraction width is met.
        let mut value = -2_208_988_800_000_000i64; // 1900-01-01
        while value < 10_413_792_000_000_000 {
            values.push(value);
            value += 86_399_999_937 * 3 + 7;
        }
        let expected = arrow_text(&values);
        for (value, expected) in values.iter().zip(expected) {
            let mut text = Vec::new();
            assert!(push_utc_micros(&mut text, *value), "{value}");
            assert_eq!(String::from_utf8(text).unwrap(), expected, "{value}");
        }
    }

    #[test]
    fn a_year_beyond_four_digits_is_left_to_arrow() {
        let mut text = b"kept".to_vec();
        assert!(!push_utc_micros(&mut text, 253_402_300_800_000_000)); // 10000-01-01
        assert!(!push_utc_micros(&mut text, -62_167_219_200_000_001)); // before year 0
        assert_eq!(text, b"kept");
    }
}
