//! `/lead/`: date parameters refused (or ignored), `query=` filtering and sorting at minute precision in the
//! syntax other connectors send, the 200 cap; `/data/search/`.

use std::collections::BTreeSet;

use close_sim::config::{ParamPolicy, Precision};
use close_sim::{Dataset, GenSpec, SimConfig};
use serde_json::{Value, json};

use crate::common::{Api, all_pages, spec, str_of};

#[tokio::test]
async fn date_params_are_refused_or_ignored_and_query_filters() {
    let exact = SimConfig { lead_query_precision: Precision::Exact, ..SimConfig::default() };
    let api = Api::with(Dataset::generate(&GenSpec { leads: 250, ..spec() }), exact.clone()).await;
    let d = api.sim.snapshot();
    let future = [("date_updated__gte", "2100-01-01T00:00:00+00:00")];
    let refused = api.get("/lead/", &future).await;
    assert_eq!(refused.status, 400);
    assert!(str_of(&refused.body, "error").contains("date_updated__gte"), "{}", refused.body);
    api.sim.set_config(SimConfig { unknown_params: ParamPolicy::Ignore, ..exact.clone() });
    assert_eq!(all_pages(&api, "/lead/", &future, 200).await.len(), 250, "the trap: every lead comes back");
    api.sim.set_config(exact);
    assert_eq!(api.get("/lead/", &[]).await.data().len(), 100);
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
    assert_eq!(api.get("/lead/", &[("query", &q)]).await.data().len(), n);

    let desc = api.get("/lead/", &[("query", "sort:-date_created"), ("_limit", "200")]).await;
    let created: Vec<&str> = desc.data().iter().map(|l| str_of(l, "date_created")).collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]));
    assert_eq!(api.get("/lead/", &[("query", "company:acme")]).await.status, 400);
}

/// The ids `GET /lead/?query=<q>` lists, in order, space-separated.
async fn query(api: &Api, q: &str) -> String {
    let r = api.get("/lead/", &[("query", q)]).await;
    assert_eq!(r.status, 200, "{q}: {}", r.body);
    r.ids().join(" ")
}

/// Leads `(id, date_updated)` cloned from a generated one.
fn leads_at(stamps: &[(&str, &str)]) -> Dataset {
    let template = Dataset::generate(&GenSpec { leads: 1, ..spec() }).leads.remove(0);
    let leads = stamps
        .iter()
        .map(|(id, at)| {
            let mut lead = template.clone();
            lead["id"] = json!(id);
            lead["date_updated"] = json!(at);
            lead
        })
        .collect();
    Dataset { leads, ..Dataset::default() }
}

#[tokio::test]
async fn query_bounds_are_whole_minutes_and_other_connectors_syntax_works() {
    let api = Api::with(
        leads_at(&[
            ("lead_e", "2024-05-01T10:04:59.999000+00:00"),
            ("lead_b", "2024-05-01T10:05:10+00:00"),
            ("lead_a", "2024-05-01T10:05:10+00:00"),
            ("lead_c", "2024-05-01T10:05:30.500000+00:00"),
            ("lead_d", "2024-05-01T10:06:00+00:00"),
            ("lead_f", "2024-05-02T09:00:00+00:00"),
        ]),
        SimConfig::default(),
    )
    .await;
    // `>= 10:05:30.5` means `>= 10:05:00`; `< 10:06:30` means `< 10:06:00`.
    let r = query(&api, r#"date_updated >= "2024-05-01T10:05:30.5+00:00" sort:date_updated"#).await;
    assert_eq!(r, "lead_a lead_b lead_c lead_d lead_f", "ties by id");
    let r = query(&api, r#"date_updated < "2024-05-01T10:06:30+00:00" sort:date_updated"#).await;
    assert_eq!(r, "lead_e lead_a lead_b lead_c");
    let r =
        query(&api, r#"date_updated > "2024-05-01T10:05:59+00:00" date_updated <= "2024-05-01T10:06:59" sort:updated"#)
            .await;
    assert_eq!(r, "lead_a lead_b lead_c lead_d", "`> 10:05:59` means `> 10:05:00`");
    // Stitch: minute values without spaces; Airbyte: day values and `sort:updated`.
    let stitch = query(&api, r#"date_updated>="2024-05-01T10:05" sort:date_updated"#).await;
    assert_eq!(stitch, "lead_a lead_b lead_c lead_d lead_f");
    let airbyte = query(&api, r#"date_updated >= "2024-05-02" sort:-updated"#).await;
    assert_eq!(airbyte, "lead_f");
    let airbyte = query(&api, r#"date_updated >= "2024-05-01" date_updated < "2024-05-02" sort:-updated"#).await;
    assert_eq!(airbyte, "lead_d lead_c lead_b lead_a lead_e");

    api.sim.set_config(SimConfig { lead_query_precision: Precision::Exact, ..SimConfig::default() });
    let r = query(&api, r#"date_updated >= "2024-05-01T10:05:30.5+00:00" sort:date_updated"#).await;
    assert_eq!(r, "lead_c lead_d lead_f");
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
