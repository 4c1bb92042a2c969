//! `close-lake compact` merges a partition's small files: query results over every table are the
//! same before and after, the number of files drops, and every file in a table folder is one the
//! Delta log says is live.

mod common;

use close_sim::{GenSpec, Mutation};
use common::*;
use serde_json::Value;

/// Every row of every table, each as its id, version and a hash of all its columns.
fn all_rows(h: &Harness) -> Value {
    run_python(
        r#"
import duckdb, json, sys
lake = sys.argv[1]
con = duckdb.connect()
out = {}
for t in ["activities", "custom_fields", "event_log", "leads", "tasks", "users"]:
    rel = f"read_parquet('{lake}/{t}/**/*.parquet', hive_partitioning = true, union_by_name = true)"
    out[t] = con.execute(f"select id, epoch_us(date_updated), md5(cast(r as varchar)) from {rel} r order by all").fetchall()
print(json.dumps(out))
"#,
        &h.lake(),
    )
}

/// `rounds` exports each after `change`, two minutes back (the lead query's minute) and a second
/// later each round; `expected` gains every version the API shows after each.
async fn small_runs(
    h: &Harness,
    rounds: i64,
    change: &Mutation,
    expected: &mut std::collections::BTreeMap<&'static str, std::collections::BTreeSet<(String, i64)>>,
) {
    for round in 0..rounds {
        h.sim.mutate(&Mutation { at: chrono::Utc::now() - chrono::Duration::seconds(120 - round), ..change.clone() });
        assert_success(&h.export(&[]).await);
        for (table, now) in h.expected() {
            expected.get_mut(table).unwrap().extend(now);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_keeps_every_row_once_and_drops_the_file_count() {
    let h = Harness::generated(GenSpec { activities: 800, ..GenSpec::default() }).await;
    assert_success(&h.export(&[]).await);
    let mut expected = h.expected();
    // Small runs add small files to the current month's partitions.
    let change = Mutation { new_activities: 3, update_leads: 2, update_tasks: 2, ..Default::default() };
    small_runs(&h, 4, &change, &mut expected).await;
    let files_before: usize =
        futures::future::join_all(TABLES.map(|t| h.store.parquet_files(t))).await.iter().map(Vec::len).sum();
    let before = all_rows(&h);
    let status_before = h.close_lake(&["status", "--dest", &h.store.dest, "--json"], &[]).await;

    let output = h.close_lake(&["compact", "--dest", &h.store.dest], &[]).await;
    assert_success(&output);
    let files_after: usize =
        futures::future::join_all(TABLES.map(|t| h.store.parquet_files(t))).await.iter().map(Vec::len).sum();
    eprintln!("parquet files: {files_before} before compaction, {files_after} after");
    assert!(files_after < files_before, "files: {files_before} before, {files_after} after");
    assert_eq!(all_rows(&h), before, "every query result is unchanged");
    h.store.assert_clean().await;
    for table in TABLES {
        h.store.assert_exact(table, &expected[table]).await;
    }

    // status still counts the same rows; a second compaction has nothing to do; exports go on.
    let status_after = h.close_lake(&["status", "--dest", &h.store.dest, "--json"], &[]).await;
    let rows = |o: &std::process::Output| -> Vec<u64> {
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v["tables"].as_array().unwrap().iter().map(|t| t["rows"].as_u64().unwrap()).collect()
    };
    assert_eq!(rows(&status_after), rows(&status_before));
    let again = h.close_lake(&["compact", "--dest", &h.store.dest], &[]).await;
    assert_success(&again);
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 partitions compacted"));
    h.sim.mutate(&Mutation {
        update_leads: 1,
        at: chrono::Utc::now() - chrono::Duration::minutes(2),
        ..Default::default()
    });
    assert_success(&h.export(&[]).await);
    for (table, now) in h.expected() {
        expected.get_mut(table).unwrap().extend(now);
    }
    for table in TABLES {
        h.store.assert_exact(table, &expected[table]).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_after_a_compaction_brings_no_retired_file_back() {
    let h = Harness::generated(GenSpec::default()).await;
    assert_success(&h.export(&[]).await);
    h.sim.mutate(&Mutation {
        update_leads: 2,
        at: chrono::Utc::now() - chrono::Duration::minutes(2),
        ..Default::default()
    });
    assert_success(&h.export(&[]).await);
    assert_success(&h.close_lake(&["compact", "--dest", &h.store.dest, "--tables", "leads"], &[]).await);
    let rows = h.store.rows("leads").await;
    assert_success(&h.export(&["--tables", "leads"]).await);
    assert_eq!(h.store.rows("leads").await, rows, "no retired file came back");
    h.store.assert_clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compaction_killed_after_its_commit_leaves_no_input_behind() {
    let h = Harness::generated(GenSpec::default()).await;
    assert_success(&h.export(&[]).await);
    let mut expected = h.expected();
    // Two small runs: two small files in this month's partition of leads.
    small_runs(&h, 2, &Mutation { update_leads: 2, ..Default::default() }, &mut expected).await;
    let compact = ["compact", "--dest", h.store.dest.as_str(), "--tables", "leads"];
    let killed = h.close_lake(&compact, &[("CLOSE_LAKE_CRASH_AT", "after-commit")]).await;
    assert!(!killed.status.success(), "the compaction committed, then died");
    h.store.assert_commits_whole().await;
    // The next run of the table deletes the inputs the dead compaction had retired.
    assert_success(&h.export(&["--tables", "leads"]).await);
    h.store.assert_exact("leads", &expected["leads"]).await;
    h.store.assert_clean().await;
}
