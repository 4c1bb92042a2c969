//! Leases: at most one run exports (or compacts) a table at a time, and at most one backfills a
//! given key range of it.
//!
//! A lease is an object created with a create-if-absent write. It records its holder (host, pid,
//! run) and an expiry that a heartbeat pushes forward. A run that finds a lease fails at once with
//! the holder's name, unless the lease is dead: expired, or held by a process of this host that no
//! longer exists (a killed run must not block the next scheduled one). A dead lease is replaced
//! with a conditional update where the store supports one, else by delete-then-create.

use std::collections::HashSet;
use std::time::Duration;

use futures::TryStreamExt;

use object_store::path::Path;
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

use super::{Lake, LakeError, layout};
use crate::time::{self, Micros};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LeaseRecord {
    pub host: String,
    pub pid: u32,
    pub run_id: String,
    pub since: String,
    pub expires_micros: Micros,
}

impl LeaseRecord {
    fn holder(&self) -> String {
        format!("{} pid {} (run {})", self.host, self.pid, self.run_id)
    }

    fn is_dead(&self, now: Micros) -> bool {
        self.expires_micros < now || (self.host == host_name() && !process_alive(self.pid))
    }
}

/// A held lease. Dropping it stops the heartbeat; [`Lease::release`] also deletes the object.
#[derive(Debug)]
pub struct Lease {
    lake: Lake,
    table: String,
    path: Path,
    record: LeaseRecord,
    heartbeat: JoinHandle<()>,
}

/// What a lease covers: a whole table (exports), or one key range of it (backfills).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Table,
    Range { from: String, to: String },
}

impl Lease {
    pub async fn acquire(
        lake: &Lake,
        table: &str,
        scope: &Scope,
        run_id: &str,
        ttl: Micros,
    ) -> Result<Lease, LakeError> {
        let path = match scope {
            Scope::Table => layout::lease(table),
            Scope::Range { from, to } => layout::range_lease(table, from, to),
        };
        let now = time::now();
        let record = LeaseRecord {
            host: host_name(),
            pid: std::process::id(),
            run_id: run_id.to_string(),
            since: time::format_rfc3339(now),
            expires_micros: now + ttl,
        };
        if !try_create(lake, &path, &record).await? {
            let (held, version) = read(lake, &path).await?;
            if !held.is_dead(time::now()) {
                return Err(LakeError::Locked {
                    table: table.to_string(),
                    holder: held.holder(),
                    since: held.since.clone(),
                    expires: time::format_rfc3339(held.expires_micros),
                    path: path.to_string(),
                });
            }
            tracing::warn!(table, holder = %held.holder(), "taking over a dead lease");
            if !take_over(lake, &path, &record, version).await? {
                return Err(LakeError::Locked {
                    table: table.to_string(),
                    holder: "another run that took over the same dead lease".into(),
                    since: record.since.clone(),
                    expires: time::format_rfc3339(record.expires_micros),
                    path: path.to_string(),
                });
            }
        }
        let heartbeat = tokio::spawn(heartbeat(lake.clone(), path.clone(), record.clone(), ttl));
        Ok(Lease { lake: lake.clone(), table: table.to_string(), path, record, heartbeat })
    }

    /// Fails if the lease is no longer this run's: taken over, or expired (another run may then
    /// have treated this run as dead and deleted what it staged).
    pub async fn check(&self) -> Result<(), LakeError> {
        let (held, _) = read(&self.lake, &self.path).await?;
        if held.run_id == self.record.run_id && held.expires_micros > time::now() {
            Ok(())
        } else {
            Err(LakeError::LeaseLost { table: self.table.clone(), holder: held.holder() })
        }
    }

    /// Stops the heartbeat and deletes the lease if it is still this run's.
    pub async fn release(self) -> Result<(), LakeError> {
        self.heartbeat.abort();
        if self.check().await.is_ok() {
            let path = &self.path;
            self.lake.store().delete(path).await.map_err(|err| LakeError::store("deleting lease", path, err))?;
        }
        Ok(())
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

/// The runs holding a live lease on a table (its export, and backfills of its ranges): their
/// staged files are theirs, not leftovers.
pub async fn live_runs(lake: &Lake, table: &str) -> Result<HashSet<String>, LakeError> {
    let ranges = layout::range_leases(table);
    let mut paths: Vec<Path> = lake
        .store()
        .list(Some(&ranges))
        .try_collect::<Vec<_>>()
        .await
        .map_err(|err| LakeError::store("listing", &ranges, err))?
        .into_iter()
        .map(|meta| meta.location)
        .collect();
    paths.push(layout::lease(table));
    let now = time::now();
    let mut live = HashSet::new();
    for path in paths {
        match read(lake, &path).await {
            Ok((held, _)) if !held.is_dead(now) => {
                live.insert(held.run_id);
            }
            Ok(_) | Err(LakeError::Store { source: object_store::Error::NotFound { .. }, .. }) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(live)
}

/// Creates the lease if absent. An answer that says it exists may be this run's own create, retried
/// after a timeout: the lease's run id decides.
async fn try_create(lake: &Lake, path: &Path, record: &LeaseRecord) -> Result<bool, LakeError> {
    let options = PutOptions { mode: PutMode::Create, ..Default::default() };
    match lake.store().put_opts(path, payload(record), options).await {
        Ok(_) => Ok(true),
        Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }) => {
            Ok(read(lake, path).await.is_ok_and(|(held, _)| held.run_id == record.run_id))
        }
        Err(err) => match read(lake, path).await {
            Ok((held, _)) if held.run_id == record.run_id => Ok(true),
            _ => Err(LakeError::store("creating lease", path, err)),
        },
    }
}

/// Replaces a dead lease: conditionally where the store can, else delete then create. `false` when
/// another run replaced it first.
async fn take_over(lake: &Lake, path: &Path, record: &LeaseRecord, version: UpdateVersion) -> Result<bool, LakeError> {
    let options = PutOptions { mode: PutMode::Update(version), ..Default::default() };
    match lake.store().put_opts(path, payload(record), options).await {
        Ok(_) => return Ok(true),
        Err(object_store::Error::Precondition { .. }) => return Ok(false),
        Err(object_store::Error::NotImplemented { .. } | object_store::Error::NotSupported { .. }) => {}
        Err(err) => return Err(LakeError::store("taking over lease", path, err)),
    }
    match lake.store().delete(path).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
        Err(err) => return Err(LakeError::store("deleting dead lease", path, err)),
    }
    try_create(lake, path, record).await
}

async fn read(lake: &Lake, path: &Path) -> Result<(LeaseRecord, UpdateVersion), LakeError> {
    let got = lake.store().get(path).await.map_err(|err| LakeError::store("reading lease", path, err))?;
    let version = UpdateVersion { e_tag: got.meta.e_tag.clone(), version: got.meta.version.clone() };
    let bytes = got.bytes().await.map_err(|err| LakeError::store("reading lease", path, err))?;
    let record = serde_json::from_slice(&bytes).map_err(|err| LakeError::Corrupt {
        path: path.to_string(),
        what: "lease",
        message: err.to_string(),
    })?;
    Ok((record, version))
}

/// Pushes the expiry forward every third of the TTL while this run holds the lease. A failed beat
/// is retried at the next period; the beat is conditional on the lease being unchanged where the
/// store supports it, so it never overwrites a run that took the lease over.
async fn heartbeat(lake: Lake, path: Path, mut record: LeaseRecord, ttl: Micros) {
    let period = Duration::from_micros((ttl / 3).max(1_000_000) as u64);
    loop {
        tokio::time::sleep(period).await;
        let version = match read(&lake, &path).await {
            Ok((held, version)) if held.run_id == record.run_id => version,
            Ok(_) | Err(LakeError::Store { source: object_store::Error::NotFound { .. }, .. }) => return,
            Err(err) => {
                tracing::warn!(lease = %path, error = %err, "lease heartbeat could not read the lease; will retry");
                continue;
            }
        };
        record.expires_micros = time::now() + ttl;
        let conditional = PutOptions { mode: PutMode::Update(version), ..Default::default() };
        let beat = match lake.store().put_opts(&path, payload(&record), conditional).await {
            Err(object_store::Error::NotImplemented { .. } | object_store::Error::NotSupported { .. }) => {
                lake.store().put(&path, payload(&record)).await
            }
            other => other,
        };
        match beat {
            Ok(_) => {}
            Err(object_store::Error::Precondition { .. }) => return,
            Err(err) => tracing::warn!(lease = %path, error = %err, "lease heartbeat failed; will retry"),
        }
    }
}

fn payload(record: &LeaseRecord) -> PutPayload {
    PutPayload::from(serde_json::to_vec_pretty(record).unwrap_or_default())
}

pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|name| name.trim().to_string())
        .ok()
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".to_string())
}

/// Whether a process of this host still exists. Where that cannot be known, assume it does: the
/// lease then waits for its expiry.
fn process_alive(pid: u32) -> bool {
    let proc = std::path::Path::new("/proc");
    if !proc.join("self").exists() {
        return true;
    }
    proc.join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::Destination;

    fn lake() -> (tempfile::TempDir, Lake) {
        let dir = tempfile::tempdir().unwrap();
        let lake = Destination::Local(dir.path().to_path_buf()).open().unwrap();
        (dir, lake)
    }

    #[tokio::test]
    async fn a_live_lease_refuses_a_second_run_and_names_its_holder() {
        let (_dir, lake) = lake();
        let first = Lease::acquire(&lake, "leads", &Scope::Table, "run-1", 60_000_000).await.unwrap();
        let err = Lease::acquire(&lake, "leads", &Scope::Table, "run-2", 60_000_000).await.unwrap_err();
        let message = err.to_string();
        assert!(message.contains("locked by") && message.contains("run-1") && message.contains("since"), "{message}");
        first.release().await.unwrap();
        let range = Scope::Range { from: "2024-01-01".into(), to: "2024-02-01".into() };
        let backfill = Lease::acquire(&lake, "leads", &range, "run-3", 60_000_000).await.unwrap();
        assert_eq!(live_runs(&lake, "leads").await.unwrap(), HashSet::from(["run-3".to_string()]));
        Lease::acquire(&lake, "leads", &range, "run-4", 60_000_000).await.unwrap_err();
        Lease::acquire(&lake, "leads", &Scope::Table, "run-5", 60_000_000).await.unwrap().release().await.unwrap();
        backfill.release().await.unwrap();
    }

    #[tokio::test]
    async fn an_expired_lease_is_taken_over() {
        let (_dir, lake) = lake();
        let path = layout::lease("tasks");
        let stale = LeaseRecord {
            host: "elsewhere".into(),
            pid: 1,
            run_id: "old".into(),
            since: "2020-01-01T00:00:00Z".into(),
            expires_micros: time::now() - 1,
        };
        lake.store().put(&path, payload(&stale)).await.unwrap();
        let lease = Lease::acquire(&lake, "tasks", &Scope::Table, "new", 60_000_000).await.unwrap();
        lease.check().await.unwrap();
    }

    #[tokio::test]
    async fn a_lease_of_a_dead_local_process_is_taken_over_at_once() {
        let (_dir, lake) = lake();
        let path = layout::lease("users");
        let dead = LeaseRecord {
            host: host_name(),
            pid: u32::MAX - 1,
            run_id: "killed".into(),
            since: time::format_rfc3339(time::now()),
            expires_micros: time::now() + 3_600_000_000,
        };
        lake.store().put(&path, payload(&dead)).await.unwrap();
        Lease::acquire(&lake, "users", &Scope::Table, "next", 60_000_000).await.unwrap();
    }
}
