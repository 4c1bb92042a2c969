//! Commits, as close-lake sees them: a [`Manifest`] is one committed run, numbered from 1, stored as
//! Delta version `number - 1` of the table's `_delta_log/` (see [`super::delta`]).
//!
//! A commit is created once with a create-if-absent write, so exactly one writer wins each number:
//! it is the commit point. It lists the run's files (path, rows, bytes, key range), the window
//! read, the resulting bookmark, the versions near the bookmark that the next run will read again
//! (the tail), and running totals for `status`.

use std::collections::HashSet;

use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};

use super::delta::{self, Actions, TableMeta};
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
    /// The removal of files a commit names but someone deleted by hand.
    Repair,
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
    /// Data files this commit retires (a compaction's inputs); a vacuum deletes them later.
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
    /// The replication key, whose range each file's stats give.
    #[serde(default)]
    pub key: String,
    /// The partition column (the key's month), whose value each file's partition is.
    #[serde(default)]
    pub partition_column: String,
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

impl Manifest {
    /// The `(id, version)` pairs of the tail, for dropping exact repeats.
    pub fn tail_versions(&self) -> HashSet<(String, Option<Micros>)> {
        self.tail.iter().map(|(id, _, version)| (id.clone(), *version)).collect()
    }
}

/// The commit of a number, as close-lake wrote it into the Delta log, with all its actions.
pub async fn read_commit(lake: &Lake, table: &str, number: u64) -> Result<(Manifest, Actions), LakeError> {
    let path = layout::delta_commit(table, delta::version_of(number));
    let bytes = lake
        .store()
        .get(&path)
        .await
        .map_err(|err| LakeError::store("reading", &path, err))?
        .bytes()
        .await
        .map_err(|err| LakeError::store("reading", &path, err))?;
    let table = table.to_string();
    let parsed = cpu(|| delta::parse_commit(&table, &bytes)).map_err(|err| corrupt(&path, "Delta commit", err))?;
    let (mut manifest, actions) = parsed.ok_or_else(|| LakeError::Corrupt {
        path: path.to_string(),
        what: "Delta commit",
        message: "it carries no close-lake state: another writer committed to this table".into(),
    })?;
    manifest.number = number;
    Ok((manifest, actions))
}

/// The commit of a number.
pub async fn read(lake: &Lake, table: &str, number: u64) -> Result<Manifest, LakeError> {
    Ok(read_commit(lake, table, number).await?.0)
}

/// Creates the commit's Delta version: the commit point. Fails if another run took the version.
/// The first commit of a table also declares it (`meta`), a later one may widen its schema
/// (`grown`); `now` is the store's clock.
pub async fn create(
    lake: &Lake,
    manifest: &Manifest,
    meta: &TableMeta,
    grown: Option<&serde_json::Value>,
    now: Micros,
) -> Result<(), LakeError> {
    let path = layout::delta_commit(&manifest.table, delta::version_of(manifest.number));
    let declare = (manifest.number == 1).then_some(meta);
    let body = cpu(|| delta::commit_lines(manifest, declare, grown, now))
        .map_err(|err| corrupt(&path, "Delta commit", err))?;
    let options = PutOptions { mode: PutMode::Create, ..Default::default() };
    let outcome = lake.store().put_opts(&path, PutPayload::from(body), options).await;
    match outcome {
        Ok(_) => Ok(()),
        // A create that timed out may have landed, and its retry then finds the object: only the
        // object itself says whether this run committed.
        Err(err) => match read(lake, &manifest.table, manifest.number).await {
            Ok(found) if found.run_id == manifest.run_id => Ok(()),
            Ok(_) => Err(LakeError::CommitRace { table: manifest.table.clone(), number: manifest.number }),
            Err(_) => Err(LakeError::store("creating Delta commit", &path, err)),
        },
    }
}

/// Runs CPU work of unbounded size (commits, checkpoints, decoded pages) without stalling the async runtime's other tasks.
pub(super) fn cpu<T>(work: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|handle| handle.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}

fn corrupt(path: &object_store::path::Path, what: &'static str, err: serde_json::Error) -> LakeError {
    LakeError::Corrupt { path: path.to_string(), what, message: err.to_string() }
}
