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

use arrow::array::{Array, StringArray};
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::listing::ListingTable;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType, col, lit};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;

use crate::error::Result;
use crate::lake::Lake;
use crate::schema::Table;

/// The name under which the DataFusion session registers the date-pruned listing of `table`.
pub fn provider_name(table: &str) -> String {
    format!("latest_partitions_{table}")
}

/// Answers which snapshot dates hold some account's latest committed run, from the lake's
/// manifest and `accounts` tables. It lists the files again on every question, so that it
/// sees runs committed after it was made.
pub struct LatestDates {
    ctx: SessionContext,
}

impl std::fmt::Debug for LatestDates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatestDates").finish_non_exhaustive()
    }
}

impl LatestDates {
    /// A session over `lake` with only `raw_runs`, `raw_accounts` and the run-set views.
    pub async fn new(lake: &Lake) -> Result<Self> {
        let ctx = SessionContext::new();
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
        Ok(LatestDates { ctx })
    }

    /// The snapshot dates (`YYYY-MM-DD`, as in the partition paths) of every account's
    /// latest committed run, sorted.
    pub async fn dates(&self) -> std::result::Result<Vec<String>, DataFusionError> {
        let batches = self
            .ctx
            .sql("SELECT DISTINCT snapshot_date FROM latest_account_run_ids ORDER BY snapshot_date")
            .await?
            .collect()
            .await?;
        let mut dates = Vec::new();
        for batch in &batches {
            let column = arrow::compute::cast(batch.column(0), &arrow::datatypes::DataType::Utf8)?;
            let strings = column
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| DataFusionError::Internal("snapshot_date is not text".into()))?;
            dates.extend(
                (0..strings.len())
                    .filter(|&i| strings.is_valid(i))
                    .map(|i| strings.value(i).to_string()),
            );
        }
        Ok(dates)
    }
}

/// The listing of one table, scanned only in the partitions that [`LatestDates`] names at
/// the time of the scan. Used by the DataFusion session's `latest_<table>` views.
#[derive(Debug)]
pub struct LatestPartitions {
    listing: ListingTable,
    dates: Arc<LatestDates>,
}

impl LatestPartitions {
    /// Wraps the listing of `table` in `lake`, pruned by `dates`.
    pub fn new(lake: &Lake, table: &Table, dates: Arc<LatestDates>) -> Result<Self> {
        Ok(LatestPartitions {
            listing: super::listing_table(lake, table)?,
            dates,
        })
    }
}

#[async_trait]
impl TableProvider for LatestPartitions {
    fn schema(&self) -> SchemaRef {
        self.listing.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> std::result::Result<Vec<TableProviderFilterPushDown>, DataFusionError> {
        self.listing.supports_filters_pushdown(filters)
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> std::result::Result<Arc<dyn ExecutionPlan>, DataFusionError> {
        let dates = self.dates.dates().await?;
        // No latest run at all (an empty lake): no partition can match.
        let only_latest = if dates.is_empty() {
            lit(false)
        } else {
            col("snapshot_date").in_list(dates.into_iter().map(lit).collect(), false)
        };
        let mut filters = filters.to_vec();
        filters.push(only_latest);
        self.listing.scan(state, projection, &filters, limit).await
    }
}
