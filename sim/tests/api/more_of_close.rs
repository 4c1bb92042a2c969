//! The endpoints beyond the six tables: configuration listings (exact parameters, paging only where documented,
//! every smart view type only when asked), `/contact/`, `/custom_object/`, search over contacts and custom
//! objects, and the mutations that edit and delete them, with their events.

use close_sim::Mutation;
use serde_json::json;

use crate::common::{Api, ids_of, spec, str_of};

#[tokio::test]
async fn configuration_listings_answer_their_documented_parameters_only() {
    let api = Api::start(&spec()).await;
    let d = api.sim.snapshot();
    for (path, table) in [("/status/lead/", "lead_statuses"), ("/pipeline/", "pipelines"), ("/role/", "roles")] {
        let r = api.get(path, &[]).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(ids_of(r.data()), ids_of(&d.configuration[table]), "{path}: every record at once");
        assert_eq!(api.get(path, &[("_limit", "1")]).await.status, 400, "{path} documents no paging");
    }
    assert!(api.get("/pipeline/", &[]).await.body.get("has_more").is_none(), "the reference's envelope");
    assert_eq!(api.get("/group/", &[("_fields", "id")]).await.status, 200);
    let roles = &d.configuration["roles"];
    assert!(roles.iter().any(|r| r["date_updated"] == "0001-01-01T00:00:00"), "built-in roles carry year 1");

    let views = |r: &crate::common::Reply| r.data().iter().map(|v| str_of(v, "type").to_string()).collect::<Vec<_>>();
    let default = api.get("/saved_search/", &[]).await;
    assert!(views(&default).iter().all(|t| t == "lead"), "lead views only by default");
    let all = api.get("/saved_search/", &[("type__in", "lead,contact,opportunity")]).await;
    assert_eq!(ids_of(all.data()), ids_of(&d.configuration["smart_views"]));
    let first = api.get("/email_template/", &[("_limit", "1"), ("_skip", "1")]).await;
    assert_eq!(first.ids(), ids_of(&d.configuration["email_templates"][1..2]));
    assert_eq!(api.get("/sms_template/", &[("is_shared", "true")]).await.status, 400);
}

#[tokio::test]
async fn contacts_and_custom_objects_are_listed_by_lead_and_searched_by_change() {
    let api = Api::start(&spec()).await;
    let d = api.sim.snapshot();
    let embedded: usize = d.leads.iter().map(|l| l["contacts"].as_array().map_or(0, Vec::len)).sum();
    assert_eq!(d.contacts.len(), embedded, "generated as the copies leads embed");
    assert_eq!(d.custom_objects.len(), d.leads.len(), "one custom object per lead");
    let lead = str_of(&d.contacts[0], "lead_id");
    let of_lead = api.get("/contact/", &[("lead_id", lead)]).await;
    assert!(!of_lead.data().is_empty() && of_lead.data().iter().all(|c| str_of(c, "lead_id") == lead));
    assert_eq!(api.get("/contact/", &[("date_updated__gte", "2020-01-01")]).await.status, 400);
    assert_eq!(api.get("/custom_object/", &[]).await.status, 400, "lead_id is required");
    let objects = api.get("/custom_object/", &[("lead_id", str_of(&d.custom_objects[0], "lead_id"))]).await;
    assert_eq!(objects.ids(), [str_of(&d.custom_objects[0], "id")]);

    for object_type in ["contact", "custom_object"] {
        let records = if object_type == "contact" { &d.contacts } else { &d.custom_objects };
        let mut updated: Vec<&str> = records.iter().map(|r| str_of(r, "date_updated")).collect();
        updated.sort();
        let from = updated[updated.len() / 2];
        let field = json!({"type": "regular_field", "object_type": object_type, "field_name": "date_updated"});
        let body = json!({
            "query": {"type": "and", "queries": [
                {"type": "object_type", "object_type": object_type},
                {"type": "field_condition", "field": field,
                 "condition": {"type": "moment_range", "on_or_after": {"type": "fixed_utc", "value": from}}},
            ]},
            "sort": [{"direction": "asc", "field": field}],
            "_fields": {object_type: ["id", "date_updated"]},
            "_limit": 200,
        });
        let r = api.post("/data/search/", &body).await;
        assert_eq!(r.status, 200, "{object_type}: {:?}", r.body);
        let expected = records.iter().filter(|r| str_of(r, "date_updated") >= from);
        let mut want = ids_of(expected);
        let mut got = r.ids();
        assert!(r.data().iter().all(|h| h.as_object().unwrap().len() == 3), "only the fields named");
        want.sort();
        got.sort();
        assert_eq!(got, want, "{object_type}");
        let wrong = json!({"query": {"type": "object_type", "object_type": "opportunity"}});
        assert_eq!(api.post("/data/search/", &wrong).await.status, 400);
    }
}

#[tokio::test]
async fn mutations_edit_and_delete_every_new_kind_with_events_and_two_edits_restore_content() {
    let api = Api::start(&spec()).await;
    let before = api.sim.snapshot();
    let at = chrono::Utc::now() - chrono::Duration::minutes(1);
    let m = Mutation {
        at,
        update_contacts: 2,
        delete_contacts: 1,
        update_custom_objects: 2,
        delete_custom_objects: 1,
        update_configuration: 1,
        delete_configuration: 1,
        ..Mutation::default()
    };
    api.sim.mutate(&m);
    let after = api.sim.snapshot();
    assert_eq!(after.contacts.len(), before.contacts.len() - 1);
    assert_eq!(after.custom_objects.len(), before.custom_objects.len() - 1);
    for (table, records) in &before.configuration {
        assert_eq!(after.configuration[table].len(), records.len() - 1, "{table}: one deleted");
        if let Some(first) = after.configuration[table].first() {
            assert_ne!(first, &records[0], "{table}: the first record edited");
        }
    }
    let deleted = |object_type: &str| {
        let count = |d: &close_sim::Dataset| {
            d.events.iter().filter(|e| e["action"] == "deleted" && e["object_type"] == object_type).count()
        };
        count(&after) - count(&before)
    };
    assert_eq!((deleted("contact"), deleted("custom_object"), deleted("role"), deleted("status.lead")), (1, 1, 1, 1));
    api.sim.mutate(&Mutation { at, update_configuration: 1, ..Mutation::default() });
    let again = api.sim.snapshot();
    let label = |d: &close_sim::Dataset| d.configuration["lead_statuses"][0]["label"].clone();
    assert_eq!(label(&again), label(&before), "a second edit brings the content back");
    assert_ne!(label(&after), label(&before));
}
