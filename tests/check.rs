//! `close-lake check` probes the key, each table's endpoint with the parameters an export sends,
//! the rate limits and the destination, one line each, and writes no data.

mod common;

use close_sim::{Dataset, GenSpec, SimConfig, Unavailable};
use common::*;

fn lines(output: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout).lines().map(str::to_string).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_account_passes_every_check_and_nothing_is_written() {
    let h = Harness::generated(GenSpec::default()).await;
    let output = h.close_lake(&["check", "--dest", h.store.dest.as_str()], &[("CLOSE_LAKE_LAG", "0s")]).await;
    assert_success(&output);
    let lines = lines(&output);
    for needle in [
        "ok    key ",
        "ok    activities activity/",
        "ok    event_log event/",
        "ok    leads lead/",
        "ok    tasks task/",
        "ok    users user/",
        "ok    custom_fields custom_field/custom_object_type/",
        "ok    rate limits ",
        "ok    destination ",
    ] {
        assert_eq!(lines.iter().filter(|l| l.starts_with(needle)).count(), 1, "{needle}: {lines:#?}");
    }
    for table in TABLES {
        let probed = lines.iter().filter(|l| l.starts_with(&format!("ok    {table} "))).count();
        assert!(probed >= 1, "{table} is probed: {lines:#?}");
    }
    assert_eq!(lines.iter().filter(|l| l.contains("data/search/")).count(), 2, "contacts and custom objects search");
    assert!(lines.iter().all(|l| l.starts_with("ok ")), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("_order_by=date_created") && l.contains("date_updated__gte")));
    for table in TABLES {
        assert!(h.store.parquet_files(table).await.is_empty(), "check wrote {table}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_key_is_one_failed_line_and_status_2() {
    let h = Harness::generated(GenSpec::default()).await;
    let output = h.close_lake(&["check", "--dest", h.store.dest.as_str()], &[("CLOSE_API_KEY", "api_wrong")]).await;
    assert_eq!(output.status.code(), Some(2));
    let lines = lines(&output);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].starts_with("fail  key") && lines[0].contains("CLOSE_API_KEY"), "{lines:#?}");
    assert!(!stderr(&output).contains("api_wrong") && !lines[0].contains("api_wrong"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_optional_endpoint_warns_and_a_refused_one_fails_with_status_1() {
    let unavailable = vec![
        Unavailable { path: "custom_field/custom_object_type/".into(), status: 402 },
        Unavailable { path: "task/".into(), status: 403 },
    ];
    let h =
        Harness::start(Dataset::generate(&GenSpec::default()), SimConfig { unavailable, ..SimConfig::default() }).await;
    let output = h.close_lake(&["check", "--dest", h.store.dest.as_str()], &[]).await;
    assert_eq!(output.status.code(), Some(1));
    let lines = lines(&output);
    assert!(lines.iter().any(|l| l.starts_with("warn  custom_fields custom_field/custom_object_type/")), "{lines:#?}");
    assert!(lines.iter().any(|l| l.starts_with("fail  tasks task/") && l.contains("Fix:")), "{lines:#?}");
    assert!(lines.iter().any(|l| l.starts_with("ok    destination")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_destination_fails_with_status_2() {
    let h = Harness::generated(GenSpec::default()).await;
    let file = h.dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let dest = file.join("lake");
    let output = h.close_lake(&["check", "--dest", dest.to_str().unwrap()], &[]).await;
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(lines(&output).iter().any(|l| l.starts_with("fail  destination")));
}
