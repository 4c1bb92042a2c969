//! The lagging lead search index: lead versions written by an `index_delayed` mutation stay out of
//! `/lead/?query=` and `/data/search/` until the index is flushed, while `/lead/<id>/` and snapshots show them.

use chrono::Duration;
use close_sim::{GenSpec, Mutation};
use serde_json::json;

use crate::common::{Api, all_pages, ids_of, now, spec, str_of};

#[tokio::test]
async fn delayed_lead_versions_appear_after_a_flush() {
    let api = Api::start(&GenSpec { leads: 30, ..spec() }).await;
    let before = api.sim.snapshot();
    let at = now() + Duration::minutes(5);
    let at_s = at.format("%Y-%m-%dT%H:%M:%S+00:00").to_string();
    let delayed =
        Mutation { at, update_leads: 2, new_leads: 1, delete_leads: 1, index_delayed: true, ..Mutation::default() };
    let report = api.sim.mutate(&delayed);
    let changed = &report.changed_ids["leads"];
    let (updated, new, deleted) = (&changed[..2], &changed[2], &changed[3]);
    let recent = format!(r#"date_updated >= "{at_s}""#);
    let search = json!({"query": {"type": "and", "queries": [{"type": "object_type", "object_type": "lead"}, {"type": "field_condition",
        "field": {"type": "regular_field", "object_type": "lead", "field_name": "date_updated"},
        "condition": {"type": "moment_range", "on_or_after": {"type": "fixed_utc", "value": at_s}}}]}});

    // The index still serves the previous versions: nothing changed at `at`, the deleted lead is still there.
    assert!(api.get("/lead/", &[("query", &recent)]).await.data().is_empty());
    assert!(api.post("/data/search/", &search).await.data().is_empty());
    let listed = all_pages(&api, "/lead/", &[], 200).await;
    assert_eq!(ids_of(&listed), ids_of(&before.leads));
    let stale = listed.iter().find(|l| l["id"] == updated[0].as_str()).expect("listed");
    let old = before.leads.iter().find(|l| l["id"] == updated[0].as_str()).expect("existed");
    assert_eq!(stale, old, "the version before the mutation");
    // Reads by id and snapshots are current.
    let one = api.get(&format!("/lead/{}/", updated[0]), &[]).await;
    assert_eq!(str_of(&one.body, "date_updated"), at_s);
    assert_eq!(api.get(&format!("/lead/{new}/"), &[]).await.status, 200);
    assert_eq!(api.get(&format!("/lead/{deleted}/"), &[]).await.status, 404);
    let snapshot = api.sim.snapshot();
    assert_eq!(snapshot.leads.len(), 30);
    assert!(snapshot.leads.iter().any(|l| l["id"] == new.as_str()));

    // An immediate mutation meanwhile is visible at once; the delayed versions are not.
    let later = at + Duration::minutes(1);
    let immediate = api.sim.mutate(&Mutation { at: later, update_leads: 1, ..Mutation::default() });
    let r = api.get("/lead/", &[("query", &recent)]).await;
    assert_eq!(r.ids(), immediate.changed_ids["leads"]);

    // After the flush (here through the admin endpoint) the index shows every write.
    let root = api.sim.base_url().replace("/api/v1", "");
    let flushed = api.client.post(format!("{root}/_sim/flush_lead_index")).send().await.expect("answered");
    assert_eq!(flushed.status(), 200);
    let r = api.get("/lead/", &[("query", &recent)]).await;
    let mut expected: Vec<String> = changed[..3].iter().chain(&immediate.changed_ids["leads"]).cloned().collect();
    expected.sort();
    assert_eq!(ids_of(r.data()), expected);
    assert_eq!(api.post("/data/search/", &search).await.data().len(), 4);
    assert!(!all_pages(&api, "/lead/", &[], 200).await.iter().any(|l| l["id"] == deleted.as_str()));

    // The handle flushes too.
    api.sim.mutate(&Mutation { at: later, new_leads: 1, index_delayed: true, ..Mutation::default() });
    assert_eq!(all_pages(&api, "/lead/", &[], 200).await.len(), 30);
    api.sim.flush_lead_index();
    assert_eq!(all_pages(&api, "/lead/", &[], 200).await.len(), 31);
}
