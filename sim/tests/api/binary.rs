//! The `close-sim` binary: one stdout line with the URL, then the API and the `/_sim/` admin endpoints.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::common::send;

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_serves_until_killed() {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_close-sim"))
            .args(["--port", "0", "--api-key", "k1", "--leads", "12", "--activities", "30", "--seed", "3"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("the binary starts"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .expect("joined")
    .expect("a line");
    let base = line.trim().strip_prefix("close-sim listening on ").expect("the announced URL").to_string();
    assert!(base.starts_with("http://127.0.0.1:") && base.ends_with("/api/v1"), "{line}");

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
