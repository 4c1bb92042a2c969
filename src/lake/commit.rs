//! The commit protocol of a table run, after its lease is held:
//!
//! 1. [`recover`]: publish the files of runs that committed but died before publishing, delete the
//!    staged files of runs that never committed and no longer hold a lease.
//! 2. The run stages its files (see [`super::writer`]).
//! 3. [`commit`]: drop from the run's files the versions that runs committing meanwhile already
//!    added, create manifest N+1 (the commit point; exactly one writer wins, a loser checks again
//!    and takes the next number), publish the staged files into the table folders (rename on local
//!    disk, copy then delete on object stores), then write the bookmark.
//!
//! An export (or a compaction) holds the table's lease; a backfill holds the lease of its key range.
//! Several runs of one table can therefore commit side by side; the manifest numbers order them,
//! and the check in step 3 keeps each version once. A file a later manifest retires (a compaction's
//! input) is never published again, and the bookmark object is a low-water mark: every manifest up
//! to the one it names is published, and recovery finishes those after it.
//!
//! A kill at any step leaves either an uncommitted run (invisible in table folders, deleted by the
//! next recovery) or a committed one (published by the next recovery).

use std::collections::HashSet;
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::ObjectStoreExt;
use object_store::path::Path;

use super::lease::{self, Lease, Scope};
use super::manifest::{self, FileEntry, Manifest, RunKind, RunStats, TailRow, Totals};
use super::reader::{self, Version};
use super::{Lake, LakeError, layout};
use crate::time::{self, Micros};

/// Brings a table to a clean state and returns its newest manifest.
pub async fn recover(lake: &Lake, table: &str) -> Result<Option<Manifest>, LakeError> {
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
        // A run that died after its commit point left a manifest: publish it. Any other orphan never
        // committed: delete what it staged.
        let manifests = manifest::all(lake, table).await?;
        let retired = retired_paths(&manifests);
        for committed in manifests.iter().filter(|m| orphans.contains(&m.run_id)) {
            tracing::info!(table, manifest = committed.number, "finishing the publication of a committed run");
            publish(lake, committed, &retired).await?;
        }
        for run in orphans.iter().filter(|run| !manifests.iter().any(|m| &m.run_id == *run)) {
            tracing::info!(table, run, "deleting what a run that never committed staged");
            delete_run(lake, table, run).await?;
        }
    }
    // The bookmark object names the manifest up to which every manifest is published. Those after
    // it may be half-published (a crash between commit and bookmark, or runs that finished out of
    // order): publishing is idempotent, so finish them all and move the mark to the newest.
    let published = manifest::read_bookmark(lake, table).await?.map(|b| b.manifest);
    let unfinished = match published {
        Some(number) => manifest::since(lake, table, number).await?,
        None => manifest::all(lake, table).await?,
    };
    if let Some(head) = unfinished.last() {
        let retired = retired_paths(&unfinished);
        for committed in &unfinished {
            publish(lake, committed, &retired).await?;
        }
        manifest::write_bookmark(lake, head).await?;
    }
    match (unfinished.into_iter().last(), published) {
        (Some(head), _) => Ok(Some(head)),
        (None, Some(number)) => manifest::read(lake, table, number).await.map(Some),
        (None, None) => Ok(None),
    }
}

/// The data files that a manifest retires (compaction inputs): never published again.
fn retired_paths(manifests: &[Manifest]) -> HashSet<String> {
    manifests.iter().flat_map(|m| &m.removed).map(|f| f.path.clone()).collect()
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
    /// The manifest the run started from.
    pub base: Option<Manifest>,
    /// Files the run retires (a compaction's inputs).
    pub removed: Vec<FileEntry>,
    pub stats: RunStats,
}

/// Commits a run: drops versions committed meanwhile by other runs, creates the next manifest,
/// publishes the files, writes the bookmark. Returns `None` when nothing was left to commit.
pub async fn commit(lake: &Lake, mut pending: Pending, lease: &Lease) -> Result<Option<Manifest>, LakeError> {
    let mut base = pending.base.take();
    loop {
        let after = base.as_ref().map_or(0, |m| m.number);
        let newer = if after == 0 && base.is_none() {
            manifest::all(lake, pending.table).await?
        } else {
            manifest::since(lake, pending.table, after).await?
        };
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
        staged_files_exist(lake, &pending).await?;
        crash_point("before-manifest");
        match manifest::create(lake, &manifest).await {
            Ok(()) => {}
            Err(LakeError::ManifestRace { .. }) => continue,
            Err(err) => return Err(err),
        }
        crash_point("after-manifest");
        publish(lake, &manifest, &HashSet::new()).await?;
        crash_point("after-publish");
        manifest::advance_bookmark(lake, &manifest).await?;
        return Ok(Some(manifest));
    }
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

/// Fails if a staged file of the run is gone: a run that lost its lease may have had its staging
/// deleted by another's recovery, and a manifest must never name a file that does not exist.
async fn staged_files_exist(lake: &Lake, pending: &Pending) -> Result<(), LakeError> {
    for file in &pending.files {
        let staged = Path::from(file.staged.as_str());
        lake.store().head(&staged).await.map_err(|err| LakeError::store("checking staged file", &staged, err))?;
    }
    Ok(())
}

/// Drops from the pending files every version that a manifest committed after the run's base
/// already holds in the run's key range (files that a later manifest retires are read through the
/// compaction that merged them).
async fn drop_committed_meanwhile(lake: &Lake, pending: &mut Pending, newer: &[Manifest]) -> Result<(), LakeError> {
    let (lower, upper) = pending.window;
    let mut theirs: HashSet<Version> = HashSet::new();
    // A compaction rewrites rows the lake already held: it neither adds versions nor is undone.
    if pending.kind == RunKind::Compact {
        return Ok(());
    }
    let retired = retired_paths(newer);
    for other in newer.iter().filter(|m| m.run_id != pending.run_id) {
        for file in other.files.iter().filter(|f| f.overlaps(lower, upper) && !retired.contains(&f.path)) {
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

/// The manifest of a pending run on top of `base`: the next number, the bookmark (moved only by
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
    }
}

/// Dies on the spot, as `kill -9` would, when `CLOSE_LAKE_CRASH_AT` names this step. The crash
/// tests use it to stop a run between the steps of the protocol; nothing else sets it.
fn crash_point(step: &str) {
    if std::env::var("CLOSE_LAKE_CRASH_AT").is_ok_and(|at| at == step) {
        std::process::abort();
    }
}

/// Moves a committed run's staged files to their final paths. Idempotent: a file already moved is
/// skipped, so a crash half-way is finished by the next recovery.
///
/// A file that a later manifest retires (`retired`) is not published: its staged copy, if any, is
/// deleted, so a compaction's inputs never come back.
async fn publish(lake: &Lake, manifest: &Manifest, retired: &HashSet<String>) -> Result<(), LakeError> {
    for file in &manifest.files {
        let (staged, path) = (Path::from(file.staged.as_str()), Path::from(file.path.as_str()));
        if retired.contains(&file.path) {
            delete_if_present(lake, &staged).await?;
            continue;
        }
        match lake.store().rename(&staged, &path).await {
            Ok(()) => {}
            Err(object_store::Error::NotFound { .. }) => {
                lake.store().head(&path).await.map_err(|_| LakeError::Corrupt {
                    path: layout::manifest(&manifest.table, manifest.number).to_string(),
                    what: "manifest",
                    message: format!("{} is neither staged nor published", file.path),
                })?;
            }
            Err(err) => return Err(LakeError::store("publishing", &staged, err)),
        }
    }
    for file in &manifest.removed {
        delete_if_present(lake, &Path::from(file.path.as_str())).await?;
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

/// Deletes what a failed run staged, unless the run reached its commit point (a manifest names it,
/// perhaps after an ambiguous failure): then its files belong to the manifest, and the next recovery
/// publishes them. Best effort: recovery deletes whatever is left.
async fn discard(lake: &Lake, table: &str, run_id: &str) {
    match manifest::all(lake, table).await {
        Ok(manifests) if manifests.iter().all(|m| m.run_id != run_id) => {
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

async fn delete_if_present(lake: &Lake, path: &Path) -> Result<(), LakeError> {
    match lake.store().delete(path).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(err) => Err(LakeError::store("deleting", path, err)),
    }
}
