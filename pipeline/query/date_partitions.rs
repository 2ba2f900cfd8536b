//! A lake table scanned in a few snapshot dates only, each date listed by its own prefix.
//!
//! A `snapshot_date IN (…)` filter prunes the files a scan reads, but not what it lists:
//! DataFusion lists a partition's prefix alone only for an equality on the partition
//! column, and its list-files cache lists the whole table on a miss. So a scan that needs
//! one date of a year-old lake would list 365 partitions. [`DatePartitions`] scans each
//! date with its own `snapshot_date = '…'` filter (a union of the scans), in sessions made
//! by [`super::new_session`], which have no list-files cache: what it lists is the dates it
//! reads, however old the lake.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::project_schema;
use datafusion::datasource::listing::ListingTable;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType, col, lit};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::union::UnionExec;

use super::latest_partitions::LatestRunSet;
use crate::error::Result;
use crate::lake::Lake;
use crate::schema::Table;

/// A scan of more dates than this lists the table once (one paginated listing of every
/// partition) rather than each date's prefix on its own.
pub const DATES_LISTED_ONE_BY_ONE: usize = 16;

/// Which snapshot dates a [`DatePartitions`] scans.
#[derive(Debug, Clone)]
pub enum Dates {
    /// The dates of every account's latest committed run, as a session's
    /// [`LatestRunSet`] answers them when the table is first scanned.
    Latest(Arc<LatestRunSet>),
    /// These dates (`YYYY-MM-DD`, as in the partition paths).
    Fixed(Vec<String>),
}

/// The listing of one lake table, scanned in the partitions of some snapshot dates only.
#[derive(Debug)]
pub struct DatePartitions {
    listing: ListingTable,
    dates: Dates,
}

impl DatePartitions {
    /// The files of `table` in `lake` on `dates`.
    pub fn new(lake: &Lake, table: &Table, dates: Dates) -> Result<Self> {
        Ok(DatePartitions {
            listing: super::listing_table(lake, table)?,
            dates,
        })
    }
}

#[async_trait]
impl TableProvider for DatePartitions {
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
        let dates = match &self.dates {
            Dates::Latest(runs) => runs.dates().await?,
            Dates::Fixed(dates) => dates.clone(),
        };
        let with = |extra: Expr| {
            let mut filters = filters.to_vec();
            filters.push(extra);
            filters
        };
        if dates.is_empty() {
            // No date (an empty lake, no run since a checkpoint): nothing to list.
            let schema = project_schema(&self.schema(), projection)?;
            return Ok(Arc::new(EmptyExec::new(schema)));
        }
        if dates.len() > DATES_LISTED_ONE_BY_ONE {
            let on_dates = col("snapshot_date").in_list(dates.iter().map(|d| lit(d.as_str())).collect(), false);
            return self.listing.scan(state, projection, &with(on_dates), limit).await;
        }
        let mut scans = Vec::with_capacity(dates.len());
        for date in &dates {
            let on_date = col("snapshot_date").eq(lit(date.as_str()));
            scans.push(self.listing.scan(state, projection, &with(on_date), limit).await?);
        }
        UnionExec::try_new(scans)
    }
}
