//! Deterministic 429s with `Retry-After`, and the request counters.

use close_sim::{SimConfig, Throttle};
use reqwest::StatusCode;

use crate::common::{Api, spec};

#[tokio::test]
async fn every_nth_request_of_the_group_is_429() {
    let throttle = Throttle { group: "activity".into(), every: 3, retry_after_secs: 0.5 };
    let config = SimConfig { throttle: Some(throttle), ..SimConfig::default() };
    let api = Api::with(close_sim::Dataset::generate(&spec()), config).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = api.get("/activity/", &[("_limit", "1")]).await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(r.header("retry-after"), "0.5");
            assert_eq!(r.header("ratelimit"), "limit=100, remaining=0, reset=0.5");
            assert_eq!(r.body["error"], "Too many requests");
        }
        statuses.push(r.status.as_u16());
    }
    assert_eq!(statuses, [200, 200, 429, 200, 200, 429]);
    // Per-type endpoints share the group; other groups are never throttled.
    assert_eq!(api.get("/activity/note/", &[]).await.status, 200);
    for _ in 0..3 {
        assert_eq!(api.get("/task/", &[]).await.status, 200);
    }
    assert_eq!(api.sim.requests("activity"), 7);
    assert_eq!(api.sim.requests("task"), 3);

    api.sim.reset_requests();
    assert_eq!(api.sim.requests("activity"), 0);
    api.sim.set_config(SimConfig::default());
    for _ in 0..3 {
        assert_eq!(api.get("/activity/", &[]).await.status, 200);
    }
    api.sim.shutdown().await;
}

#[tokio::test]
async fn an_enforced_limit_refuses_past_it_until_the_window_resets_and_latency_delays_every_answer() {
    let config =
        SimConfig { rate_limit: Some(3), latency: std::time::Duration::from_millis(50), ..SimConfig::default() };
    let api = Api::with(close_sim::Dataset::generate(&spec()), config).await;
    let start = std::time::Instant::now();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let r = api.get("/activity/", &[("_limit", "1")]).await;
        assert!(r.header("ratelimit").starts_with("limit=3, "), "{}", r.header("ratelimit"));
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            let wait: f64 = r.header("retry-after").parse().expect("seconds");
            assert!(wait > 0.0 && wait <= 1.0, "until the window resets: {wait}");
        }
        statuses.push(r.status.as_u16());
    }
    assert!(start.elapsed() >= std::time::Duration::from_millis(200), "50 ms an answer");
    assert_eq!(statuses, [200, 200, 200, 429], "three a second");
    assert_eq!(api.get("/task/", &[]).await.status, 200, "per group");
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(api.get("/activity/", &[("_limit", "1")]).await.status, 200, "a new window");
}
