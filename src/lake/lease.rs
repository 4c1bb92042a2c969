//! Leases: at most one run exports (or compacts) a table at a time, and at most one backfills a
//! given key range of it.
//!
//! A lease is an object created with a create-if-absent write, naming its holder and how long it
//! lives without a heartbeat (its TTL). It is alive while the store's clock says less than the TTL
//! has passed since the store last stamped it (`last_modified`): no machine's own clock takes part,
//! so a skewed clock can neither steal a live lease nor keep a dead one.
//!
//! A killed run must not block the next scheduled one for a whole TTL, so a lease also names its
//! process: its pid, the process's start time, and the process space it lives in (the boot id and
//! the pid namespace). Only a run in that same process space may conclude from the pid that the
//! holder is gone; containers that share a host name have different pid namespaces and wait for the
//! TTL. A dead lease is replaced with a conditional update where the store supports one, else by
//! delete-then-create.

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
    pub run_id: String,
    pub host: String,
    pub pid: u32,
    /// Where `pid` means something: `<boot id>/<pid namespace>`, empty where that is unknown.
    #[serde(default)]
    pub process_space: String,
    /// The process's start time in that space (clock ticks since boot), against pid reuse.
    #[serde(default)]
    pub process_start: u64,
    pub since: String,
    #[serde(default = "default_ttl")]
    pub ttl_micros: Micros,
}

fn default_ttl() -> Micros {
    2 * time::MICROS_PER_MINUTE
}

/// A lease as read: its record, its version for conditional updates, and when the store stamped it.
struct Held {
    record: LeaseRecord,
    version: UpdateVersion,
    stamped: Micros,
}

impl Held {
    fn expires(&self) -> Micros {
        self.stamped + self.record.ttl_micros
    }

    fn is_dead(&self, store_now: Micros) -> bool {
        self.expires() < store_now || process_gone(&self.record)
    }
}

impl LeaseRecord {
    fn holder(&self) -> String {
        format!("{} pid {} (run {})", self.host, self.pid, self.run_id)
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
        let (process_space, process_start) = this_process();
        let record = LeaseRecord {
            run_id: run_id.to_string(),
            host: host_name(),
            pid: std::process::id(),
            process_space,
            process_start,
            since: time::format_rfc3339(lake.store_now().await?),
            ttl_micros: ttl,
        };
        if !try_create(lake, &path, &record).await? {
            let held = read(lake, &path).await?;
            let locked = |holder: String, held: &Held| LakeError::Locked {
                table: table.to_string(),
                holder,
                since: held.record.since.clone(),
                expires: time::format_rfc3339(held.expires()),
                path: path.to_string(),
            };
            if !held.is_dead(lake.store_now().await?) {
                return Err(locked(held.record.holder(), &held));
            }
            tracing::warn!(table, holder = %held.record.holder(), "taking over a dead lease");
            if !take_over(lake, &path, &record, held.version.clone()).await? {
                return Err(locked("another run that took over the same dead lease".into(), &held));
            }
        }
        let heartbeat = tokio::spawn(heartbeat(lake.clone(), path.clone(), record.clone()));
        Ok(Lease { lake: lake.clone(), table: table.to_string(), path, record, heartbeat })
    }

    /// Fails unless the lease is this run's with at least a quarter of its TTL left by the store's
    /// clock: a run about to commit must not be one that others may already judge dead (and whose
    /// leftovers a vacuum may then delete).
    pub async fn check(&self) -> Result<(), LakeError> {
        let held = read(&self.lake, &self.path).await?;
        let margin = self.record.ttl_micros / 4;
        if held.record.run_id == self.record.run_id && held.expires() - margin > self.lake.store_now().await? {
            Ok(())
        } else {
            Err(LakeError::LeaseLost { table: self.table.clone(), holder: held.record.holder() })
        }
    }

    /// Stops the heartbeat and deletes the lease if it is still this run's.
    pub async fn release(self) -> Result<(), LakeError> {
        self.heartbeat.abort();
        match read(&self.lake, &self.path).await {
            Ok(held) if held.record.run_id == self.record.run_id => {
                let path = &self.path;
                self.lake.store().delete(path).await.map_err(|err| LakeError::store("deleting lease", path, err))
            }
            Ok(_) | Err(LakeError::Store { source: object_store::Error::NotFound { .. }, .. }) => Ok(()),
            Err(err) => Err(err),
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

/// The runs holding a live lease on a table (its export, and backfills of its ranges): what they
/// staged and publish is theirs, not leftovers.
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
    let now = lake.store_now().await?;
    let mut live = HashSet::new();
    for path in paths {
        match read(lake, &path).await {
            Ok(held) if !held.is_dead(now) => {
                live.insert(held.record.run_id);
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
    let ours = async || read(lake, path).await.is_ok_and(|held| held.record.run_id == record.run_id);
    match lake.store().put_opts(path, payload(record), options).await {
        Ok(_) => Ok(true),
        Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }) => Ok(ours().await),
        Err(err) => match ours().await {
            true => Ok(true),
            false => Err(LakeError::store("creating lease", path, err)),
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

async fn read(lake: &Lake, path: &Path) -> Result<Held, LakeError> {
    let got = lake.store().get(path).await.map_err(|err| LakeError::store("reading lease", path, err))?;
    let version = UpdateVersion { e_tag: got.meta.e_tag.clone(), version: got.meta.version.clone() };
    let stamped = got.meta.last_modified.timestamp_micros();
    let bytes = got.bytes().await.map_err(|err| LakeError::store("reading lease", path, err))?;
    let record = serde_json::from_slice(&bytes).map_err(|err| LakeError::Corrupt {
        path: path.to_string(),
        what: "lease",
        message: err.to_string(),
    })?;
    Ok(Held { record, version, stamped })
}

/// Rewrites the lease every third of the TTL while this run holds it, so the store stamps it anew.
/// A failed beat is retried at the next period; the beat is conditional on the lease being
/// unchanged where the store supports it, so it never overwrites a run that took the lease over.
async fn heartbeat(lake: Lake, path: Path, record: LeaseRecord) {
    let period = Duration::from_micros((record.ttl_micros / 3).max(1_000_000) as u64);
    loop {
        tokio::time::sleep(period).await;
        let version = match read(&lake, &path).await {
            Ok(held) if held.record.run_id == record.run_id => held.version,
            Ok(_) | Err(LakeError::Store { source: object_store::Error::NotFound { .. }, .. }) => return,
            Err(err) => {
                tracing::warn!(lease = %path, error = %err, "lease heartbeat could not read the lease; will retry");
                continue;
            }
        };
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

/// This process's space (`<boot id>/<pid namespace>`, empty where unknown) and start time.
fn this_process() -> (String, u64) {
    (process_space(), process_start(std::process::id()).unwrap_or(0))
}

fn process_space() -> String {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").map(|id| id.trim().to_string());
    let namespace = std::fs::read_link("/proc/self/ns/pid").map(|link| link.display().to_string());
    match (boot, namespace) {
        (Ok(boot), Ok(namespace)) if !boot.is_empty() => format!("{boot}/{namespace}"),
        _ => String::new(),
    }
}

/// The start time of a process (field 22 of `/proc/<pid>/stat`), `None` if there is no such process.
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// Whether the holder's process is certainly gone: only a run in the same process space can tell
/// (the same boot and pid namespace); elsewhere the lease waits for its TTL.
fn process_gone(record: &LeaseRecord) -> bool {
    if record.process_space.is_empty() || record.process_space != process_space() {
        return false;
    }
    process_start(record.pid) != Some(record.process_start)
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

    fn record(run_id: &str, ttl_micros: Micros) -> LeaseRecord {
        LeaseRecord {
            run_id: run_id.into(),
            host: host_name(),
            pid: 1,
            process_space: String::new(),
            process_start: 0,
            since: "2020-01-01T00:00:00Z".into(),
            ttl_micros,
        }
    }

    #[tokio::test]
    async fn a_lease_expires_by_the_stores_stamp_not_by_what_it_says() {
        let (_dir, lake) = lake();
        let path = layout::lease("tasks");
        // Written just now by the store's clock, with a TTL of an hour: alive, whatever `since` says.
        lake.store().put(&path, payload(&record("fresh", time::MICROS_PER_HOUR))).await.unwrap();
        Lease::acquire(&lake, "tasks", &Scope::Table, "new", 60_000_000).await.unwrap_err();
        // A TTL shorter than the time since the store stamped it: dead.
        lake.store().put(&path, payload(&record("stale", 1))).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        let lease = Lease::acquire(&lake, "tasks", &Scope::Table, "new", 60_000_000).await.unwrap();
        lease.check().await.unwrap();
    }

    #[tokio::test]
    async fn a_lease_of_a_dead_process_of_this_process_space_is_taken_over_at_once() {
        let (_dir, lake) = lake();
        let path = layout::lease("users");
        let (space, _) = this_process();
        let dead = LeaseRecord { pid: u32::MAX - 1, process_space: space, ..record("killed", time::MICROS_PER_HOUR) };
        lake.store().put(&path, payload(&dead)).await.unwrap();
        Lease::acquire(&lake, "users", &Scope::Table, "next", 60_000_000).await.unwrap().release().await.unwrap();
    }

    #[tokio::test]
    async fn a_pid_means_nothing_outside_its_process_space() {
        let (_dir, lake) = lake();
        let path = layout::lease("users");
        // Another container with the same host name: its pid does not exist here, yet it may be alive.
        let elsewhere = LeaseRecord {
            pid: u32::MAX - 1,
            process_space: "other-boot/pid:[1]".into(),
            ..record("container-b", time::MICROS_PER_HOUR)
        };
        lake.store().put(&path, payload(&elsewhere)).await.unwrap();
        let err = Lease::acquire(&lake, "users", &Scope::Table, "next", 60_000_000).await.unwrap_err();
        assert!(err.to_string().contains("container-b"), "{err}");
        // Our own pid, but a different start time: the pid was reused, the holder is gone.
        let (space, start) = this_process();
        let reused = LeaseRecord {
            pid: std::process::id(),
            process_space: space,
            process_start: start + 1,
            ..record("before-reboot", time::MICROS_PER_HOUR)
        };
        lake.store().put(&path, payload(&reused)).await.unwrap();
        Lease::acquire(&lake, "users", &Scope::Table, "next", 60_000_000).await.unwrap();
    }
}
