//! A lake written before the Delta log (close-lake 0.1's own manifests under
//! `_close_lake/manifests/<table>/` and bookmarks under `_close_lake/bookmarks/`) becomes Delta
//! tables in place, nothing lost, the first time a run recovers each table.
//!
//! The old protocol published a run's files after its manifest, so a table may hold a run half
//! published: its staged files are moved in first, the files a later manifest retired are deleted,
//! and the table's live files (with the newest manifest's bookmark, tail and totals) become Delta
//! version 0. That create-if-absent write is the conversion's commit point; the old manifests are
//! deleted after it, and a conversion cut short before it simply runs again.

use futures::TryStreamExt;
use object_store::ObjectStoreExt;
use object_store::path::Path;

use super::commit::delete_if_present;
use super::delta::TableMeta;
use super::manifest::{self, Manifest, RunKind};
use super::{Lake, LakeError, layout};

/// Converts `table` if it still has old manifests and no Delta log. Returns whether it did.
pub async fn from_manifests(lake: &Lake, table: &str, meta: &TableMeta) -> Result<bool, LakeError> {
    let dir = Path::from(format!("{}/manifests/{table}", layout::META));
    let mut old: Vec<Path> = lake
        .store()
        .list(Some(&dir))
        .map_ok(|meta| meta.location)
        .try_collect()
        .await
        .map_err(|err| LakeError::store("listing", &dir, err))?;
    if old.is_empty() {
        return Ok(false);
    }
    if super::snapshot::exists(lake, table).await? {
        // Converted already; the old manifests outlived a crash right after the conversion.
        delete_all(lake, &old, table).await?;
        return Ok(false);
    }
    old.sort();
    let mut manifests = Vec::new();
    for path in &old {
        let bytes = read(lake, path).await?;
        let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|err| LakeError::Corrupt {
            path: path.to_string(),
            what: "manifest of close-lake 0.1",
            message: err.to_string(),
        })?;
        manifests.push(manifest);
    }
    tracing::info!(table, manifests = manifests.len(), "converting the table's manifests into a Delta log");
    let retired: std::collections::HashSet<String> =
        manifests.iter().flat_map(|m| &m.removed).map(|f| f.path.clone()).collect();
    for file in manifests.iter().flat_map(|m| &m.files) {
        let (staged, path) = (Path::from(file.staged.as_str()), Path::from(file.path.as_str()));
        if retired.contains(&file.path) {
            delete_if_present(lake, &staged).await?;
            continue;
        }
        match lake.store().rename(&staged, &path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(err) => return Err(LakeError::store("publishing", &staged, err)),
        }
        lake.store().head(&path).await.map_err(|err| LakeError::store("checking data file", &path, err))?;
    }
    for file in manifests.iter().flat_map(|m| &m.removed) {
        delete_if_present(lake, &Path::from(file.path.as_str())).await?;
    }
    let live: Vec<_> =
        manifests.iter().flat_map(|m| &m.files).filter(|f| !retired.contains(&f.path)).cloned().collect();
    let Some(newest) = manifests.pop() else { return Ok(false) };
    let state = Manifest {
        number: 1,
        kind: RunKind::Export,
        files: live,
        removed: Vec::new(),
        key: meta.key.clone(),
        partition_column: meta.partition_column.clone(),
        ..newest
    };
    match manifest::create(lake, &state, meta, None, lake.store_now().await?).await {
        Ok(()) | Err(LakeError::CommitRace { .. }) => {}
        Err(err) => return Err(err),
    }
    delete_all(lake, &old, table).await?;
    Ok(true)
}

async fn delete_all(lake: &Lake, old: &[Path], table: &str) -> Result<(), LakeError> {
    for path in old {
        delete_if_present(lake, path).await?;
    }
    delete_if_present(lake, &Path::from(format!("{}/bookmarks/{table}.json", layout::META))).await
}

async fn read(lake: &Lake, path: &Path) -> Result<bytes::Bytes, LakeError> {
    let got = lake.store().get(path).await.map_err(|err| LakeError::store("reading", path, err))?;
    got.bytes().await.map_err(|err| LakeError::store("reading", path, err))
}
