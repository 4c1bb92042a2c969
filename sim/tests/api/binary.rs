//! The `close-sim` binary: one stdout line with the URL, then the API and the `/_sim/` admin endpoints.

use serde_json::{Value, json};

use crate::common::send;

#[path = "../support/binary.rs"]
mod running;

#[tokio::test]
async fn binary_serves_until_killed() {
    let sim = running::start(
        env!("CARGO_BIN_EXE_close-sim"),
        "close-sim",
        &["--port", "0", "--api-key", "k1", "--leads", "12", "--activities", "30", "--seed", "3"],
    )
    .await;
    let base = sim.url.clone();
    assert!(base.starts_with("http://127.0.0.1:") && base.ends_with("/api/v1"), "{base}");

    let client = reqwest::Client::new();
    let leads = send(client.get(format!("{base}/lead/")).basic_auth("k1", Some(""))).await;
    assert_eq!(leads.body["total_results"], 12);
    let root = base.trim_end_matches("/api/v1");
    let report = send(client.post(format!("{root}/_sim/mutate")).json(&json!({"new_leads": 2}))).await;
    assert_eq!(report.body["changed_ids"]["leads"].as_array().map(Vec::len), Some(2));
    let counts = send(client.get(format!("{root}/_sim/requests"))).await;
    assert_eq!(counts.body["lead"], 1);
    send(client.post(format!("{root}/_sim/reset_requests"))).await;
    let counts = send(client.get(format!("{root}/_sim/requests"))).await;
    assert_eq!(counts.body, Value::Object(Default::default()));
    let bad = send(client.post(format!("{root}/_sim/mutate")).body("{\"new_leads\": -1}")).await;
    assert_eq!(bad.status, 400);
}
