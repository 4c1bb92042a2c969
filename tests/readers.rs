//! DuckDB and Spark read all six tables after a full export, an incremental export with a field
//! and a custom field Close added in between, and a backfill; they agree with the simulator and
//! with each other, on rows, ids and types. The `<table>_latest` views of `close-lake sql` hold
//! one row per live record with its newest values.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use close_sim::{Dataset, GenSpec, Mutation, SimConfig, SimHandle};
use common::*;
use serde_json::{Value, json};

/// The tables read as plain Parquet globs: the six and opportunities (the configuration tables add
/// nothing a glob reader does differently, and each costs Spark a job).
const GLOB_TABLES: [&str; 7] = ["activities", "custom_fields", "event_log", "leads", "tasks", "users", "opportunities"];

const READ: &str = r#"
import json, sys
reader, lake = sys.argv[1], sys.argv[2]
tables = json.loads(sys.argv[3])
out = {}
if reader == "duckdb":
    import duckdb
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for t in tables:
        rel = f"read_parquet('{lake}/{t}/**/*.parquet', hive_partitioning = true, union_by_name = true)"
        types = {c: str(ty) for c, ty, *_ in con.execute(f"describe select * from {rel}").fetchall()}
        rows = con.execute(f"select id, epoch_us(date_updated) from {rel}").fetchall()
        extra = con.execute(f"select id, json_extract_string(_close_lake_extra, '$.brand_new_field') from {rel} where _close_lake_extra like '%brand_new_field%'").fetchall()
        out[t] = {"types": types, "rows": rows, "extra": extra}
    out["custom"] = con.execute(f"select id, json_extract_string(custom_by_id, '$.cf_created_between_runs') from read_parquet('{lake}/leads/**/*.parquet', hive_partitioning = true, union_by_name = true) where custom_by_id like '%cf_created_between_runs%'").fetchall()
else:
    from pyspark.sql import SparkSession
    spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
             .config("spark.sql.session.timeZone", "UTC").config("spark.sql.shuffle.partitions", "1").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    for t in tables:
        df = spark.read.option("basePath", f"{lake}/{t}").option("mergeSchema", "true").parquet(f"{lake}/{t}")
        df.createOrReplaceTempView(t)
        types = {f.name: f.dataType.simpleString() for f in df.schema.fields}
        rows = [list(r) for r in spark.sql(f"select id, unix_micros(date_updated) from {t}").collect()]
        extra = [list(r) for r in spark.sql(f"select id, get_json_object(_close_lake_extra, '$.brand_new_field') from {t} where _close_lake_extra like '%brand_new_field%'").collect()]
        out[t] = {"types": types, "rows": rows, "extra": extra}
    out["custom"] = [list(r) for r in spark.sql("select id, get_json_object(custom_by_id, '$.cf_created_between_runs') from leads where custom_by_id like '%cf_created_between_runs%'").collect()]
    spark.stop()
print(json.dumps(out))
"#;

fn read(reader: &str, lake: &std::path::Path) -> Value {
    run_python_args(READ, &[reader, lake.to_str().unwrap(), &serde_json::to_string(&GLOB_TABLES).unwrap()])
}

fn rows(seen: &Value, table: &str) -> Vec<(String, i64)> {
    let mut rows: Vec<(String, i64)> = seen[table]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[0].as_str().unwrap().to_string(), r[1].as_i64().unwrap()))
        .collect();
    rows.sort();
    rows
}

/// Two leads Close created after the first run: one carries a field no earlier record had, the
/// other a value of a custom field created between the runs.
fn with_new_fields(mut data: Dataset) -> (Dataset, Vec<String>) {
    // A minute and more back: the lead query's bounds are whole minutes.
    let now = chrono::Utc::now() - chrono::Duration::seconds(90);
    let stamp = now.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string();
    let mut first = data.leads[0].clone();
    first["id"] = json!("lead_brandnewfield000000000000000000000000001");
    first["date_updated"] = json!(stamp);
    first["brand_new_field"] = json!("arrived later");
    let mut second = data.leads[1].clone();
    second["id"] = json!("lead_brandnewfield000000000000000000000000002");
    second["date_updated"] = json!(stamp);
    second["custom.cf_created_between_runs"] = json!(["a", "b"]);
    let mut field = data.custom_fields[0].1.clone();
    field["id"] = json!("cf_created_between_runs");
    field["name"] = json!("Created between runs");
    field["date_created"] = json!(stamp);
    field["date_updated"] = json!(stamp);
    let ids = vec![first["id"].as_str().unwrap().to_string(), second["id"].as_str().unwrap().to_string()];
    data.leads.extend([first, second]);
    data.custom_fields.push(("lead".into(), field));
    (data, ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duckdb_and_spark_read_every_table_after_export_evolution_and_backfill() {
    let mut h = Harness::generated(GenSpec { activities: 1_200, leads: 80, tasks: 120, ..GenSpec::default() }).await;
    assert_success(&h.export(&[]).await);
    let before: BTreeMap<&str, BTreeSet<(String, i64)>> = h.expected();
    let first_types = read("duckdb", &h.lake());

    // Close changes between runs: edits, a delete, a new field, a new custom field.
    h.sim.mutate(&Mutation {
        update_leads: 5,
        delete_leads: 1,
        update_tasks: 4,
        new_activities: 3,
        update_activities: 4,
        at: chrono::Utc::now() - chrono::Duration::minutes(2),
        ..Default::default()
    });
    let (evolved, new_ids) = with_new_fields(h.sim.snapshot());
    h.sim = SimHandle::start(evolved, SimConfig { api_key: API_KEY.into(), ..SimConfig::default() }).await.unwrap();
    assert_success(&h.export(&[]).await);

    // A backfill of the whole history catches the old activities edited late.
    let from = "2020-01-01";
    let to = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive().to_string();
    let backfill = ["backfill", "--from", from, "--to", &to, "--tables", "activities", "--dest", &h.store.dest];
    assert_success(&h.close_lake(&backfill, &[("CLOSE_LAKE_LAG", "0s")]).await);

    let mut expected = before;
    for (table, now) in h.expected() {
        expected.get_mut(table).unwrap().extend(now);
    }
    let duck = read("duckdb", &h.lake());
    let spark = read("spark", &h.lake());
    for table in GLOB_TABLES {
        let want: Vec<(String, i64)> = expected[table].iter().cloned().collect();
        assert_eq!(rows(&duck, table), want, "{table}: DuckDB rows");
        assert_eq!(rows(&spark, table), want, "{table}: Spark rows");
        let key = if table == "activities" { "date_created" } else { "date_updated" };
        let (d, s) = (&duck[table]["types"], &spark[table]["types"]);
        assert_eq!(d["id"], "VARCHAR");
        assert_eq!(s["id"], "string");
        assert_eq!(d[key], "TIMESTAMP WITH TIME ZONE");
        assert_eq!(s[key], "timestamp");
        assert_eq!(d[format!("{key}_month")], "VARCHAR", "{table}: the partition reads as YYYY-MM text");
        assert_eq!(s[format!("{key}_month")], "string");
        assert_eq!(d, &first_types[table]["types"], "{table}: typed columns stay typed across runs");
    }
    assert_eq!(duck["tasks"]["types"]["date"], "DATE");
    assert_eq!(spark["tasks"]["types"]["date"], "date");
    assert_eq!(duck["activities"]["types"]["duration"], "BIGINT");
    assert_eq!(spark["activities"]["types"]["duration"], "bigint");
    assert_eq!(spark["tasks"]["types"]["is_complete"], "boolean");

    // Nothing the new records carried is lost, in either reader.
    for seen in [&duck, &spark] {
        assert_eq!(seen["leads"]["extra"], json!([[new_ids[0], "arrived later"]]));
        assert_eq!(seen["custom"], json!([[new_ids[1], "[\"a\",\"b\"]"]]));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_views_hold_one_row_per_live_record_with_its_newest_values() {
    let h = Harness::generated(GenSpec { leads: 60, tasks: 80, ..GenSpec::default() }).await;
    assert_success(&h.export(&[]).await);
    let report = h.sim.mutate(&Mutation {
        update_leads: 6,
        delete_leads: 2,
        update_tasks: 5,
        update_users: 1,
        update_custom_fields: 1,
        at: chrono::Utc::now() - chrono::Duration::minutes(2),
        ..Default::default()
    });
    assert_success(&h.export(&[]).await);
    let sql = h.close_lake(&["sql", "--dest", &h.store.dest], &[]).await;
    assert_success(&sql);
    let script = String::from_utf8(sql.stdout).unwrap();
    let latest = run_python_args(
        r#"
import duckdb, glob, json, os, sys
ext = glob.glob(os.path.join(sys.prefix, "lib", "python*", "site-packages", "duckdb_ext", "extensions"))
con = duckdb.connect(config={"extension_directory": ext[0]} if ext else {})
con.execute(sys.argv[1].replace("INSTALL delta;", ""))
out = {}
for t in ["custom_fields", "leads", "tasks", "users"]:
    out[t] = con.execute(f"select id, epoch_us(date_updated), name from {t}_latest" if t in ("leads", "custom_fields") else f"select id, epoch_us(date_updated), null from {t}_latest").fetchall()
print(json.dumps(out))
"#,
        &[&script],
    );
    let now = h.sim.snapshot();
    let deleted: BTreeSet<&str> = report.changed_ids["leads"]
        .iter()
        .map(String::as_str)
        .filter(|id| !now.leads.iter().any(|l| l["id"] == *id))
        .collect();
    assert_eq!(deleted.len(), 2);
    let current: BTreeMap<&str, BTreeSet<(String, i64)>> = BTreeMap::from([
        ("custom_fields", versions(now.custom_fields.iter().map(|(_, f)| f))),
        ("leads", versions(&now.leads)),
        ("tasks", versions(&now.tasks)),
        ("users", versions(&now.users)),
    ]);
    for (table, want) in current {
        let got: BTreeSet<(String, i64)> = latest[table]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r[0].as_str().unwrap().to_string(), r[1].as_i64().unwrap()))
            .collect();
        assert_eq!(latest[table].as_array().unwrap().len(), got.len(), "{table}_latest: one row per id");
        assert_eq!(got, want, "{table}_latest: the newest version of every live record");
    }
    let names: BTreeMap<&str, &str> =
        now.leads.iter().map(|l| (l["id"].as_str().unwrap(), l["name"].as_str().unwrap_or(""))).collect();
    for row in latest["leads"].as_array().unwrap() {
        assert_eq!(names[row[0].as_str().unwrap()], row[2].as_str().unwrap_or(""), "newest values");
        assert!(!deleted.contains(row[0].as_str().unwrap()));
    }
}
