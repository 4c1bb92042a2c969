//! `close-lake status` reports bookmarks, the last committed run and row/file counts per table.

mod common;

use close_sim::GenSpec;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_on_an_empty_lake_says_so() {
    let h = Harness::generated(GenSpec::default()).await;
    let lake = h.lake();
    let output = h.close_lake(&["status", "--dest", lake.to_str().unwrap()], &[]).await;
    assert_success(&output);
    assert!(String::from_utf8_lossy(&output.stdout).contains("no committed data"));
    assert!(!lake.exists(), "status creates nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reports_every_table_after_an_export() {
    let h = Harness::generated(GenSpec::default()).await;
    assert_success(&h.export(&[]).await);
    let lake = h.lake();
    let expected = h.expected();

    let text = h.close_lake(&["status", "--dest", lake.to_str().unwrap()], &[]).await;
    assert_success(&text);
    let stdout = String::from_utf8_lossy(&text.stdout).into_owned();
    for table in TABLES {
        let line =
            stdout.lines().find(|l| l.starts_with(table)).unwrap_or_else(|| panic!("no line for {table}:\n{stdout}"));
        assert!(line.contains(&format!("rows {}", expected[table].len())), "{line}");
        assert!(line.contains("bookmark 20") && line.contains("run #1"), "{line}");
    }

    let json = h.close_lake(&["status", "--dest", lake.to_str().unwrap(), "--json"], &[]).await;
    assert_success(&json);
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    for entry in parsed["tables"].as_array().unwrap() {
        let table = entry["table"].as_str().unwrap();
        assert_eq!(entry["rows"].as_u64().unwrap() as usize, expected[table].len());
        assert_eq!(entry["files"].as_u64().unwrap() as usize, h.store.parquet_files(table).await.len());
        assert!(entry["bookmark"].is_string());
    }
}
