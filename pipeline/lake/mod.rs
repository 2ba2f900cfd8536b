//! The lake: where tables are written and read, on a local directory or S3, through one
//! `object_store` code path.
//!
//! Layout (see DESIGN.md):
//! `<warehouse>/<table>/snapshot_date=YYYY-MM-DD/<run_id>-<part>.parquet`, with the run
//! manifest under `runs/` written last.
//!
//! May import: `aws`, `config`, `error`, `schema`.

pub mod batch;
pub mod checkpoints;
pub mod clusters;
pub mod columns;
pub mod csv_text;
pub mod export;
pub mod lease;
pub mod s3;
pub mod sink;
pub mod utc_text;
pub mod vacuum;

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::datatypes::DataType;
use arrow::error::ArrowError;
use object_store::ObjectStore;
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use parquet::arrow::AsyncArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterPropertiesBuilder};
use parquet::schema::types::ColumnPath;
use url::Url;

use crate::error::{Error, Result};
use crate::schema::Table;

/// The table whose rows are the run manifests.
pub const MANIFEST_TABLE: &str = "runs";

/// Rows per Parquet row group: a writer holds one row group in memory until it is full,
/// so this bounds each writer's memory (the default, 1M rows, would hold a whole file).
pub const ROWS_PER_ROW_GROUP: usize = 64 * 1024;

/// First part number of the files a committed run adds to itself (`<run_id>-50000.parquet`
/// onwards): the outcomes of owner tags, written after the manifest.
pub const AFTER_COMMIT_FIRST_PART: u32 = 50_000;

/// Rows per Parquet file before the writer rolls over to the next part.
pub const MAX_ROWS_PER_FILE: usize = 1_000_000;

/// A lake location with the store that reaches it.
#[derive(Debug, Clone)]
pub struct Lake {
    store: Arc<dyn ObjectStore>,
    /// Prefix of the lake inside the store.
    root: Path,
    /// URL of the store's root, for registering it with DataFusion.
    store_url: Url,
    /// The warehouse as the user gave it, for messages.
    display: String,
}

/// Options for reaching an S3 warehouse.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    /// Endpoint override (an emulator).
    pub endpoint_url: Option<String>,
    /// Region of the bucket.
    pub region: String,
    /// Server-side encryption: `AES256` (SSE-S3) or `aws:kms` (SSE-KMS); `None`: the bucket default.
    pub sse: Option<String>,
    /// KMS key for SSE-KMS (id, ARN or alias); `None`: the AWS managed key.
    pub kms_key_id: Option<String>,
    /// Account that must own the bucket (sent as `x-amz-expected-bucket-owner`).
    pub expected_bucket_owner: Option<String>,
    /// Retries of a failed S3 call (the run's `max_retries`).
    pub max_retries: u32,
}

impl S3Options {
    /// The S3 options of a run's configuration.
    pub fn from_config(config: &crate::config::Config) -> Self {
        S3Options {
            endpoint_url: config.endpoint_url.clone(),
            region: config.region.clone(),
            sse: config.sse.clone(),
            kms_key_id: config.kms_key_id.clone(),
            expected_bucket_owner: config.expected_bucket_owner.clone(),
            max_retries: config.max_retries,
        }
    }
}

impl Lake {
    /// Opens the warehouse: a local directory or `s3://bucket/prefix`. A missing local
    /// directory is created when `create` is set (for writing) and an error otherwise.
    pub async fn open(
        warehouse: &str,
        s3_options: &S3Options,
        aws: Option<&aws_config::SdkConfig>,
        create: bool,
    ) -> Result<Lake> {
        if let Some(rest) = warehouse.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let store = s3::store(bucket, s3_options, aws).await?;
            let store_url = Url::parse(&format!("s3://{bucket}/")).map_err(|e| Error::lake(warehouse, e))?;
            return Ok(Lake {
                store,
                root: Path::from(prefix),
                store_url,
                display: warehouse.to_string(),
            });
        }
        let dir = warehouse.strip_prefix("file://").unwrap_or(warehouse);
        if create {
            std::fs::create_dir_all(dir).map_err(|e| Error::lake(dir, format!("{e}; check --warehouse")))?;
        } else if !std::path::Path::new(dir).is_dir() {
            return Err(Error::lake(
                dir,
                "no lake here; check --warehouse, or run `orglake run` first",
            ));
        }
        let absolute = std::fs::canonicalize(dir).map_err(|e| Error::lake(dir, e))?;
        let root = Path::from_absolute_path(&absolute).map_err(|e| Error::lake(dir, e))?;
        let store_url = Url::parse("file:///").expect("static URL");
        Ok(Lake {
            store: Arc::new(LocalFileSystem::new()),
            root,
            store_url,
            display: absolute.display().to_string(),
        })
    }

    /// The object store holding the lake.
    pub fn store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    /// URL of the store root (`file:///` or `s3://bucket/`).
    pub fn store_url(&self) -> &Url {
        &self.store_url
    }

    /// The warehouse as shown to the user.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// A path in the lake as a user would write it (`/dir/file` or `s3://bucket/key`).
    pub fn display_path(&self, path: &Path) -> String {
        match self.store_url.scheme() {
            "file" => format!("/{path}"),
            _ => format!("{}{path}", self.store_url),
        }
    }

    /// Object path of the lake's root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Object path of a table's folder.
    pub fn table_path(&self, table: &str) -> Path {
        self.root.clone().join(table)
    }

    /// URL of a table's folder, for DataFusion.
    pub fn table_url(&self, table: &str) -> String {
        format!("{}{}/", self.store_url, self.table_path(table))
    }

    /// Folder of one snapshot of a table (the hive partition).
    pub fn partition_path(&self, table: &str, snapshot_date: &str) -> Path {
        self.table_path(table).join(format!("snapshot_date={snapshot_date}"))
    }

    /// Starts writing a table for one run, into its snapshot partition.
    pub fn table_writer(&self, table: &'static Table, snapshot_date: &str, run_id: &str) -> TableWriter {
        let dir = self.partition_path(table.name(), snapshot_date);
        TableWriter::new(self.clone(), table, dir, run_id, table_writer_properties(table))
    }

    /// Starts writing an unpartitioned table (staging, inside one run): uncompressed and
    /// without dictionaries, as its files live on local disk for one run and each commit
    /// bucket opens every one of their many small row groups that it reads (a zstd codec
    /// made per column chunk cost more than the reading); statistics per column chunk
    /// only, which is what the buckets skip row groups by.
    pub fn staging_writer(&self, table: &'static Table, run_id: &str) -> TableWriter {
        let properties = WriterProperties::builder()
            .set_compression(Compression::UNCOMPRESSED)
            .set_dictionary_enabled(false)
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_max_row_group_row_count(Some(ROWS_PER_ROW_GROUP))
            .build();
        TableWriter::new(self.clone(), table, self.table_path(table.name()), run_id, properties)
    }
}

/// Writer properties shared by every file: zstd, bounded row groups, the writer named.
pub fn writer_properties() -> WriterProperties {
    lake_writer_properties().build()
}

/// [`writer_properties`] for one lake table: its `distinct` columns without a dictionary.
pub fn table_writer_properties(table: &Table) -> WriterProperties {
    table
        .distinct_columns()
        .fold(lake_writer_properties(), |builder, column| {
            builder.set_column_dictionary_enabled(ColumnPath::from(column), false)
        })
        .build()
}

fn lake_writer_properties() -> WriterPropertiesBuilder {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).expect("valid zstd level")))
        .set_max_row_group_row_count(Some(ROWS_PER_ROW_GROUP))
        .set_created_by(format!("orglake {}", env!("CARGO_PKG_VERSION")))
}

/// A column of text in whatever layout a query or a file gave it (`Utf8`, `LargeUtf8`,
/// views, a dictionary) as one `StringArray`: for code that reads the values out of a
/// result. Its buffers are shared when it is `Utf8` already.
pub fn text_values(column: &ArrayRef) -> std::result::Result<StringArray, ArrowError> {
    Ok(arrow::compute::cast(column, &DataType::Utf8)?
        .as_string::<i32>()
        .clone())
}

/// Streams one table's batches of one run into Parquet files, rolling over every
/// [`MAX_ROWS_PER_FILE`] rows. Memory stays bounded by the row groups in flight.
pub struct TableWriter {
    lake: Lake,
    table: &'static Table,
    dir: Path,
    run_id: String,
    part: u32,
    rows_in_file: usize,
    rows: u64,
    writer: Option<AsyncArrowWriter<BufWriter>>,
    properties: WriterProperties,
}

impl TableWriter {
    fn new(lake: Lake, table: &'static Table, dir: Path, run_id: &str, properties: WriterProperties) -> Self {
        TableWriter {
            properties,
            lake,
            table,
            dir,
            run_id: run_id.to_string(),
            part: 0,
            rows_in_file: 0,
            rows: 0,
            writer: None,
        }
    }

    /// Object path of the next file. The run manifest is one file named after the run;
    /// other tables number their parts.
    fn next_file(&self) -> Path {
        let name = if self.table.name() == MANIFEST_TABLE {
            format!("{}.parquet", self.run_id)
        } else {
            format!("{}-{:05}.parquet", self.run_id, self.part)
        };
        self.dir.clone().join(name)
    }

    /// The table written.
    pub fn table(&self) -> &'static Table {
        self.table
    }

    /// Numbers this writer's files from [`AFTER_COMMIT_FIRST_PART`]: for rows a run adds to
    /// itself after its manifest (tag outcomes), which must not overwrite its first files.
    pub fn after_commit(mut self) -> Self {
        self.part = AFTER_COMMIT_FIRST_PART;
        self
    }

    /// Appends a batch; it must have the table's file schema.
    pub async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        if batch.schema() != self.table.file_schema {
            return Err(Error::Schema(format!(
                "batch for {} does not match schemas/{}.toml: {:?}",
                self.table.name(),
                self.table.name(),
                batch.schema()
            )));
        }
        if self.writer.is_none() || self.rows_in_file >= MAX_ROWS_PER_FILE {
            self.close_file().await?;
            let path = self.next_file();
            let object = BufWriter::new(self.lake.store(), path);
            self.writer = Some(AsyncArrowWriter::try_new(
                object,
                self.table.file_schema.clone(),
                Some(self.properties.clone()),
            )?);
            self.part += 1;
        }
        let writer = self.writer.as_mut().expect("writer opened above");
        writer.write(batch).await?;
        self.rows_in_file += batch.num_rows();
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Ends the row group being written, if any: the next batch starts a new one (whose
    /// statistics then cover only the rows written after this).
    pub async fn end_row_group(&mut self) -> Result<()> {
        if let Some(writer) = self.writer.as_mut() {
            writer.flush().await?;
        }
        Ok(())
    }

    /// Closes the file being written, if any, so that readers see its rows; the next
    /// batch starts the next part.
    pub async fn end_file(&mut self) -> Result<()> {
        self.close_file().await
    }

    async fn close_file(&mut self) -> Result<()> {
        if let Some(writer) = self.writer.take() {
            writer.close().await?;
        }
        self.rows_in_file = 0;
        Ok(())
    }

    /// Flushes and closes the last file; returns the rows written.
    pub async fn finish(mut self) -> Result<u64> {
        self.close_file().await?;
        Ok(self.rows)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::StringArray;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    use super::*;

    /// A lake table of two text columns, `id` marked distinct and `kind` not.
    fn ids_and_kinds() -> &'static Table {
        let text = "table = \"ids_and_kinds\"\ndescription = \"d\"\n\
            [[column]]\nname = \"id\"\ntype = \"string\"\nnullable = false\ndistinct = true\ndescription = \"d\"\n\
            [[column]]\nname = \"kind\"\ntype = \"string\"\nnullable = false\ndescription = \"d\"\n";
        Box::leak(Box::new(crate::schema::parse_table(text).unwrap()))
    }

    #[tokio::test]
    async fn a_distinct_column_is_written_without_a_dictionary_and_the_others_with_one() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(&dir.path().display().to_string(), &S3Options::default(), None, true)
            .await
            .unwrap();
        let table = ids_and_kinds();
        let ids: Vec<String> = (0..1000).map(|i| format!("i-{i:017x}")).collect();
        let kinds: Vec<&str> = (0..1000).map(|i| ["a", "b"][i % 2]).collect();
        let batch = RecordBatch::try_new(
            table.file_schema.clone(),
            vec![Arc::new(StringArray::from(ids)), Arc::new(StringArray::from(kinds))],
        )
        .unwrap();
        let mut writer = lake.table_writer(table, "2026-11-24", "run-1");
        writer.write(&batch).await.unwrap();
        assert_eq!(writer.finish().await.unwrap(), 1000);

        let folder = dir.path().join("ids_and_kinds").join("snapshot_date=2026-11-24");
        let file = std::fs::read_dir(folder).unwrap().next().unwrap().unwrap().path();
        let reader = SerializedFileReader::new(std::fs::File::open(file).unwrap()).unwrap();
        let chunks = reader.metadata().row_group(0).columns();
        let has_dictionary: Vec<bool> = chunks.iter().map(|c| c.dictionary_page_offset().is_some()).collect();
        assert_eq!(has_dictionary, [false, true], "id (distinct), kind");
    }
}
