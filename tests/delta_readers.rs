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
COLUMNS
ext = glob.glob(os.path.join(sys.prefix, "lib", "python*", "site-packages", "duckdb_ext", "extensions"))
con = duckdb.connect(config={"extension_directory": ext[0]} if ext else {})
con.execute("LOAD delta")
out = {}
for table in tables:
    path = f"{lake}/{table}"
    duck = con.execute(f"select id, {version_sql[table]} from delta_scan('{path}')").fetchall()
    types = dict(con.execute(f"select column_name, column_type from (describe select * from delta_scan('{path}'))").fetchall())
    dt = DeltaTable(path)
    latest = dt.version()
    at = min(version, latest)
    versions = pl.col(columns[table]["version"])
    if columns[table]["version"] != "_close_lake_content_hash":
        versions = versions.dt.epoch("us")
    old = pl.scan_delta(path, version=at).select([pl.col("id"), versions]).collect()
    schema = {name: str(ty) for name, ty in pl.scan_delta(path).collect_schema().items()}
    delta_rs = DeltaTable(path, version=at).to_pyarrow_table(columns=["id"]).num_rows
    out[table] = {
        "duckdb": [[i, u] for i, u in duck],
        "version": latest,
        "polars_at": [[i, u] for i, u in old.iter_rows()],
        "duckdb_types": types,
        "polars_types": schema,
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
    let read = run_python_args(
        &READ.replace("COLUMNS\n", &python_columns(3)),
        &[lake.to_str().unwrap(), "0", &table_columns()],
    );
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
        // Every declared column reads with its type, in DuckDB and in Polars (through delta-rs).
        for column in close_lake::tables::by_name(table).unwrap().columns {
            use close_lake::convert::ColumnType;
            let (duck, polars) = match column.ty {
                ColumnType::Str | ColumnType::Json => ("VARCHAR", "String"),
                ColumnType::Timestamp => ("TIMESTAMP WITH TIME ZONE", "Datetime(time_unit='us', time_zone='UTC')"),
                ColumnType::Date => ("DATE", "Date"),
                ColumnType::Int => ("BIGINT", "Int64"),
                ColumnType::Float => ("DOUBLE", "Float64"),
                ColumnType::Bool => ("BOOLEAN", "Boolean"),
            };
            assert_eq!(seen["duckdb_types"][column.name], duck, "{table}.{}: DuckDB type", column.name);
            assert_eq!(seen["polars_types"][column.name], polars, "{table}.{}: Polars type", column.name);
        }
    }
}

const READ_GROWN: &str = r#"
import glob, json, os, sys
import duckdb, polars as pl
from deltalake import DeltaTable
path = sys.argv[1]
ext = glob.glob(os.path.join(sys.prefix, "lib", "python*", "site-packages", "duckdb_ext", "extensions"))
con = duckdb.connect(config={"extension_directory": ext[0]} if ext else {})
con.execute("LOAD delta")
duck = con.execute(f"select id, epoch_us(date_updated), status_label from delta_scan('{path}')").fetchall()
latest = DeltaTable(path)
first = DeltaTable(path, version=0)
print(json.dumps({
    "duckdb": [[i, u] for i, u, _ in duck],
    "duckdb_status_labels": sum(1 for _, _, s in duck if s is not None),
    "version": latest.version(),
    "deltalake_rows": latest.to_pyarrow_table(columns=["id"]).num_rows,
    "deltalake_has_status_label": "status_label" in latest.schema().to_arrow().names,
    "polars_columns_at_0": pl.scan_delta(path, version=0).collect_schema().names(),
    "polars_rows_at_0": pl.scan_delta(path, version=0).select("id").collect().height,
    "deltalake_rows_at_0": first.to_pyarrow_table(columns=["id"]).num_rows,
}))
os._exit(0)
"#;

/// `(id, date_updated)` of every row delta_kernel reads at `version` of a local table.
fn kernel_rows(table: &std::path::Path, version: u64) -> Vec<(String, i64)> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::TimestampMicrosecondType;
    use delta_kernel::engine::arrow_data::EngineDataArrowExt as _;
    use delta_kernel_default_engine::DefaultEngineBuilder;
    let store = std::sync::Arc::new(object_store::local::LocalFileSystem::new());
    let engine: std::sync::Arc<dyn delta_kernel::Engine> =
        std::sync::Arc::new(DefaultEngineBuilder::new(store).build());
    let snapshot = delta_kernel::Snapshot::builder_for(table.to_str().unwrap())
        .at_version(version)
        .build(engine.as_ref())
        .expect("delta_kernel opens the table");
    let scan = snapshot.scan_builder().build().expect("a scan");
    let mut rows = Vec::new();
    for data in scan.execute(engine.clone()).expect("the scan runs") {
        let batch = data.expect("data").try_into_record_batch().expect("a record batch");
        let ids = batch.column_by_name("id").unwrap().as_string::<i32>().clone();
        let updated = batch.column_by_name("date_updated").unwrap().as_primitive::<TimestampMicrosecondType>().clone();
        for i in 0..batch.num_rows() {
            rows.push((ids.value(i).to_string(), if updated.is_null(i) { i64::MIN } else { updated.value(i) }));
        }
    }
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reader_reads_a_checkpointed_table_whose_schema_grew_at_every_version() {
    let h = Harness::generated(GenSpec { activities: 50, leads: 60, tasks: 20, ..GenSpec::default() }).await;
    assert_success(&h.export(&["--tables", "leads"]).await);
    let first = h.expected()["leads"].clone();
    // An older release of close-lake wrote version 0 without the `status_label` column.
    let lake = h.lake();
    let v0 = lake.join("leads/_delta_log/00000000000000000000.json");
    let text = std::fs::read_to_string(&v0).unwrap();
    let mut lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for line in lines.iter_mut().filter(|l| l.get("metaData").is_some()) {
        let mut schema: serde_json::Value =
            serde_json::from_str(line["metaData"]["schemaString"].as_str().unwrap()).unwrap();
        schema["fields"].as_array_mut().unwrap().retain(|f| f["name"] != "status_label");
        line["metaData"]["schemaString"] = serde_json::Value::String(schema.to_string());
    }
    std::fs::write(&v0, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();

    // Eleven more runs: the first widens the schema, the tenth version brings a checkpoint.
    let mut latest = first.clone();
    for round in 0..11 {
        let at = chrono::Utc::now() - chrono::Duration::seconds(170 - round);
        h.sim.mutate(&Mutation { at, update_leads: 2, ..Mutation::default() });
        assert_success(&h.export(&["--tables", "leads"]).await);
        latest.extend(h.expected()["leads"].clone());
    }
    let log = lake.join("leads/_delta_log");
    let pointer: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(log.join("_last_checkpoint")).unwrap()).unwrap();
    assert_eq!(pointer["version"], 10, "a checkpoint ten versions after the first");
    assert!(log.join("00000000000000000010.checkpoint.parquet").exists());

    let read = run_python_args(READ_GROWN, &[lake.join("leads").to_str().unwrap()]);
    assert_eq!(read["version"], 11);
    let duck = pairs(&read["duckdb"]);
    assert_eq!(duck.len(), set(&duck).len(), "DuckDB sees a version twice");
    assert_eq!(set(&duck), latest, "DuckDB delta_scan through the checkpoint");
    assert!(read["duckdb_status_labels"].as_u64().unwrap() > 0, "the new column reads");
    assert_eq!(read["deltalake_rows"], latest.len());
    assert_eq!(read["deltalake_has_status_label"], true);
    let columns_at_0: Vec<&str> =
        read["polars_columns_at_0"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert!(!columns_at_0.contains(&"status_label") && columns_at_0.contains(&"name"), "{columns_at_0:?}");
    assert_eq!(read["polars_rows_at_0"], first.len());
    assert_eq!(read["deltalake_rows_at_0"], first.len());

    // delta_kernel reads every committed version: exactly the files the log holds at it.
    let table = lake.join("leads");
    for version in 0..=11u64 {
        let rows = tokio::task::spawn_blocking({
            let table = table.clone();
            move || kernel_rows(&table, version)
        })
        .await
        .unwrap();
        assert_eq!(rows.len(), set(&rows).len(), "delta_kernel at version {version} sees a version twice");
        let held = h.store.rows_at("leads", version).await;
        assert_eq!(rows, held, "delta_kernel at version {version}");
    }
    assert_eq!(set(&kernel_rows(&table, 0)), first);
    assert_eq!(set(&kernel_rows(&table, 11)), latest);
}
