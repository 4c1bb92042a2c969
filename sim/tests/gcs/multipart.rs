//! Multipart uploads through object_store: `BufWriter` and `put_multipart` round trips, the low-level
//! `MultipartStore` calls, aborts, and the 5 MiB minimum part size.

use std::sync::Arc;

use object_store::buffered::BufWriter;
use object_store::multipart::MultipartStore;
use object_store::path::Path;
use object_store::{Error, ObjectStoreExt};
use tokio::io::AsyncWriteExt;

use crate::common::{BUCKET, bytes, start};

const MIB: usize = 1024 * 1024;

#[tokio::test]
async fn buf_writer_round_trips() {
    let (fake, store) = start().await;
    let path = Path::from("lake/orders/part-00000.parquet");
    let data = bytes(12 * MIB + 12_345, 3);
    let mut writer = BufWriter::with_capacity(Arc::new(store.clone()), path.clone(), 5 * MIB);
    for chunk in data.chunks(700_001) {
        writer.write_all(chunk).await.expect("write");
    }
    writer.shutdown().await.expect("complete");

    let got = store.get(&path).await.expect("get");
    assert!(got.meta.e_tag.as_deref().is_some_and(|t| t.ends_with("-3\"")), "{:?}", got.meta.e_tag);
    assert!(got.bytes().await.expect("body") == data, "the object is the bytes written, in order");
    assert_eq!(fake.pending_uploads(BUCKET), 0);
    assert_eq!(fake.object_names(BUCKET), [path.as_ref()]);
}

#[tokio::test]
async fn put_multipart_and_part_calls() {
    let (fake, store) = start().await;
    let path = Path::from("mp");
    let (first, last) = (bytes(5 * MIB, 4), bytes(1000, 5));
    let mut upload = store.put_multipart(&path).await.expect("initiate");
    upload.put_part(first.clone().into()).await.expect("part 1");
    upload.put_part(last.clone().into()).await.expect("part 2");
    assert_eq!(fake.pending_uploads(BUCKET), 1);
    let result = upload.complete().await.expect("complete");
    assert_eq!(fake.pending_uploads(BUCKET), 0);
    let head = store.head(&path).await.expect("head");
    assert_eq!((head.e_tag, head.version, head.size), (result.e_tag, result.version, (5 * MIB + 1000) as u64));
    assert!(
        store.get(&path).await.expect("get").bytes().await.expect("body") == [first.clone(), last.clone()].concat()
    );

    // The low-level calls: parts uploaded out of order complete in part order.
    let path = Path::from("mp-low");
    let id = store.create_multipart(&path).await.expect("initiate");
    let second = store.put_part(&path, &id, 1, last.clone().into()).await.expect("part 2");
    let first_part = store.put_part(&path, &id, 0, first.clone().into()).await.expect("part 1");
    store.complete_multipart(&path, &id, vec![first_part.clone(), second.clone()]).await.expect("complete");
    assert!(store.get(&path).await.expect("get").bytes().await.expect("body") == [first, last].concat());
    let again = store.complete_multipart(&path, &id, vec![first_part, second]).await;
    assert!(again.is_err(), "a completed upload is gone");

    // No parts: object_store aborts and writes an empty object instead.
    let empty = Path::from("mp-empty");
    store.put_multipart(&empty).await.expect("initiate").complete().await.expect("complete empty");
    assert_eq!(store.head(&empty).await.expect("head").size, 0);
    assert_eq!(fake.pending_uploads(BUCKET), 0);
}

#[tokio::test]
async fn aborted_uploads_leave_nothing() {
    let (fake, store) = start().await;
    let path = Path::from("aborted");
    let mut upload = store.put_multipart(&path).await.expect("initiate");
    upload.put_part(bytes(5 * MIB, 6).into()).await.expect("part");
    assert_eq!(fake.pending_uploads(BUCKET), 1);
    upload.abort().await.expect("abort");
    assert_eq!(fake.pending_uploads(BUCKET), 0);
    assert!(fake.object_names(BUCKET).is_empty());
    assert!(matches!(store.head(&path).await, Err(Error::NotFound { .. })));

    let mut writer = BufWriter::with_capacity(Arc::new(store.clone()), path.clone(), 5 * MIB);
    writer.put(bytes(6 * MIB, 7).into()).await.expect("write");
    writer.abort().await.expect("abort the writer");
    assert_eq!(fake.pending_uploads(BUCKET), 0);
    assert!(fake.object_names(BUCKET).is_empty());
}

#[tokio::test]
async fn small_parts_and_wrong_etags_are_rejected() {
    let (fake, store) = start().await;
    let path = Path::from("small");
    let id = store.create_multipart(&path).await.expect("initiate");
    let small = store.put_part(&path, &id, 0, bytes(1000, 8).into()).await.expect("part 1");
    let tail = store.put_part(&path, &id, 1, bytes(10, 9).into()).await.expect("part 2");
    let too_small = store.complete_multipart(&path, &id, vec![small.clone(), tail.clone()]).await;
    assert!(too_small.is_err(), "parts but the last must be at least 5 MiB");

    let mut forged = small.clone();
    forged.content_id = "\"00000000000000000000000000000000\"".into();
    assert!(store.complete_multipart(&path, &id, vec![forged]).await.is_err(), "an unknown ETag");

    // A failed completion leaves the upload open; a single small part is a valid last part.
    store.complete_multipart(&path, &id, vec![small]).await.expect("one small part");
    assert_eq!(store.head(&path).await.expect("head").size, 1000);
    assert_eq!(fake.pending_uploads(BUCKET), 0);
}
