//! The commit protocol of one table run, after the lease is held:
//!
//! 1. [`recover`]: finish publishing the newest manifest if its bookmark is missing (a run died after
//!    its commit point), then delete staged files of runs that never committed.
//! 2. The run stages its files (see [`super::writer`]).
//! 3. [`commit`]: create manifest N+1 (the commit point; exactly one writer wins), publish the staged
//!    files into the table folders (rename on local disk, copy then delete on object stores), then
//!    write the bookmark.
//!
//! A kill at any step leaves either an uncommitted run (invisible in table folders, deleted by the
//! next recovery) or a committed one (published by the next recovery).

use futures::TryStreamExt;
use object_store::ObjectStoreExt;
use object_store::path::Path;

use super::manifest::{self, Manifest};
use super::{Lake, LakeError, layout};

/// Brings a table to a clean state and returns its newest manifest.
pub async fn recover(lake: &Lake, table: &str) -> Result<Option<Manifest>, LakeError> {
    let head = manifest::latest(lake, table).await?;
    if let Some(head) = &head {
        let published = manifest::read_bookmark(lake, table).await?.is_some_and(|b| b.manifest >= head.number);
        if !published {
            tracing::info!(table, manifest = head.number, "finishing the publication of a committed run");
            publish(lake, head).await?;
            manifest::write_bookmark(lake, head).await?;
        }
    }
    let staging = layout::staging_dir(table);
    let leftovers: Vec<_> = lake
        .store()
        .list(Some(&staging))
        .try_collect()
        .await
        .map_err(|err| LakeError::store("listing", &staging, err))?;
    for meta in leftovers {
        tracing::info!(table, path = %meta.location, "deleting a file of a run that never committed");
        delete_if_present(lake, &meta.location).await?;
    }
    Ok(head)
}

/// Commits a run: the manifest, then publication, then the bookmark.
pub async fn commit(lake: &Lake, manifest: &Manifest) -> Result<(), LakeError> {
    crash_point("before-manifest");
    manifest::create(lake, manifest).await?;
    crash_point("after-manifest");
    publish(lake, manifest).await?;
    crash_point("after-publish");
    manifest::write_bookmark(lake, manifest).await
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
async fn publish(lake: &Lake, manifest: &Manifest) -> Result<(), LakeError> {
    for file in &manifest.files {
        let (staged, path) = (Path::from(file.staged.as_str()), Path::from(file.path.as_str()));
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
    Ok(())
}

/// Deletes what a failed run staged, unless the run reached its commit point (its manifest exists,
/// perhaps after an ambiguous failure): then its files belong to the manifest, and the next recovery
/// publishes them. Best effort: recovery deletes whatever is left.
pub async fn discard(lake: &Lake, table: &str, run_id: &str) {
    match manifest::latest(lake, table).await {
        Ok(Some(head)) if head.run_id == run_id => return,
        Ok(_) => {}
        Err(_) => return,
    }
    let dir = Path::from(format!("{}/{run_id}", layout::staging_dir(table)));
    let Ok(files) = lake.store().list(Some(&dir)).try_collect::<Vec<_>>().await else { return };
    for meta in files {
        let _ = delete_if_present(lake, &meta.location).await;
    }
}

async fn delete_if_present(lake: &Lake, path: &Path) -> Result<(), LakeError> {
    match lake.store().delete(path).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(err) => Err(LakeError::store("deleting", path, err)),
    }
}
