//! Small JSON notes close-lake keeps beside the tables (under `_close_lake/`), outside any commit:
//! facts about the account that `status` reports, never state a run depends on.

use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};
use serde_json::Value;

use super::{Lake, LakeError};

/// Replaces the note at `path`.
pub async fn write(lake: &Lake, path: &str, note: &Value) -> Result<(), LakeError> {
    let path = Path::from(path);
    let bytes = serde_json::to_vec_pretty(note).map_err(|err| LakeError::Corrupt {
        path: path.to_string(),
        what: "note",
        message: err.to_string(),
    })?;
    lake.store().put(&path, PutPayload::from(bytes)).await.map_err(|err| LakeError::store("write", &path, err))?;
    Ok(())
}

/// The note at `path`, or `None` when there is none.
pub async fn read(lake: &Lake, path: &str) -> Result<Option<Value>, LakeError> {
    let path = Path::from(path);
    let bytes = match lake.store().get(&path).await {
        Ok(result) => result.bytes().await.map_err(|err| LakeError::store("read", &path, err))?,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(err) => return Err(LakeError::store("read", &path, err)),
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|err| LakeError::Corrupt {
        path: path.to_string(),
        what: "note",
        message: err.to_string(),
    })
}
