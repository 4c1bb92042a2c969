//! The in-memory state behind one fake: buckets, their committed objects and open multipart uploads, and the
//! counters that mint generations and upload ids. Writes that commit an object go through [`Store::commit`],
//! which checks GCS's `x-goog-if-generation-match` precondition and mints the next generation under the
//! same lock, so conditional writes race the way they do on GCS.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use chrono::{DateTime, Utc};

use super::xml::GcsError;

/// Headers stored with an object (or an upload, for the object it will become) and returned on GET/HEAD.
pub(crate) type Metadata = Vec<(HeaderName, HeaderValue)>;

/// The header object_store sends for `PutMode::Create` (`0`), `PutMode::Update` and copy-if-not-exists.
pub(crate) const GENERATION_MATCH: &str = "x-goog-if-generation-match";

/// The store, behind the lock that every handler takes briefly.
#[derive(Default)]
pub(crate) struct Shared {
    store: Mutex<Store>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Default)]
pub(crate) struct Store {
    buckets: BTreeMap<String, Bucket>,
    last_generation: u64,
    last_upload: u64,
}

#[derive(Default)]
pub(crate) struct Bucket {
    pub(crate) objects: BTreeMap<String, Object>,
    /// Open multipart uploads by upload id.
    pub(crate) uploads: HashMap<String, Upload>,
}

/// One committed object: its bytes and what GCS reports about them.
#[derive(Clone)]
pub(crate) struct Object {
    pub(crate) data: Bytes,
    pub(crate) generation: u64,
    pub(crate) etag: String,
    /// The MD5 of the data; GCS keeps none for objects assembled from multipart uploads.
    pub(crate) md5: Option<[u8; 16]>,
    pub(crate) updated: DateTime<Utc>,
    pub(crate) metadata: Metadata,
}

/// What a write hands to [`Store::commit`]; the store adds the generation and the time.
pub(crate) struct NewObject {
    pub(crate) data: Bytes,
    pub(crate) etag: String,
    pub(crate) md5: Option<[u8; 16]>,
    pub(crate) metadata: Metadata,
}

/// A multipart upload started and neither completed nor aborted.
pub(crate) struct Upload {
    pub(crate) name: String,
    pub(crate) metadata: Metadata,
    pub(crate) parts: BTreeMap<u32, Part>,
}

/// One uploaded part; its ETag is its quoted MD5.
pub(crate) struct Part {
    pub(crate) data: Bytes,
    pub(crate) md5: [u8; 16],
}

impl Store {
    pub(crate) fn bucket(&self, bucket: &str) -> Result<&Bucket, GcsError> {
        self.buckets.get(bucket).ok_or_else(|| GcsError::no_such_bucket(bucket))
    }

    pub(crate) fn bucket_mut(&mut self, bucket: &str) -> Result<&mut Bucket, GcsError> {
        self.buckets.get_mut(bucket).ok_or_else(|| GcsError::no_such_bucket(bucket))
    }

    /// Creates `bucket`; false if it already existed.
    pub(crate) fn create_bucket(&mut self, bucket: &str) -> bool {
        if self.buckets.contains_key(bucket) {
            return false;
        }
        self.buckets.insert(bucket.to_string(), Bucket::default());
        true
    }

    /// A fresh upload id, unique for the life of the server.
    pub(crate) fn new_upload_id(&mut self) -> String {
        self.last_upload += 1;
        format!("fake-gcs-upload-{:08}", self.last_upload)
    }

    /// Stores `new` as `bucket/name` with the next generation if `generation_match` holds (`Some(0)`: the
    /// object must not exist; `Some(n)`: its generation must be n), and returns the stored object.
    pub(crate) fn commit(
        &mut self,
        bucket: &str,
        name: &str,
        generation_match: Option<u64>,
        new: NewObject,
    ) -> Result<Object, GcsError> {
        let current = self.bucket(bucket)?.objects.get(name).map(|o| o.generation);
        check_generation(current, generation_match)?;
        self.last_generation += 1;
        let object = Object {
            data: new.data,
            generation: self.last_generation,
            etag: new.etag,
            md5: new.md5,
            updated: Utc::now(),
            metadata: new.metadata,
        };
        self.bucket_mut(bucket)?.objects.insert(name.to_string(), object.clone());
        Ok(object)
    }
}

/// GCS's `x-goog-if-generation-match` rule for an object whose current generation is `current`.
fn check_generation(current: Option<u64>, wanted: Option<u64>) -> Result<(), GcsError> {
    match (wanted, current) {
        (None, _) | (Some(0), None) => Ok(()),
        (Some(w), Some(c)) if w == c => Ok(()),
        _ => Err(GcsError::precondition_failed()),
    }
}

/// The `x-goog-if-generation-match` precondition of a request, if any.
pub(crate) fn generation_match(headers: &HeaderMap) -> Result<Option<u64>, GcsError> {
    let Some(value) = headers.get(GENERATION_MATCH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .map(Some)
        .ok_or_else(|| GcsError::invalid_argument(format!("{GENERATION_MATCH} must be an integer")))
}

/// The headers of a write that become the object's metadata: the content headers and `x-goog-meta-*`.
pub(crate) fn metadata_from(headers: &HeaderMap) -> Metadata {
    const KEPT: [&str; 5] =
        ["content-type", "cache-control", "content-disposition", "content-encoding", "content-language"];
    headers
        .iter()
        .filter(|(name, _)| KEPT.contains(&name.as_str()) || name.as_str().starts_with("x-goog-meta-"))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_preconditions() {
        assert!(check_generation(None, None).is_ok());
        assert!(check_generation(Some(3), None).is_ok());
        assert!(check_generation(None, Some(0)).is_ok());
        assert!(check_generation(Some(3), Some(0)).is_err());
        assert!(check_generation(Some(3), Some(3)).is_ok());
        assert!(check_generation(Some(4), Some(3)).is_err());
        assert!(check_generation(None, Some(3)).is_err());
    }
}
