//! `/task/`'s documented filters (both date ranges at once, ids, completion, assignee, view, dates) and orders
//! (`date`, `date_created`, never `date_updated`).

use crate::common::{Api, all_pages, ids_of, spec, str_of};

#[tokio::test]
async fn created_and_updated_windows_combine_in_date_created_order() {
    let api = Api::start(&spec()).await;
    let d = api.sim.snapshot();
    let mut created: Vec<&str> = d.tasks.iter().map(|t| str_of(t, "date_created")).collect();
    let mut updated: Vec<&str> = d.tasks.iter().map(|t| str_of(t, "date_updated")).collect();
    created.sort();
    updated.sort();
    let (c_lo, u_hi) = (created[10], updated[50]);
    let q = [("_type", "all"), ("date_created__gte", c_lo), ("date_updated__lt", u_hi), ("_order_by", "date_created")];
    let got = all_pages(&api, "/task/", &q, 7).await;
    let expected = d.tasks.iter().filter(|t| str_of(t, "date_created") >= c_lo && str_of(t, "date_updated") < u_hi);
    assert_eq!(ids_of(&got), ids_of(expected));
    assert!(got.len() > 10 && got.len() < d.tasks.len(), "{} tasks", got.len());
    let keys: Vec<(&str, &str)> = got.iter().map(|t| (str_of(t, "date_created"), str_of(t, "id"))).collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "date_created ascending, ties by id");

    for order in ["date_updated", "-date_updated", "due_date"] {
        let r = api.get("/task/", &[("_type", "all"), ("_order_by", order)]).await;
        assert_eq!(r.status, 400, "{order}");
        assert!(r.body["field-errors"]["_order_by"].is_string());
    }
    let by_date = all_pages(&api, "/task/", &[("_type", "all"), ("_order_by", "-date")], 100).await;
    let dates: Vec<(&str, &str)> = by_date.iter().map(|t| (str_of(t, "date"), str_of(t, "id"))).collect();
    assert!(dates.windows(2).all(|w| w[0] > w[1]), "date descending, ties by id descending");
    let newest = all_pages(&api, "/task/", &[("_type", "all"), ("_order_by", "-date_created")], 100).await;
    assert_eq!(str_of(&newest[0], "date_created"), created[created.len() - 1]);
}

/// Every task of any type `query` selects.
async fn all(api: &Api, query: &[(&str, &str)]) -> Vec<serde_json::Value> {
    let mut q = query.to_vec();
    q.push(("_type", "all"));
    all_pages(api, "/task/", &q, 100).await
}

#[tokio::test]
async fn record_filters_apply() {
    let api = Api::start(&spec()).await;
    let d = api.sim.snapshot();
    let t = &d.tasks[5];
    let (a, b) = (str_of(&d.tasks[0], "id"), str_of(&d.tasks[1], "id"));
    assert_eq!(ids_of(&all(&api, &[("id", a)]).await), [a]);
    assert_eq!(ids_of(&all(&api, &[("id__in", &format!("{a},{b}"))]).await), ids_of([&d.tasks[0], &d.tasks[1]]));
    let cases: [(&str, &str); 5] = [
        ("lead_id", "lead_id"),
        ("assigned_to", "assigned_to"),
        ("view", "view"),
        ("date", "date"),
        ("is_complete", "is_complete"),
    ];
    for (param, field) in cases {
        let value = match &t[field] {
            serde_json::Value::Bool(b) => b.to_string(),
            v => v.as_str().expect("a string").to_string(),
        };
        let got = all(&api, &[(param, &value)]).await;
        let expected = d.tasks.iter().filter(|x| x[field] == t[field]);
        assert_eq!(ids_of(&got), ids_of(expected), "{param}={value}");
    }
    let day = str_of(t, "date");
    let got = all(&api, &[("due_date__gte", day)]).await;
    let expected = d.tasks.iter().filter(|x| x["due_date"].as_str().is_some_and(|due| due >= day));
    assert_eq!(ids_of(&got), ids_of(expected), "tasks without due_date never match a due_date filter");
    assert_eq!(api.get("/task/", &[("is_complete", "maybe")]).await.status, 400);
}
