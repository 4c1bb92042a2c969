//! Listing through object_store: full listings that span several 1000-key pages, delimiters, offsets,
//! and small pages through `PaginatedListStore`.

use futures::{StreamExt, TryStreamExt, stream};
use object_store::list::{PaginatedListOptions, PaginatedListStore};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::common::start;

#[tokio::test]
async fn list_across_pages() {
    let (_fake, store) = start().await;
    let names: Vec<String> = (0..2100).map(|i| format!("big/{:02}/{i:05}", i % 7)).collect();
    stream::iter(names.iter().chain(["bigger", "b", "other/x"].map(String::from).iter()))
        .map(|name| {
            let store = store.clone();
            async move { store.put(&Path::from(name.as_str()), "x".into()).await }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await
        .expect("puts");

    let listed: Vec<_> = store.list(Some(&Path::from("big"))).try_collect().await.expect("list");
    let mut listed: Vec<String> = listed.into_iter().map(|m| m.location.to_string()).collect();
    listed.sort();
    let mut expected = names.clone();
    expected.sort();
    assert_eq!(listed, expected);
    assert_eq!(store.list(None).try_collect::<Vec<_>>().await.expect("list all").len(), 2103);

    let dirs = store.list_with_delimiter(Some(&Path::from("big"))).await.expect("delimited");
    assert!(dirs.objects.is_empty());
    let dirs: Vec<String> = dirs.common_prefixes.iter().map(|p| p.to_string()).collect();
    assert_eq!(dirs, (0..7).map(|d| format!("big/{d:02}")).collect::<Vec<_>>());
    let top = store.list_with_delimiter(None).await.expect("top level");
    let objects: Vec<String> = top.objects.iter().map(|o| o.location.to_string()).collect();
    assert_eq!(objects, ["b", "bigger"]);
    assert_eq!(top.common_prefixes, [Path::from("big"), Path::from("other")]);

    let after: Vec<_> = store
        .list_with_offset(Some(&Path::from("big")), &Path::from("big/06/02000"))
        .try_collect()
        .await
        .expect("offset");
    let after: Vec<String> = after.into_iter().map(|m| m.location.to_string()).collect();
    assert_eq!(after.len(), expected.iter().filter(|n| n.as_str() > "big/06/02000").count());
}

#[tokio::test]
async fn small_pages() {
    let (_fake, store) = start().await;
    for name in ["p/a", "p/b/1", "p/b/2", "p/c", "p/d/1", "p/e", "q"] {
        store.put(&Path::from(name), "x".into()).await.expect("put");
    }
    let mut pages = Vec::new();
    let mut token = None;
    loop {
        let opts = PaginatedListOptions {
            delimiter: Some("/".into()),
            max_keys: Some(2),
            page_token: token.take(),
            ..Default::default()
        };
        let page = store.list_paginated(Some("p/"), opts).await.expect("page");
        let mut entries: Vec<String> = page.result.objects.iter().map(|o| o.location.to_string()).collect();
        entries.extend(page.result.common_prefixes.iter().map(|p| format!("{p}/")));
        pages.push(entries);
        match page.page_token {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, [vec!["p/a", "p/b/"], vec!["p/c", "p/d/"], vec!["p/e"]]);

    let opts = PaginatedListOptions { offset: Some("p/c".into()), ..Default::default() };
    let page = store.list_paginated(Some("p/"), opts).await.expect("offset page");
    let names: Vec<String> = page.result.objects.iter().map(|o| o.location.to_string()).collect();
    assert_eq!((names, page.page_token), (vec!["p/d/1".to_string(), "p/e".to_string()], None));
}
