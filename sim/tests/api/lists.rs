//! Offset listings: activities (date filters, order, ties, per-type endpoints), the `/task/` `_type` trap,
//! `_limit` caps, the `max_skip` 400, custom fields (shared ones listed twice), and envelopes without
//! `total_results`.

use std::collections::{BTreeMap, BTreeSet};

use close_sim::{Dataset, SimConfig};
use serde_json::Value;

use crate::common::{Api, all_pages, spec, str_of};

/// The largest group of activities sharing one `date_created`.
fn biggest_tie(d: &Dataset) -> (String, usize) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for a in &d.activities {
        *counts.entry(str_of(a, "date_created")).or_default() += 1;
    }
    let (ts, n) = counts.into_iter().max_by_key(|(_, n)| *n).unwrap_or_default();
    (ts.to_string(), n)
}

#[tokio::test]
async fn activity_windows_split_ties_exactly_once() {
    let api = Api::start(&spec()).await;
    let d = api.sim.snapshot();
    let (tie, n) = biggest_tie(&d);
    assert!(n >= 150, "a bulk-import tie of {n}");

    // [start, tie) + [tie, end) in ascending order with pages of 100 through the 150+ tie.
    let before = all_pages(&api, "/activity/", &[("date_created__lt", &tie), ("_order_by", "date_created")], 100).await;
    let after = all_pages(&api, "/activity/", &[("date_created__gte", &tie), ("_order_by", "date_created")], 100).await;
    let ids: Vec<&str> = before.iter().chain(&after).map(|a| str_of(a, "id")).collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    let visible = d.activities_visible_by_default();
    assert!(visible.len() < d.activities.len(), "EmailThreads are hidden by default");
    assert_eq!(unique, visible.iter().map(|a| str_of(a, "id")).collect::<BTreeSet<_>>());
    assert_eq!(ids.len(), unique.len());
    let keys: Vec<(&str, &str)> = after.iter().map(|a| (str_of(a, "date_created"), str_of(a, "id"))).collect();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]), "sorted by date_created then id");

    let r = api.get("/activity/", &[("date_created__gt", &tie), ("date_created__lte", &tie)]).await;
    assert_eq!((r.data().len(), &r.body["has_more"]), (0, &Value::Bool(false)));
    let newest_first = api.get("/activity/", &[]).await;
    let dates: Vec<&str> = newest_first.data().iter().map(|a| str_of(a, "date_created")).collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "default order is newest first");
    assert!(d.activities.iter().any(|a| a["date_updated"] != a["date_created"]));
}

#[tokio::test]
async fn per_type_endpoints_and_lead_filter() {
    let api = Api::start(&spec()).await;
    let d = api.sim.snapshot();
    let types: BTreeSet<&str> = d.activities.iter().map(|a| str_of(a, "_type")).collect();
    assert!(types.len() >= 6, "{types:?}");
    for (endpoint, type_name) in [
        ("note", "Note"),
        ("status_change/lead", "LeadStatusChange"),
        ("email", "Email"),
        ("emailthread", "EmailThread"),
    ] {
        let listed = all_pages(&api, &format!("/activity/{endpoint}/"), &[], 100).await;
        let expected = d.activities.iter().filter(|a| a["_type"] == type_name).count();
        assert_eq!(listed.len(), expected, "{endpoint}");
        assert!(listed.iter().all(|a| a["_type"] == type_name));
    }
    let lead_id = str_of(&d.activities[0], "lead_id");
    let r = api.get("/activity/", &[("lead_id", lead_id), ("_limit", "100")]).await;
    assert!(!r.data().is_empty() && r.data().iter().all(|a| a["lead_id"] == lead_id));
    assert_eq!(api.get("/activity/", &[("date_created__gte", "last tuesday")]).await.status, 400);
}

#[tokio::test]
async fn tasks_hide_other_types_unless_asked() {
    let api = Api::start(&spec()).await;
    let d = api.sim.snapshot();
    let count = |t: &str| d.tasks.iter().filter(|x| x["_type"] == t).count();
    let types: BTreeSet<&str> = d.tasks.iter().map(|t| str_of(t, "_type")).collect();
    assert!(types.len() >= 3 && count("lead") < d.tasks.len(), "{types:?}");

    let default = all_pages(&api, "/task/", &[], 100).await;
    assert_eq!(default.len(), count("lead"), "the trap: only lead tasks");
    assert!(default.iter().all(|t| t["_type"] == "lead"));
    let all = all_pages(&api, "/task/", &[("_type", "all"), ("_order_by", "date_created")], 100).await;
    assert_eq!(all.len(), d.tasks.len());
    let one = all_pages(&api, "/task/", &[("_type", "email_followup")], 100).await;
    assert_eq!(one.len(), count("email_followup"));
    let two = all_pages(&api, "/task/", &[("_type__in", "email_followup,incoming_call")], 100).await;
    assert_eq!(two.len(), count("email_followup") + count("incoming_call"));
    for t in &all {
        assert_eq!(str_of(t, "date").len(), 10, "date-only `date`: {t}");
    }

    // Ties on date_updated: a window on the tie value returns the whole group.
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &d.tasks {
        *counts.entry(str_of(t, "date_updated")).or_default() += 1;
    }
    let (tie, n) = counts.into_iter().max_by_key(|(_, n)| *n).unwrap_or_default();
    assert!(n >= 10, "a tie group of {n} tasks");
    let r = api.get("/task/", &[("_type", "all"), ("date_updated__gte", tie), ("date_updated__lte", tie)]).await;
    assert_eq!(r.data().len(), n);
}

#[tokio::test]
async fn limits_are_capped_and_deep_skips_refused() {
    let config = SimConfig { max_skip: 100, ..SimConfig::default() };
    let api = Api::with(Dataset::generate(&spec()), config).await;
    let r = api.get("/activity/", &[("_limit", "1000")]).await;
    assert_eq!((r.data().len(), r.body["has_more"].clone()), (100, Value::Bool(true)));
    assert_eq!(api.get("/activity/", &[("_skip", "100")]).await.status, 200);
    let r = api.get("/activity/", &[("_skip", "101")]).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body["error"],
        "The skip you set is larger than the maximum skip for this resource (max_skip = 100). \
         Please refine your search query."
    );
    assert_eq!(api.get("/user/", &[("_skip", "101")]).await.status, 400);
    let bad = api.get("/task/", &[("_limit", "many")]).await;
    assert_eq!((bad.status.as_u16(), bad.body["field-errors"]["_limit"].is_string()), (400, true));
}

#[tokio::test]
async fn shared_custom_fields_are_listed_under_each_object_type() {
    let api = Api::start(&spec()).await;
    let shared = api.get("/custom_field/shared/", &[]).await;
    assert_eq!(shared.data().len(), 1);
    assert_eq!(shared.data()[0]["is_shared"], true);
    let shared_id = shared.ids()[0].clone();
    let mut seen = 0;
    for t in ["lead", "contact", "opportunity", "activity"] {
        let r = api.get(&format!("/custom_field/{t}/"), &[]).await;
        assert!(!r.data().is_empty(), "{t}");
        seen += usize::from(r.ids().contains(&shared_id));
    }
    assert_eq!(seen, 2, "the shared field is associated with leads and contacts");
    let lead_fields = api.get("/custom_field/lead/", &[]).await;
    assert!(lead_fields.ids().iter().any(|id| id.starts_with("lcf_")));
    assert!(lead_fields.data().iter().any(|f| f["accepts_multiple_values"] == true));
    let users = api.get("/user/", &[("_limit", "1")]).await;
    assert_eq!((users.data().len(), &users.body["has_more"]), (1, &Value::Bool(true)));
    assert!(users.body.get("total_results").is_none());
}
