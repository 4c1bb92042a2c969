//! `/activity/` and email threads: none unless `thread_emails=true` (threads and emails) or
//! `thread_emails=only` (threads instead of emails); the per-type endpoints list their own type.

use std::collections::BTreeSet;

use crate::common::{Api, all_pages, ids_of, spec, str_of};

#[tokio::test]
async fn email_threads_only_when_asked() {
    let api = Api::start(&spec()).await;
    let d = api.sim.snapshot();
    let types = |records: &[serde_json::Value]| -> BTreeSet<String> {
        records.iter().map(|a| str_of(a, "_type").to_string()).collect()
    };
    assert!(d.activities.iter().any(|a| a["_type"] == "EmailThread"), "the dataset has threads");

    let default = all_pages(&api, "/activity/", &[], 100).await;
    assert_eq!(ids_of(&default), ids_of(d.activities_visible_by_default()));
    assert!(!types(&default).contains("EmailThread") && types(&default).contains("Email"));
    let explicit = all_pages(&api, "/activity/", &[("thread_emails", "false")], 100).await;
    assert_eq!(explicit.len(), default.len());

    let with_threads = all_pages(&api, "/activity/", &[("thread_emails", "true")], 100).await;
    assert_eq!(ids_of(&with_threads), ids_of(&d.activities));

    let only = all_pages(&api, "/activity/", &[("thread_emails", "only")], 100).await;
    let expected = d.activities.iter().filter(|a| a["_type"] != "Email");
    assert_eq!(ids_of(&only), ids_of(expected));
    assert!(types(&only).contains("EmailThread") && types(&only).contains("Call"));

    let threads = all_pages(&api, "/activity/emailthread/", &[], 100).await;
    assert_eq!(ids_of(&threads), ids_of(d.activities.iter().filter(|a| a["_type"] == "EmailThread")));
    assert_eq!(api.get("/activity/", &[("thread_emails", "yes")]).await.status, 400);
}
