//! The staged tables cut into account buckets: each staged table is read once and its rows
//! written, by account id, to one local Parquet file per bucket, which that bucket's
//! transforms then read instead of the whole table. The files live for one commit and are
//! read whole, once: they are written plain (no compression, no dictionaries, no statistics:
//! the dictionaries' hashing was more than half the split's CPU) and their row groups small,
//! so that the writers of every bucket, open at once, hold little.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch, UInt32Array};
use arrow::compute::{cast, take_record_batch};
use arrow::datatypes::DataType;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use crate::error::{Error, Result};
use crate::schema::table;
use crate::transform::buckets::AccountRange;

/// Rows per account over every staged table in `ctx` (where each is registered under its
/// name): what the buckets are planned by. Reads the `account_id` column only.
pub async fn rows_per_account(ctx: &SessionContext, staged: &[&str]) -> Result<BTreeMap<String, u64>> {
    let mut rows = BTreeMap::new();
    for name in staged {
        let sql = format!("SELECT account_id, count(*) AS n FROM {name} GROUP BY account_id");
        for batch in ctx.sql(&sql).await?.collect().await? {
            let accounts = cast(batch.column(0), &DataType::Utf8)?;
            let counts = cast(batch.column(1), &DataType::Int64)?;
            let (accounts, counts) = (
                accounts.as_string::<i32>(),
                counts.as_primitive::<arrow::datatypes::Int64Type>(),
            );
            for row in 0..batch.num_rows() {
                if accounts.is_valid(row) {
                    *rows.entry(accounts.value(row).to_string()).or_insert(0) += counts.value(row).max(0) as u64;
                }
            }
        }
    }
    Ok(rows)
}

/// Rows per row group of a split file: what each open writer holds before it writes.
const ROWS_PER_ROW_GROUP: usize = 8 * 1024;

/// Where the split staged tables are: `<dir>/<bucket>/<table>/rows.parquet`.
#[derive(Debug)]
pub struct SplitStaging {
    dir: PathBuf,
}

impl SplitStaging {
    /// Reads each staged table of `ctx` once and writes its rows to one file per range of
    /// `ranges` (which must cover every account id, as [`crate::transform::buckets::plan`]'s
    /// do), under `dir`. [`TABLES_AT_ONCE`] tables are split at a time, each on a task of
    /// its own.
    pub async fn write(ctx: &SessionContext, staged: &[&str], ranges: &[AccountRange], dir: &Path) -> Result<Self> {
        // The ranges are ascending and contiguous: a row's bucket is the number of ranges
        // after the first whose lower bound it reaches.
        let lower_bounds: Arc<Vec<String>> = Arc::new(ranges.iter().skip(1).filter_map(|r| r.from.clone()).collect());
        let buckets = ranges.len();
        let jobs = staged.iter().map(|name| {
            let (ctx, lower_bounds, dir, name) =
                (ctx.clone(), lower_bounds.clone(), dir.to_path_buf(), name.to_string());
            async move { split_table(&ctx, &name, buckets, &lower_bounds, &dir).await }
        });
        crate::tasks::run_at_most(TABLES_AT_ONCE, "splitting the staged rows into buckets", jobs).await?;
        Ok(SplitStaging { dir: dir.to_path_buf() })
    }

    /// Registers bucket `bucket`'s rows of each staged table in `ctx`, under its name.
    pub fn register(&self, ctx: &SessionContext, staged: &[&str], bucket: usize) -> Result<()> {
        for name in staged {
            let folder = self.dir.join(bucket.to_string()).join(name);
            let url = ListingTableUrl::parse(format!("{}/", folder.display()))?;
            let options = ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
            let config = ListingTableConfig::new(url)
                .with_listing_options(options)
                .with_schema(table(name)?.file_schema.clone());
            ctx.register_table(*name, Arc::new(ListingTable::try_new(config)?))?;
        }
        Ok(())
    }
}

/// How many staged tables are split at a time: reading one (zstd Parquet) and writing its
/// buckets keeps about one core busy.
const TABLES_AT_ONCE: usize = 2;

/// Splits staged table `name` of `ctx` into one file for each of `buckets` under `dir`,
/// given the lower bounds of every bucket but the first.
async fn split_table(
    ctx: &SessionContext,
    name: &str,
    buckets: usize,
    lower_bounds: &[String],
    dir: &Path,
) -> Result<()> {
    let staged = table(name)?;
    let schema = staged.file_schema.clone();
    let properties = WriterProperties::builder()
        .set_compression(Compression::UNCOMPRESSED)
        .set_dictionary_enabled(false)
        .set_statistics_enabled(EnabledStatistics::None)
        .set_max_row_group_row_count(Some(ROWS_PER_ROW_GROUP))
        .build();
    let lower_bounds: Vec<&str> = lower_bounds.iter().map(String::as_str).collect();
    let mut writers = Vec::with_capacity(buckets);
    for bucket in 0..buckets {
        let folder = dir.join(bucket.to_string()).join(name);
        std::fs::create_dir_all(&folder)?;
        let file = BufWriter::new(File::create(folder.join("rows.parquet"))?);
        writers.push(ArrowWriter::try_new(file, schema.clone(), Some(properties.clone()))?);
    }
    let mut stream = ctx.table(name).await?.execute_stream().await?;
    while let Some(batch) = stream.next().await {
        let batch = crate::transform::conform(&batch?, staged)?;
        for (bucket, rows) in bucket_rows(&batch, &lower_bounds)?.into_iter().enumerate() {
            if rows.is_empty() {
                continue;
            }
            let part = if rows.len() == batch.num_rows() {
                batch.clone()
            } else {
                take_record_batch(&batch, &UInt32Array::from(rows))?
            };
            writers[bucket].write(&part)?;
        }
    }
    for writer in writers {
        writer.close()?;
    }
    Ok(())
}

/// The row numbers of `batch` in each bucket, given the lower bounds of every bucket but
/// the first (ascending).
fn bucket_rows(batch: &RecordBatch, lower_bounds: &[&str]) -> Result<Vec<Vec<u32>>> {
    let accounts = batch
        .column_by_name("account_id")
        .ok_or_else(|| Error::Schema("a staged table has no account_id column".into()))?;
    let accounts = cast(accounts, &DataType::Utf8)?;
    let accounts = accounts.as_string::<i32>();
    let mut rows = vec![Vec::new(); lower_bounds.len() + 1];
    for row in 0..accounts.len() {
        // A row without an account (never written by a source) goes to the first bucket.
        let bucket = match accounts.is_valid(row) {
            true => lower_bounds.partition_point(|from| *from <= accounts.value(row)),
            false => 0,
        };
        rows[bucket].push(row as u32);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::StringArray;

    #[test]
    fn each_row_goes_to_the_bucket_whose_range_holds_its_account() {
        let ids = StringArray::from(vec![
            Some("100"),
            Some("333"),
            Some("200"),
            None,
            Some("999"),
            Some("300"),
        ]);
        let batch = RecordBatch::try_from_iter([("account_id", Arc::new(ids) as arrow::array::ArrayRef)]).unwrap();
        // Buckets: (..200), [200..300), [300..).
        let rows = bucket_rows(&batch, &["200", "300"]).unwrap();
        assert_eq!(rows, vec![vec![0, 3], vec![2], vec![1, 4, 5]]);
    }
}
