//! Integration tests: the real binary against a real AWS emulator (moto server).

mod architecture;
mod athena_queries;
mod bad_input;
mod buckets;
mod changes;
mod credential_reports;
mod deploy;
mod discovery;
mod ec2;
mod errors;
mod faults;
mod glue;
mod iam;
mod lake_commit;
mod lake_semantics;
mod policies;
mod readme;
mod s3_warehouse;
mod shards;
mod simulator;
mod support;
mod tagging;
