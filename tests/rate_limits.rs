//! 429 answers with `Retry-After` are waited out and the run completes; a throttled endpoint group
//! does not stall the others.

mod common;

use close_sim::{Dataset, GenSpec, SimConfig, Throttle};
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_activities_wait_while_other_tables_go_on() {
    let dataset = Dataset::generate(&GenSpec { activities: 1_200, ..GenSpec::default() });
    let throttle = Throttle { group: "activity".into(), every: 3, retry_after_secs: 1.0 };
    let h = Harness::start(dataset, SimConfig { throttle: Some(throttle), ..SimConfig::default() }).await;
    let output = h.export(&[]).await;
    assert_success(&output);
    let expected = h.expected();
    for table in TABLES {
        h.store.assert_exact(table, &expected[table]).await;
    }

    // The JSON logs carry each table's duration and retries.
    let done: Vec<serde_json::Value> = stderr(&output)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|v| v["fields"]["message"] == "table done")
        .collect();
    let field = |table: &str, name: &str| {
        done.iter().find(|v| v["fields"]["table"] == table).map(|v| v["fields"][name].as_u64().unwrap()).unwrap()
    };
    assert!(field("activities", "retries") >= 3, "activities were throttled");
    let throttled_ms = field("activities", "duration_ms");
    assert!(throttled_ms >= 3_000, "activities waited out Retry-After ({throttled_ms} ms)");
    for table in ["leads", "tasks", "users"] {
        assert_eq!(field(table, "retries"), 0);
        assert!(field(table, "duration_ms") * 3 < throttled_ms, "{table} was held up by the activity throttle");
    }
}
