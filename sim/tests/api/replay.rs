//! Replaying a capture recorded by the exporter: matching by method, path and query multiset, answers in
//! recorded order (the last repeating), recorded statuses, headers and bodies, 404 for what was not recorded.

use std::net::SocketAddr;
use std::path::PathBuf;

use close_sim::SimHandle;
use serde_json::json;

use crate::common::send;

/// A directory holding `exchanges.jsonl` with `lines`, unique to `name` and this test process.
pub fn capture(name: &str, lines: &[serde_json::Value]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("close-sim-replay-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    std::fs::write(dir.join("exchanges.jsonl"), text.join("\n") + "\n").expect("written");
    dir
}

/// A small capture: two pages for one activity request, a 429 on events, a non-UTF-8 body.
pub fn sample() -> Vec<serde_json::Value> {
    let activities = |id: &str| {
        json!({"method": "GET", "path": "/api/v1/activity/",
        "query": [["_limit", "100"], ["date_created__gte", "2024-01-01T00:00:00+00:00"]], "status": 200,
        "headers": {"ratelimit": "limit=100, remaining=42, reset=0.5", "date": "Wed, 02 Dec 2026 04:36:05 GMT"},
        "body": format!(r#"{{"has_more": false, "data": [{{"id": "{id}"}}]}}"#)})
    };
    vec![
        activities("acti_1"),
        activities("acti_2"),
        json!({"method": "GET", "path": "/api/v1/event/", "query": [], "status": 429,
            "headers": {"retry-after": "2", "ratelimit": "limit=100, remaining=0, reset=2"},
            "body": r#"{"error": "Too many requests"}"#}),
        json!({"method": "GET", "path": "/api/v1/me/", "status": 200, "body_base64": "/wB7fQ=="}),
    ]
}

#[tokio::test]
async fn serves_the_recorded_answers_in_order() {
    let dir = capture("lib", &sample());
    let sim = SimHandle::start_replay(&dir, SocketAddr::from(([127, 0, 0, 1], 0))).await.expect("replays");
    let client = reqwest::Client::new();
    let base = sim.base_url();
    // No credentials; the query in another order and encoded differently matches.
    let url = format!("{base}/activity/?date_created__gte=2024-01-01T00%3A00%3A00%2B00%3A00&_limit=100");
    let bodies: Vec<_> = {
        let mut out = Vec::new();
        for _ in 0..3 {
            let r = send(client.get(&url)).await;
            assert_eq!(r.status, 200);
            assert_eq!(r.header("date"), "Wed, 02 Dec 2026 04:36:05 GMT", "the recorded Date");
            assert_eq!(r.header("ratelimit"), "limit=100, remaining=42, reset=0.5");
            out.push(r.body["data"][0]["id"].clone());
        }
        out
    };
    assert_eq!(bodies, [json!("acti_1"), json!("acti_2"), json!("acti_2")], "the last answer repeats");

    let throttled = send(client.get(format!("{base}/event/"))).await;
    assert_eq!((throttled.status.as_u16(), throttled.header("retry-after")), (429, "2"));
    assert!(!throttled.header("date").is_empty(), "a Date from the server clock when none was recorded");

    let me = client.get(format!("{base}/me/")).send().await.expect("answered");
    assert_eq!(me.bytes().await.expect("a body").as_ref(), b"\xff\x00{}");

    let missing = send(client.get(format!("{base}/lead/?_limit=5"))).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["error"], "close-sim replay: no recorded answer for GET /api/v1/lead/?_limit=5");
    let other_query = send(client.get(format!("{base}/activity/?_limit=100"))).await;
    assert_eq!(other_query.status, 404, "a query pair less is another request");
    assert_eq!((sim.requests("activity"), sim.requests("event"), sim.requests("lead")), (4, 1, 1));
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_bad_capture_does_not_start() {
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    let missing = std::env::temp_dir().join(format!("close-sim-replay-{}-none", std::process::id()));
    assert!(SimHandle::start_replay(&missing, addr).await.is_err());
    let dir = capture("bad", &[json!({"method": "GET", "path": "/api/v1/me/", "status": 200}), json!({"path": 1})]);
    let error = SimHandle::start_replay(&dir, addr).await.err().expect("refused");
    assert!(error.to_string().contains("exchanges.jsonl:2:"), "{error}");
    let _ = std::fs::remove_dir_all(dir);
}
