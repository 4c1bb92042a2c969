//! Reading one window of one table: fetch pages, convert them off the runtime, stage Parquet.
//!
//! The fetch loop and the writer run as two tasks joined by a bounded channel, so a slow store
//! slows the fetching instead of filling memory. Each page is parsed once, on a blocking thread,
//! into an Arrow batch split by partition; exact repeats of versions the lake already holds are
//! dropped there.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use arrow_array::TimestampMicrosecondArray;
use bytes::Bytes;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use super::tail::TailCollector;
use super::{RunContext, TableError};
use crate::close::ApiError;
use crate::close::pager::{Envelope, PageOutcome, Pager, Window};
use crate::convert::content_hash;
use crate::convert::{Decoded, Decoder, RowKey};
use crate::lake::manifest::FileEntry;
use crate::lake::writer::{PartitionBatch, RunFiles, StagedWriter, TARGET_FILE_BYTES};
use crate::report::Counters;
use crate::tables::{CONTENT_HASH_COLUMN, Replication, SEEN_AT_COLUMN, Source, TableSpec};
use crate::time::{self, Micros};

/// Converted batches waiting for the writer, per window.
const WRITE_QUEUE: usize = 4;

pub use crate::lake::reader::Version;

/// Everything the windows of one table run share.
pub struct TableRun {
    pub context: Arc<RunContext>,
    pub spec: &'static TableSpec,
    pub decoder: Decoder,
    /// Versions the lake already holds in the span this run reads (dropped as repeats).
    pub seen: HashSet<Version>,
    pub files: RunFiles,
    pub counters: Arc<Counters>,
}

#[derive(Debug)]
pub struct WindowOutput {
    pub files: Vec<FileEntry>,
    pub rows: u64,
    pub tail: TailCollector,
}

/// Reads the window of `pager`. When the pager splits the rest of its window after the first page,
/// the parts go to `parts` to be read by other readers, and this one reads on through its own part.
pub async fn read_window(
    run: Arc<TableRun>,
    mut pager: Pager,
    parts: mpsc::UnboundedSender<Pager>,
) -> Result<WindowOutput, TableError> {
    run.counters.add_window();
    let (tx, rx) = mpsc::channel(WRITE_QUEUE);
    let writer = tokio::spawn(write_all(run.clone(), rx));
    let fetched = fetch_all(&run, &mut pager, &parts, tx).await;
    let written = writer.await.map_err(|err| task_error(&run, err))?;
    match (fetched, written) {
        (Err(err), _) => Err(err),
        (Ok(_), Err(source)) => Err(TableError::Lake { table: run.spec.name, source: Box::new(source) }),
        (Ok((rows, tail)), Ok(files)) => Ok(WindowOutput { files, rows, tail }),
    }
}

async fn fetch_all(
    run: &Arc<TableRun>,
    pager: &mut Pager,
    parts: &mpsc::UnboundedSender<Pager>,
    tx: mpsc::Sender<PartitionBatch>,
) -> Result<(u64, TailCollector), TableError> {
    let mut tail = TailCollector::new(run.spec.lookback);
    let mut cursor = CursorVersions::new(run.spec.granule());
    let mut rows = 0;
    while let Some(request) = pager.request() {
        let window = pager.window();
        let body = match run.context.client.page(&request, &run.counters).await {
            Ok(body) => body,
            Err(err) if optional(run.spec) && err.is_unavailable() => {
                tracing::warn!(table = run.spec.name, "{err}: this plan lacks {}; nothing to read", run.spec.name);
                break;
            }
            Err(source) => return Err(TableError::Fetch { table: run.spec.name, window, source }),
        };
        let job = {
            let (run, path) = (run.clone(), request.path);
            tokio::task::spawn_blocking(move || convert_page(&run, path, &body, window, cursor))
        };
        let page = job.await.map_err(|err| task_error(run, err))??;
        cursor = page.cursor;
        pager.advance(&page.outcome);
        for part in pager.split(&page.outcome) {
            tracing::debug!(table = run.spec.name, window = %part.window(), "reading a part of the window concurrently");
            // The receiver lives as long as the table's run; a closed one means the run is over.
            let _ = parts.send(part);
        }
        rows += page.keys.len() as u64;
        run.counters.add_rows(page.keys.len() as u64, page.coerced);
        tail.add(&page.keys);
        for part in page.parts {
            if tx.send(part).await.is_err() {
                // The writer stopped: its error is the one to report.
                return Ok((rows, tail));
            }
        }
    }
    Ok((rows, tail))
}

/// Whether a plan may lack the table's object type altogether.
fn optional(spec: &TableSpec) -> bool {
    matches!(spec.source, Source::Search { optional: true, .. })
}

/// The fields a search of `run`'s table names: its declared columns, and `custom.<id>` for every
/// custom field of its object type (a shared field where it is associated with the type), each once.
/// A listing the plan lacks adds none, with a warning: its fields' values cannot be asked for.
pub async fn search_fields(run: &Arc<TableRun>, window: Window) -> Result<Vec<String>, TableError> {
    let Source::Search { object_type, custom_fields, .. } = &run.spec.source else {
        unreachable!("search_fields is called for search sources");
    };
    let mut fields: Vec<String> = run
        .spec
        .columns
        .iter()
        .filter(|c| c.name != crate::convert::CUSTOM_BY_ID_COLUMN)
        .map(|c| c.name.to_string())
        .collect();
    for path in custom_fields.iter() {
        let listing = Listing { path, params: &[], limit: Some(100), optional: true };
        for (id, raw) in read_listing(run, listing, window).await?.unwrap_or_default() {
            let shared = path.ends_with("shared/");
            let field = format!("{}{id}", crate::convert::CUSTOM_PREFIX);
            // A shared field may be listed under the type's endpoint and under `shared/` both.
            if (!shared || associated(&raw, object_type)) && !fields.contains(&field) {
                fields.push(field);
            }
        }
    }
    Ok(fields)
}

/// Whether a shared custom field is associated with `object_type` (a custom object's fields are
/// associated with `custom_object_type`).
fn associated(field: &RawValue, object_type: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Field {
        #[serde(default)]
        associations: Vec<Association>,
    }
    #[derive(serde::Deserialize)]
    struct Association {
        object_type: Option<String>,
    }
    let Ok(field) = serde_json::from_str::<Field>(field.get()) else { return false };
    field
        .associations
        .iter()
        .filter_map(|a| a.object_type.as_deref())
        .any(|t| t == object_type || (object_type == "custom_object" && t == "custom_object_type"))
}

/// The versions read in the granule of the largest order key so far: a page that starts again in
/// that granule (keyset paging re-reads it) must not add them twice.
#[derive(Debug)]
struct CursorVersions {
    granule: Micros,
    at: Option<Micros>,
    versions: HashSet<Version>,
}

impl CursorVersions {
    fn new(granule: Micros) -> CursorVersions {
        CursorVersions { granule, at: None, versions: HashSet::new() }
    }

    fn note(&mut self, rows: &[RowKey]) {
        for row in rows {
            let Some(at) = row.order.map(|order| time::floor_to(order, self.granule)) else { continue };
            if self.at.is_none_or(|current| at > current) {
                self.at = Some(at);
                self.versions.clear();
            }
            if self.at == Some(at) {
                self.versions.insert((row.id.clone(), row.version));
            }
        }
    }
}

struct Page {
    outcome: PageOutcome,
    parts: Vec<PartitionBatch>,
    keys: Vec<RowKey>,
    coerced: u64,
    cursor: CursorVersions,
}

/// Parses and converts one page (blocking thread).
fn convert_page(
    run: &TableRun,
    path: &str,
    body: &Bytes,
    window: Window,
    mut cursor: CursorVersions,
) -> Result<Page, TableError> {
    let bad = |message: String| TableError::Fetch {
        table: run.spec.name,
        window,
        source: ApiError::BadResponse { path: path.to_string(), message },
    };
    let envelope = Envelope::parse(body).map_err(|err| bad(err.to_string()))?;
    let mut keys = Vec::with_capacity(envelope.data.len());
    let decoded = decode(run, &envelope.data, window, &cursor, &mut keys)?;
    cursor.note(&decoded.rows);
    let outcome = PageOutcome {
        len: envelope.data.len(),
        has_more: envelope.has_more.unwrap_or(false),
        cursor_next: envelope.cursor_next,
        keys,
    };
    Ok(Page { outcome, parts: partitions(&decoded), coerced: decoded.coerced, keys: decoded.rows, cursor })
}

/// Decodes the records in `window` that are not repeats; `keys` gets the order key of every record.
fn decode(
    run: &TableRun,
    records: &[&RawValue],
    window: Window,
    cursor: &CursorVersions,
    keys: &mut Vec<Option<Micros>>,
) -> Result<Decoded, TableError> {
    run.decoder
        .decode(records, |row| {
            keys.push(row.order);
            let version = (row.id.clone(), row.version);
            row.key.is_none_or(|key| window.contains(key))
                && !run.seen.contains(&version)
                && !cursor.versions.contains(&version)
        })
        .map_err(|source| TableError::Convert { table: run.spec.name, window, source })
}

/// Splits a decoded page into runs of rows of one partition (rows arrive in key order).
fn partitions(decoded: &Decoded) -> Vec<PartitionBatch> {
    let partition = TableSpec::partition_value;
    let rows = &decoded.rows;
    let mut parts = Vec::new();
    let mut start = 0;
    for end in 1..=rows.len() {
        let boundary = end == rows.len() || partition(rows[end].key) != partition(rows[start].key);
        if boundary {
            let span = &rows[start..end];
            parts.push(PartitionBatch {
                partition: partition(rows[start].key),
                batch: decoded.batch.slice(start, end - start),
                min_key: span.iter().filter_map(|r| r.key).min(),
                max_key: span.iter().filter_map(|r| r.key).max(),
            });
            start = end;
        }
    }
    parts
}

async fn write_all(
    run: Arc<TableRun>,
    mut rx: mpsc::Receiver<PartitionBatch>,
) -> Result<Vec<FileEntry>, crate::lake::LakeError> {
    let schema = run.decoder.schema().clone();
    let mut writer = StagedWriter::new(run.context.lake.clone(), run.files.clone(), schema, TARGET_FILE_BYTES);
    while let Some(part) = rx.recv().await {
        if let Err(err) = writer.write(part).await {
            writer.abort().await;
            return Err(err);
        }
    }
    writer.finish().await
}

/// Reads a small table in full from each of its endpoints, merges records by `id` (recording the
/// tags of the endpoints each came from), keeps those in `window`, and stages them in key order.
/// An optional endpoint that the plan lacks (402/403/404) is a warning and no records.
pub async fn read_full(run: Arc<TableRun>, window: Window) -> Result<WindowOutput, TableError> {
    let Source::Full { endpoints, limit, tag_column, inactive_users } = &run.spec.source else {
        unreachable!("read_full is called for full sources");
    };
    let fetch_error = |source| TableError::Fetch { table: run.spec.name, window, source };
    let mut merged: BTreeMap<String, (Box<RawValue>, Vec<&'static str>)> = BTreeMap::new();
    for endpoint in endpoints.iter() {
        let listing =
            Listing { path: endpoint.path, params: endpoint.params, limit: *limit, optional: endpoint.optional };
        for (id, raw) in read_listing(&run, listing, window).await?.unwrap_or_default() {
            merged.entry(id).or_insert_with(|| (raw, Vec::new())).1.push(endpoint.tag);
        }
    }
    if *inactive_users {
        for id in &run.context.account.inactive_user_ids {
            if merged.contains_key(id) {
                continue;
            }
            let path = format!("user/{id}/");
            let body = match run.context.client.get(&path, &[], &run.counters).await {
                Ok(body) => body,
                // Close may keep a deactivated user only in the memberships, which carry no
                // `date_updated` to version a row by: say so rather than fail every run.
                Err(err) if err.is_unavailable() => {
                    tracing::warn!(table = run.spec.name, user = %id, "{err}: this deactivated user is skipped");
                    continue;
                }
                Err(err) => return Err(fetch_error(err)),
            };
            let raw = serde_json::from_slice::<Box<RawValue>>(&body)
                .map_err(|err| fetch_error(ApiError::BadResponse { path, message: err.to_string() }))?;
            merged.insert(id.clone(), (raw, vec!["user"]));
        }
    }
    let tag_column = *tag_column;
    // The window of a table versioned by content is the instant that keys this run's versions.
    let seen_at = (run.spec.replication == Replication::Content).then_some(window.lower);

    let job = {
        let run = run.clone();
        tokio::task::spawn_blocking(move || {
            let records: Vec<Box<RawValue>> = merged
                .into_values()
                .map(|(raw, tags)| {
                    let raw = match tag_column {
                        Some(column) => with_fields(raw, &[(column, serde_json::json!(tags))]),
                        None => raw,
                    };
                    match seen_at {
                        Some(seen_at) => with_content_version(raw, seen_at),
                        None => raw,
                    }
                })
                .collect();
            let refs: Vec<&RawValue> = records.iter().map(AsRef::as_ref).collect();
            let decoded = decode(&run, &refs, window, &CursorVersions::new(run.spec.granule()), &mut Vec::new())?;
            let decoded =
                sort_by_key(decoded).map_err(|source| TableError::Convert { table: run.spec.name, window, source })?;
            Ok::<_, TableError>((partitions(&decoded), decoded.rows, decoded.coerced))
        })
    };
    let (parts, keys, coerced) = job.await.map_err(|err| task_error(&run, err))??;
    run.counters.add_rows(keys.len() as u64, coerced);
    let mut tail = TailCollector::new(run.spec.lookback);
    tail.add(&keys);

    let (tx, rx) = mpsc::channel(WRITE_QUEUE);
    let writer = tokio::spawn(write_all(run.clone(), rx));
    for part in parts {
        if tx.send(part).await.is_err() {
            break;
        }
    }
    drop(tx);
    let files = writer
        .await
        .map_err(|err| task_error(&run, err))?
        .map_err(|source| TableError::Lake { table: run.spec.name, source: Box::new(source) })?;
    Ok(WindowOutput { files, rows: keys.len() as u64, tail })
}

/// A listing read in full: `_skip` pages of `limit`, or the one answer of a listing Close does not page.
struct Listing {
    path: &'static str,
    params: &'static [(&'static str, &'static str)],
    limit: Option<u32>,
    /// A plan may lack it (402/403/404): a warning and no records, not a failed table.
    optional: bool,
}

/// Every record of `listing`, each with its id, parsed off the runtime; `None` when an optional
/// listing is missing from the plan.
async fn read_listing(
    run: &Arc<TableRun>,
    listing: Listing,
    window: Window,
) -> Result<Option<Vec<IdentifiedRecord>>, TableError> {
    let Listing { path, params, limit, optional } = listing;
    let fetch_error = |source| TableError::Fetch { table: run.spec.name, window, source };
    let mut pager = Pager::offset(path, params, limit);
    let mut all = Vec::new();
    while let Some(request) = pager.request() {
        let body = match run.context.client.page(&request, &run.counters).await {
            Ok(body) => body,
            Err(err) if optional && err.is_unavailable() => {
                tracing::warn!(
                    table = run.spec.name,
                    endpoint = path,
                    "{err}: this plan lacks the endpoint; nothing read there"
                );
                return Ok(None);
            }
            Err(err) => return Err(fetch_error(err)),
        };
        let (records, outcome) = tokio::task::spawn_blocking(move || parse_records(&body))
            .await
            .map_err(|err| task_error(run, err))?
            .map_err(|message| fetch_error(ApiError::BadResponse { path: path.to_string(), message }))?;
        if limit.is_none() && outcome.has_more {
            tracing::warn!(
                table = run.spec.name,
                endpoint = path,
                "Close says there is more, but documents no paging for this listing: only its first answer is read"
            );
        }
        pager.advance(&outcome);
        all.extend(records);
    }
    Ok(Some(all))
}

/// A record and its id.
type IdentifiedRecord = (String, Box<RawValue>);

/// The records of an offset page, each with its id (records without one get a key of their own, so
/// none is merged away), and what the pager needs.
fn parse_records(body: &[u8]) -> Result<(Vec<IdentifiedRecord>, PageOutcome), String> {
    #[derive(serde::Deserialize)]
    struct Page {
        data: Vec<Box<RawValue>>,
        #[serde(default)]
        has_more: Option<bool>,
    }
    #[derive(serde::Deserialize)]
    struct Id {
        id: Option<String>,
    }
    let page: Page = serde_json::from_slice(body).map_err(|err| err.to_string())?;
    let outcome = PageOutcome { len: page.data.len(), has_more: page.has_more.unwrap_or(false), ..Default::default() };
    let records = page
        .data
        .into_iter()
        .map(|raw| {
            let id = serde_json::from_str::<Id>(raw.get()).ok().and_then(|r| r.id);
            (id.unwrap_or_else(|| format!("\u{0}record without id {}", uuid::Uuid::now_v7())), raw)
        })
        .collect();
    Ok((records, outcome))
}

/// Appends fields to a record's JSON, leaving every byte Close sent as it was.
fn with_fields(raw: Box<RawValue>, fields: &[(&str, serde_json::Value)]) -> Box<RawValue> {
    let text = raw.get().trim_end();
    let Some(body) = text.strip_suffix('}') else { return raw };
    let mut extended = body.to_string();
    let mut empty = body.trim_end() == "{";
    for (name, value) in fields {
        if !empty {
            extended.push(',');
        }
        empty = false;
        extended.push_str(&serde_json::Value::from(*name).to_string());
        extended.push(':');
        extended.push_str(&value.to_string());
    }
    extended.push('}');
    RawValue::from_string(extended).unwrap_or(raw)
}

/// Stamps a record of a [`Replication::Content`] table with the run that sees it and a hash of
/// its content; the run keeps it only if the hash differs from the latest stored one.
fn with_content_version(raw: Box<RawValue>, seen_at: Micros) -> Box<RawValue> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(raw.get()) else { return raw };
    let stamp = [
        (SEEN_AT_COLUMN, serde_json::json!(time::format_rfc3339(seen_at))),
        (CONTENT_HASH_COLUMN, serde_json::json!(content_hash(&value))),
    ];
    with_fields(raw, &stamp)
}

/// Reorders a decoded batch (and its keys) by the replication key, so partitions come in runs.
fn sort_by_key(decoded: Decoded) -> Result<Decoded, crate::convert::DecodeError> {
    let keys = TimestampMicrosecondArray::from(decoded.rows.iter().map(|r| r.key).collect::<Vec<_>>());
    let order = arrow_ord::sort::sort_to_indices(&keys, None, None).map_err(crate::convert::DecodeError::arrow)?;
    let batch =
        arrow_select::take::take_record_batch(&decoded.batch, &order).map_err(crate::convert::DecodeError::arrow)?;
    let rows = order.values().iter().map(|&i| decoded.rows[i as usize].clone()).collect();
    Ok(Decoded { batch, rows, ..decoded })
}

fn task_error(run: &TableRun, err: tokio::task::JoinError) -> TableError {
    TableError::Task { table: run.spec.name, message: err.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_string()).unwrap()
    }

    #[test]
    fn fields_are_appended_without_touching_the_record() {
        let tags = [("object_types", serde_json::json!(["lead", "shared"]))];
        let tagged = with_fields(raw(r#"{"id":"cf_1","n":1.50000000000000000001}"#), &tags);
        assert_eq!(tagged.get(), r#"{"id":"cf_1","n":1.50000000000000000001,"object_types":["lead","shared"]}"#);
        assert_eq!(with_fields(raw("{ }"), &[("t", serde_json::json!(["x"]))]).get(), r#"{ "t":["x"]}"#);
        assert_eq!(with_fields(raw(r#"{"id":"u"}"#), &[]).get(), r#"{"id":"u"}"#);
    }

    #[test]
    fn content_versions_follow_the_content_not_the_field_order() {
        let at = time::parse_timestamp("2026-12-01T00:00:00Z").unwrap();
        let a = with_content_version(raw(r#"{"id":"role_1","name":"Admin","permissions":["a","b"]}"#), at);
        let b = with_content_version(raw(r#"{"permissions":["a","b"],"name":"Admin","id":"role_1"}"#), at);
        let c = with_content_version(raw(r#"{"id":"role_1","name":"Admins","permissions":["a","b"]}"#), at);
        let hash =
            |r: &RawValue| serde_json::from_str::<serde_json::Value>(r.get()).unwrap()[CONTENT_HASH_COLUMN].clone();
        assert_eq!(hash(&a), hash(&b));
        assert_ne!(hash(&a), hash(&c));
        assert!(a.get().ends_with(&format!(
            r#","_close_lake_seen_at":"2026-12-01T00:00:00.000000Z","_close_lake_content_hash":{}}}"#,
            hash(&a)
        )));
    }

    #[test]
    fn records_without_an_id_are_never_merged() {
        let (records, outcome) = parse_records(br#"{"data":[{"x":1},{"x":2},{"id":"a"}],"has_more":true}"#).unwrap();
        let ids: HashSet<&str> = records.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids.len(), 3);
        assert!(ids.contains("a") && outcome.has_more && outcome.len == 3);
    }
}
