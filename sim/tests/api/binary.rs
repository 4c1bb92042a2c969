//! The `close-sim` binary: one stdout line with the URL, then the API and the `/_sim/` admin endpoints; its
//! flags for the knobs, and replay.

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
    assert_eq!(leads.data().len(), 12);
    assert!(leads.body.get("total_results").is_none());
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

#[tokio::test]
async fn binary_flags_set_the_knobs() {
    let sim = running::start(
        env!("CARGO_BIN_EXE_close-sim"),
        "close-sim",
        &[
            "--non-admin-key",
            "--lenient-params",
            "--exact-lead-query",
            "--event-cursor-filters",
            "--unavailable",
            "custom_field/custom_object_type/=402",
            "--fault",
            "user:2:503",
            "--users",
            "4",
            "--deactivated-users",
            "2",
        ],
    )
    .await;
    let client = reqwest::Client::new();
    let get = |path: &str| send(client.get(format!("{}{path}", sim.url)).basic_auth("sim-key", Some("")));
    assert_eq!(get("/me/").await.body["memberships"][0]["role_id"], "user");
    assert_eq!(get("/lead/?date_updated__gte=2100-01-01").await.status, 200, "lenient");
    assert_eq!(get("/custom_field/custom_object_type/").await.status, 402);
    assert_eq!(get("/user/").await.data().len(), 2, "two of four deactivated");
    assert_eq!(get("/user/").await.status, 503);
}

#[tokio::test]
async fn binary_replays_a_capture() {
    let dir = crate::replay::capture("binary", &crate::replay::sample());
    let dir_arg = dir.to_string_lossy().to_string();
    let sim = running::start(env!("CARGO_BIN_EXE_close-sim"), "close-sim", &["--replay", &dir_arg]).await;
    let client = reqwest::Client::new();
    let r = send(client.get(format!("{}/event/", sim.url))).await;
    assert_eq!((r.status.as_u16(), r.header("retry-after")), (429, "2"));
    drop(sim);
    let _ = std::fs::remove_dir_all(dir);
}
