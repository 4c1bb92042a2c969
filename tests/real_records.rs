//! The records of a real Close sandbox account (fixtures/real-records.jsonl, as published by another
//! connector's tests) survive export: every top-level field is recoverable from the lake, as a typed
//! column, inside `custom_by_id`, or inside the extras column.

mod common;

use std::path::Path;

use close_sim::{Dataset, SimConfig};
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_of_every_real_record_is_recoverable() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/real-records.jsonl");
    let dataset = Dataset::from_real_records(&fixture).expect("fixture loads");
    let h = Harness::start(dataset, SimConfig { event_retention_days: None, ..SimConfig::default() }).await;
    assert_success(&h.export(&[]).await);
    let expected = h.expected();
    // The published streams hold no custom objects, custom object types, SMS templates or groups.
    let absent = ["custom_objects", "custom_object_types", "sms_templates", "groups"];
    for table in TABLES {
        assert_eq!(expected[table].is_empty(), absent.contains(&table), "the fixture has {table} or not");
        h.store.assert_exact(table, &expected[table]).await;
    }

    let data = h.sim.snapshot();
    let mut records = serde_json::json!({
        "activities": data.activities,
        "custom_fields": data.custom_fields.iter().map(|(_, r)| r).collect::<Vec<_>>(),
        "event_log": data.events,
        "leads": data.leads,
        "opportunities": data.opportunities,
        "tasks": data.tasks,
        "users": data.users,
        "contacts": data.contacts,
    });
    for (table, rows) in &data.configuration {
        records[table.as_str()] = serde_json::json!(rows);
    }
    assert!(records.as_object().unwrap().len() >= 16, "every table the fixture has is checked");
    let records_file = h.dir.path().join("records.json");
    std::fs::write(&records_file, records.to_string()).unwrap();
    // The check reads records.json beside the lake folder.
    let lost = run_python(CHECK, &h.lake());
    assert_eq!(lost, serde_json::json!([]), "fields not recoverable from the lake");
}

/// For each record, finds its row (by id and date_updated) and checks every field.
const CHECK: &str = r#"
import datetime, duckdb, json, os, sys
lake = sys.argv[1].rstrip("/")
records = json.load(open(os.path.join(os.path.dirname(lake), "records.json")))
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)

def micros(text):
    if len(text) == 10:
        return None
    dt = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return (dt - EPOCH) // datetime.timedelta(microseconds=1)

def same(column_type, stored, value):
    if value is None:
        return stored is None
    if stored is None:
        return False
    if column_type == "TIMESTAMP WITH TIME ZONE":
        return isinstance(value, str) and micros(value) == stored
    if column_type == "DATE":
        return isinstance(value, str) and value[:10] == stored
    if isinstance(stored, str):
        if isinstance(value, str) and stored == value:
            return True
        try:
            return json.loads(stored) == value
        except ValueError:
            return str(value) == stored
    return stored == value

lost = []
for table, rows in records.items():
    rel = f"read_parquet('{lake}/{table}/**/*.parquet', hive_partitioning = true, union_by_name = true)"
    types = dict(con.execute(f"select column_name, column_type from (describe select * from {rel})").fetchall())
    select = ", ".join(
        f'epoch_us("{c}") as "{c}"' if t == "TIMESTAMP WITH TIME ZONE" else (f'cast("{c}" as varchar) as "{c}"' if t == "DATE" else f'"{c}"')
        for c, t in types.items()
    )
    for record in rows:
        if "date_updated" in record:
            where, args = "id = ? and epoch_us(date_updated) = ?", [record["id"], micros(record["date_updated"])]
        else:  # versioned by content: one version of each record here
            where, args = "id = ?", [record["id"]]
        found = con.execute(f"select {select} from {rel} where {where}", args).fetchall()
        if len(found) != 1:
            lost.append([table, record["id"], "row", len(found)])
            continue
        row = dict(zip(types.keys(), found[0]))
        extras = json.loads(row.get("_close_lake_extra") or "{}")
        by_id = json.loads(row.get("custom_by_id") or "{}")
        for field, value in record.items():
            if field.startswith("custom.") and field[7:] in by_id:
                ok = by_id[field[7:]] == value
            elif field in extras:
                ok = extras[field] == value
            elif field in row:
                ok = same(types[field], row[field], value)
            else:
                ok = False
            if not ok:
                lost.append([table, record["id"], field])
print(json.dumps(lost))
"#;
