//! orglake: inventory an AWS Organization into an analytics lake.
//!
//! The folders are the stages, in data-flow order:
//! [`config`] -> [`discover`] (Organizations) -> [`scan`] (per account, sharded) ->
//! [`sources`] (EC2, IAM users, credential reports) -> [`transform`] (DataFusion SQL) ->
//! [`lake`] (Parquet, CSV, manifest on a directory or S3) -> [`catalog`] (Glue) ->
//! [`act`] (owner tags) -> [`notify`] (SNS); [`run`] drives them and [`query`] reads the
//! lake back. Below them all: [`aws`] (SDK clients, sessions, error classes), [`schema`]
//! (the tables of `schemas/`), [`status`] (the outcome every stage records), [`tasks`] (jobs
//! on tasks of their own, a few at a time) and [`error`].
//! The command line is the binary, in `pipeline/bin/`. See `DESIGN.md` and the README.

pub mod act;
pub mod aws;
pub mod catalog;
pub mod config;
pub mod discover;
pub mod embedded;
pub mod error;
pub mod lake;
pub mod notify;
pub mod progress;
pub mod query;
pub mod run;
pub mod scan;
pub mod schema;
pub mod sources;
pub mod status;
pub mod tasks;
pub mod transform;

pub use error::{Error, Result};
