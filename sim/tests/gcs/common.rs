//! Shared setup: a fake with one bucket, and object_store clients configured as close-lake's tests would.

use close_sim::gcs::{FakeGcs, SERVICE_ACCOUNT_KEY};
use object_store::RetryConfig;
use object_store::gcp::{GoogleCloudStorage, GoogleCloudStorageBuilder};

/// The bucket [`start`] creates.
pub const BUCKET: &str = "lake";

/// A fake with [`BUCKET`] and a client for it.
pub async fn start() -> (FakeGcs, GoogleCloudStorage) {
    let fake = FakeGcs::start().await.expect("the fake starts");
    fake.create_bucket(BUCKET);
    let store = client(&fake, BUCKET);
    (fake, store)
}

/// An object_store client for `bucket` on `fake`, retrying little so that failures show fast.
/// `with_skip_signature` alone would not do: see [`SERVICE_ACCOUNT_KEY`].
pub fn client(fake: &FakeGcs, bucket: &str) -> GoogleCloudStorage {
    GoogleCloudStorageBuilder::new()
        .with_bucket_name(bucket)
        .with_base_url(&fake.base_url())
        .with_skip_signature(true)
        .with_service_account_key(SERVICE_ACCOUNT_KEY)
        .with_retry(RetryConfig { max_retries: 1, ..RetryConfig::default() })
        .build()
        .expect("the client builds")
}

/// `len` deterministic bytes that differ from one offset to the next.
pub fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u64).wrapping_mul(2_654_435_761).wrapping_add(seed as u64).to_le_bytes()[3]).collect()
}
