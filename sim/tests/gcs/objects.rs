//! Single-object reads and writes through object_store: put/get/head/delete, ranges, conditional gets,
//! attributes, and names that need percent-encoding.

use object_store::path::Path;
use object_store::{Attribute, Attributes, Error, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutOptions};

use crate::common::{BUCKET, bytes, start};

#[tokio::test]
async fn put_get_head_delete() {
    let (fake, store) = start().await;
    let path = Path::from("orders/dt=2024-05-01/part-0.parquet");
    let data = bytes(1000, 1);
    let put = store.put(&path, data.clone().into()).await.expect("put");
    assert!(put.e_tag.is_some() && put.version.is_some(), "{put:?}");

    let got = store.get(&path).await.expect("get");
    assert_eq!(got.meta.size, 1000);
    assert_eq!(got.meta.e_tag, put.e_tag);
    assert_eq!(got.meta.version, put.version);
    assert_eq!(got.bytes().await.expect("body").as_ref(), data.as_slice());

    let head = store.head(&path).await.expect("head");
    assert_eq!((head.size, &head.e_tag, &head.version), (1000, &put.e_tag, &put.version));
    assert!((chrono::Utc::now() - head.last_modified).num_seconds().abs() < 5);
    assert_eq!(fake.object_names(BUCKET), ["orders/dt=2024-05-01/part-0.parquet"]);

    // Overwriting mints a new generation.
    let again = store.put(&path, "v2".into()).await.expect("overwrite");
    assert_ne!(again.version, put.version);
    assert_eq!(store.get(&path).await.expect("get").bytes().await.expect("body").as_ref(), b"v2");

    store.delete(&path).await.expect("delete");
    assert!(matches!(store.get(&path).await, Err(Error::NotFound { .. })));
    assert!(matches!(store.head(&path).await, Err(Error::NotFound { .. })));
    assert!(matches!(store.delete(&path).await, Err(Error::NotFound { .. })));
    assert!(fake.object_names(BUCKET).is_empty());

    // An empty object.
    let empty = Path::from("empty");
    store.put(&empty, Vec::<u8>::new().into()).await.expect("put empty");
    assert_eq!(store.head(&empty).await.expect("head").size, 0);
    assert!(store.get(&empty).await.expect("get").bytes().await.expect("body").is_empty());
}

#[tokio::test]
async fn ranges() {
    let (_fake, store) = start().await;
    let path = Path::from("r");
    let data = bytes(100, 2);
    store.put(&path, data.clone().into()).await.expect("put");

    assert_eq!(store.get_range(&path, 10..20).await.expect("range").as_ref(), &data[10..20]);
    let ranges = store.get_ranges(&path, &[0..1, 50..60, 99..100]).await.expect("ranges");
    assert_eq!(ranges.concat(), [&data[0..1], &data[50..60], &data[99..100]].concat());

    for (range, expected) in [
        (GetRange::Offset(90), 90..100),
        (GetRange::Suffix(5), 95..100),
        (GetRange::Suffix(500), 0..100),
        (GetRange::Bounded(95..200), 95..100),
    ] {
        let got = store.get_opts(&path, GetOptions { range: Some(range.clone()), ..Default::default() }).await;
        let got = got.unwrap_or_else(|e| panic!("{range}: {e}"));
        assert_eq!((got.range.clone(), got.meta.size), (expected.clone(), 100), "{range}");
        assert_eq!(got.bytes().await.expect("body").as_ref(), &data[expected.start as usize..expected.end as usize]);
    }
    let past_end = store.get_opts(&path, GetOptions { range: Some(GetRange::Offset(100)), ..Default::default() });
    assert!(past_end.await.is_err(), "a range starting at the end is unsatisfiable");
}

#[tokio::test]
async fn conditional_and_versioned_gets() {
    let (_fake, store) = start().await;
    let path = Path::from("c");
    let put = store.put(&path, "data".into()).await.expect("put");
    let meta = store.head(&path).await.expect("head");
    let get = |options: GetOptions| {
        let store = store.clone();
        let path = path.clone();
        async move { store.get_opts(&path, options).await.map(|r| r.meta) }
    };

    let etag = put.e_tag.clone();
    assert!(get(GetOptions { if_match: etag.clone(), ..Default::default() }).await.is_ok());
    let stale = Some("\"0123\"".to_string());
    assert!(matches!(
        get(GetOptions { if_match: stale.clone(), ..Default::default() }).await,
        Err(Error::Precondition { .. })
    ));
    assert!(matches!(
        get(GetOptions { if_none_match: etag, ..Default::default() }).await,
        Err(Error::NotModified { .. })
    ));
    assert!(get(GetOptions { if_none_match: stale, ..Default::default() }).await.is_ok());

    let modified = meta.last_modified;
    let hour = chrono::Duration::hours(1);
    let since = |t| GetOptions { if_modified_since: Some(t), ..Default::default() };
    assert!(matches!(get(since(modified)).await, Err(Error::NotModified { .. })));
    assert!(get(since(modified - hour)).await.is_ok());
    let unmodified = |t| GetOptions { if_unmodified_since: Some(t), ..Default::default() };
    assert!(get(unmodified(modified)).await.is_ok());
    assert!(matches!(get(unmodified(modified - hour)).await, Err(Error::Precondition { .. })));

    // A generation selects the object only while it is the current one; HEAD honours the same options.
    let version = GetOptions { version: put.version.clone(), head: true, ..Default::default() };
    assert_eq!(get(version.clone()).await.expect("current generation").version, put.version);
    store.put(&path, "newer".into()).await.expect("overwrite");
    assert!(matches!(get(version).await, Err(Error::NotFound { .. })));
}

#[tokio::test]
async fn attributes_round_trip() {
    let (_fake, store) = start().await;
    let path = Path::from("with-attributes");
    let attributes = Attributes::from_iter([
        (Attribute::ContentType, "application/vnd.apache.parquet"),
        (Attribute::CacheControl, "no-store"),
        (Attribute::Metadata("run-id".into()), "run-7"),
    ]);
    let opts = PutOptions { attributes: attributes.clone(), ..Default::default() };
    store.put_opts(&path, "x".into(), opts).await.expect("put");
    let got = store.get(&path).await.expect("get");
    for (attribute, value) in &attributes {
        assert_eq!(got.attributes.get(attribute), Some(value), "{attribute:?}");
    }
}

#[tokio::test]
async fn names_that_need_encoding() {
    let (fake, store) = start().await;
    // `Path::from` percent-encodes `#`, non-ASCII and other characters it reserves inside a segment;
    // object_store then percent-encodes every non-alphanumeric byte of the URL path, and GCS decodes it once.
    let path = Path::from("t/dt=2024-05-01 12:00/file #1+ü.parquet");
    assert_eq!(path.as_ref(), "t/dt=2024-05-01 12:00/file %231+%C3%BC.parquet");
    store.put(&path, "x".into()).await.expect("put");
    assert_eq!(fake.object_names(BUCKET), [path.as_ref()]);
    assert_eq!(store.head(&path).await.expect("head").location, path);
    let listed = store.list_with_delimiter(Some(&Path::from("t"))).await.expect("list");
    assert_eq!(listed.common_prefixes, [Path::from("t/dt=2024-05-01 12:00")]);
    let listed = store.list_with_delimiter(Some(&listed.common_prefixes[0])).await.expect("list");
    assert_eq!(listed.objects.iter().map(|o| &o.location).collect::<Vec<_>>(), [&path]);
    store.copy(&path, &Path::from("t/copy of #1")).await.expect("copy");
    assert_eq!(store.get(&Path::from("t/copy of #1")).await.expect("get").bytes().await.expect("body").as_ref(), b"x");
}
