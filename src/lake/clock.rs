//! The store's clock: the time every lease, retention and tombstone of the lake is judged by.
//!
//! Two machines' clocks may disagree by minutes (a laptop, a container without NTP), so close-lake
//! never compares a time written by one machine with another machine's clock. It asks the store
//! instead: it writes a probe object, reads back the object's `last_modified` (set by the store),
//! and keeps the difference from its own clock. Object stores stamp whole seconds, so the clock is
//! good to about a second, far finer than any lease or retention period.

use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};

use super::{Lake, LakeError, layout};
use crate::time::{self, Micros};

/// How far the store's clock is ahead of this machine's (negative when behind).
pub(super) async fn measure_offset(lake: &Lake) -> Result<Micros, LakeError> {
    let probe = Path::from(format!("{}/clock/{}", layout::META, uuid::Uuid::now_v7()));
    let before = time::now();
    lake.store().put(&probe, PutPayload::new()).await.map_err(|err| LakeError::store("writing", &probe, err))?;
    let meta = lake.store().head(&probe).await.map_err(|err| LakeError::store("reading", &probe, err))?;
    let after = time::now();
    if let Err(err) = lake.store().delete(&probe).await {
        tracing::debug!(path = %probe, error = %err, "could not delete the clock probe");
    }
    let stamped = meta.last_modified.timestamp_micros();
    Ok(stamped - (before + (after - before) / 2))
}
