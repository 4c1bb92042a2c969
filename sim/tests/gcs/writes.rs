//! Conditional writes and server-side copies through object_store: `PutMode::Create` and
//! `PutMode::Update` (x-goog-if-generation-match), copy, copy-if-not-exists, rename.

use object_store::path::Path;
use object_store::{Error, ObjectStore, ObjectStoreExt, PutMode, PutOptions, UpdateVersion};

use crate::common::{BUCKET, start};

#[tokio::test]
async fn create_only_once() {
    let (_fake, store) = start().await;
    let path = Path::from("_lease");
    let create = || PutOptions { mode: PutMode::Create, ..Default::default() };
    store.put_opts(&path, "first".into(), create()).await.expect("the first create wins");
    let second = store.put_opts(&path, "second".into(), create()).await;
    assert!(matches!(second, Err(Error::AlreadyExists { .. })), "{second:?}");
    assert_eq!(store.get(&path).await.expect("get").bytes().await.expect("body").as_ref(), b"first");
}

#[tokio::test]
async fn update_needs_the_current_generation() {
    let (_fake, store) = start().await;
    let path = Path::from("_manifest.json");
    store.put(&path, "v1".into()).await.expect("put");
    let head = store.head(&path).await.expect("head");
    let current = UpdateVersion { e_tag: head.e_tag.clone(), version: head.version.clone() };
    let update = |v: &UpdateVersion| PutOptions { mode: PutMode::Update(v.clone()), ..Default::default() };

    let written = store.put_opts(&path, "v2".into(), update(&current)).await.expect("update from the head");
    assert_ne!(written.version, head.version);
    let stale = store.put_opts(&path, "v3".into(), update(&current)).await;
    assert!(matches!(stale, Err(Error::Precondition { .. })), "{stale:?}");
    assert_eq!(store.get(&path).await.expect("get").bytes().await.expect("body").as_ref(), b"v2");

    // The PutResult of an update is itself a valid next version.
    store.put_opts(&path, "v3".into(), update(&written.into())).await.expect("update from the put result");
    let missing = UpdateVersion { e_tag: None, version: Some("1".into()) };
    let gone = store.put_opts(&Path::from("never-written"), "x".into(), update(&missing)).await;
    assert!(matches!(gone, Err(Error::Precondition { .. })), "{gone:?}");
}

#[tokio::test]
async fn copies_and_renames() {
    let (fake, store) = start().await;
    let (a, b, c) = (Path::from("staged/a"), Path::from("final/b"), Path::from("final/c"));
    store.put(&a, "payload".into()).await.expect("put");

    store.copy(&a, &b).await.expect("copy");
    assert_eq!(store.get(&b).await.expect("get").bytes().await.expect("body").as_ref(), b"payload");
    let (meta_a, meta_b) = (store.head(&a).await.expect("head"), store.head(&b).await.expect("head"));
    assert_eq!(meta_a.e_tag, meta_b.e_tag, "a copy keeps the content's ETag");
    assert_ne!(meta_a.version, meta_b.version, "a copy is a new generation");
    store.copy(&a, &b).await.expect("copy overwrites");

    let exists = store.copy_if_not_exists(&a, &b).await;
    assert!(matches!(exists, Err(Error::AlreadyExists { .. })), "{exists:?}");
    store.copy_if_not_exists(&a, &c).await.expect("copy to a new name");
    let missing = store.copy(&Path::from("nope"), &c).await;
    assert!(matches!(missing, Err(Error::NotFound { .. })), "{missing:?}");

    store.rename(&a, &Path::from("final/d")).await.expect("rename");
    assert!(matches!(store.head(&a).await, Err(Error::NotFound { .. })));
    assert_eq!(fake.object_names(BUCKET), ["final/b", "final/c", "final/d"]);
    let taken = store.rename_if_not_exists(&Path::from("final/d"), &b).await;
    assert!(matches!(taken, Err(Error::AlreadyExists { .. })), "{taken:?}");
    assert_eq!(fake.object_names(BUCKET).len(), 3);
}
