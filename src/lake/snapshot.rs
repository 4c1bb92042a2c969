//! A table's state at one Delta version: its live files, the files commits removed (tombstones),
//! and close-lake's state from the newest commit (bookmark, tail, totals).
//!
//! Opening a table reads a bounded number of objects whatever its history: `_last_checkpoint`, the
//! checkpoint it names, one listing of the log after it, and the at most [`checkpoint::INTERVAL`]
//! commits since (or the checkpoint's own commit, for close-lake's state). A committing run keeps
//! its snapshot current by reading only the versions created since, and the run that commits a
//! version [`checkpoint::INTERVAL`] past the last checkpoint writes the next one.

use std::collections::BTreeMap;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::{ObjectStoreExt, PutPayload};
use serde_json::Value;

use super::checkpoint::{self, LastCheckpoint};
use super::delta::{self, Actions, TableMeta, Tombstone};
use super::manifest::{self, FileEntry, Manifest};
use super::{Lake, LakeError, layout};
use crate::time::Micros;

#[derive(Debug, Clone)]
pub struct Snapshot {
    table: String,
    meta: TableMeta,
    /// The newest Delta version read; `None` for a table without commits.
    version: Option<u64>,
    head: Option<Manifest>,
    files: BTreeMap<String, FileEntry>,
    tombstones: BTreeMap<String, Tombstone>,
    protocol: Option<Value>,
    meta_data: Option<Value>,
    /// The version of the newest checkpoint this snapshot knows of.
    checkpointed: Option<u64>,
}

impl Snapshot {
    fn empty(table: &str, meta: &TableMeta) -> Snapshot {
        Snapshot {
            table: table.to_string(),
            meta: meta.clone(),
            version: None,
            head: None,
            files: BTreeMap::new(),
            tombstones: BTreeMap::new(),
            protocol: None,
            meta_data: None,
            checkpointed: None,
        }
    }

    /// Opens the table at its newest version (see the module docs for what it reads).
    pub async fn load(lake: &Lake, table: &str, meta: &TableMeta) -> Result<Snapshot, LakeError> {
        let mut snapshot = Snapshot::empty(table, meta);
        if let Some(last) = last_checkpoint(lake, table).await?
            // A checkpoint only caches the log: one that is gone or unreadable costs a full replay.
            && let Err(err) = snapshot.read_checkpoint(lake, last.version).await
        {
            tracing::warn!(table, version = last.version, error = %err, "cannot use the checkpoint; reading the whole log");
            snapshot = Snapshot::empty(table, meta);
        }
        let dir = layout::delta_log_dir(table);
        let listing = match snapshot.version {
            Some(version) => lake.store().list_with_offset(Some(&dir), &layout::delta_commit(table, version)),
            None => lake.store().list(Some(&dir)),
        };
        let metas: Vec<_> = listing.try_collect().await.map_err(|err| LakeError::store("listing", &dir, err))?;
        let mut versions: Vec<u64> = metas.iter().filter_map(|m| layout::delta_version(&m.location)).collect();
        versions.retain(|v| snapshot.version.is_none_or(|at| *v > at));
        versions.sort_unstable();
        for version in versions {
            let expected = snapshot.version.map_or(0, |v| v + 1);
            if version != expected {
                let path = layout::delta_commit(table, expected);
                return Err(corrupt(&path, "Delta log", format!("version {expected} is missing, {version} is there")));
            }
            let (commit, actions) = manifest::read_commit(lake, table, version + 1).await?;
            snapshot.apply(version, actions, Some(commit));
        }
        if snapshot.head.is_none()
            && let Some(version) = snapshot.version
        {
            // Up to date with the checkpoint: close-lake's state is in the checkpoint's own commit.
            snapshot.head = Some(manifest::read(lake, table, version + 1).await?);
        }
        Ok(snapshot)
    }

    async fn read_checkpoint(&mut self, lake: &Lake, version: u64) -> Result<(), LakeError> {
        let path = layout::delta_checkpoint(&self.table, version);
        let file = get(lake, &path).await?;
        let actions = manifest::cpu(|| {
            let lines = checkpoint::decode(file).map_err(|err| corrupt(&path, "Delta checkpoint", err.to_string()))?;
            self.parse(&path, &lines)
        })?;
        self.apply(version, actions, None);
        self.checkpointed = Some(version);
        Ok(())
    }

    /// Reads the commits created since this snapshot's version, applies them and returns them.
    pub async fn update(&mut self, lake: &Lake) -> Result<Vec<Manifest>, LakeError> {
        let mut newer = Vec::new();
        loop {
            let number = self.version.map_or(1, |v| v + 2);
            match manifest::read_commit(lake, &self.table, number).await {
                Ok((commit, actions)) => {
                    newer.push(commit.clone());
                    self.apply(number - 1, actions, Some(commit));
                }
                Err(LakeError::Store { source: object_store::Error::NotFound { .. }, .. }) => return Ok(newer),
                Err(err) => return Err(err),
            }
        }
    }

    /// Applies a commit this run created, with the schema it widened to if it did (`now`: the
    /// store's clock it wrote for its tombstones).
    pub fn committed(&mut self, commit: &Manifest, grown: Option<Value>, now: Micros) {
        let removes = commit.removed.iter().map(|file| Tombstone { file: file.clone(), deleted_at: now }).collect();
        let actions = Actions { adds: commit.files.clone(), removes, meta_data: grown, ..Actions::default() };
        self.apply(commit.number - 1, actions, Some(commit.clone()));
    }

    fn apply(&mut self, version: u64, actions: Actions, head: Option<Manifest>) {
        for tombstone in actions.removes {
            self.files.remove(&tombstone.file.path);
            self.tombstones.insert(tombstone.file.path.clone(), tombstone);
        }
        for file in actions.adds {
            self.tombstones.remove(&file.path);
            self.files.insert(file.path.clone(), file);
        }
        self.protocol = actions.protocol.or(self.protocol.take());
        self.meta_data = actions.meta_data.or(self.meta_data.take());
        self.version = Some(version);
        if head.is_some() {
            self.head = head;
        }
    }

    /// The `metaData` a commit must carry to widen the table's schema to `meta`'s, if any.
    pub fn grown_meta_data(&self, meta: &TableMeta) -> Option<Value> {
        delta::grown_meta_data(self.meta_data.as_ref()?, meta)
    }

    fn parse(&self, path: &object_store::path::Path, lines: &[u8]) -> Result<Actions, LakeError> {
        let (key, partition_column) = (&self.meta.key, &self.meta.partition_column);
        delta::parse_actions(&self.table, key, partition_column, lines)
            .map_err(|err| corrupt(path, "Delta log", err.to_string()))
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The newest Delta version, `None` for a table without commits.
    pub fn version(&self) -> Option<u64> {
        self.version
    }

    /// close-lake's state at this version: the newest commit.
    pub fn head(&self) -> Option<&Manifest> {
        self.head.as_ref()
    }

    /// The table's live data files.
    pub fn files(&self) -> impl Iterator<Item = &FileEntry> {
        self.files.values()
    }

    pub fn is_live(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    /// Files commits removed that may still be on the store, with when.
    pub fn tombstones(&self) -> impl Iterator<Item = &Tombstone> {
        self.tombstones.values()
    }

    /// Whether this snapshot's version is the one just checkpointed (runs then vacuum).
    pub fn checkpointed_now(&self) -> bool {
        self.version.is_some() && self.checkpointed == self.version
    }

    /// Writes a checkpoint of this version when [`checkpoint::INTERVAL`] versions have passed since
    /// the last one. A checkpoint is a cache of the log: a crash before or during it loses nothing.
    /// Tombstones older than `retention` are left out, as the protocol lets a writer do: a vacuum
    /// then judges those files by their own age, which is older still.
    pub async fn checkpoint_if_due(&mut self, lake: &Lake, retention: Micros) -> Result<(), LakeError> {
        let Some(version) = self.version else { return Ok(()) };
        let due = version >= self.checkpointed.unwrap_or(0) + checkpoint::INTERVAL;
        if !due {
            return Ok(());
        }
        let now = lake.store_now().await?;
        self.tombstones.retain(|_, t| now - t.deleted_at < retention);
        self.write_checkpoint(lake, version).await
    }

    async fn write_checkpoint(&mut self, lake: &Lake, version: u64) -> Result<(), LakeError> {
        let Some(head) = self.head.as_ref() else {
            let path = layout::delta_commit(&self.table, version);
            return Err(corrupt(&path, "Delta log", "its newest commit is not close-lake's".into()));
        };
        let path = layout::delta_checkpoint(&self.table, version);
        let meta_data = match &self.meta_data {
            Some(meta_data) => meta_data.clone(),
            // Declared by version 0, which this run did not read: read it once.
            None => {
                let first = layout::delta_commit(&self.table, 0);
                let body = get(lake, &first).await?;
                let parsed = manifest::cpu(|| self.parse(&first, &body))?;
                parsed.meta_data.ok_or_else(|| corrupt(&first, "Delta log", "no metaData".into()))?
            }
        };
        let protocol =
            self.protocol.clone().unwrap_or_else(|| serde_json::json!({"minReaderVersion": 1, "minWriterVersion": 2}));
        let files: Vec<&FileEntry> = self.files.values().collect();
        let tombstones: Vec<&Tombstone> = self.tombstones.values().collect();
        let (key, partition_column) = (&self.meta.key, &self.meta.partition_column);
        let encoded = manifest::cpu(|| {
            let lines = delta::checkpoint_lines(
                &self.table,
                &protocol,
                &meta_data,
                head.number,
                &files,
                &tombstones,
                key,
                partition_column,
            )
            .map_err(|err| err.to_string())?;
            checkpoint::encode(&lines).map_err(|err| err.to_string())
        })
        .map_err(|message| corrupt(&path, "Delta checkpoint", message))?;
        let last = LastCheckpoint {
            version,
            size: (3 + files.len() + tombstones.len()) as u64,
            size_in_bytes: Some(encoded.len() as u64),
            num_of_add_files: Some(files.len() as u64),
        };
        lake.store()
            .put(&path, PutPayload::from(encoded))
            .await
            .map_err(|err| LakeError::store("writing", &path, err))?;
        let pointer = layout::delta_last_checkpoint(&self.table);
        let body = serde_json::to_vec(&last).unwrap_or_default();
        lake.store()
            .put(&pointer, PutPayload::from(body))
            .await
            .map_err(|err| LakeError::store("writing", &pointer, err))?;
        self.meta_data = Some(meta_data);
        self.checkpointed = Some(version);
        tracing::debug!(table = %self.table, version, files = files.len(), "wrote a Delta checkpoint");
        Ok(())
    }
}

/// Whether the table has a first commit (one request).
pub async fn exists(lake: &Lake, table: &str) -> Result<bool, LakeError> {
    let first = layout::delta_commit(table, 0);
    match lake.store().head(&first).await {
        Ok(_) => Ok(true),
        Err(object_store::Error::NotFound { .. }) => Ok(false),
        Err(err) => Err(LakeError::store("checking", &first, err)),
    }
}

async fn last_checkpoint(lake: &Lake, table: &str) -> Result<Option<LastCheckpoint>, LakeError> {
    let path = layout::delta_last_checkpoint(table);
    match lake.store().get(&path).await {
        Ok(got) => {
            let bytes = got.bytes().await.map_err(|err| LakeError::store("reading", &path, err))?;
            serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|err| corrupt(&path, "Delta _last_checkpoint", err.to_string()))
        }
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(err) => Err(LakeError::store("reading", &path, err)),
    }
}

async fn get(lake: &Lake, path: &object_store::path::Path) -> Result<Bytes, LakeError> {
    let got = lake.store().get(path).await.map_err(|err| LakeError::store("reading", path, err))?;
    got.bytes().await.map_err(|err| LakeError::store("reading", path, err))
}

fn corrupt(path: &object_store::path::Path, what: &'static str, message: String) -> LakeError {
    LakeError::Corrupt { path: path.to_string(), what, message }
}
