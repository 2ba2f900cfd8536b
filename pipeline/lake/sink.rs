//! Sinks: extraction tasks (many, concurrent) send record batches through a bounded
//! channel to one writer task per table, so memory stays bounded whatever the org size.
//! The writer holds a window of batches and writes it ordered by account
//! ([`AccountClusters`]).

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::lake::TableWriter;
use crate::lake::batch::staged_rows_to_batch;
use crate::lake::clusters::AccountClusters;
use crate::lake::columns::StagedRow;
use crate::schema::Table;

/// Batches in flight per table before senders wait for the writer.
const CHANNEL_CAPACITY: usize = 8;
/// Rows per record batch sent to the writer.
pub const ROWS_PER_BATCH: usize = 8192;

/// The sending side of one table's writer; cheap to clone.
#[derive(Clone, Debug)]
pub struct Sink {
    table: &'static Table,
    run_id: String,
    tx: mpsc::Sender<arrow::array::RecordBatch>,
}

impl Sink {
    /// Starts a writer task for `writer`; returns the sink and the task, which yields the
    /// rows written once every clone of the sink is dropped.
    pub fn spawn(table: &'static Table, run_id: &str, mut writer: TableWriter) -> (Sink, JoinHandle<Result<u64>>) {
        let (tx, mut rx) = mpsc::channel::<arrow::array::RecordBatch>(CHANNEL_CAPACITY);
        let task = tokio::spawn(async move {
            // Written in runs of account ids, so that a commit bucket reads its accounts'
            // row groups only (`lake/clusters.rs`).
            let mut held = AccountClusters::default();
            while let Some(batch) = rx.recv().await {
                held.push(batch);
                if held.is_full() {
                    held.write(&mut writer).await?;
                }
            }
            held.write(&mut writer).await?;
            writer.finish().await
        });
        (
            Sink {
                table,
                run_id: run_id.to_string(),
                tx,
            },
            task,
        )
    }

    /// Converts rows to batches of the table's schema and sends them.
    pub async fn send<T: StagedRow>(&self, rows: &[T]) -> Result<()> {
        for chunk in rows.chunks(ROWS_PER_BATCH) {
            self.send_batch(staged_rows_to_batch(self.table, &self.run_id, chunk)?)
                .await?;
        }
        Ok(())
    }

    /// Sends a batch already in the table's file schema.
    pub async fn send_batch(&self, batch: arrow::array::RecordBatch) -> Result<()> {
        self.tx
            .send(batch)
            .await
            .map_err(|_| Error::lake(self.table.name(), "the table writer stopped"))
    }
}

/// Waits for a writer task and returns its row count.
pub async fn join(task: JoinHandle<Result<u64>>) -> Result<u64> {
    task.await.map_err(|e| Error::lake("writer task", e))?
}
