//! Typed columns: the widest staged rows (instances, AMIs, users) go straight into Arrow's
//! typed builders, one column at a time, instead of through serde_arrow's per-value
//! dispatch, which was most of staging's CPU. Any other row converts through serde_arrow
//! ([`super::batch::rows_to_batch`]).
//!
//! A row type opts in with [`staged_row_columns!`], naming its fields; each field's type
//! says how its column is built ([`ToColumn`]). The schema file stays the source of truth:
//! the columns are built in its order, by its field names and types, a schema column the
//! row lacks is an error, and the strict check in `batch.rs` still rejects a row with a
//! field the schema lacks.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Int64Array, ListBuilder, MapBuilder, MapFieldNames, StringBuilder,
    TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, FieldRef, TimeUnit};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::{Error, Result};

/// A row struct that a sink stages.
pub trait StagedRow: Serialize + Sized {
    /// The columns of `fields`, in their order, built from the rows with typed builders;
    /// `None` (the default) when the rows convert through serde_arrow.
    fn columns(_rows: &[Self], _fields: &[FieldRef]) -> Option<Result<Vec<ArrayRef>>> {
        None
    }
}

/// A field type whose values become one Arrow column of a given field.
pub trait ToColumn: Sized {
    /// The column of `field` holding `values`.
    fn to_column<'a>(values: impl ExactSizeIterator<Item = &'a Self>, field: &FieldRef) -> Result<ArrayRef>
    where
        Self: 'a;
}

/// Bytes reserved per text value before the builder grows.
const TEXT_BYTES_PER_VALUE: usize = 24;

/// The error for a column whose schema type the field's Rust type cannot fill.
fn mismatch(field: &FieldRef, rust_type: &str) -> Error {
    Error::Schema(format!(
        "column {} is {} in its schema file, which a {rust_type} field cannot fill: make the row struct and \
         schemas/ agree",
        field.name(),
        field.data_type()
    ))
}

/// The error for a schema column the row struct has no field for.
pub fn no_field(row: &str, column: &str) -> Error {
    Error::Schema(format!(
        "{row} has no field for column {column} of its schema file: add it to the struct and to its \
         staged_row_columns! list"
    ))
}

/// A text column of `field`, checked to be `Utf8`.
fn texts<'a>(
    values: impl ExactSizeIterator<Item = Option<&'a str>>,
    field: &FieldRef,
    rust_type: &str,
) -> Result<ArrayRef> {
    if field.data_type() != &DataType::Utf8 {
        return Err(mismatch(field, rust_type));
    }
    let mut builder = StringBuilder::with_capacity(values.len(), values.len() * TEXT_BYTES_PER_VALUE);
    for value in values {
        builder.append_option(value);
    }
    Ok(Arc::new(builder.finish()))
}

impl ToColumn for String {
    fn to_column<'a>(values: impl ExactSizeIterator<Item = &'a Self>, field: &FieldRef) -> Result<ArrayRef> {
        texts(values.map(|v| Some(v.as_str())), field, "String")
    }
}

impl ToColumn for Option<String> {
    fn to_column<'a>(values: impl ExactSizeIterator<Item = &'a Self>, field: &FieldRef) -> Result<ArrayRef> {
        texts(values.map(|v| v.as_deref()), field, "Option<String>")
    }
}

impl ToColumn for Option<i64> {
    fn to_column<'a>(values: impl ExactSizeIterator<Item = &'a Self>, field: &FieldRef) -> Result<ArrayRef> {
        match field.data_type() {
            DataType::Int64 => Ok(Arc::new(values.copied().collect::<Int64Array>())),
            _ => Err(mismatch(field, "Option<i64>")),
        }
    }
}

impl ToColumn for Option<bool> {
    fn to_column<'a>(values: impl ExactSizeIterator<Item = &'a Self>, field: &FieldRef) -> Result<ArrayRef> {
        match field.data_type() {
            DataType::Boolean => Ok(Arc::new(values.copied().collect::<BooleanArray>())),
            _ => Err(mismatch(field, "Option<bool>")),
        }
    }
}

impl ToColumn for Option<DateTime<Utc>> {
    fn to_column<'a>(values: impl ExactSizeIterator<Item = &'a Self>, field: &FieldRef) -> Result<ArrayRef> {
        match field.data_type() {
            DataType::Timestamp(TimeUnit::Microsecond, zone) => {
                let micros: TimestampMicrosecondArray = values.map(|v| v.map(|t| t.timestamp_micros())).collect();
                Ok(Arc::new(micros.with_timezone_opt(zone.clone())))
            }
            _ => Err(mismatch(field, "Option<DateTime<Utc>>")),
        }
    }
}

impl ToColumn for Vec<String> {
    fn to_column<'a>(values: impl ExactSizeIterator<Item = &'a Self>, field: &FieldRef) -> Result<ArrayRef> {
        let DataType::List(item) = field.data_type() else {
            return Err(mismatch(field, "Vec<String>"));
        };
        if item.data_type() != &DataType::Utf8 {
            return Err(mismatch(field, "Vec<String>"));
        }
        let rows = values.len();
        let items = StringBuilder::with_capacity(2 * rows, 2 * rows * TEXT_BYTES_PER_VALUE);
        let mut builder = ListBuilder::with_capacity(items, rows).with_field(item.clone());
        for list in values {
            for value in list {
                builder.values().append_value(value);
            }
            builder.append(true);
        }
        Ok(Arc::new(builder.finish()))
    }
}

impl ToColumn for BTreeMap<String, String> {
    fn to_column<'a>(values: impl ExactSizeIterator<Item = &'a Self>, field: &FieldRef) -> Result<ArrayRef> {
        let DataType::Map(entries, _) = field.data_type() else {
            return Err(mismatch(field, "BTreeMap<String, String>"));
        };
        let DataType::Struct(pair) = entries.data_type() else {
            return Err(mismatch(field, "BTreeMap<String, String>"));
        };
        let [key, value] = &pair[..] else {
            return Err(mismatch(field, "BTreeMap<String, String>"));
        };
        if key.data_type() != &DataType::Utf8 || value.data_type() != &DataType::Utf8 {
            return Err(mismatch(field, "BTreeMap<String, String>"));
        }
        let names = MapFieldNames {
            entry: entries.name().clone(),
            key: key.name().clone(),
            value: value.name().clone(),
        };
        let rows = values.len();
        let text = || StringBuilder::with_capacity(2 * rows, 2 * rows * TEXT_BYTES_PER_VALUE);
        let mut builder = MapBuilder::with_capacity(Some(names), text(), text(), rows)
            .with_keys_field(key.clone())
            .with_values_field(value.clone());
        for map in values {
            for (k, v) in map {
                builder.keys().append_value(k);
                builder.values().append_value(v);
            }
            builder.append(true)?;
        }
        Ok(Arc::new(builder.finish()))
    }
}

/// Lists of structs (a user's access keys, signing certificates): few values, nested
/// fields, converted through serde_arrow as one column.
impl<T: Serialize> ToColumn for Option<Vec<T>> {
    fn to_column<'a>(values: impl ExactSizeIterator<Item = &'a Self>, field: &FieldRef) -> Result<ArrayRef>
    where
        Self: 'a,
    {
        let values: Vec<&Self> = values.collect();
        // `Items` serializes each value as the field named "item".
        let item: FieldRef = Arc::new(field.as_ref().clone().with_name("item"));
        let mut columns = serde_arrow::to_arrow(&[item], serde_arrow::utils::Items(&values))
            .map_err(|e| Error::Schema(format!("column {} does not fit its schema: {e}", field.name())))?;
        columns.pop().ok_or_else(|| mismatch(field, "list of structs"))
    }
}

/// Implements [`StagedRow`] for a row struct with typed columns: `staged_row_columns!(Row {
/// field_a, field_b, … })`, every field the schema has a column for.
macro_rules! staged_row_columns {
    ($row:ty { $($field:ident),+ $(,)? }) => {
        impl $crate::lake::columns::StagedRow for $row {
            fn columns(
                rows: &[Self],
                fields: &[arrow::datatypes::FieldRef],
            ) -> Option<$crate::error::Result<Vec<arrow::array::ArrayRef>>> {
                Some(
                    fields
                        .iter()
                        .map(|field| match field.name().as_str() {
                            $(stringify!($field) => $crate::lake::columns::ToColumn::to_column(
                                rows.iter().map(|row| &row.$field),
                                field,
                            ),)+
                            other => Err($crate::lake::columns::no_field(stringify!($row), other)),
                        })
                        .collect(),
                )
            }
        }
    };
}
pub(crate) use staged_row_columns;
