//! Mutations: updates move `date_updated`, inserts get fresh ids, deletes vanish from `/lead/`, and every
//! change is in the event log.

use chrono::{Duration, TimeZone, Utc};
use close_sim::Mutation;
use serde_json::Value;

use crate::common::{Api, now, spec, str_of};

fn naive(t: chrono::DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

#[tokio::test]
async fn updates_inserts_and_deletes_are_visible_and_logged() {
    let api = Api::start(&spec()).await;
    let before = api.sim.snapshot();
    let at = now() + Duration::minutes(5);
    let at_s = at.format("%Y-%m-%dT%H:%M:%S+00:00").to_string();
    let m = Mutation {
        at,
        update_activities: 2,
        new_activities: 3,
        update_leads: 3,
        new_leads: 2,
        delete_leads: 1,
        update_opportunities: 0,
        delete_opportunities: 0,
        update_tasks: 2,
        new_tasks: 1,
        update_users: 1,
        update_custom_fields: 1,
        new_custom_fields: 1,
        index_delayed: false,
        ..Mutation::default()
    };
    let report = api.sim.mutate(&m);
    let n = |table: &str| report.changed_ids.get(table).map_or(0, Vec::len);
    assert_eq!([n("activities"), n("leads"), n("tasks"), n("users"), n("custom_fields")], [5, 6, 3, 1, 2]);
    // One event per change, and one per opportunity, contact and custom object the new leads brought or
    // the deleted lead took along.
    assert!(n("opportunities") > 0 && n("contacts") > 0, "the cloned leads embed opportunities and contacts");
    assert_eq!(n("custom_objects"), 1, "the deleted lead's custom object");
    assert_eq!(n("event_log"), 17 + n("opportunities") + n("contacts") + n("custom_objects"));
    let after = api.sim.snapshot();
    assert_eq!(after.leads.len(), before.leads.len() + 1);
    assert_eq!(after.activities.len(), before.activities.len() + 3);

    // Leads changed at `at` are exactly the updated and the new ones.
    let q = format!(r#"date_updated >= "{at_s}" sort:date_updated"#);
    let r = api.get("/lead/", &[("query", &q)]).await;
    let mut got = r.ids();
    let mut expected: Vec<String> = report.changed_ids["leads"][..5].to_vec();
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
    let deleted_id = &report.changed_ids["leads"][5];
    assert!(!after.leads.iter().any(|l| l["id"] == deleted_id.as_str()));

    // Updated activities keep date_created; new ones are created at `at`.
    for id in &report.changed_ids["activities"][..2] {
        let old = before.activities.iter().find(|a| a["id"] == id.as_str()).expect("existed");
        let new = after.activities.iter().find(|a| a["id"] == id.as_str()).expect("exists");
        assert_eq!((&new["date_created"], str_of(new, "date_updated")), (&old["date_created"], at_s.as_str()));
    }
    let fresh = api.get("/activity/", &[("date_created__gte", &at_s)]).await;
    assert_eq!(fresh.data().len(), 3);
    let all_tasks = api.get("/task/", &[("_type", "all"), ("date_updated__gte", &at_s)]).await;
    assert_eq!(all_tasks.data().len(), 3);

    // The event log: one event per change, naive timestamps equal to `at`, newest first.
    let r = api.get("/event/", &[("date_updated__gte", &naive(at))]).await;
    assert_eq!(r.data().len(), n("event_log"));
    assert!(r.data().iter().all(|e| e["date_updated"] == naive(at).as_str()));
    let deleted =
        r.data().iter().find(|e| e["action"] == "deleted" && e["object_type"] == "lead").expect("a delete event");
    assert_eq!((str_of(deleted, "object_type"), str_of(deleted, "object_id")), ("lead", deleted_id.as_str()));
    assert!(deleted["data"].is_null() && deleted["previous_data"]["id"] == deleted_id.as_str());
    let updated = r.data().iter().find(|e| e["action"] == "updated" && e["object_type"] == "lead").expect("one");
    assert!(updated["changed_fields"].as_array().is_some_and(|f| f.contains(&Value::from("date_updated"))));
    assert_eq!(updated["data"]["date_updated"], at_s.as_str());
    assert!(updated["previous_data"]["date_updated"].is_string());
    let created =
        |e: &&Value| e["action"] == "created" && !["opportunity", "contact"].contains(&str_of(e, "object_type"));
    assert_eq!(r.data().iter().filter(created).count(), 7);
}

#[tokio::test]
async fn repeated_updates_walk_through_the_table() {
    let api = Api::start(&spec()).await;
    let at = |h| Utc.with_ymd_and_hms(2026, 3, 2, h, 0, 0).single().expect("valid");
    let first = api.sim.mutate(&Mutation { at: at(1), update_leads: 2, ..Mutation::default() });
    let second = api.sim.mutate(&Mutation { at: at(2), update_leads: 2, ..Mutation::default() });
    assert_ne!(first.changed_ids["leads"], second.changed_ids["leads"]);
    assert!(first.changed_ids["event_log"].iter().all(|id| id.starts_with("ev_")));
}
