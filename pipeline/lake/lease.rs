//! Run leases: while a run writes to the lake it keeps `_leases/<run_id>.json`, renewed on
//! a timer, saying until when it may still write. `vacuum` never deletes the files of a run
//! whose lease has not expired, whatever `--older-than-hours` says: a long (sharded,
//! throttled) run is never vacuumed under its feet. The lease is deleted once the run is
//! done; one left by a killed run expires after [`LEASE_TTL`] and is vacuumed then.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::lake::Lake;

/// Folder of the leases, under the warehouse.
pub const LEASES_DIR: &str = "_leases";
/// How long a lease holds without renewal. It is renewed every quarter of that.
pub const LEASE_TTL: Duration = Duration::from_secs(10 * 60);
/// Environment variable overriding [`LEASE_TTL`] in seconds: a hook for crash tests.
pub const LEASE_TTL_ENV: &str = "ORGLAKE_TEST_LEASE_SECONDS";

/// What a lease file holds.
#[derive(Debug, Serialize, Deserialize)]
struct LeaseFile {
    run_id: String,
    expires_at: DateTime<Utc>,
}

/// A run's lease, renewed in the background until [`Lease::release`].
pub struct Lease {
    lake: Lake,
    path: Path,
    renewal: tokio::task::JoinHandle<()>,
}

fn ttl() -> Duration {
    std::env::var(LEASE_TTL_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(LEASE_TTL)
}

/// Object path of a run's lease.
pub fn lease_path(lake: &Lake, run_id: &str) -> Path {
    lake.root().clone().join(LEASES_DIR).join(format!("{run_id}.json"))
}

async fn write_lease(lake: &Lake, path: &Path, run_id: &str, ttl: Duration) -> Result<()> {
    let lease = LeaseFile {
        run_id: run_id.to_string(),
        expires_at: Utc::now() + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX),
    };
    let body = serde_json::to_vec(&lease).map_err(|e| Error::lake(path.to_string(), e))?;
    lake.store()
        .put(path, PutPayload::from(body))
        .await
        .map_err(|e| Error::lake(lake.display_path(path), e))?;
    Ok(())
}

impl Lease {
    /// Takes the lease of `run_id` (before the run writes anything) and keeps renewing it.
    pub async fn take(lake: &Lake, run_id: &str) -> Result<Lease> {
        let ttl = ttl();
        let path = lease_path(lake, run_id);
        write_lease(lake, &path, run_id, ttl).await?;
        let (renew_lake, renew_path, renew_run) = (lake.clone(), path.clone(), run_id.to_string());
        let renewal = tokio::spawn(async move {
            loop {
                tokio::time::sleep(ttl / 4).await;
                if let Err(err) = write_lease(&renew_lake, &renew_path, &renew_run, ttl).await {
                    tracing::warn!(error = %err, "could not renew the run's lease; vacuum may treat the run as dead once it expires");
                }
            }
        });
        Ok(Lease {
            lake: lake.clone(),
            path,
            renewal,
        })
    }

    /// Stops renewing and deletes the lease (the run writes nothing more).
    pub async fn release(self) {
        self.renewal.abort();
        if let Err(err) = self.lake.store().delete(&self.path).await {
            tracing::warn!(error = %err, "could not delete the run's lease; it expires by itself");
        }
    }
}

/// The leases among a listing of the lake's files: the runs whose lease is live at `now`,
/// and the paths of expired ones.
pub async fn leases(
    lake: &Lake,
    files: &[object_store::ObjectMeta],
    now: DateTime<Utc>,
) -> Result<(BTreeSet<String>, Vec<Path>)> {
    let dir = lake.root().clone().join(LEASES_DIR);
    let mut live = BTreeSet::new();
    let mut expired = Vec::new();
    for file in files.iter().filter(|f| f.location.prefix_matches(&dir)) {
        let bytes = lake
            .store()
            .get(&file.location)
            .await
            .map_err(|e| Error::lake(lake.display_path(&file.location), e))?
            .bytes()
            .await
            .map_err(|e| Error::lake(lake.display_path(&file.location), e))?;
        match serde_json::from_slice::<LeaseFile>(&bytes) {
            Ok(lease) if lease.expires_at > now => {
                live.insert(lease.run_id);
            }
            // Expired, or unreadable (a torn write): no run holds it any more.
            _ => expired.push(file.location.clone()),
        }
    }
    Ok((live, expired))
}
