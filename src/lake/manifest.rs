//! Manifests and bookmarks.
//!
//! A manifest is created once per committed run with a create-if-absent write, so exactly one
//! writer wins each number: it is the commit point. It lists the run's files (final and staged
//! paths, rows, bytes, key range), the window read, the resulting bookmark, the versions near the
//! bookmark that the next run will read again (the tail), and running totals for `status`.
//! The bookmark object is written after publication and names the manifest up to which every
//! manifest is published (a low-water mark); the bookmark value itself is always that of the newest
//! manifest.

use std::collections::HashSet;

use futures::TryStreamExt;
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};

use super::{Lake, LakeError, layout};
use crate::time::Micros;

pub const FORMAT: u32 = 1;

/// What kind of run committed a manifest.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RunKind {
    /// An incremental run: moves the bookmark.
    #[default]
    Export,
    /// A re-read of a key range: adds versions, never moves the bookmark.
    Backfill,
    /// A rewrite of small files into larger ones: the same rows, in fewer files.
    Compact,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: u32,
    pub table: String,
    pub number: u64,
    #[serde(default)]
    pub kind: RunKind,
    pub run_id: String,
    pub started_at: String,
    pub committed_at: String,
    /// The window of the replication key this run read, `[lower, upper)` in RFC 3339.
    pub window: [String; 2],
    pub files: Vec<FileEntry>,
    /// Data files this manifest retires (a compaction's inputs), deleted after publication.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<FileEntry>,
    /// The largest replication key committed so far (RFC 3339), `None` while the table is empty.
    pub bookmark: Option<String>,
    pub bookmark_micros: Option<Micros>,
    /// Versions the next run reads again: `(id, key, version)` of rows with key in the look-back.
    pub tail: Vec<TailRow>,
    /// Totals over every manifest up to and including this one.
    pub totals: Totals,
    pub stats: RunStats,
}

/// One file of a run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileEntry {
    pub path: String,
    pub staged: String,
    pub partition: String,
    pub rows: u64,
    pub bytes: u64,
    pub min_key: Option<String>,
    pub max_key: Option<String>,
}

/// `(id, key micros, version micros)`.
pub type TailRow = (String, Option<Micros>, Option<Micros>);

impl FileEntry {
    /// Whether the file may hold rows with a key in `[lower, upper)` (unknown ranges may).
    pub fn overlaps(&self, lower: Micros, upper: Micros) -> bool {
        let min = self.min_key.as_deref().and_then(crate::time::parse_timestamp);
        let max = self.max_key.as_deref().and_then(crate::time::parse_timestamp);
        min.is_none_or(|min| min < upper) && max.is_none_or(|max| max >= lower)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Totals {
    pub rows: u64,
    pub files: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RunStats {
    pub rows: u64,
    pub requests: u64,
    pub retries: u64,
    pub coerced: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Bookmark {
    pub table: String,
    pub bookmark: Option<String>,
    pub manifest: u64,
    pub run_id: String,
    pub committed_at: String,
}

impl Manifest {
    /// The `(id, version)` pairs of the tail, for dropping exact repeats.
    pub fn tail_versions(&self) -> HashSet<(String, Option<Micros>)> {
        self.tail.iter().map(|(id, _, version)| (id.clone(), *version)).collect()
    }
}

/// Numbers of the table's manifests, ascending.
pub async fn numbers(lake: &Lake, table: &str) -> Result<Vec<u64>, LakeError> {
    let dir = layout::manifests_dir(table);
    let metas: Vec<_> =
        lake.store().list(Some(&dir)).try_collect().await.map_err(|err| LakeError::store("listing", &dir, err))?;
    let mut numbers: Vec<u64> = metas.iter().filter_map(|meta| layout::manifest_number(&meta.location)).collect();
    numbers.sort_unstable();
    Ok(numbers)
}

pub async fn read(lake: &Lake, table: &str, number: u64) -> Result<Manifest, LakeError> {
    let path = layout::manifest(table, number);
    read_json(lake, &path, "manifest").await
}

/// The newest manifest of a table, if it has one. Starts from the manifest the bookmark names and
/// probes the next numbers, so a long history costs no listing; without a bookmark, lists.
pub async fn latest(lake: &Lake, table: &str) -> Result<Option<Manifest>, LakeError> {
    let start = match read_bookmark(lake, table).await? {
        Some(bookmark) => bookmark.manifest,
        None => match numbers(lake, table).await?.last() {
            Some(&number) => number,
            None => return Ok(None),
        },
    };
    let mut head = read(lake, table, start).await?;
    loop {
        match read(lake, table, head.number + 1).await {
            Ok(next) => head = next,
            Err(LakeError::Store { source: object_store::Error::NotFound { .. }, .. }) => return Ok(Some(head)),
            Err(err) => return Err(err),
        }
    }
}

/// The manifests committed after number `after`, in order (probing forward: no listing).
pub async fn since(lake: &Lake, table: &str, after: u64) -> Result<Vec<Manifest>, LakeError> {
    let mut out = Vec::new();
    loop {
        match read(lake, table, after + 1 + out.len() as u64).await {
            Ok(next) => out.push(next),
            Err(LakeError::Store { source: object_store::Error::NotFound { .. }, .. }) => return Ok(out),
            Err(err) => return Err(err),
        }
    }
}

/// The data files of a table as its manifests say: every file committed, less those retired.
pub fn live_files(manifests: &[Manifest]) -> Vec<FileEntry> {
    let removed: HashSet<&str> = manifests.iter().flat_map(|m| &m.removed).map(|f| f.path.as_str()).collect();
    manifests.iter().flat_map(|m| &m.files).filter(|f| !removed.contains(f.path.as_str())).cloned().collect()
}

/// Every manifest of a table, in order.
pub async fn all(lake: &Lake, table: &str) -> Result<Vec<Manifest>, LakeError> {
    let mut out = Vec::new();
    for number in numbers(lake, table).await? {
        out.push(read(lake, table, number).await?);
    }
    Ok(out)
}

/// Creates the manifest: the commit point. Fails if another run took the number.
pub async fn create(lake: &Lake, manifest: &Manifest) -> Result<(), LakeError> {
    let path = layout::manifest(&manifest.table, manifest.number);
    // Compact: the tail of a busy table holds a day of versions.
    let body = cpu(|| serde_json::to_vec(manifest)).map_err(|err| corrupt(&path, "manifest", err))?;
    let options = PutOptions { mode: PutMode::Create, ..Default::default() };
    let outcome = lake.store().put_opts(&path, PutPayload::from(body), options).await;
    match outcome {
        Ok(_) => Ok(()),
        // A create that timed out may have landed, and its retry then finds the object: only the
        // object itself says whether this run committed.
        Err(err) => match read(lake, &manifest.table, manifest.number).await {
            Ok(found) if found.run_id == manifest.run_id => Ok(()),
            Ok(_) => Err(LakeError::ManifestRace { table: manifest.table.clone(), number: manifest.number }),
            Err(_) => Err(LakeError::store("creating manifest", &path, err)),
        },
    }
}

pub async fn read_bookmark(lake: &Lake, table: &str) -> Result<Option<Bookmark>, LakeError> {
    let path = layout::bookmark(table);
    match read_json(lake, &path, "bookmark").await {
        Ok(bookmark) => Ok(Some(bookmark)),
        Err(LakeError::Store { source: object_store::Error::NotFound { .. }, .. }) => Ok(None),
        Err(err) => Err(err),
    }
}

/// Moves the bookmark object to `manifest` if it names the manifest just before it: the object is a
/// low-water mark (every manifest up to it is published), so a run that finished before an earlier
/// one leaves it for the next recovery to move.
pub async fn advance_bookmark(lake: &Lake, manifest: &Manifest) -> Result<(), LakeError> {
    let current = read_bookmark(lake, &manifest.table).await?.map_or(0, |b| b.manifest);
    if current + 1 == manifest.number {
        write_bookmark(lake, manifest).await?;
    }
    Ok(())
}

pub async fn write_bookmark(lake: &Lake, manifest: &Manifest) -> Result<(), LakeError> {
    let path = layout::bookmark(&manifest.table);
    let bookmark = Bookmark {
        table: manifest.table.clone(),
        bookmark: manifest.bookmark.clone(),
        manifest: manifest.number,
        run_id: manifest.run_id.clone(),
        committed_at: manifest.committed_at.clone(),
    };
    let body = serde_json::to_vec_pretty(&bookmark).map_err(|err| corrupt(&path, "bookmark", err))?;
    lake.store().put(&path, PutPayload::from(body)).await.map_err(|err| LakeError::store("writing", &path, err))?;
    Ok(())
}

async fn read_json<T: for<'de> Deserialize<'de>>(
    lake: &Lake,
    path: &object_store::path::Path,
    what: &'static str,
) -> Result<T, LakeError> {
    let bytes = lake
        .store()
        .get(path)
        .await
        .map_err(|err| LakeError::store("reading", path, err))?
        .bytes()
        .await
        .map_err(|err| LakeError::store("reading", path, err))?;
    cpu(|| serde_json::from_slice(&bytes)).map_err(|err| corrupt(path, what, err))
}

/// Runs JSON work of unbounded size (manifest tails) without stalling the async runtime's other tasks.
fn cpu<T>(work: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|handle| handle.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}

fn corrupt(path: &object_store::path::Path, what: &'static str, err: serde_json::Error) -> LakeError {
    LakeError::Corrupt { path: path.to_string(), what, message: err.to_string() }
}
