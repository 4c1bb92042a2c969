//! Destinations: parsing `--dest` and opening an object store for it.
//!
//! Local folders use `LocalFileSystem` rooted at the folder (created if missing, fsync on);
//! `s3://` and `gs://` use object_store's builders configured from the clouds' standard environment
//! (`AWS_*`, `GOOGLE_*`), with one retry policy for both.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{BackoffConfig, RetryConfig};

use super::{Lake, LakeError};

/// Where the lake lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Local(PathBuf),
    S3 { bucket: String, prefix: String },
    Gcs { bucket: String, prefix: String },
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Destination::Local(path) => write!(f, "{}", path.display()),
            Destination::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
            Destination::Gcs { bucket, prefix } => write!(f, "gs://{bucket}/{prefix}"),
        }
    }
}

impl Destination {
    /// Parses a local path, `file:///abs/path`, `s3://bucket/prefix` or `gs://bucket/prefix`.
    /// Pure: nothing is opened or created.
    pub fn parse(value: &str) -> Result<Destination, String> {
        let value = value.trim();
        if value.is_empty() {
            return Err("it is empty".into());
        }
        let Some((scheme, rest)) = value.split_once("://") else {
            return Ok(Destination::Local(PathBuf::from(value)));
        };
        match scheme {
            "file" => {
                if !rest.starts_with('/') {
                    return Err("file:// URLs need an absolute path, e.g. file:///data/lake".into());
                }
                Ok(Destination::Local(PathBuf::from(rest)))
            }
            "s3" | "gs" => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err("no bucket".into());
                }
                let prefix = prefix.trim_matches('/').to_string();
                if Path::parse(&prefix).is_err() {
                    return Err(format!("`{prefix}` is not a valid object prefix"));
                }
                let bucket = bucket.to_string();
                Ok(if scheme == "s3" {
                    Destination::S3 { bucket, prefix }
                } else {
                    Destination::Gcs { bucket, prefix }
                })
            }
            other => Err(format!("scheme `{other}` is not supported")),
        }
    }

    /// Opens the store. A local folder is created here; cloud stores are only configured
    /// (credentials are checked by the first request).
    pub fn open(&self) -> Result<Lake, LakeError> {
        let unusable = |reason: String| LakeError::Unusable { dest: self.to_string(), reason };
        let store: Arc<dyn ObjectStore> = match self {
            Destination::Local(path) => {
                std::fs::create_dir_all(path).map_err(|err| unusable(err.to_string()))?;
                let local = LocalFileSystem::new_with_prefix(path)
                    .map_err(|err| unusable(err.to_string()))?
                    .with_fsync(true)
                    .with_automatic_cleanup(true);
                Arc::new(local)
            }
            Destination::S3 { bucket, prefix } => {
                let s3 = AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .with_retry(retry_policy())
                    .build()
                    .map_err(|err| unusable(err.to_string()))?;
                with_prefix(Arc::new(s3), prefix)
            }
            Destination::Gcs { bucket, prefix } => {
                let gcs = GoogleCloudStorageBuilder::from_env()
                    .with_bucket_name(bucket)
                    .with_retry(retry_policy())
                    .build()
                    .map_err(|err| unusable(err.to_string()))?;
                with_prefix(Arc::new(gcs), prefix)
            }
        };
        Ok(Lake::new(store, self.clone()))
    }
}

/// Retries of object store requests (5xx, throttling, dropped connections): about 25 s of patience
/// per request. A store down for longer fails the run, which a rerun resumes exactly; waiting the
/// client's default three minutes per request would only hide the outage from the scheduler.
fn retry_policy() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(8),
            base: 2.0,
        },
        max_retries: 6,
        retry_timeout: Duration::from_secs(60),
    }
}

fn with_prefix(store: Arc<dyn ObjectStore>, prefix: &str) -> Arc<dyn ObjectStore> {
    if prefix.is_empty() { store } else { Arc::new(PrefixStore::new(store, prefix)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind() {
        assert_eq!(Destination::parse("./lake"), Ok(Destination::Local("./lake".into())));
        assert_eq!(Destination::parse("file:///data/lake"), Ok(Destination::Local("/data/lake".into())));
        assert_eq!(
            Destination::parse("s3://bucket/a/b/"),
            Ok(Destination::S3 { bucket: "bucket".into(), prefix: "a/b".into() })
        );
        assert_eq!(
            Destination::parse("gs://bucket"),
            Ok(Destination::Gcs { bucket: "bucket".into(), prefix: String::new() })
        );
        assert!(Destination::parse("file://relative").is_err());
        assert!(Destination::parse("s3:///prefix").is_err());
        assert!(Destination::parse("azure://x").is_err());
    }

    #[test]
    fn a_folder_under_a_file_is_unusable() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let err = Destination::Local(file.join("lake")).open().unwrap_err();
        assert!(err.to_string().contains("Fix: choose a --dest"), "{err}");
    }
}
