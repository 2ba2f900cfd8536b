//! orglake: inventory an AWS Organization into an analytics lake.
//!
//! The pipeline runs config -> [`discover`] -> [`scan`] (per account) -> [`lake`] (Parquet
//! on a local directory or S3, manifest last) and [`query`] reads it back with DataFusion.
//! See `DESIGN.md` and the README.

pub mod act;
pub mod aws;
pub mod batch;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod discover;
pub mod error;
pub mod export;
pub mod export_range;
pub mod extract;
pub mod lake;
pub mod lease;
pub mod logging;
pub mod notify;
pub mod query;
pub mod run;
pub mod s3;
pub mod scan;
pub mod schema;
pub mod session;
pub mod shard;
pub mod sink;
pub mod status;
pub mod summary;
pub mod synthetic;
pub mod transform;
pub mod vacuum;

pub use error::{Error, Result};
