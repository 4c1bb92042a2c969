//! object_store's own reusable test suite (feature `integration`), run against the fake as object_store
//! runs it against real GCS: the calls close-lake relies on behave as GCS's do. Left out: `get_opts`, which
//! reads a noncurrent generation back and so needs a bucket with object versioning (the fake, like a
//! bucket without it, answers 404 for any generation but the current one), and `response_extensions`,
//! which needs object_store's test-only HTTP connector.

use object_store::integration::*;

use crate::common::start;

#[tokio::test]
async fn basic_operations() {
    let (_fake, store) = start().await;
    put_get_delete_list(&store).await;
    list_with_offset_exclusivity(&store).await;
    list_uses_directories_correctly(&store).await;
    list_with_delimiter(&store).await;
    list_paginated(&store, &store).await;
}

#[tokio::test]
async fn copies_and_conditions() {
    let (_fake, store) = start().await;
    rename_and_copy(&store).await;
    copy_if_not_exists(&store).await;
    copy_rename_nonexistent_object(&store).await;
    put_opts(&store, true).await;
    put_get_attributes(&store).await;
}

#[tokio::test]
async fn multipart_uploads() {
    let (_fake, store) = start().await;
    // First, as it expects an empty bucket.
    stream_get(&store).await;
    multipart(&store, &store).await;
    multipart_with_opts(&store, &store).await;
    multipart_put_part_out_of_order(&store, &store).await;
    multipart_race_condition(&store, true).await;
    multipart_out_of_order(&store).await;
}
