//! `/lead/`: date parameters ignored, `query=` filtering and sorting, the 200 cap; `/data/search/`.

use std::collections::BTreeSet;

use close_sim::{Dataset, GenSpec, SimConfig};
use serde_json::{Value, json};

use crate::common::{Api, spec, str_of};

#[tokio::test]
async fn date_params_are_ignored_and_query_filters() {
    let api = Api::start(&GenSpec { leads: 250, ..spec() }).await;
    let d = api.sim.snapshot();
    let ignored = api.get("/lead/", &[("date_updated__gte", "2100-01-01T00:00:00+00:00")]).await;
    assert_eq!(ignored.body["total_results"], 250, "the trap: every lead comes back");
    assert_eq!(ignored.data().len(), 100);
    assert_eq!(api.get("/lead/", &[("_limit", "500")]).await.data().len(), 200, "capped at 200");

    let mut updated: Vec<&str> = d.leads.iter().map(|l| str_of(l, "date_updated")).collect();
    updated.sort();
    let (from, to) = (updated[50], updated[150]);
    let query = format!(r#"date_updated >= "{from}" date_updated < "{to}" sort:date_updated"#);
    let r = api.get("/lead/", &[("query", &query), ("_limit", "200")]).await;
    let expected: BTreeSet<&str> =
        d.leads.iter().filter(|l| (from..to).contains(&str_of(l, "date_updated"))).map(|l| str_of(l, "id")).collect();
    let got: Vec<(&str, &str)> = r.data().iter().map(|l| (str_of(l, "date_updated"), str_of(l, "id"))).collect();
    assert_eq!(got.iter().map(|(_, id)| *id).collect::<BTreeSet<_>>(), expected);
    assert!(got.windows(2).all(|w| w[0] < w[1]), "ascending by date_updated, ties by id");

    // The tie group: many leads share one date_updated.
    let tie = updated.windows(2).find(|w| w[0] == w[1]).map(|w| w[0]).expect("leads share a date_updated");
    let q = format!(r#"date_updated>="{tie}" date_updated<="{tie}""#);
    let n = updated.iter().filter(|u| **u == tie).count();
    assert!(n >= 50, "tie group of {n}");
    assert_eq!(api.get("/lead/", &[("query", &q)]).await.body["total_results"], n);

    let desc = api.get("/lead/", &[("query", "sort:-date_created"), ("_limit", "200")]).await;
    let created: Vec<&str> = desc.data().iter().map(|l| str_of(l, "date_created")).collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]));
    assert_eq!(api.get("/lead/", &[("query", "company:acme")]).await.status, 400);
}

#[tokio::test]
async fn leads_have_nested_records_and_custom_values() {
    let api = Api::start(&spec()).await;
    let r = api.get("/lead/", &[("_limit", "200")]).await;
    let leads = r.data();
    assert_eq!(leads.len(), 40);
    let lead = &leads[0];
    assert!(lead["contacts"].as_array().is_some_and(|c| !c.is_empty()));
    assert!(lead["addresses"].is_array() && lead["custom"].is_object());
    let flat = |l: &Value| -> Vec<String> {
        l.as_object().map(|m| m.keys().filter(|k| k.starts_with("custom.")).cloned().collect()).unwrap_or_default()
    };
    assert!(leads.iter().any(|l| flat(l).iter().any(|k| k.starts_with("custom.lcf_"))));
    let multi = leads.iter().any(|l| flat(l).iter().any(|k| l[k.as_str()].is_array()));
    assert!(multi, "a multi-choice list value");
    let won: Vec<&Value> = leads
        .iter()
        .flat_map(|l| l["opportunities"].as_array().into_iter().flatten())
        .filter(|o| o["date_won"].is_string())
        .collect();
    assert!(!won.is_empty() && won.iter().all(|o| str_of(o, "date_won").len() == 10));
    let one = api.get(&format!("/lead/{}/", str_of(lead, "id")), &[]).await;
    assert_eq!(one.body["id"], lead["id"]);
}

#[tokio::test]
async fn search_filters_pages_and_projects() {
    let api = Api::with(Dataset::generate(&GenSpec { leads: 30, ..spec() }), SimConfig::default()).await;
    let d = api.sim.snapshot();
    let mut updated: Vec<&str> = d.leads.iter().map(|l| str_of(l, "date_updated")).collect();
    updated.sort();
    let from = updated[10];
    let expected = updated.iter().filter(|u| **u >= from).count();
    let field = json!({"type": "regular_field", "object_type": "lead", "field_name": "date_updated"});
    let mut body = json!({
        "query": {"type": "and", "queries": [
            {"type": "object_type", "object_type": "lead"},
            {"type": "field_condition", "field": field,
             "condition": {"type": "moment_range", "on_or_after": {"type": "fixed_utc", "value": from}}}]},
        "sort": [{"field": field, "direction": "asc"}],
        "_limit": 7,
    });
    let mut hits = Vec::new();
    loop {
        let r = api.post("/data/search/", &body).await;
        assert_eq!(r.status, 200, "{}", r.body);
        hits.extend(r.data().iter().cloned());
        match r.body["cursor"].as_str() {
            Some(c) => body["cursor"] = json!(c),
            None => break,
        }
    }
    assert_eq!(hits.len(), expected);
    assert!(hits.iter().all(|h| h["__object_type"] == "lead" && h.as_object().is_some_and(|m| m.len() == 2)));
    body["cursor"] = Value::Null;
    body["_fields"] = json!({"lead": ["id", "date_updated"]});
    let r = api.post("/data/search/", &body).await;
    assert_eq!(str_of(&r.data()[0], "date_updated"), from);
    assert_eq!(api.sim.requests("search"), expected.div_ceil(7) as u64 + 1);
    body["cursor"] = json!("garbage");
    assert_eq!(api.post("/data/search/", &body).await.status, 400);
}
