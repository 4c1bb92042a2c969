//! The commit protocol of a table run, after its lease is held:
//!
//! 1. [`recover`]: open the table's snapshot (converting a lake of close-lake 0.1 first). What runs
//!    that died left behind is not touched here: no commit names it, so no Delta reader sees it,
//!    and only a vacuum deletes it, once the retention has passed by the store's clock.
//! 2. The run stages its files (see [`super::writer`]).
//! 3. [`commit`]: read the versions created since the run's snapshot, drop from the run's files the
//!    versions they already added, note the final paths (the note keeps a vacuum off them), move
//!    the staged files there (rename on local disk, copy then delete on object stores), check they
//!    are all there and that the lease is still the run's, and create the next Delta version (the
//!    commit point; exactly one writer wins it, a loser checks again and takes the next, a bounded
//!    number of times). A commit therefore never names a file that is not there, and a Delta reader
//!    never sees a file before its commit. The run that commits a tenth version past the last
//!    checkpoint writes the next checkpoint.
//!
//! An export (or a compaction) holds the table's lease; a backfill holds the lease of its key range.
//! Several runs of one table can therefore commit side by side; the versions order them, and the
//! check in step 3 keeps each version of a record once.
//!
//! A kill at any step leaves either an uncommitted run (its files are in no commit, invisible to
//! Delta readers, and a later vacuum deletes them) or a committed one.

use std::collections::HashSet;
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};

use super::delta::TableMeta;
use super::lease::Lease;
use super::manifest::{self, FileEntry, Manifest, RunKind, RunStats, TailRow, Totals};
use super::reader::{self, Version};
use super::snapshot::Snapshot;
use super::{Lake, LakeError, layout};
use crate::time::{self, Micros};

/// How many times a run tries again after another run took the version it meant to create.
const COMMIT_ATTEMPTS: usize = 32;

/// Opens a table at its newest version, converting a lake of close-lake 0.1 first.
pub(super) async fn recover(lake: &Lake, table: &str, meta: &TableMeta) -> Result<Snapshot, LakeError> {
    super::upgrade::from_manifests(lake, table, meta).await?;
    Snapshot::load(lake, table, meta).await
}

/// Who commits: the table, the run, what the table declares, and how long removed files stay (a
/// checkpoint the run writes forgets older tombstones). The transaction fills it in.
pub(super) struct Run<'a> {
    pub table: &'static str,
    pub run_id: &'a str,
    pub meta: &'a TableMeta,
    pub retention: Micros,
}

/// What a run brings to its commit.
#[derive(Debug)]
pub struct Pending {
    pub kind: RunKind,
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
    /// Files the run retires (a compaction's inputs).
    pub removed: Vec<FileEntry>,
    pub stats: RunStats,
}

/// Commits a run on top of `snapshot` (the table as the run found it, brought up to date here):
/// drops versions committed meanwhile by other runs, moves the files into the table folder, creates
/// the next Delta version (the first one even without files: it creates the table). Returns `None`
/// when nothing was left to commit.
pub(super) async fn commit(
    lake: &Lake,
    run: &Run<'_>,
    mut pending: Pending,
    snapshot: &mut Snapshot,
    lease: &Lease,
) -> Result<Option<Manifest>, LakeError> {
    for _ in 0..COMMIT_ATTEMPTS {
        let newer = snapshot.update(lake).await?;
        drop_committed_meanwhile(lake, run, &mut pending, &newer).await?;
        if pending.files.is_empty() && pending.removed.is_empty() && snapshot.head().is_some() {
            delete_run(lake, run.table, run.run_id).await?;
            return Ok(None);
        }
        if pending.kind == RunKind::Backfill {
            pending.tail = backfill_tail(lake, &pending, snapshot.head()).await?;
        }
        let manifest = build(run, &pending, snapshot.head());
        publish(lake, run, &pending).await?;
        lease.check().await?;
        let now = lake.store_now().await?;
        let grown = snapshot.grown_meta_data(run.meta);
        match manifest::create(lake, &manifest, run.meta, grown.as_ref(), now).await {
            Ok(()) => {}
            Err(LakeError::CommitRace { .. }) => continue,
            Err(err) => return Err(err),
        }
        if grown.is_some() {
            tracing::info!(table = run.table, "the table's schema gained columns");
        }
        snapshot.committed(&manifest, grown, now);
        // Past the commit point the run has succeeded: the checkpoint only caches the log, and
        // what the run staged is left for a vacuum if it cannot be deleted now.
        if let Err(err) = snapshot.checkpoint_if_due(lake, run.retention).await {
            tracing::warn!(table = run.table, error = %err, "could not write a Delta checkpoint; a later run will");
        }
        if let Err(err) = delete_run(lake, run.table, run.run_id).await {
            tracing::warn!(table = run.table, error = %err, "could not delete the run's staging folder; a vacuum will");
        }
        return Ok(Some(manifest));
    }
    let number = snapshot.version().map_or(1, |v| v + 2);
    Err(LakeError::CommitRace { table: run.table.to_string(), number })
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
async fn drop_committed_meanwhile(
    lake: &Lake,
    run: &Run<'_>,
    pending: &mut Pending,
    newer: &[Manifest],
) -> Result<(), LakeError> {
    let (lower, upper) = pending.window;
    let mut theirs: HashSet<Version> = HashSet::new();
    // A compaction rewrites rows the lake already held, a repair only removes: neither adds versions.
    if matches!(pending.kind, RunKind::Compact | RunKind::Repair) {
        return Ok(());
    }
    let retired: HashSet<&str> = newer.iter().flat_map(|m| &m.removed).map(|f| f.path.as_str()).collect();
    for other in newer.iter().filter(|m| m.run_id != run.run_id) {
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
    tracing::info!(table = run.table, files = kept.len(), "dropped versions another run committed first");
    pending.files = kept;
    pending.tail.retain(|(id, _, v)| !theirs.contains(&(id.clone(), *v)));
    Ok(())
}

/// The commit of a pending run on top of `base`: the next number, the bookmark (moved only by
/// exports), the tail of the next export's re-read span, running totals.
fn build(run: &Run<'_>, pending: &Pending, base: Option<&Manifest>) -> Manifest {
    let previous = base.and_then(|m| m.bookmark_micros);
    let bookmark = match pending.kind {
        RunKind::Export => previous.into_iter().chain(pending.max_key).max(),
        RunKind::Backfill | RunKind::Compact | RunKind::Repair => previous,
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
        table: run.table.to_string(),
        number: base.map_or(1, |m| m.number + 1),
        kind: pending.kind,
        run_id: run.run_id.to_string(),
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
        partition_column: run.meta.partition_column.clone(),
    }
}

/// Moves a run's staged files to their final paths, after noting those paths (a vacuum leaves the
/// files of a run with a live lease alone), and checks every one is there.
/// Idempotent: a file already moved is skipped, so a run that lost a race publishes again safely.
async fn publish(lake: &Lake, run: &Run<'_>, pending: &Pending) -> Result<(), LakeError> {
    let note = layout::publishing_note(run.table, run.run_id);
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

/// Deletes what a failed run staged (its own folder: nothing a commit names). Files it may have
/// moved into the table folder are left to a vacuum: the run cannot always know whether its commit
/// landed. Best effort.
pub(super) async fn discard(lake: &Lake, table: &str, run_id: &str) {
    if let Err(err) = delete_run(lake, table, run_id).await {
        tracing::debug!(table, run_id, error = %err, "could not delete what the failed run staged");
    }
}

/// Deletes a run's staging folder. On local disk this includes the temporary files of writes the
/// run was killed in (object_store names them `...#n` and never lists them).
pub(super) async fn delete_run(lake: &Lake, table: &str, run_id: &str) -> Result<(), LakeError> {
    let dir = Path::from(format!("{}/{run_id}", layout::staging_dir(table)));
    let files: Vec<_> =
        lake.store().list(Some(&dir)).try_collect().await.map_err(|err| LakeError::store("listing", &dir, err))?;
    for meta in files {
        delete_if_present(lake, &meta.location).await?;
    }
    if let super::Destination::Local(root) = lake.dest() {
        let folder = root.join(dir.as_ref());
        match tokio::fs::remove_dir_all(&folder).await {
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
