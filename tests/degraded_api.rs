//! An API that is partly missing or briefly broken: an endpoint the plan lacks is a warning and an
//! empty list, a 200 whose body is cut short or is not JSON is retried like a 503, and a fault that
//! outlasts the retry budget fails its table alone, with one line.

mod common;

use std::collections::BTreeSet;

use close_sim::{Dataset, Fault, FaultKind, GenSpec, SimConfig, Unavailable};
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_without_custom_objects_commits_custom_fields_with_a_warning() {
    for status in [402, 403, 404] {
        let unavailable = vec![Unavailable { path: "custom_field/custom_object_type/".into(), status }];
        let h =
            Harness::start(Dataset::generate(&GenSpec::default()), SimConfig { unavailable, ..SimConfig::default() })
                .await;
        let output = h.export(&["--tables", "custom_fields"]).await;
        assert_success(&output);
        let log = stderr(&output);
        let warnings: Vec<&str> =
            log.lines().filter(|l| l.contains("WARN") && l.contains("custom_object_type")).collect();
        assert_eq!(warnings.len(), 1, "{status}: {}", stderr(&output));
        // Every field listed elsewhere landed; only what the missing endpoint alone lists is absent.
        let data = h.sim.snapshot();
        let elsewhere: BTreeSet<&str> = data
            .custom_fields
            .iter()
            .filter(|(kind, _)| kind != "custom_object_type")
            .filter_map(|(_, field)| field["id"].as_str())
            .collect();
        let expected = versions(
            data.custom_fields
                .iter()
                .map(|(_, f)| f)
                .filter(|f| elsewhere.contains(f["id"].as_str().unwrap_or_default())),
        );
        assert!(!expected.is_empty());
        h.store.assert_exact("custom_fields", &expected).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_with_a_cut_or_foreign_body_is_retried_and_the_lake_is_exact() {
    let faults = vec![
        Fault { group: "activity".into(), every: 4, kind: FaultKind::CutBody },
        Fault { group: "event".into(), every: 3, kind: FaultKind::NotJson },
        Fault { group: "task".into(), every: 3, kind: FaultKind::CutBody },
        Fault { group: "custom_field".into(), every: 4, kind: FaultKind::NotJson },
        Fault { group: "lead".into(), every: 3, kind: FaultKind::Status(503) },
    ];
    let spec = GenSpec { activities: 1_200, tasks: 300, events: 200, ..GenSpec::default() };
    let h = Harness::start(Dataset::generate(&spec), SimConfig { faults, ..SimConfig::default() }).await;
    let output = h.export(&[]).await;
    assert_success(&output);
    let expected = h.expected();
    for table in TABLES {
        h.store.assert_exact(table, &expected[table]).await;
    }
    let retried = stderr(&output).lines().filter(|l| l.contains("not the JSON Close documents")).count();
    assert!(retried >= 4, "body faults were retried ({retried})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_fault_past_the_retry_budget_fails_its_table_alone_with_one_line() {
    let faults = vec![Fault { group: "task".into(), every: 1, kind: FaultKind::CutBody }];
    let h = Harness::start(Dataset::generate(&GenSpec::default()), SimConfig { faults, ..SimConfig::default() }).await;
    let output = h.export(&["--tables", "tasks,users"]).await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let log = stderr(&output);
    let failures: Vec<&str> = log.lines().filter(|l| l.starts_with("close-lake: ")).collect();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(failures[0].starts_with("close-lake: tasks: ") && failures[0].contains("not the JSON Close documents"));
    assert!(failures[1].contains("1 of 2 tables failed"));
    assert!(h.store.parquet_files("tasks").await.is_empty(), "nothing partial committed");
    h.store.assert_exact("users", &h.expected()["users"]).await;
}
