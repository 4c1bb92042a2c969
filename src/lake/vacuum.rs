//! Vacuum, the only way files that a commit removed or never named leave the store (a run deletes
//! only its own uncommitted files), and the check `close-lake repair` starts from.
//!
//! A vacuum deletes, once the retention has passed by the store's clock:
//! - files a commit removed (a compaction's inputs), counted from the commit that removed them, so
//!   a reader of an older version, or one that began before the compaction, keeps its files;
//! - files in the table folder that no commit names (a run that died or failed between moving its
//!   files and its commit), counted from when they were written;
//! - what dead runs staged, counted from when they staged it.
//!
//! It never touches what a run holding a live lease staged or is publishing (its publishing note
//! names the files), and it reads the table's log after listing the files and the leases, so a
//! file committed meanwhile is seen as live. A commit therefore never names a file a vacuum deleted,
//! as long as runs commit within their lease (docs/design.md, "Known limits", on `--retention 0s`).
//!
//! [`missing_files`] finds the live files that are gone from the store (a lake damaged by hand);
//! `close-lake repair` (`crate::repair`) commits their removal and prints the backfill.

use std::collections::{HashMap, HashSet};

use futures::TryStreamExt;
use object_store::ObjectStoreExt;
use object_store::path::Path;

use super::commit::{delete_if_present, delete_run};
use super::manifest::FileEntry;
use super::snapshot::Snapshot;
use super::{Lake, LakeError, layout, lease};
use crate::time::Micros;

/// What a vacuum did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Vacuumed {
    pub deleted: usize,
    pub bytes: u64,
    /// Files it would delete but for the retention.
    pub young: usize,
}

/// Vacuums one table. `own_run` is the caller's run (its staging is its own, never a leftover).
pub async fn vacuum(
    lake: &Lake,
    snapshot: &mut Snapshot,
    retention: Micros,
    own_run: &str,
) -> Result<Vacuumed, LakeError> {
    let table = snapshot.table().to_string();
    // Files first, then the leases and notes, then the log: see the module docs for why.
    let dir = Path::from(table.as_str());
    let listed: Vec<_> =
        lake.store().list(Some(&dir)).try_collect().await.map_err(|err| LakeError::store("listing", &dir, err))?;
    let staging_dir = layout::staging_dir(&table);
    let staged: Vec<_> = lake
        .store()
        .list(Some(&staging_dir))
        .try_collect()
        .await
        .map_err(|err| LakeError::store("listing", &staging_dir, err))?;
    let run_dirs = lake
        .store()
        .list_with_delimiter(Some(&staging_dir))
        .await
        .map_err(|err| LakeError::store("listing", &staging_dir, err))?;
    let mut live_runs = lease::live_runs(lake, &table).await?;
    live_runs.insert(own_run.to_string());
    let mut publishing: HashSet<String> = HashSet::new();
    for run in &live_runs {
        publishing.extend(publishing_paths(lake, &table, run).await?);
    }
    snapshot.update(lake).await?;
    let now = lake.store_now().await?;
    let removed_at: HashMap<&str, Micros> =
        snapshot.tombstones().map(|t| (t.file.path.as_str(), t.deleted_at)).collect();

    let mut done = Vacuumed::default();
    let log = format!("{table}/_delta_log/");
    for meta in &listed {
        let path = meta.location.as_ref();
        if path.starts_with(&log) || !path.ends_with(".parquet") || snapshot.is_live(path) || publishing.contains(path)
        {
            continue;
        }
        let since = removed_at.get(path).copied().unwrap_or_else(|| meta.last_modified.timestamp_micros());
        if young(now, since, retention) {
            done.young += 1;
            continue;
        }
        delete_if_present(lake, &meta.location).await?;
        done.deleted += 1;
        done.bytes += meta.size;
    }
    // A dead run's staging goes once everything in it is older than the retention. A folder
    // holding only the temporary file of a write killed midway (local disk: never listed) goes too.
    let mut runs: HashMap<String, (Micros, u64, usize)> = HashMap::new();
    for dir in &run_dirs.common_prefixes {
        if let Some(run) = dir.filename() {
            runs.entry(run.to_string()).or_insert((Micros::MIN, 0, 0));
        }
    }
    for meta in &staged {
        let Some(run) = meta.location.prefix_match(&staging_dir).and_then(|mut parts| parts.next()) else { continue };
        let entry = runs.entry(run.as_ref().to_string()).or_insert((Micros::MIN, 0, 0));
        entry.0 = entry.0.max(meta.last_modified.timestamp_micros());
        entry.1 += meta.size;
        entry.2 += 1;
    }
    for (run, (newest, bytes, files)) in runs {
        if live_runs.contains(&run) {
            continue;
        }
        if young(now, newest, retention) {
            done.young += files;
            continue;
        }
        delete_run(lake, &table, &run).await?;
        done.deleted += files;
        done.bytes += bytes;
    }
    if done.deleted > 0 {
        tracing::info!(table, deleted = done.deleted, bytes = done.bytes, "vacuumed files past the retention");
    }
    Ok(done)
}

/// Whether something stamped at `since` is within the retention. Stores stamp whole seconds, so a
/// zero retention ("everything not live, now") skips the comparison rather than keep the last second.
fn young(now: Micros, since: Micros, retention: Micros) -> bool {
    retention > 0 && now.saturating_sub(since) < retention
}

async fn publishing_paths(lake: &Lake, table: &str, run: &str) -> Result<Vec<String>, LakeError> {
    let note = layout::publishing_note(table, run);
    match lake.store().get(&note).await {
        Ok(got) => {
            let bytes = got.bytes().await.map_err(|err| LakeError::store("reading", &note, err))?;
            // A note cut short by a crash was written before any file moved.
            Ok(serde_json::from_slice(&bytes).unwrap_or_default())
        }
        Err(object_store::Error::NotFound { .. }) => Ok(Vec::new()),
        Err(err) => Err(LakeError::store("reading", &note, err)),
    }
}

/// The live files of a table that are not on the store.
pub async fn missing_files(lake: &Lake, snapshot: &Snapshot) -> Result<Vec<FileEntry>, LakeError> {
    let mut missing = Vec::new();
    for file in snapshot.files() {
        let path = Path::from(file.path.as_str());
        match lake.store().head(&path).await {
            Ok(_) => {}
            Err(object_store::Error::NotFound { .. }) => missing.push(file.clone()),
            Err(err) => return Err(LakeError::store("checking", &path, err)),
        }
    }
    Ok(missing)
}
