//! What object_store does not show: missing buckets, GCS's XML error documents, bucket creation by
//! `PUT /<bucket>`, raw list and copy responses, and the `fake-gcs` binary.

use close_sim::gcs::FakeGcs;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{Error, ObjectStore, ObjectStoreExt};

use crate::common::{BUCKET, client, start};

/// Status, headers and body text of one request.
async fn send(request: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, String) {
    let response = request.send().await.expect("the request is answered");
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    (status, headers, response.text().await.expect("a text body"))
}

#[tokio::test]
async fn missing_bucket_is_an_error() {
    let fake = FakeGcs::start().await.expect("the fake starts");
    let store = client(&fake, "no-such-bucket");
    let path = Path::from("x");
    assert!(matches!(store.put(&path, "x".into()).await, Err(Error::NotFound { .. })));
    assert!(matches!(store.get(&path).await, Err(Error::NotFound { .. })));
    assert!(store.list(None).try_collect::<Vec<_>>().await.is_err());
    assert!(store.put_multipart(&path).await.is_err());
    assert!(fake.object_names("no-such-bucket").is_empty());
}

#[tokio::test]
async fn xml_errors_and_bucket_creation() {
    let (fake, _store) = start().await;
    let base = fake.base_url();
    let http = reqwest::Client::new();

    let (status, headers, body) = send(http.get(format!("{base}/{BUCKET}/missing"))).await;
    assert_eq!(status, 404);
    assert!(headers["content-type"].to_str().is_ok_and(|t| t.starts_with("application/xml")));
    assert!(body.starts_with("<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchKey</Code><Message>"), "{body}");
    let (status, _, body) = send(http.get(format!("{base}/other/x"))).await;
    assert_eq!(status, 404);
    assert!(body.contains("<Code>NoSuchBucket</Code>"), "{body}");

    // Buckets: created by an empty PUT, once; names follow GCS's rules.
    assert_eq!(send(http.put(format!("{base}/other"))).await.0, 200);
    let (status, _, body) = send(http.put(format!("{base}/other"))).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(send(http.put(format!("{base}/Not_Valid"))).await.0, 400);
    assert_eq!(send(http.head(format!("{base}/other"))).await.0, 200);

    // An Authorization header is accepted and ignored; the object name decodes once.
    let put = http.put(format!("{base}/other/a%2Fb%3D1/c%2525")).header("authorization", "Bearer anything").body("hi");
    let (status, headers, _) = send(put).await;
    assert_eq!(status, 200);
    assert!(headers.contains_key("etag") && headers.contains_key("x-goog-generation"));
    assert_eq!(fake.object_names("other"), ["a/b=1/c%25"]);
    let (status, headers, body) =
        send(http.get(format!("{base}/other/a/b=1/c%2525")).header("range", "bytes=1-")).await;
    assert_eq!((status, body.as_str()), (206, "i"));
    assert_eq!(headers["content-range"], "bytes 1-1/2");
    let (status, headers, _) = send(http.get(format!("{base}/other/a/b=1/c%2525")).header("range", "bytes=5-")).await;
    assert_eq!(status, 416);
    assert_eq!(headers["content-range"], "bytes */2");

    // Preconditions on a raw upload.
    let create = http.put(format!("{base}/other/once")).header("x-goog-if-generation-match", "0").body("1");
    assert_eq!(send(create).await.0, 200);
    let create = http.put(format!("{base}/other/once")).header("x-goog-if-generation-match", "0").body("2");
    let (status, _, body) = send(create).await;
    assert_eq!(status, 412);
    assert!(body.contains("<Code>PreconditionFailed</Code>"), "{body}");
}

#[tokio::test]
async fn raw_list_and_copy_documents() {
    let (fake, store) = start().await;
    for name in ["d/a & b", "d/sub/1", "e"] {
        store.put(&Path::from(name), "x".into()).await.expect("put");
    }
    let (base, http) = (fake.base_url(), reqwest::Client::new());
    let url = format!("{base}/{BUCKET}?list-type=2&prefix=d%2F&delimiter=%2F&max-keys=1");
    let (status, _, body) = send(http.get(url)).await;
    assert_eq!(status, 200);
    for part in [
        "<ListBucketResult xmlns=\"http://doc.s3.amazonaws.com/2006-03-01\"><Name>lake</Name><Prefix>d/</Prefix>",
        "<IsTruncated>true</IsTruncated><NextContinuationToken>",
        "<Contents><Key>d/a &amp; b</Key><Generation>",
        "<ETag>\"9dd4e461268c8034f5c8564e155c67a6\"</ETag><Size>1</Size></Contents>",
    ] {
        assert!(body.contains(part), "{part} in {body}");
    }
    let (status, _, body) = send(http.get(format!("{base}/{BUCKET}?list-type=2&continuation-token=bad!"))).await;
    assert_eq!(status, 400, "{body}");

    let copy = http.put(format!("{base}/{BUCKET}/f")).header("x-goog-copy-source", format!("/{BUCKET}/e"));
    let (status, headers, body) = send(copy).await;
    assert_eq!(status, 200);
    assert!(headers.contains_key("x-goog-generation"));
    assert!(body.contains("<CopyObjectResult><LastModified>") && body.contains("<ETag>\"9dd4e461"), "{body}");
}

#[path = "../support/binary.rs"]
mod running;

#[tokio::test]
async fn binary_serves_until_killed() {
    let gcs = running::start(
        env!("CARGO_BIN_EXE_fake-gcs"),
        "fake-gcs",
        &["--port", "0", "--bucket", "b1", "--bucket", "b2"],
    )
    .await;
    let base = gcs.url.clone();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    let http = reqwest::Client::new();
    assert_eq!(send(http.put(format!("{base}/b1/x")).body("hello")).await.0, 200);
    assert_eq!(send(http.get(format!("{base}/b1/x"))).await.2, "hello");
    assert_eq!(send(http.get(format!("{base}/b2?list-type=2"))).await.0, 200);
    assert_eq!(send(http.get(format!("{base}/b3?list-type=2"))).await.0, 404);
}
