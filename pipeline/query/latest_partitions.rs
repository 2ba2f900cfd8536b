//! The files that a `latest_<table>` view can need: only the snapshot dates on which some
//! account's latest run lies.
//!
//! `latest_<table>` joins every row of `raw_<table>` with `latest_account_run_ids`. DataFusion
//! cannot turn that join into a partition filter when it plans, so without help the scan
//! opens one file per snapshot date the lake has ever held, and the view's cost grows with
//! the lake's age. [`LatestPartitions`] wraps the table's listing: when it is scanned it
//! asks the (small) manifest and `accounts` tables which dates hold a latest run, and lists
//! only those partitions. The view's SQL, and so what Athena runs, is unchanged; the join
//! still picks the rows.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;

#[cfg(doc)]
use super::date_partitions::Dates;
use crate::error::Result;
use crate::lake::Lake;

/// The name under which the DataFusion session registers the date-pruned listing of `table`.
pub fn provider_name(table: &str) -> String {
    format!("latest_partitions_{table}")
}

/// Answers which run each account's latest rows come from (`latest_account_run_ids`), and
/// so which snapshot dates hold them, from the lake's manifest and `accounts` tables. The
/// answer is computed once, when a query first needs it, and shared by every scan of the
/// session: the pruned listings and `latest_account_run_ids` itself, so every view of a
/// query picks the same runs; a run committed since shows in a new session.
pub struct LatestRunSet {
    lake: Lake,
    schema: SchemaRef,
    answer: tokio::sync::OnceCell<Arc<Vec<RecordBatch>>>,
}

impl std::fmt::Debug for LatestRunSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatestRunSet").finish_non_exhaustive()
    }
}

impl LatestRunSet {
    /// The latest run set of `lake`, not yet computed: its columns are planned from the
    /// run-set views over `raw_runs` and `raw_accounts`, without reading a file.
    pub async fn new(lake: &Lake) -> Result<Self> {
        let ctx = super::new_session();
        ctx.register_object_store(lake.store_url(), lake.store());
        for name in ["runs", "accounts"] {
            let table = crate::schema::table(name)?;
            super::register_listing(&ctx, lake, table, &format!("raw_{name}")).await?;
        }
        for (name, sql) in super::RUN_SET_VIEWS {
            let view = super::LakeView::from_create(name.to_string(), sql);
            ctx.sql(&format!("CREATE VIEW {} AS {}", view.name, view.select_sql))
                .await?;
        }
        let schema = Arc::new(ctx.table(LATEST_RUN_IDS).await?.schema().as_arrow().clone());
        Ok(LatestRunSet {
            lake: lake.clone(),
            schema,
            answer: tokio::sync::OnceCell::new(),
        })
    }

    /// The rows of `latest_account_run_ids`, computed on the first call, through the lake's
    /// newest run-set checkpoint (see [`super::run_set_checkpoint`]).
    pub async fn latest_run_ids(&self) -> std::result::Result<Arc<Vec<RecordBatch>>, DataFusionError> {
        let rows = self
            .answer
            .get_or_try_init(|| async {
                let (ctx, _) = super::run_set_checkpoint::run_set_session(&self.lake, None)
                    .await
                    .map_err(|e| DataFusionError::External(Box::new(e)))?;
                let mut rows = Vec::new();
                for batch in ctx.table(LATEST_RUN_IDS).await?.collect().await? {
                    let batch = super::run_set_checkpoint::in_schema(&batch, &self.schema)
                        .map_err(|e| DataFusionError::External(Box::new(e)))?;
                    rows.push(batch);
                }
                Ok::<_, DataFusionError>(Arc::new(rows))
            })
            .await?;
        Ok(rows.clone())
    }

    /// The snapshot dates (`YYYY-MM-DD`, as in the partition paths) of every account's
    /// latest committed run, sorted.
    pub async fn dates(&self) -> std::result::Result<Vec<String>, DataFusionError> {
        let mut dates = std::collections::BTreeSet::new();
        for batch in self.latest_run_ids().await?.iter() {
            let column = batch
                .column_by_name("snapshot_date")
                .ok_or_else(|| DataFusionError::Internal("latest_account_run_ids has no snapshot_date".into()))?;
            let strings = crate::lake::text_values(column)?;
            dates.extend(strings.iter().flatten().map(str::to_string));
        }
        Ok(dates.into_iter().collect())
    }
}

/// The run-set view whose answer [`LatestRunSet`] computes and shares.
pub const LATEST_RUN_IDS: &str = "latest_account_run_ids";

/// `latest_account_run_ids` in the DataFusion session: the rows that [`LatestRunSet`]
/// computed when a query of the session first needed them (the same SQL,
/// `queries/lake/run_sets_latest.sql`, computed once for every view of the session).
#[derive(Debug)]
pub struct LatestRunIds {
    runs: Arc<LatestRunSet>,
}

impl LatestRunIds {
    /// The shared answer of `runs` as a table.
    pub fn new(runs: Arc<LatestRunSet>) -> Self {
        LatestRunIds { runs }
    }
}

#[async_trait]
impl TableProvider for LatestRunIds {
    fn schema(&self) -> SchemaRef {
        self.runs.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> std::result::Result<Arc<dyn ExecutionPlan>, DataFusionError> {
        let rows = self.runs.latest_run_ids().await?;
        let table = MemTable::try_new(self.schema(), vec![rows.as_ref().clone()])?;
        table.scan(state, projection, filters, limit).await
    }
}
