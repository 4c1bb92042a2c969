//! `/opportunity/`: the documented filters and orders, strictness, and opportunities that change (and are
//! deleted) on their own while their leads' embedded copies stay as they were.

use close_sim::Mutation;

use crate::common::{Api, all_pages, ids_of, spec, str_of};

#[tokio::test]
async fn a_date_updated_window_in_date_updated_order_lists_exactly_the_opportunities_in_it() {
    let api = Api::start(&spec()).await;
    let d = api.sim.snapshot();
    assert!(d.opportunities.len() > 20, "{} opportunities", d.opportunities.len());
    let embedded: usize = d.leads.iter().map(|l| l["opportunities"].as_array().map_or(0, Vec::len)).sum();
    assert_eq!(d.opportunities.len(), embedded, "generated as the copies leads embed");
    let mut updated: Vec<&str> = d.opportunities.iter().map(|o| str_of(o, "date_updated")).collect();
    updated.sort();
    let (lo, hi) = (updated[5], updated[updated.len() - 5]);
    let q = [("date_updated__gte", lo), ("date_updated__lt", hi), ("_order_by", "date_updated")];
    let got = all_pages(&api, "/opportunity/", &q, 7).await;
    let expected = d.opportunities.iter().filter(|o| str_of(o, "date_updated") >= lo && str_of(o, "date_updated") < hi);
    assert_eq!(ids_of(&got), ids_of(expected));
    let keys: Vec<(&str, &str)> = got.iter().map(|o| (str_of(o, "date_updated"), str_of(o, "id"))).collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "date_updated ascending, ties by id");

    let lead = str_of(&d.opportunities[0], "lead_id");
    let of_lead = all_pages(&api, "/opportunity/", &[("lead_id", lead)], 100).await;
    assert!(of_lead.iter().all(|o| str_of(o, "lead_id") == lead) && !of_lead.is_empty());
    let won = all_pages(&api, "/opportunity/", &[("status_type", "won")], 100).await;
    assert!(won.iter().all(|o| str_of(o, "status_type") == "won") && !won.is_empty());

    for refused in [("query", "x"), ("date_updated__gte_x", lo), ("status", "won")] {
        let r = api.get("/opportunity/", &[refused]).await;
        assert_eq!(r.status, 400, "{refused:?} is not documented");
    }
    let r = api.get("/opportunity/", &[("_order_by", "lead_name")]).await;
    assert_eq!(r.status, 400, "lead_name is not an order");
}

#[tokio::test]
async fn opportunities_change_and_go_on_their_own_and_the_event_log_says_so() {
    let api = Api::start(&spec()).await;
    let before = api.sim.snapshot();
    let at = chrono::Utc::now() - chrono::Duration::minutes(1);
    api.sim.mutate(&Mutation { at, update_opportunities: 3, delete_opportunities: 2, ..Mutation::default() });
    let after = api.sim.snapshot();
    assert_eq!(after.opportunities.len(), before.opportunities.len() - 2);
    let was = |o: &serde_json::Value| before.opportunities.iter().find(|b| b["id"] == o["id"]).cloned();
    let changed: Vec<&serde_json::Value> =
        after.opportunities.iter().filter(|o| was(o).is_some_and(|b| b["date_updated"] != o["date_updated"])).collect();
    assert_eq!(changed.len(), 3);
    let stamp = str_of(changed[0], "date_updated").to_string();
    for o in &changed {
        let lead = after.leads.iter().find(|l| l["id"] == o["lead_id"]).expect("its lead");
        let copy = lead["opportunities"].as_array().unwrap().iter().find(|c| c["id"] == o["id"]).expect("a copy");
        assert_ne!(copy["date_updated"], o["date_updated"], "the lead's copy stays as it was");
    }
    let deleted: Vec<&serde_json::Value> =
        after.events.iter().filter(|e| e["action"] == "deleted" && e["object_type"] == "opportunity").collect();
    assert_eq!(deleted.len(), 2, "one event per deleted opportunity");
    let listed = all_pages(&api, "/opportunity/", &[("date_updated__gte", &stamp)], 100).await;
    assert_eq!(ids_of(&listed), ids_of(changed));
}
