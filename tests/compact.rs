//! `close-lake compact` merges a partition's small files: a Delta reader's results over every table
//! are the same before and after, a reader that began before keeps its snapshot, the number of
//! committed files drops, and once a vacuum has run every file in a table folder is a live one.

mod common;

use close_sim::{GenSpec, Mutation};
use common::*;
use serde_json::Value;

/// Every row of every table as DuckDB reads it, through the Delta log (`delta_scan`) or as a glob
/// of the table folder: each row as its id, version and a hash of all its columns.
fn all_rows(h: &Harness, reader: &str) -> Value {
    run_python_args(
        &r#"
import glob, json, os, sys
import duckdb
lake, reader = sys.argv[1], sys.argv[2]
COLUMNS
ext = glob.glob(os.path.join(sys.prefix, "lib", "python*", "site-packages", "duckdb_ext", "extensions"))
con = duckdb.connect(config={"extension_directory": ext[0]} if ext else {})
con.execute("LOAD delta")
out = {}
for t in tables:
    if reader == "delta":
        rel = f"delta_scan('{lake}/{t}')"
    else:
        rel = f"read_parquet('{lake}/{t}/*=*/*.parquet', hive_partitioning = true, union_by_name = true)"
    out[t] = con.execute(f"select id, {version_sql[t]}, md5(cast(r as varchar)) from {rel} r order by all").fetchall()
print(json.dumps(out))
"#
        .replace("COLUMNS\n", &python_columns(3)),
        &[h.lake().to_str().unwrap(), reader, &table_columns()],
    )
}

fn count(rows: &Value) -> usize {
    TABLES.iter().map(|t| rows[t].as_array().unwrap().len()).sum()
}

/// A deltalake reader that opens every table, then (told to go on) reads them: a reader that
/// began before whatever the test does in between.
const EARLY_READER: &str = r#"
import json, sys
from deltalake import DeltaTable
lake = sys.argv[1]
tables = {t: DeltaTable(f"{lake}/{t}") for t in json.loads(sys.argv[2])}
print("opened", flush=True)
sys.stdin.readline()
print(json.dumps({t: sorted(dt.to_pyarrow_table(columns=["id"]).column("id").to_pylist()) for t, dt in tables.items()}), flush=True)
import os; os._exit(0)
"#;

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
async fn compaction_keeps_every_row_once_and_readers_keep_their_snapshot() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let h = Harness::generated(GenSpec { activities: 800, ..GenSpec::default() }).await;
    assert_success(&h.export(&[]).await);
    let mut expected = h.expected();
    // Small runs add small files to the current month's partitions.
    let change = Mutation { new_activities: 3, update_leads: 2, update_tasks: 2, ..Default::default() };
    small_runs(&h, 4, &change, &mut expected).await;
    let committed_before = h.store.committed_files().await.len();
    let before = all_rows(&h, "delta");
    assert_eq!(all_rows(&h, "glob"), before, "before the compaction, the folders hold committed files only");
    let status_before = h.close_lake(&["status", "--dest", &h.store.dest, "--json"], &[]).await;

    // A reader that opened every table before the compaction reads after it.
    let mut reader = tokio::process::Command::new(python())
        .args(["-c", EARLY_READER, h.lake().to_str().unwrap(), &serde_json::to_string(&TABLES).unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(reader.stdout.take().unwrap()).lines();
    assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("opened"));
    let output = h.close_lake(&["compact", "--dest", &h.store.dest], &[]).await;
    assert_success(&output);
    reader.stdin.take().unwrap().write_all(b"go\n").await.unwrap();
    let early: Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    for table in TABLES {
        let ids: Vec<&str> = before[table].as_array().unwrap().iter().map(|r| r[0].as_str().unwrap()).collect();
        let mut ids: Vec<&str> = ids;
        ids.sort();
        let seen: Vec<&str> = early[table].as_array().unwrap().iter().map(|i| i.as_str().unwrap()).collect();
        assert_eq!(seen, ids, "{table}: a reader that began before the compaction reads its snapshot whole");
    }

    let committed_after = h.store.committed_files().await.len();
    let (delta, glob) = (all_rows(&h, "delta"), all_rows(&h, "glob"));
    eprintln!(
        "after the compaction: {committed_before} -> {committed_after} committed files; rows: Delta reader {}, glob reader {} (before: {})",
        count(&delta),
        count(&glob),
        count(&before)
    );
    assert!(committed_after < committed_before, "files: {committed_before} before, {committed_after} after");
    assert_eq!(delta, before, "a Delta reader's results are unchanged");
    assert!(count(&glob) > count(&before), "a glob reader sees the inputs the vacuum has not deleted yet");

    // The inputs stay for the retention (time travel across the compaction works); a vacuum
    // without retention deletes them, and a glob then agrees with the log.
    h.vacuum_now().await;
    assert_eq!(all_rows(&h, "glob"), before, "after the vacuum");
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
    h.vacuum_now().await;
    h.store.assert_clean().await;
}
