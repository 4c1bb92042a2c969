//! A fake Google Cloud Storage server speaking the XML API calls that object_store 0.14's GCS client makes,
//! so close-lake can write lakes to `gs://` in tests without Google (the installable emulators reject
//! object_store's uploads, omit ETags or cannot list).
//!
//! State lives in memory: buckets (which must exist: [`FakeGcs::create_bucket`], `PUT /<bucket>` or the
//! binary's `--bucket`), objects keyed by bucket and name, each write minting a new generation (a counter)
//! and an ETag (the quoted MD5, or the MD5 of the parts' MD5s plus `-N` for multipart objects). No request
//! is authenticated; an `Authorization` header is ignored.
//!
//! Requests flow `routes` (path and query decoding, dispatch) -> `read` (GET/HEAD: ranges, conditional
//! headers), `objects` (upload, copy, delete), `list` (ListObjectsV2-style paging) or `multipart`
//! (initiate, parts, complete, abort) -> `state` (the store and generation preconditions); `xml` renders
//! GCS's error documents and shared formats.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let gcs = close_sim::gcs::FakeGcs::start().await?;
//! gcs.create_bucket("lake");
//! // object_store: GoogleCloudStorageBuilder::new().with_bucket_name("lake").with_base_url(&gcs.base_url())
//! //   .with_service_account_key(close_sim::gcs::SERVICE_ACCOUNT_KEY)
//! assert!(gcs.object_names("lake").is_empty());
//! gcs.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod list;
mod multipart;
mod objects;
mod read;
mod routes;
mod state;
mod xml;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;

use state::Shared;

/// A service account key for object_store's GCS client that turns OAuth off (`"disable_oauth": true`): the
/// client then sends an empty bearer token, which the fake ignores. Pass it to
/// `GoogleCloudStorageBuilder::with_service_account_key` or as `GOOGLE_SERVICE_ACCOUNT_KEY`. object_store 0.14
/// needs it even with `skip_signature`, which only drops the token from reads, lists, copies and multipart
/// completions and aborts: uploads, deletes, multipart initiation and parts still fetch one (from the
/// instance metadata server, when no key is configured).
pub const SERVICE_ACCOUNT_KEY: &str =
    r#"{"private_key": "", "private_key_id": "", "client_email": "", "disable_oauth": true}"#;

/// A running fake GCS. Dropping it stops the server too; [`FakeGcs::shutdown`] also waits for it.
pub struct FakeGcs {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: crate::serve::Server,
}

impl FakeGcs {
    /// Serves on `127.0.0.1` at a free port.
    pub async fn start() -> std::io::Result<FakeGcs> {
        FakeGcs::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Serves on `addr` (port 0 picks a free one).
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<FakeGcs> {
        let shared = Arc::new(Shared::default());
        let app = Router::new().fallback(routes::dispatch).with_state(shared.clone());
        let server = crate::serve::Server::start(app, addr, "fake-gcs").await?;
        Ok(FakeGcs { shared, addr: server.addr, server })
    }

    /// `http://127.0.0.1:PORT`: object_store's `with_base_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The committed objects of `bucket`, sorted (empty for an unknown bucket).
    pub fn object_names(&self, bucket: &str) -> Vec<String> {
        self.shared.lock().bucket(bucket).map(|b| b.objects.keys().cloned().collect()).unwrap_or_default()
    }

    /// Multipart uploads of `bucket` started and neither completed nor aborted.
    pub fn pending_uploads(&self, bucket: &str) -> usize {
        self.shared.lock().bucket(bucket).map(|b| b.uploads.len()).unwrap_or_default()
    }

    /// Creates `bucket` (a no-op if it exists). Requests to buckets that do not exist answer 404
    /// `NoSuchBucket`.
    pub fn create_bucket(&self, bucket: &str) {
        self.shared.lock().create_bucket(bucket);
    }

    /// Stops accepting connections and waits (at most 2 s) for open ones to finish.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}
