//! The Delta Lake log of a table: `<table>/_delta_log/<version, 20 digits>.json`, one JSON action a
//! line (the open protocol at delta.io, reader 1 / writer 2).
//!
//! Each committed run is one version: `add` actions for its files (partition values, size,
//! modification time, `stats` with `numRecords` and the key's range), `remove` actions for what a
//! compaction retires (`dataChange: false` on both sides), a `txn` of app `close-lake` whose version
//! is the run's commit number, and a `commitInfo` carrying close-lake's own state under `closeLake`
//! (kind, run, window, bookmark, tail, totals, stats). Version 0 also carries `protocol` and
//! `metaData` (the table's schema, partitioned by the key's month). A version is created with a
//! create-if-absent write: exactly one run wins it, which makes it the commit point.
//!
//! This module turns [`Manifest`]s, close-lake's view of one commit, into log lines and back; it
//! knows nothing of the store.

use std::collections::BTreeMap;

use arrow_schema::{DataType, Schema};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::layout;
use super::manifest::{FileEntry, Manifest, RunKind};
use crate::time;

/// The `txn` app id of close-lake's commits.
pub const APP_ID: &str = "close-lake";

/// What close-lake knows of a table before reading its log: the schema version 0 declares, the
/// replication key (whose range each file's stats give) and the partition column (its month).
#[derive(Debug, Clone)]
pub struct TableMeta {
    pub schema: arrow_schema::SchemaRef,
    pub key: String,
    pub partition_column: String,
}

/// A file a commit removed, and when by the store's clock: a vacuum deletes it after the retention.
#[derive(Debug, Clone, PartialEq)]
pub struct Tombstone {
    pub file: FileEntry,
    pub deleted_at: time::Micros,
}

/// The actions of a commit or a checkpoint, as close-lake reads them.
#[derive(Debug, Default)]
pub struct Actions {
    pub adds: Vec<FileEntry>,
    pub removes: Vec<Tombstone>,
    pub protocol: Option<Value>,
    pub meta_data: Option<Value>,
    /// close-lake's state, in the `commitInfo` of each of its commits (never in checkpoints).
    pub state: Option<Manifest>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Add {
    path: String,
    partition_values: BTreeMap<String, Option<String>>,
    size: u64,
    modification_time: i64,
    data_change: bool,
    #[serde(default)]
    stats: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Remove {
    path: String,
    #[serde(default)]
    deletion_timestamp: Option<i64>,
    data_change: bool,
    #[serde(default)]
    extended_file_metadata: Option<bool>,
    #[serde(default)]
    partition_values: Option<BTreeMap<String, Option<String>>>,
    #[serde(default)]
    size: Option<u64>,
}

/// One line of a commit: exactly one action. Actions close-lake does not use are ignored on read.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Line {
    #[serde(skip_serializing_if = "Option::is_none")]
    protocol: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    meta_data: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    add: Option<Add>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remove: Option<Remove>,
    #[serde(skip_serializing_if = "Option::is_none")]
    txn: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit_info: Option<Value>,
}

/// Stats of one file as Delta readers skip by them.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stats {
    num_records: u64,
    #[serde(default)]
    min_values: BTreeMap<String, Value>,
    #[serde(default)]
    max_values: BTreeMap<String, Value>,
}

/// The Delta version of a manifest number (manifests count from 1, versions from 0).
pub fn version_of(number: u64) -> u64 {
    number - 1
}

/// The log lines of `manifest`; `meta` is given for the first commit of a table, `grown` for a
/// commit that widens the table's schema. `now` is the store's clock (tombstones are judged by it).
pub fn commit_lines(
    manifest: &Manifest,
    meta: Option<&TableMeta>,
    grown: Option<&Value>,
    now: time::Micros,
) -> Result<Vec<u8>, serde_json::Error> {
    let now = now / time::MICROS_PER_MILLI;
    let data_change = manifest.kind != RunKind::Compact;
    let mut lines: Vec<Line> = Vec::new();
    if let Some(meta) = meta {
        lines.push(Line { protocol: Some(json!({"minReaderVersion": 1, "minWriterVersion": 2})), ..Line::default() });
        lines.push(Line { meta_data: Some(meta_data(&manifest.table, meta, now)), ..Line::default() });
    }
    if let Some(grown) = grown {
        lines.push(Line { meta_data: Some(grown.clone()), ..Line::default() });
    }
    let partition_column = meta.map_or(manifest.partition_column.as_str(), |m| m.partition_column.as_str());
    let files = FileActions { table: &manifest.table, key: &manifest.key, partition_column, data_change };
    lines.extend(manifest.files.iter().map(|file| files.add(file, now)));
    lines.extend(manifest.removed.iter().map(|file| files.remove(file, now)));
    lines.push(Line {
        txn: Some(json!({"appId": APP_ID, "version": manifest.number, "lastUpdated": now})),
        ..Line::default()
    });
    let state = Manifest { files: Vec::new(), removed: Vec::new(), ..manifest.clone() };
    lines.push(Line {
        commit_info: Some(json!({
            "timestamp": now,
            "operation": match manifest.kind {
                RunKind::Compact => "OPTIMIZE",
                RunKind::Repair => "DELETE",
                RunKind::Export | RunKind::Backfill => "WRITE",
            },
            "operationParameters": {"mode": "Append"},
            "engineInfo": concat!("close-lake/", env!("CARGO_PKG_VERSION")),
            "isBlindAppend": matches!(manifest.kind, RunKind::Export | RunKind::Backfill),
            "closeLake": state,
        })),
        ..Line::default()
    });
    json_lines(&lines)
}

/// One JSON action a line, as the log and [`super::checkpoint`] take them.
fn json_lines(lines: &[Line]) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::new();
    for line in lines {
        serde_json::to_writer(&mut out, line)?;
        out.push(b'\n');
    }
    Ok(out)
}

/// Builds the `add` and `remove` actions of one table's files (paths relative to the table).
struct FileActions<'a> {
    table: &'a str,
    key: &'a str,
    partition_column: &'a str,
    data_change: bool,
}

impl FileActions<'_> {
    fn relative(&self, path: &str) -> String {
        path.strip_prefix(self.table).and_then(|p| p.strip_prefix('/')).unwrap_or(path).to_string()
    }

    /// Rows without a key sit in Hive's default folder; Delta says their partition value is null.
    fn partition_values(&self, file: &FileEntry) -> BTreeMap<String, Option<String>> {
        let value = (file.partition != layout::NULL_PARTITION).then(|| file.partition.clone());
        BTreeMap::from([(self.partition_column.to_string(), value)])
    }

    /// An `add` (`modified` in milliseconds).
    fn add(&self, file: &FileEntry, modified: i64) -> Line {
        let add = Add {
            path: self.relative(&file.path),
            partition_values: self.partition_values(file),
            size: file.bytes,
            modification_time: modified,
            data_change: self.data_change,
            stats: Some(stats(file, self.key).to_string()),
        };
        Line { add: Some(add), ..Line::default() }
    }

    /// A `remove` (`deleted` in milliseconds).
    fn remove(&self, file: &FileEntry, deleted: i64) -> Line {
        let remove = Remove {
            path: self.relative(&file.path),
            deletion_timestamp: Some(deleted),
            data_change: self.data_change,
            extended_file_metadata: Some(true),
            partition_values: Some(self.partition_values(file)),
            size: Some(file.bytes),
        };
        Line { remove: Some(remove), ..Line::default() }
    }
}

/// The `metaData` action declaring a table (`now` in milliseconds).
fn meta_data(table: &str, meta: &TableMeta, now: i64) -> Value {
    json!({
        "id": uuid::Uuid::now_v7().to_string(),
        "name": table,
        "format": {"provider": "parquet", "options": {}},
        "schemaString": schema_string(&meta.schema, &meta.partition_column).to_string(),
        "partitionColumns": [meta.partition_column],
        "configuration": {},
        "createdTime": now,
    })
}

/// The table's `metaData` widened by the columns of `meta` it lacks (a release of close-lake that
/// adds columns), or `None` when it has them all. Columns are only ever added: files written
/// before hold nulls for them, as Delta readers read a missing column.
pub fn grown_meta_data(current: &Value, meta: &TableMeta) -> Option<Value> {
    let fields = |schema: &Value| -> Vec<Value> { schema["fields"].as_array().cloned().unwrap_or_default() };
    let declared: Value = serde_json::from_str(current.get("schemaString")?.as_str()?).ok()?;
    let mut have = fields(&declared);
    let names: std::collections::HashSet<String> =
        have.iter().filter_map(|f| f["name"].as_str().map(str::to_string)).collect();
    let missing: Vec<Value> = fields(&schema_string(&meta.schema, &meta.partition_column))
        .into_iter()
        .filter(|f| f["name"].as_str().is_some_and(|name| !names.contains(name)))
        .collect();
    if missing.is_empty() {
        return None;
    }
    have.extend(missing);
    let mut grown = current.clone();
    grown["schemaString"] = Value::String(json!({"type": "struct", "fields": have}).to_string());
    Some(grown)
}

/// The manifest a commit written by close-lake holds, with all its actions; `None` for a commit of
/// another writer.
pub fn parse_commit(table: &str, body: &[u8]) -> Result<Option<(Manifest, Actions)>, serde_json::Error> {
    let lines = parse_lines(body)?;
    let state = lines.iter().find_map(|line| line.commit_info.as_ref()?.get("closeLake").cloned());
    let Some(state) = state else { return Ok(None) };
    let mut manifest: Manifest = serde_json::from_value(state)?;
    let mut actions = actions(table, &manifest.key, &manifest.partition_column, lines);
    actions.state = None;
    manifest.files = actions.adds.clone();
    manifest.removed = actions.removes.iter().map(|t| t.file.clone()).collect();
    Ok(Some((manifest, actions)))
}

/// The actions of a commit or checkpoint body (one JSON action a line). Stats are read for `key`.
pub fn parse_actions(
    table: &str,
    key: &str,
    partition_column: &str,
    body: &[u8],
) -> Result<Actions, serde_json::Error> {
    let lines = parse_lines(body)?;
    let mut actions = actions(table, key, partition_column, lines);
    if let Some(state) = actions.state.as_mut() {
        state.files = actions.adds.clone();
        state.removed = actions.removes.iter().map(|t| t.file.clone()).collect();
    }
    Ok(actions)
}

fn parse_lines(body: &[u8]) -> Result<Vec<Line>, serde_json::Error> {
    body.split(|b| *b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)).map(serde_json::from_slice).collect()
}

fn actions(table: &str, key: &str, partition_column: &str, lines: Vec<Line>) -> Actions {
    let entry = |path: &str, partition: Option<&Option<String>>, bytes: u64, stats: Option<&str>| {
        let stats: Option<Stats> = stats.and_then(|s| serde_json::from_str(s).ok());
        // Stats hold milliseconds: the file's range is widened to the whole last millisecond.
        let bound = |values: Option<&BTreeMap<String, Value>>, widen: i64| {
            let text = values.and_then(|v| v.get(key)).and_then(Value::as_str)?;
            time::parse_timestamp(text).map(|t| time::format_rfc3339(t + widen))
        };
        FileEntry {
            path: format!("{table}/{path}"),
            staged: String::new(),
            partition: partition.cloned().flatten().unwrap_or_else(|| layout::NULL_PARTITION.to_string()),
            rows: stats.as_ref().map_or(0, |s| s.num_records),
            bytes,
            min_key: bound(stats.as_ref().map(|s| &s.min_values), 0),
            max_key: bound(stats.as_ref().map(|s| &s.max_values), time::MICROS_PER_MILLI - 1),
        }
    };
    let mut out = Actions::default();
    for line in lines {
        if let Some(add) = line.add {
            let partition = add.partition_values.get(partition_column);
            out.adds.push(entry(&add.path, partition, add.size, add.stats.as_deref()));
        }
        if let Some(remove) = line.remove {
            let partition = remove.partition_values.as_ref().and_then(|p| p.get(partition_column));
            out.removes.push(Tombstone {
                file: entry(&remove.path, partition, remove.size.unwrap_or(0), None),
                deleted_at: remove.deletion_timestamp.unwrap_or(0) * time::MICROS_PER_MILLI,
            });
        }
        out.protocol = line.protocol.or(out.protocol);
        out.meta_data = line.meta_data.or(out.meta_data);
        if let Some(state) = line.commit_info.and_then(|mut info| info.get_mut("closeLake").map(Value::take)) {
            out.state = serde_json::from_value(state).ok();
        }
    }
    out
}

/// The actions of a checkpoint of the table as `protocol`, `meta_data`, `files` and `tombstones`
/// leave it, as JSON lines; `txn` is the last close-lake commit number.
#[allow(clippy::too_many_arguments)]
pub fn checkpoint_lines(
    table: &str,
    protocol: &Value,
    meta_data: &Value,
    txn: u64,
    files: &[&FileEntry],
    tombstones: &[&Tombstone],
    key: &str,
    partition_column: &str,
) -> Result<Vec<u8>, serde_json::Error> {
    let actions = FileActions { table, key, partition_column, data_change: false };
    let mut lines = vec![
        Line { protocol: Some(protocol.clone()), ..Line::default() },
        Line { meta_data: Some(meta_data.clone()), ..Line::default() },
        Line { txn: Some(json!({"appId": APP_ID, "version": txn})), ..Line::default() },
    ];
    lines.extend(files.iter().map(|file| actions.add(file, 0)));
    lines.extend(tombstones.iter().map(|t| actions.remove(&t.file, t.deleted_at / time::MICROS_PER_MILLI)));
    json_lines(&lines)
}

/// `stats` of a file: its row count and its range of the key, truncated to milliseconds as the
/// protocol says (readers widen the maximum by the millisecond).
fn stats(file: &FileEntry, key: &str) -> Value {
    let bound = |value: &Option<String>| {
        let micros = value.as_deref().and_then(time::parse_timestamp)?;
        let millis = time::floor_to(micros, time::MICROS_PER_MILLI);
        Some(json!(time::to_datetime(millis).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()))
    };
    let mut min_values = serde_json::Map::new();
    let mut max_values = serde_json::Map::new();
    if let (Some(min), Some(max)) = (bound(&file.min_key), bound(&file.max_key)) {
        min_values.insert(key.to_string(), min);
        max_values.insert(key.to_string(), max);
    }
    json!({"numRecords": file.rows, "minValues": min_values, "maxValues": max_values})
}

/// The Delta schema of a table: its Parquet columns, then the partition column (a string).
pub fn schema_string(schema: &Schema, partition_column: &str) -> Value {
    let field = |name: &str, ty: &str| json!({"name": name, "type": ty, "nullable": true, "metadata": {}});
    let mut fields: Vec<Value> = schema.fields().iter().map(|f| field(f.name(), delta_type(f.data_type()))).collect();
    fields.push(field(partition_column, "string"));
    json!({"type": "struct", "fields": fields})
}

/// The Delta primitive type of an Arrow type close-lake writes.
fn delta_type(ty: &DataType) -> &'static str {
    match ty {
        DataType::Boolean => "boolean",
        DataType::Int32 => "integer",
        DataType::Int64 => "long",
        DataType::Float64 => "double",
        DataType::Date32 => "date",
        DataType::Timestamp(_, Some(_)) => "timestamp",
        DataType::Timestamp(_, None) => "timestamp_ntz",
        _ => "string",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::manifest::{RunStats, Totals};
    use arrow_schema::{Field, TimeUnit};
    use std::sync::Arc;

    fn manifest() -> Manifest {
        let file = |name: &str| FileEntry {
            path: format!("leads/date_updated_month=2024-01/{name}"),
            staged: "_close_lake/staging/leads/r1/00000.parquet".into(),
            partition: "2024-01".into(),
            rows: 3,
            bytes: 1_000,
            min_key: Some("2024-01-02T00:00:00.000000Z".into()),
            max_key: Some("2024-01-05T00:00:00.000000Z".into()),
        };
        Manifest {
            format: 1,
            table: "leads".into(),
            number: 1,
            kind: RunKind::Export,
            run_id: "r1".into(),
            started_at: "2024-01-06T00:00:00.000000Z".into(),
            committed_at: "2024-01-06T00:00:01.000000Z".into(),
            window: ["a".into(), "b".into()],
            files: vec![file("r1-00000.parquet")],
            removed: vec![file("old.parquet")],
            bookmark: Some("2024-01-05T00:00:00.000000Z".into()),
            bookmark_micros: Some(1),
            tail: vec![("lead_1".into(), Some(1), Some(1))],
            totals: Totals { rows: 3, files: 1, bytes: 1_000 },
            stats: RunStats::default(),
            key: "date_updated".into(),
            partition_column: "date_updated_month".into(),
        }
    }

    #[test]
    fn a_commit_round_trips_through_the_log() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, true),
            Field::new("date_updated", DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())), true),
        ]));
        let meta = TableMeta { schema, key: "date_updated".into(), partition_column: "date_updated_month".into() };
        let body = commit_lines(&manifest(), Some(&meta), None, time::now()).unwrap();
        let text = String::from_utf8(body.clone()).unwrap();
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines[0]["protocol"]["minWriterVersion"], 2);
        assert_eq!(lines[1]["metaData"]["partitionColumns"], json!(["date_updated_month"]));
        assert!(lines[1]["metaData"]["schemaString"].as_str().unwrap().contains(r#""type":"timestamp""#));
        assert_eq!(lines[2]["add"]["path"], "date_updated_month=2024-01/r1-00000.parquet");
        assert_eq!(lines[2]["add"]["partitionValues"]["date_updated_month"], "2024-01");
        assert!(lines[2]["add"]["stats"].as_str().unwrap().contains(r#""numRecords":3"#));
        assert_eq!(lines[3]["remove"]["dataChange"], true);
        assert_eq!(lines[4]["txn"]["appId"], APP_ID);
        assert!(lines[5]["commitInfo"]["closeLake"]["files"].as_array().unwrap().is_empty());

        let (back, actions) = parse_commit("leads", &body).unwrap().unwrap();
        assert_eq!(actions.removes.len(), 1);
        assert!(actions.meta_data.is_some() && actions.protocol.is_some());
        let original = manifest();
        assert_eq!(back.files[0].path, original.files[0].path);
        assert_eq!((back.files[0].rows, back.files[0].bytes), (3, 1_000));
        // Stats hold milliseconds; read back, the range covers the whole last millisecond.
        let stats = lines[2]["add"]["stats"].as_str().unwrap();
        assert!(stats.contains(r#""date_updated":"2024-01-05T00:00:00.000Z""#), "{stats}");
        assert_eq!(back.files[0].max_key.as_deref(), Some("2024-01-05T00:00:00.000999Z"));
        assert_eq!(back.files[0].min_key, original.files[0].min_key);
        assert_eq!(back.removed[0].path, original.removed[0].path);
        assert_eq!((back.bookmark, back.tail, back.number), (original.bookmark, original.tail, 1));
    }

    #[test]
    fn a_schema_grows_by_the_columns_it_lacks_only() {
        let field = |name: &str| Field::new(name, DataType::Utf8, true);
        let old = TableMeta {
            schema: Arc::new(Schema::new(vec![field("id")])),
            key: "date_updated".into(),
            partition_column: "date_updated_month".into(),
        };
        let current = meta_data("leads", &old, 1);
        assert!(grown_meta_data(&current, &old).is_none());
        let new = TableMeta { schema: Arc::new(Schema::new(vec![field("id"), field("status")])), ..old };
        let grown = grown_meta_data(&current, &new).unwrap();
        assert_eq!(grown["id"], current["id"], "the same table");
        let schema: Value = serde_json::from_str(grown["schemaString"].as_str().unwrap()).unwrap();
        let names: Vec<&str> =
            schema["fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["id", "date_updated_month", "status"]);
    }

    #[test]
    fn commits_of_other_writers_hold_no_close_lake_state() {
        let body = br#"{"commitInfo":{"timestamp":1,"operation":"WRITE"}}
{"add":{"path":"x.parquet","partitionValues":{},"size":1,"modificationTime":1,"dataChange":true,"stats":null,"tags":null}}
{"domainMetadata":{"domain":"d","configuration":"{}","removed":false}}"#;
        assert!(parse_commit("leads", body).unwrap().is_none());
    }
}
