//! Faults on every n-th request of a group (a status, a cut body, HTML from a proxy), endpoints unavailable on
//! the plan, and the `Date` header on every answer.

use chrono::{DateTime, Utc};
use close_sim::config::{Fault, FaultKind, Unavailable};
use close_sim::{Dataset, SimConfig, Throttle};

use crate::common::{Api, spec};

fn fault(group: &str, every: u64, kind: FaultKind) -> Fault {
    Fault { group: group.into(), every, kind }
}

#[tokio::test]
async fn faults_replace_every_nth_answer_of_their_group() {
    let config = SimConfig {
        faults: vec![
            fault("event", 2, FaultKind::Status(503)),
            fault("activity", 3, FaultKind::CutBody),
            fault("custom_field", 1, FaultKind::NotJson),
            fault("task", 2, FaultKind::Status(502)),
        ],
        throttle: Some(Throttle { group: "task".into(), every: 4, retry_after_secs: 1.0 }),
        ..SimConfig::default()
    };
    let api = Api::with(Dataset::generate(&spec()), config).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let r = api.get("/event/", &[]).await;
        if r.status == 503 {
            assert_eq!(r.body["error"], "Service Unavailable");
        }
        statuses.push(r.status.as_u16());
    }
    assert_eq!(statuses, [200, 503, 200, 503]);

    let q = [("_limit", "20")];
    let (status, _, full) = api.get_raw("/activity/", &q).await;
    assert_eq!(status, 200);
    api.get_raw("/activity/", &q).await;
    let (status, headers, cut) = api.get_raw("/activity/", &q).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(cut.len(), full.len() / 2);
    assert!(full.starts_with(&cut) && serde_json::from_slice::<serde_json::Value>(&cut).is_err());

    let (status, headers, page) = api.get_raw("/custom_field/lead/", &[]).await;
    assert_eq!((status.as_u16(), page.as_slice()), (200, &b"<html><body>upstream error</body></html>"[..]));
    assert_eq!(headers["content-type"], "text/html");

    // The throttle wins over a fault on the same request.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(api.get_raw("/task/", &[]).await.0.as_u16());
    }
    assert_eq!(statuses, [200, 502, 200, 429]);
}

#[tokio::test]
async fn unavailable_endpoints_answer_their_status() {
    let unavailable = |path: &str, status| Unavailable { path: path.into(), status };
    let config = SimConfig {
        unavailable: vec![
            unavailable("custom_field/custom_object_type/", 402),
            unavailable("/custom_field/shared", 403),
            unavailable("custom_field/activity/", 404),
        ],
        ..SimConfig::default()
    };
    let api = Api::with(Dataset::generate(&spec()), config).await;
    for (path, status) in
        [("/custom_field/custom_object_type/", 402), ("/custom_field/shared/", 403), ("/custom_field/activity/", 404)]
    {
        let r = api.get(path, &[]).await;
        assert_eq!(r.status.as_u16(), status, "{path}");
        assert!(r.body["error"].as_str().is_some_and(|e| !e.is_empty()), "{path}: {}", r.body);
    }
    assert_eq!(api.get("/custom_field/lead/", &[]).await.status, 200);
    assert_eq!(api.sim.requests("custom_field"), 4);
}

#[tokio::test]
async fn every_answer_carries_a_date() {
    let config = SimConfig {
        throttle: Some(Throttle { group: "user".into(), every: 1, retry_after_secs: 0.5 }),
        ..SimConfig::default()
    };
    let api = Api::with(Dataset::generate(&spec()), config).await;
    let unauthorized = crate::common::send(api.client.get(format!("{}/me/", api.sim.base_url()))).await;
    let answers = [
        api.get("/me/", &[]).await,
        api.get("/lead/", &[("bogus", "1")]).await,
        api.get("/nothing/", &[]).await,
        api.get("/user/", &[]).await,
        unauthorized,
    ];
    let statuses: Vec<u16> = answers.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses, [200, 400, 404, 429, 401]);
    for r in &answers {
        let date = r.header("date");
        assert!(date.len() == 29 && date.ends_with(" GMT"), "IMF-fixdate: {date:?}");
        let t = DateTime::parse_from_rfc2822(date).expect("a valid date").with_timezone(&Utc);
        assert!((Utc::now() - t).num_seconds().abs() < 60, "the server clock: {date}");
    }
}
