//! The tables beyond the six: records without timestamps versioned by content (A, then B, then A again
//! is three rows), the three timestamp shapes landing typed, a plan without custom objects, bulk edits
//! of thousands in one instant, and the pipeline report of docs/reading.md on the simulator's data.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Int64Type, TimestampMicrosecondType};
use close_sim::{GenSpec, Mutation, SimConfig, Unavailable};
use common::*;
use serde_json::Value;

const CONTENT: &str = "lead_statuses,opportunity_statuses,roles,groups";

/// `(id, label or name, seen at)` of every row of a table versioned by content.
async fn content_rows(h: &Harness, table: &str) -> Vec<(String, String, i64)> {
    let mut rows = Vec::new();
    for batch in h.store.read_batches(table).await {
        let ids = batch.column_by_name("id").unwrap().as_string::<i32>().clone();
        let field = if table.ends_with("statuses") { "label" } else { "name" };
        let names = batch.column_by_name(field).unwrap().as_string::<i32>().clone();
        let seen = batch.column_by_name("_close_lake_seen_at").unwrap();
        let seen = seen.as_primitive::<TimestampMicrosecondType>().clone();
        let hashes = batch.column_by_name("_close_lake_content_hash").unwrap().as_primitive::<Int64Type>().clone();
        assert_eq!(hashes.null_count(), 0, "{table}: every row has its content hash");
        for i in 0..batch.num_rows() {
            rows.push((ids.value(i).to_string(), names.value(i).to_string(), seen.value(i)));
        }
    }
    rows.sort_by_key(|(id, _, seen)| (id.clone(), *seen));
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_without_timestamps_gain_a_version_per_change_of_content() {
    let h = Harness::generated(GenSpec { leads: 20, ..GenSpec::default() }).await;
    let first = h.sim.snapshot();
    assert_success(&h.export(&["--tables", CONTENT]).await);
    let commits = h.store.commits().await;
    assert_success(&h.export(&["--tables", CONTENT]).await);
    assert_eq!(h.store.commits().await, commits, "a record seen unchanged adds nothing");

    // A, then B, then A again: three versions of the edited records, one of the others.
    let at = chrono::Utc::now() - chrono::Duration::minutes(2);
    h.sim.mutate(&Mutation { at, update_configuration: 1, ..Mutation::default() });
    assert_success(&h.export(&["--tables", CONTENT]).await);
    h.sim.mutate(&Mutation { at, update_configuration: 1, ..Mutation::default() });
    assert_success(&h.export(&["--tables", CONTENT]).await);
    let now = h.sim.snapshot();
    for table in CONTENT.split(',') {
        assert!(now.configuration[table] == first.configuration[table], "{table}: the second edit restored it");
    }

    for table in CONTENT.split(',') {
        let rows = content_rows(&h, table).await;
        let records = &first.configuration[table];
        let edited = records[0]["id"].as_str().unwrap();
        let history: Vec<&str> =
            rows.iter().filter(|(id, ..)| id == edited).map(|(_, name, _)| name.as_str()).collect();
        let original = records[0].get("label").or(records[0].get("name")).and_then(Value::as_str).unwrap();
        let changed = format!("{original} (edited)");
        assert_eq!(history, [original, changed.as_str(), original], "{table}: A, B, A");
        let seen: BTreeSet<i64> = rows.iter().filter(|(id, ..)| id == edited).map(|(.., seen)| *seen).collect();
        assert_eq!(seen.len(), 3, "{table}: each version keyed by the run that first saw it");
        assert_eq!(rows.len(), records.len() + 2, "{table}: the others once each");
        // The versions are the contents: A's hash twice for the edited record, B's once.
        let held: BTreeSet<(String, i64)> = h.store.rows(table).await.into_iter().collect();
        assert!(held.is_superset(&expected_versions(&first)[table]), "{table}: every original content");
        assert_eq!(held.len(), records.len() + 1, "{table}: one more content, the edit");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_timestamp_shape_lands_typed() {
    let h = Harness::generated(GenSpec { leads: 20, ..GenSpec::default() }).await;
    assert_success(&h.export(&["--tables", "roles,pipelines,email_templates,sequences,custom_object_types"]).await);
    let data = h.sim.snapshot();
    let shapes: BTreeMap<&str, &str> = BTreeMap::from([
        ("roles", "0001-01-01T00:00:00"),
        ("pipelines", "2021-07-13T11:36:04.983404"),
        ("email_templates", "2022-08-11T18:11:08.966000+00:00"),
    ]);
    for (table, example) in &shapes {
        assert!(
            data.configuration[*table].iter().any(|r| r["date_updated"] == *example),
            "{table} serves the shape {example}"
        );
    }
    for table in ["roles", "pipelines", "email_templates", "sequences", "custom_object_types"] {
        let mut got = Vec::new();
        for batch in h.store.read_batches(table).await {
            let ids = batch.column_by_name("id").unwrap().as_string::<i32>().clone();
            let column =
                |name: &str| batch.column_by_name(name).unwrap().as_primitive::<TimestampMicrosecondType>().clone();
            let (created, updated) = (column("date_created"), column("date_updated"));
            let value = |a: &arrow::array::TimestampMicrosecondArray, i: usize| (!a.is_null(i)).then(|| a.value(i));
            for i in 0..batch.num_rows() {
                got.push((ids.value(i).to_string(), value(&created, i), value(&updated, i)));
            }
        }
        got.sort();
        // A custom role has no dates at all; every date a record has lands typed.
        let date = |r: &Value, field: &str| r.get(field).map(micros);
        let mut want: Vec<(String, Option<i64>, Option<i64>)> = data.configuration[table]
            .iter()
            .map(|r| (r["id"].as_str().unwrap().to_string(), date(r, "date_created"), date(r, "date_updated")))
            .collect();
        want.sort();
        assert_eq!(got, want, "{table}: every timestamp to the microsecond");
    }
    let year_one: i64 = -62_135_596_800_000_000;
    let roles = h.store.rows("roles").await;
    assert!(!roles.is_empty());
    let duck = run_python(
        r#"
import duckdb, glob, json, os, sys
ext = glob.glob(os.path.join(sys.prefix, "lib", "python*", "site-packages", "duckdb_ext", "extensions"))
con = duckdb.connect(config={"extension_directory": ext[0]} if ext else {})
con.execute("LOAD delta")
print(json.dumps(con.execute(f"select id, epoch_us(date_created) from delta_scan('{sys.argv[1]}/roles') order by 1").fetchall()))
"#,
        &h.lake(),
    );
    let built_in: Vec<&Value> = duck.as_array().unwrap().iter().filter(|r| r[1] == year_one).collect();
    assert_eq!(built_in.len(), 3, "DuckDB reads the built-in roles' year 1: {duck}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_without_custom_objects_is_a_warning_and_empty_tables() {
    let unavailable = ["custom_object", "custom_object_type", "custom_field/custom_object_type"]
        .map(|path| Unavailable { path: path.to_string(), status: 403 });
    let config = SimConfig { unavailable: unavailable.to_vec(), ..SimConfig::default() };
    let dataset = close_sim::Dataset::generate(&GenSpec { leads: 20, ..GenSpec::default() });
    let h = Harness::start(dataset, config).await;
    let output = h.export(&["--tables", "custom_objects,custom_object_types,contacts"]).await;
    assert_success(&output);
    let log = stderr(&output);
    let warned = |what: &str| log.lines().any(|l| l.contains("WARN") && l.contains("403") && l.contains(what));
    assert!(warned("lacks custom_objects"), "the search's warning names the table: {log}");
    assert!(warned("custom_object_type/"), "the listing's warning names its endpoint: {log}");
    for table in ["custom_objects", "custom_object_types"] {
        assert!(h.store.rows(table).await.is_empty(), "{table}: no rows");
        let log = h.store.objects(&format!("{table}/_delta_log")).await;
        assert!(!log.is_empty(), "{table}: created empty, so queries over the lake find it");
    }
    h.store.assert_exact("contacts", &expected_versions(&h.sim.snapshot())["contacts"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_edits_of_thousands_in_one_instant_land_exactly() {
    let h = Harness::generated(GenSpec { activities: 50, leads: 1_500, tasks: 20, ..GenSpec::default() }).await;
    let tables = "opportunities,contacts,custom_objects";
    assert_success(&h.export(&["--tables", tables]).await);
    let mut expected = h.expected();
    let at = chrono::Utc::now() - chrono::Duration::minutes(2);
    let report = h.sim.mutate(&Mutation {
        at,
        update_opportunities: 1_200,
        update_contacts: 2_500,
        update_custom_objects: 1_000,
        ..Mutation::default()
    });
    assert!(report.changed_ids["contacts"].len() >= 2_500, "thousands of contacts share one date_updated");
    assert_success(&h.export(&["--tables", tables]).await);
    for (table, now) in h.expected() {
        expected.get_mut(table).unwrap().extend(now);
    }
    for table in tables.split(',') {
        h.store.assert_exact(table, &expected[table]).await;
    }
}

/// The SQL block after `<!-- pipeline-report -->` in docs/reading.md.
fn pipeline_report_sql() -> String {
    let doc = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/reading.md"))
        .expect("docs/reading.md");
    let after = doc.split("<!-- pipeline-report -->").nth(1).expect("the report's marker");
    let block = after.split("```sql").nth(1).and_then(|b| b.split("```").next()).expect("a sql block");
    block.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pipeline_report_of_the_docs_runs_on_the_lake() {
    let h = Harness::generated(GenSpec { leads: 300, ..GenSpec::default() }).await;
    let at = chrono::Utc::now() - chrono::Duration::minutes(2);
    assert_success(&h.export(&[]).await);
    h.sim.mutate(&Mutation { at, update_opportunities: 10, delete_opportunities: 3, ..Mutation::default() });
    assert_success(&h.export(&[]).await);
    let sql = h.close_lake(&["sql", "--dest", &h.store.dest], &[]).await;
    assert_success(&sql);
    let report = run_python_args(
        r#"
import duckdb, glob, json, os, sys
ext = glob.glob(os.path.join(sys.prefix, "lib", "python*", "site-packages", "duckdb_ext", "extensions"))
con = duckdb.connect(config={"extension_directory": ext[0]} if ext else {})
con.execute("SET TimeZone = 'UTC'")
con.execute(sys.argv[1].replace("INSTALL delta;", ""))
print(json.dumps([[str(c) for c in row] for row in con.execute(sys.argv[2]).fetchall()]))
"#,
        &[&String::from_utf8(sql.stdout).unwrap(), &pipeline_report_sql()],
    );

    // The same report from the simulator's records.
    let data = h.sim.snapshot();
    let find = |table: &str, id: &Value| data.configuration[table].iter().find(|r| r["id"] == *id).cloned();
    let mut want: BTreeMap<(String, String, String), (u64, i64)> = BTreeMap::new();
    for o in &data.opportunities {
        let Some(status) = find("opportunity_statuses", &o["status_id"]) else { continue };
        let (Some(won), true) = (o["date_won"].as_str(), status["type"] == "won") else { continue };
        let pipeline = find("pipelines", &status["pipeline_id"]).expect("its pipeline");
        let user = data.users.iter().find(|u| u["id"] == o["user_id"]).expect("its owner");
        let owner = format!("{} {}", user["first_name"].as_str().unwrap(), user["last_name"].as_str().unwrap());
        let entry =
            want.entry((won[..7].to_string(), pipeline["name"].as_str().unwrap().to_string(), owner)).or_default();
        *entry = (entry.0 + 1, entry.1 + o["value"].as_i64().unwrap());
    }
    assert!(want.len() >= 5, "a report worth the name: {want:?}");
    assert!(want.keys().map(|(_, pipeline, _)| pipeline).collect::<BTreeSet<_>>().len() >= 2, "two pipelines");
    let got: BTreeMap<(String, String, String), (u64, i64)> = report
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let text = |i: usize| row[i].as_str().unwrap().to_string();
            let value = text(4).parse::<f64>().unwrap();
            ((text(0), text(1), text(2)), (text(3).parse().unwrap(), (value * 100.0).round() as i64))
        })
        .collect();
    assert_eq!(got, want);
}
