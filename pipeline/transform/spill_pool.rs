//! The memory pool of the CSV exports' sessions: it bounds what can spill, and only that.
//!
//! DataFusion's `FairSpillPool` bounds every consumer: the sorts (which spill to disk when
//! their share is full) and the merge above them (`SortPreservingMergeExec`, which cannot
//! spill). Once the sorts held the whole pool, the merge's first few MB were refused and the
//! export failed ("Resources exhausted … SortPreservingMergeExec"), now and then, depending
//! on which partition asked first. [`SpillablesPool`] shares its size fairly among the
//! consumers that can spill, exactly as `FairSpillPool` does, and lets the others (a merge
//! holds one batch per input stream) allocate what they need.

use std::sync::atomic::{AtomicUsize, Ordering};

use datafusion::error::Result;
use datafusion::execution::memory_pool::{FairSpillPool, MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation};

/// A pool whose size bounds the consumers that can spill; the others are counted, never
/// refused.
#[derive(Debug)]
pub struct SpillablesPool {
    spillable: FairSpillPool,
    unspillable: AtomicUsize,
}

impl SpillablesPool {
    /// Spilling consumers share `size` bytes between them.
    pub fn new(size: usize) -> Self {
        SpillablesPool {
            spillable: FairSpillPool::new(size),
            unspillable: AtomicUsize::new(0),
        }
    }
}

impl std::fmt::Display for SpillablesPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "spillables(bounding spillable consumers: {})", self.spillable)
    }
}

impl MemoryPool for SpillablesPool {
    fn name(&self) -> &str {
        "spillables"
    }

    fn register(&self, consumer: &MemoryConsumer) {
        if consumer.can_spill() {
            self.spillable.register(consumer);
        }
    }

    fn unregister(&self, consumer: &MemoryConsumer) {
        if consumer.can_spill() {
            self.spillable.unregister(consumer);
        }
    }

    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        if reservation.consumer().can_spill() {
            self.spillable.grow(reservation, additional);
        } else {
            self.unspillable.fetch_add(additional, Ordering::Relaxed);
        }
    }

    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        if reservation.consumer().can_spill() {
            self.spillable.shrink(reservation, shrink);
        } else {
            self.unspillable.fetch_sub(shrink, Ordering::Relaxed);
        }
    }

    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> Result<()> {
        if reservation.consumer().can_spill() {
            return self.spillable.try_grow(reservation, additional);
        }
        self.unspillable.fetch_add(additional, Ordering::Relaxed);
        Ok(())
    }

    fn reserved(&self) -> usize {
        self.spillable.reserved() + self.unspillable.load(Ordering::Relaxed)
    }

    fn memory_limit(&self) -> MemoryLimit {
        self.spillable.memory_limit()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use datafusion::datasource::MemTable;
    use datafusion::execution::runtime_env::RuntimeEnvBuilder;
    use datafusion::prelude::{SessionConfig, SessionContext};

    use super::*;

    /// Sorts two partitions of 400,000 rows in `pool`, as an export does; returns the rows.
    async fn sort_in(pool: Arc<dyn MemoryPool>) -> Result<usize> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("key", DataType::Int64, false),
            Field::new("text", DataType::Utf8, false),
        ]));
        let partition = |seed: i64| {
            (0..8)
                .map(|b| {
                    let keys: Vec<i64> = (0..50_000).map(|i| (i * 7919 + seed + b * 13) % 1_000_003).collect();
                    let texts: Vec<String> = keys.iter().map(|k| format!("row-{k:>24}")).collect();
                    RecordBatch::try_new(
                        schema.clone(),
                        vec![Arc::new(Int64Array::from(keys)), Arc::new(StringArray::from(texts))],
                    )
                    .unwrap()
                })
                .collect::<Vec<_>>()
        };
        let table = MemTable::try_new(schema.clone(), vec![partition(1), partition(2)])?;
        let runtime = RuntimeEnvBuilder::new().with_memory_pool(pool).build_arc()?;
        let ctx = SessionContext::new_with_config_rt(SessionConfig::new().with_target_partitions(2), runtime);
        ctx.register_table("t", Arc::new(table))?;
        let batches = ctx.sql("SELECT * FROM t ORDER BY key, text").await?.collect().await?;
        Ok(batches.iter().map(|b| b.num_rows()).sum())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sorts_larger_than_the_pool_spill_and_their_merge_is_never_refused() {
        let size = 16 << 20;
        for _ in 0..5 {
            assert_eq!(sort_in(Arc::new(SpillablesPool::new(size))).await.unwrap(), 800_000);
        }
    }
}
