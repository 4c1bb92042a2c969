//! The commit protocol of a table run, after its lease is held:
//!
//! 1. [`recover`]: clear what runs that died left behind: a run that never committed loses its
//!    staged files and the files it had moved into the table folder (its publishing note names
//!    them); a run that committed had moved every file before its commit, so only its staging
//!    folder is left to delete.
//! 2. The run stages its files (see [`super::writer`]).
//! 3. [`commit`]: drop from the run's files the versions that runs committing meanwhile already
//!    added, note the final paths, move the staged files there (rename on local disk, copy then
//!    delete on object stores), check they are all there, and create the next Delta version (the
//!    commit point; exactly one writer wins it, a loser checks again and takes the next, a bounded
//!    number of times). A commit therefore never names a file that is not there, and a Delta reader
//!    never sees a file before its commit.
//!
//! An export (or a compaction) holds the table's lease; a backfill holds the lease of its key range.
//! Several runs of one table can therefore commit side by side; the versions order them, and the
//! check in step 3 keeps each version of a record once.
//!
//! A kill at any step leaves either an uncommitted run (its files are in no commit, invisible to
//! Delta readers, and the next recovery deletes them) or a committed one.

use std::collections::HashSet;
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};

use super::delta::TableMeta;
use super::lease::{self, Lease, Scope};
use super::manifest::{self, FileEntry, Manifest, RunKind, RunStats, TailRow, Totals};
use super::reader::{self, Version};
use super::{Lake, LakeError, layout};
use crate::time::{self, Micros};

/// How many times a run tries again after another run took the version it meant to create.
const COMMIT_ATTEMPTS: usize = 32;

/// Brings a table to a clean state (converting a lake of close-lake 0.1 first) and returns its
/// newest commit.
pub async fn recover(lake: &Lake, table: &str, meta: &TableMeta, key: &str) -> Result<Option<Manifest>, LakeError> {
    super::upgrade::from_manifests(lake, table, meta, key).await?;
    let staging = layout::staging_dir(table);
    let runs = lake
        .store()
        .list_with_delimiter(Some(&staging))
        .await
        .map_err(|err| LakeError::store("listing", &staging, err))?;
    let live = lease::live_runs(lake, table).await?;
    let orphans: HashSet<String> = runs
        .common_prefixes
        .iter()
        .filter_map(|dir| dir.filename().map(str::to_string))
        .filter(|run| !live.contains(run))
        .collect();
    if !orphans.is_empty() {
        let commits = manifest::all(lake, table).await?;
        for run in &orphans {
            match commits.iter().find(|m| &m.run_id == run) {
                // A compaction killed after its commit had not deleted its inputs yet.
                Some(committed) => {
                    for file in &committed.removed {
                        delete_if_present(lake, &Path::from(file.path.as_str())).await?;
                    }
                }
                None => {
                    tracing::info!(table, run, "deleting what a run that never committed left behind");
                    delete_published(lake, table, run).await?;
                }
            }
            delete_run(lake, table, run).await?;
        }
    }
    manifest::latest(lake, table).await
}

/// What a run brings to its commit.
#[derive(Debug)]
pub struct Pending {
    pub table: &'static str,
    pub kind: RunKind,
    pub run_id: String,
    pub started_at: Micros,
    /// The key range the run read, `[lower, upper)`.
    pub window: (Micros, Micros),
    pub files: Vec<FileEntry>,
    /// `(id, key, version)` of the run's rows near the bookmark, for the tail.
    pub tail: Vec<TailRow>,
    /// The largest key the run committed.
    pub max_key: Option<Micros>,
    pub lookback: Micros,
    /// Column names of the key and the version, to read versions back.
    pub key: &'static str,
    pub version: &'static str,
    /// The commit the run started from.
    pub base: Option<Manifest>,
    /// Files the run retires (a compaction's inputs).
    pub removed: Vec<FileEntry>,
    pub stats: RunStats,
    /// What the table's first commit declares (its schema and partition column).
    pub meta: TableMeta,
}

/// Commits a run: drops versions committed meanwhile by other runs, moves the files into the table
/// folder, creates the next Delta version. Returns `None` when nothing was left to commit.
pub async fn commit(lake: &Lake, mut pending: Pending, lease: &Lease) -> Result<Option<Manifest>, LakeError> {
    let mut base = pending.base.take();
    for _ in 0..COMMIT_ATTEMPTS {
        let after = base.as_ref().map_or(0, |m| m.number);
        let newer = manifest::since(lake, pending.table, after).await?;
        drop_committed_meanwhile(lake, &mut pending, &newer).await?;
        if let Some(latest) = newer.into_iter().last() {
            base = Some(latest);
        }
        if pending.files.is_empty() {
            return Ok(None);
        }
        if pending.kind == RunKind::Backfill {
            pending.tail = backfill_tail(lake, &pending, base.as_ref()).await?;
        }
        let manifest = build(&pending, base.as_ref());
        lease.check().await?;
        publish(lake, &pending).await?;
        crash_point("after-publish");
        match manifest::create(lake, &manifest, &pending.meta).await {
            Ok(()) => {}
            Err(LakeError::CommitRace { .. }) => continue,
            Err(err) => return Err(err),
        }
        crash_point("after-commit");
        for file in &manifest.removed {
            delete_if_present(lake, &Path::from(file.path.as_str())).await?;
        }
        delete_run(lake, pending.table, &pending.run_id).await?;
        return Ok(Some(manifest));
    }
    Err(LakeError::CommitRace { table: pending.table.to_string(), number: base.map_or(1, |m| m.number + 1) })
}

/// The rows of a backfill that the next export will read again (key at or after the final base's
/// bookmark minus the look-back), read back from its staged files: known only at commit time,
/// because an export may move the bookmark while the backfill runs.
async fn backfill_tail(lake: &Lake, pending: &Pending, base: Option<&Manifest>) -> Result<Vec<TailRow>, LakeError> {
    let from = base.and_then(|m| m.bookmark_micros).map_or(Micros::MIN, |b| b - pending.lookback);
    let mut tail = Vec::new();
    for file in pending.files.iter().filter(|f| f.overlaps(from, Micros::MAX)) {
        let rows = reader::versions(lake, file, pending.key, pending.version).await?;
        tail.extend(rows.into_iter().filter(|(_, key, _)| key.is_some_and(|k| k >= from)));
    }
    Ok(tail)
}

/// Drops from the pending files every version that a commit after the run's base already holds
/// in the run's key range (files that a later commit retires are read through the
/// compaction that merged them).
async fn drop_committed_meanwhile(lake: &Lake, pending: &mut Pending, newer: &[Manifest]) -> Result<(), LakeError> {
    let (lower, upper) = pending.window;
    let mut theirs: HashSet<Version> = HashSet::new();
    // A compaction rewrites rows the lake already held: it neither adds versions nor is undone.
    if pending.kind == RunKind::Compact {
        return Ok(());
    }
    let retired: HashSet<&str> = newer.iter().flat_map(|m| &m.removed).map(|f| f.path.as_str()).collect();
    for other in newer.iter().filter(|m| m.run_id != pending.run_id) {
        for file in other.files.iter().filter(|f| f.overlaps(lower, upper) && !retired.contains(f.path.as_str())) {
            theirs.extend(
                reader::versions(lake, file, pending.key, pending.version).await?.into_iter().map(|(id, _, v)| (id, v)),
            );
        }
    }
    if theirs.is_empty() {
        return Ok(());
    }
    let theirs = Arc::new(theirs);
    let mut kept = Vec::new();
    for file in std::mem::take(&mut pending.files) {
        if let Some(file) = reader::drop_versions(lake, file, theirs.clone(), pending.key, pending.version).await? {
            kept.push(file);
        }
    }
    tracing::info!(table = pending.table, files = kept.len(), "dropped versions another run committed first");
    pending.files = kept;
    pending.tail.retain(|(id, _, v)| !theirs.contains(&(id.clone(), *v)));
    Ok(())
}

/// The commit of a pending run on top of `base`: the next number, the bookmark (moved only by
/// exports), the tail of the next export's re-read span, running totals.
fn build(pending: &Pending, base: Option<&Manifest>) -> Manifest {
    let previous = base.and_then(|m| m.bookmark_micros);
    let bookmark = match pending.kind {
        RunKind::Export => previous.into_iter().chain(pending.max_key).max(),
        RunKind::Backfill | RunKind::Compact => previous,
    };
    let tail = match bookmark {
        Some(bookmark) => {
            let from = bookmark - pending.lookback;
            let mut rows: Vec<TailRow> = base
                .map_or(&[][..], |m| &m.tail)
                .iter()
                .chain(&pending.tail)
                .filter(|(_, key, _)| key.is_some_and(|k| k >= from))
                .cloned()
                .collect();
            rows.sort();
            rows.dedup();
            rows
        }
        None => Vec::new(),
    };
    let before = base.map(|m| m.totals.clone()).unwrap_or_default();
    let rows: u64 = pending.files.iter().map(|f| f.rows).sum();
    let (removed_rows, removed_bytes) =
        pending.removed.iter().fold((0, 0), |(rows, bytes), f| (rows + f.rows, bytes + f.bytes));
    let mut files = pending.files.clone();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Manifest {
        format: manifest::FORMAT,
        table: pending.table.to_string(),
        number: base.map_or(1, |m| m.number + 1),
        kind: pending.kind,
        run_id: pending.run_id.clone(),
        started_at: time::format_rfc3339(pending.started_at),
        committed_at: time::format_rfc3339(time::now()),
        window: [time::format_rfc3339(pending.window.0), time::format_rfc3339(pending.window.1)],
        totals: Totals {
            rows: (before.rows + rows).saturating_sub(removed_rows),
            files: (before.files + files.len() as u64).saturating_sub(pending.removed.len() as u64),
            bytes: (before.bytes + files.iter().map(|f| f.bytes).sum::<u64>()).saturating_sub(removed_bytes),
        },
        files,
        removed: pending.removed.clone(),
        bookmark: bookmark.map(time::format_rfc3339),
        bookmark_micros: bookmark,
        tail,
        stats: RunStats { rows, ..pending.stats.clone() },
        key: pending.key.to_string(),
        partition_column: pending.meta.partition_column.clone(),
    }
}

/// Dies on the spot, as `kill -9` would, when `CLOSE_LAKE_CRASH_AT` names this step. The crash
/// tests use it to stop a run between the steps of the protocol; nothing else sets it.
fn crash_point(step: &str) {
    if std::env::var("CLOSE_LAKE_CRASH_AT").is_ok_and(|at| at == step) {
        std::process::abort();
    }
}

/// Moves a run's staged files to their final paths, after noting those paths (so that the files of
/// a run that dies before its commit can be found and deleted), and checks every one is there.
/// Idempotent: a file already moved is skipped, so a run that lost a race publishes again safely.
async fn publish(lake: &Lake, pending: &Pending) -> Result<(), LakeError> {
    let note = layout::publishing_note(pending.table, &pending.run_id);
    let paths: Vec<&str> = pending.files.iter().map(|f| f.path.as_str()).collect();
    let body = serde_json::to_vec(&paths).unwrap_or_default();
    lake.store().put(&note, PutPayload::from(body)).await.map_err(|err| LakeError::store("writing", &note, err))?;
    for file in &pending.files {
        let (staged, path) = (Path::from(file.staged.as_str()), Path::from(file.path.as_str()));
        match lake.store().rename(&staged, &path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(err) => return Err(LakeError::store("publishing", &staged, err)),
        }
        // A commit must never name a file that is not there.
        lake.store().head(&path).await.map_err(|err| LakeError::store("checking published file", &path, err))?;
    }
    Ok(())
}

/// Deletes the files a run that never committed moved into the table folder, as its note names them.
async fn delete_published(lake: &Lake, table: &str, run_id: &str) -> Result<(), LakeError> {
    let note = layout::publishing_note(table, run_id);
    let bytes = match lake.store().get(&note).await {
        Ok(got) => got.bytes().await.map_err(|err| LakeError::store("reading", &note, err))?,
        Err(object_store::Error::NotFound { .. }) => return Ok(()),
        Err(err) => return Err(LakeError::store("reading", &note, err)),
    };
    // A note cut short by a crash was written before any file moved: nothing to delete.
    let paths: Vec<String> = serde_json::from_slice(&bytes).unwrap_or_default();
    for path in paths {
        delete_if_present(lake, &Path::from(path)).await?;
    }
    Ok(())
}

/// Runs `work` under a lease on `table`: takes the lease, deletes what the run staged if `work`
/// fails, and releases the lease whatever happened. `lake_error` turns the lease's own failure into
/// the caller's error.
pub async fn leased<T, E>(
    lake: &Lake,
    table: &str,
    scope: &Scope,
    run_id: &str,
    ttl: Micros,
    lake_error: impl Fn(LakeError) -> E,
    work: impl AsyncFnOnce(&Lease) -> Result<T, E>,
) -> Result<T, E> {
    let lease = Lease::acquire(lake, table, scope, run_id, ttl).await.map_err(lake_error)?;
    let result = work(&lease).await;
    if result.is_err() {
        discard(lake, table, run_id).await;
    }
    if let Err(err) = lease.release().await {
        // The run's outcome stands; a lease left behind expires, or is taken over at once by the
        // next run on this host.
        tracing::warn!(table, error = %err, "could not release the lease");
    }
    result
}

/// Deletes what a failed run staged and published, unless the run reached its commit point (a
/// commit names it, perhaps after an ambiguous failure): then its files belong to the table. Best
/// effort: recovery deletes whatever is left.
async fn discard(lake: &Lake, table: &str, run_id: &str) {
    match manifest::all(lake, table).await {
        Ok(manifests) if manifests.iter().all(|m| m.run_id != run_id) => {
            let _ = delete_published(lake, table, run_id).await;
            let _ = delete_run(lake, table, run_id).await;
        }
        _ => {}
    }
}

/// Deletes a run's staging folder. On local disk this includes the temporary files of writes the
/// run was killed in (object_store names them `...#n` and never lists them).
async fn delete_run(lake: &Lake, table: &str, run_id: &str) -> Result<(), LakeError> {
    let dir = Path::from(format!("{}/{run_id}", layout::staging_dir(table)));
    let files: Vec<_> =
        lake.store().list(Some(&dir)).try_collect().await.map_err(|err| LakeError::store("listing", &dir, err))?;
    for meta in files {
        delete_if_present(lake, &meta.location).await?;
    }
    if let super::Destination::Local(root) = lake.dest() {
        let folder = root.join(dir.as_ref());
        match std::fs::remove_dir_all(&folder) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => {
                let source = object_store::Error::Generic { store: "local", source: Box::new(err) };
                return Err(LakeError::store("deleting", &dir, source));
            }
        }
    }
    Ok(())
}

pub(super) async fn delete_if_present(lake: &Lake, path: &Path) -> Result<(), LakeError> {
    match lake.store().delete(path).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(err) => Err(LakeError::store("deleting", path, err)),
    }
}
