//! Documented parameters only: every endpoint refuses what Close does not document for it with a 400 naming the
//! parameter (or, configured to, ignores it), `_type` on `/activity/` needs `lead_id`, `_order_by` takes only
//! the documented fields, and the documented filters of `/activity/` apply.

use close_sim::config::ParamPolicy;
use close_sim::{Dataset, SimConfig};
use serde_json::json;

use crate::common::{Api, all_pages, ids_of, spec, str_of};

#[tokio::test]
async fn undocumented_parameters_are_400s_naming_them() {
    let api = Api::start(&spec()).await;
    let d = api.sim.snapshot();
    let (lead, user) = (str_of(&d.leads[0], "id").to_string(), str_of(&d.users[0], "id").to_string());
    let org = d.users[0]["organizations"][0].as_str().expect("an organization").to_string();
    let cases = [
        ("/activity/".to_string(), "date_updated__gte"),
        ("/activity/call/".into(), "activity_at__gte"),
        ("/task/".into(), "date_updated__gtee"),
        ("/lead/".into(), "date_updated__gte"),
        (format!("/lead/{lead}/"), "query"),
        ("/event/".into(), "date_updated__gt"),
        ("/event/".into(), "_fields"),
        ("/custom_field/lead/".into(), "date_updated__gte"),
        ("/user/".into(), "_order_by"),
        (format!("/user/{user}/"), "_skip"),
        ("/me/".into(), "_limit"),
        (format!("/organization/{org}/"), "_expand"),
    ];
    for (path, name) in &cases {
        let r = api.get(path, &[(name, "2024-01-01")]).await;
        let error = str_of(&r.body, "error");
        assert_eq!(r.status, 400, "{path}?{name}: {}", r.body);
        let prefix = format!("Unknown parameter {name} for {path}: Close documents ");
        assert!(error.starts_with(&prefix), "{error}");
    }
    let r = api.get("/lead/", &[("date_updated__gte", "2024-01-01")]).await;
    assert_eq!(
        str_of(&r.body, "error"),
        "Unknown parameter date_updated__gte for /lead/: Close documents _limit, _skip, _fields, query"
    );
    let url = format!("{}/data/search/?_limit=5", api.sim.base_url());
    let r = crate::common::send(api.client.post(url).basic_auth("sim-key", Some("")).json(&json!({}))).await;
    assert_eq!(r.status, 400, "search takes its parameters in the body");

    // Every documented parameter is accepted.
    let task_params = [
        "id",
        "id__in",
        "_type",
        "_type__in",
        "lead_id",
        "assigned_to",
        "view",
        "date",
        "date__gt",
        "date__gte",
        "date__lt",
        "date__lte",
        "due_date",
        "due_date__gt",
        "due_date__gte",
        "due_date__lt",
        "due_date__lte",
        "date_created__gt",
        "date_created__gte",
        "date_created__lt",
        "date_created__lte",
        "date_updated__gt",
        "date_updated__gte",
        "date_updated__lt",
        "date_updated__lte",
    ];
    let mut q: Vec<(&str, &str)> = task_params.iter().map(|p| (*p, "2024-01-01")).collect();
    q.extend([("is_complete", "false"), ("_order_by", "-date"), ("_fields", "id"), ("_skip", "0"), ("_limit", "5")]);
    assert_eq!(api.get("/task/", &q).await.status, 200);
    let event_params = ["object_type", "object_id", "action", "lead_id", "user_id", "request_id"];
    let mut q: Vec<(&str, &str)> = event_params.iter().map(|p| (*p, "x")).collect();
    q.extend([("date_updated__gte", "2024-01-01"), ("date_updated__lte", "2030-01-01"), ("_limit", "5")]);
    assert_eq!(api.get("/event/", &q).await.status, 200);
}

#[tokio::test]
async fn ignoring_them_is_the_other_plausible_behaviour() {
    let config = SimConfig { unknown_params: ParamPolicy::Ignore, ..SimConfig::default() };
    let api = Api::with(Dataset::generate(&spec()), config).await;
    let d = api.sim.snapshot();
    let leads = all_pages(&api, "/lead/", &[("date_updated__gte", "2100-01-01")], 200).await;
    assert_eq!(leads.len(), d.leads.len(), "the filter is not applied");
    let all = all_pages(&api, "/activity/", &[("_type", "Call")], 100).await;
    assert_eq!(all.len(), d.activities_visible_by_default().len(), "_type without lead_id is not applied");
    assert_eq!(api.get("/event/", &[("_skip", "10"), ("_fields", "id")]).await.status, 200);
}

#[tokio::test]
async fn activity_type_filters_need_a_lead_and_order_is_date_created_only() {
    let api = Api::start(&spec()).await;
    let d = api.sim.snapshot();
    let r = api.get("/activity/", &[("_type", "Call")]).await;
    assert_eq!(r.status, 400);
    assert!(str_of(&r.body, "error").starts_with("Unknown parameter _type for /activity/"), "{}", r.body);
    assert_eq!(api.get("/activity/", &[("_type__in", "Call,Note")]).await.status, 400);

    let lead = d.activities.iter().filter_map(|a| a["lead_id"].as_str()).next().expect("a lead with activities");
    let of_lead = |t: &[&str]| {
        d.activities.iter().filter(|a| a["lead_id"] == lead && t.contains(&str_of(a, "_type"))).collect::<Vec<_>>()
    };
    let types: Vec<&str> = d.activities.iter().filter(|a| a["lead_id"] == lead).map(|a| str_of(a, "_type")).collect();
    let r = api.get("/activity/", &[("lead_id", lead), ("_type", types[0]), ("thread_emails", "true")]).await;
    assert_eq!(ids_of(r.data()), ids_of(of_lead(&types[..1])));
    let list = types.join(",");
    let r = api.get("/activity/", &[("lead_id", lead), ("_type__in", &list), ("thread_emails", "true")]).await;
    assert_eq!(ids_of(r.data()), ids_of(of_lead(&types)));

    assert_eq!(api.get("/activity/", &[("_order_by", "activity_at")]).await.status, 400);
    assert_eq!(api.get("/activity/", &[("_order_by", "date_updated")]).await.status, 400);
    let asc = api.get("/activity/", &[("_order_by", "date_created")]).await;
    let desc = api.get("/activity/", &[("_order_by", "-date_created")]).await;
    assert!(str_of(&asc.data()[0], "date_created") < str_of(&desc.data()[0], "date_created"));
}

#[tokio::test]
async fn activity_user_and_contact_filters_apply() {
    let api = Api::start(&spec()).await;
    let d = api.sim.snapshot();
    let visible = d.activities_visible_by_default();
    let a = visible.iter().find(|a| a["contact_id"].is_string()).expect("an activity with a contact");
    for key in ["user_id", "contact_id"] {
        let got = all_pages(&api, "/activity/", &[(key, str_of(a, key))], 100).await;
        let expected = visible.iter().copied().filter(|x| x[key] == a[key]);
        assert_eq!(ids_of(&got), ids_of(expected), "{key}");
    }
}
