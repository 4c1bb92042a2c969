//! Every table is a Delta Lake table: DuckDB's `delta_scan`, Python `deltalake` and Polars
//! `scan_delta` read exactly the committed versions, at the latest version and, by time travel, at
//! an older one.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use close_sim::{GenSpec, Mutation};
use common::*;

const READ: &str = r#"
import glob, json, os, sys
import duckdb, polars as pl
from deltalake import DeltaTable
lake, version = sys.argv[1], int(sys.argv[2])
ext = glob.glob(os.path.join(sys.prefix, "lib", "python*", "site-packages", "duckdb_ext", "extensions"))
con = duckdb.connect(config={"extension_directory": ext[0]} if ext else {})
con.execute("LOAD delta")
out = {}
for table in ["activities", "custom_fields", "event_log", "leads", "tasks", "users"]:
    path = f"{lake}/{table}"
    duck = con.execute(f"select id, epoch_us(date_updated) from delta_scan('{path}')").fetchall()
    dt = DeltaTable(path)
    latest = dt.version()
    at = min(version, latest)
    old = pl.scan_delta(path, version=at).select(["id", "date_updated"]).collect()
    delta_rs = DeltaTable(path, version=at).to_pyarrow_table(columns=["id"]).num_rows
    out[table] = {
        "duckdb": [[i, u] for i, u in duck],
        "version": latest,
        "polars_at": [[i, int(u.timestamp() * 1_000_000) if u else None] for i, u in old.iter_rows()],
        "deltalake_rows_at": delta_rs,
    }
print(json.dumps(out))
os._exit(0)
"#;

fn pairs(value: &serde_json::Value) -> Vec<(String, i64)> {
    value
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| (row[0].as_str().expect("id").to_string(), row[1].as_i64().unwrap_or(i64::MIN)))
        .collect()
}

fn set(rows: &[(String, i64)]) -> BTreeSet<(String, i64)> {
    rows.iter().cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delta_readers_read_every_table_at_the_latest_and_an_older_version() {
    let h = Harness::generated(GenSpec { activities: 800, leads: 120, tasks: 150, ..GenSpec::default() }).await;
    assert_success(&h.export(&[]).await);
    let first = h.expected();
    h.sim.mutate(&Mutation {
        at: chrono::Utc::now() - chrono::Duration::minutes(2),
        new_activities: 5,
        update_leads: 4,
        update_tasks: 3,
        ..Mutation::default()
    });
    assert_success(&h.export(&[]).await);
    let mut latest: BTreeMap<&str, BTreeSet<(String, i64)>> = first.clone();
    for (table, now) in h.expected() {
        latest.get_mut(table).unwrap().extend(now);
    }

    let lake = h.lake();
    let read = run_python_args(READ, &[lake.to_str().unwrap(), "0"]);
    for table in TABLES {
        let seen = &read[table];
        let duck = pairs(&seen["duckdb"]);
        assert_eq!(duck.len(), set(&duck).len(), "{table}: DuckDB sees a version twice");
        assert_eq!(set(&duck), latest[table], "{table}: DuckDB delta_scan at the latest version");
        let changed = ["activities", "event_log", "leads", "tasks"].contains(&table);
        assert_eq!(seen["version"], if changed { 1 } else { 0 }, "{table}: one Delta version per committed run");
        let old = pairs(&seen["polars_at"]);
        assert_eq!(set(&old), first[table], "{table}: Polars at version 0 sees the first run only");
        assert_eq!(seen["deltalake_rows_at"], first[table].len(), "{table}: deltalake at version 0");
    }
}
