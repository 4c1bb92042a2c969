//! Reading one window of one table: fetch pages, convert them off the runtime, stage Parquet.
//!
//! The fetch loop and the writer run as two tasks joined by a bounded channel, so a slow store
//! slows the fetching instead of filling memory. Each page is parsed once, on a blocking thread,
//! into an Arrow batch split by partition; exact repeats of versions the lake already holds are
//! dropped there.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use arrow::array::TimestampMicrosecondArray;
use bytes::Bytes;
use indicatif::ProgressBar;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use super::tail::TailCollector;
use super::{RunContext, TableError};
use crate::close::ApiError;
use crate::close::pager::{Envelope, PageOutcome, Pager, Window};
use crate::convert::{Decoded, Decoder, RowKey};
use crate::lake::manifest::FileEntry;
use crate::lake::writer::{PartitionBatch, RunFiles, StagedWriter, TARGET_FILE_BYTES};
use crate::report::{self, Counters};
use crate::tables::{Endpoint, TableSpec};
use crate::time::{self, MICROS_PER_SECOND, Micros};

/// A window whose first page reports more records than this is split in two and read concurrently.
const SPLIT_ROWS: u64 = 20_000;
/// Converted batches waiting for the writer, per window.
const WRITE_QUEUE: usize = 4;
/// The Hive name of a partition whose key is missing.
const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

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
    pub bar: ProgressBar,
}

pub enum WindowResult {
    Split(Window, Window),
    Done(WindowOutput),
}

#[derive(Debug)]
pub struct WindowOutput {
    pub files: Vec<FileEntry>,
    pub rows: u64,
    pub tail: TailCollector,
}

/// Reads a window with `pager`; with `may_split`, a window too large for one reader is split instead.
pub async fn read_window(
    run: Arc<TableRun>,
    mut pager: Pager,
    window: Window,
    may_split: bool,
) -> Result<WindowResult, TableError> {
    let (tx, rx) = mpsc::channel(WRITE_QUEUE);
    let writer = tokio::spawn(write_all(run.clone(), rx));
    let fetched = fetch_all(&run, &mut pager, window, may_split, tx).await;
    let written = writer.await.map_err(|err| task_error(&run, err))?;
    match (fetched, written) {
        (Err(err), _) => Err(err),
        (Ok(_), Err(source)) => Err(TableError::Lake { table: run.spec.name, source: Box::new(source) }),
        (Ok(Fetched::Split(a, b)), Ok(_)) => Ok(WindowResult::Split(a, b)),
        (Ok(Fetched::Done { rows, tail }), Ok(files)) => Ok(WindowResult::Done(WindowOutput { files, rows, tail })),
    }
}

enum Fetched {
    Split(Window, Window),
    Done { rows: u64, tail: TailCollector },
}

async fn fetch_all(
    run: &Arc<TableRun>,
    pager: &mut Pager,
    window: Window,
    may_split: bool,
    tx: mpsc::Sender<PartitionBatch>,
) -> Result<Fetched, TableError> {
    let mut tail = TailCollector::new(run.spec.lookback);
    let mut cursor = CursorVersions::default();
    let mut rows = 0;
    let mut first = true;
    while let Some(request) = pager.request() {
        let body = run
            .context
            .client
            .get(request.path, &request.query, &run.counters)
            .await
            .map_err(|source| TableError::Fetch { table: run.spec.name, window, source })?;
        let split = (first && may_split)
            .then(|| window.halves())
            .flatten()
            .filter(|_| window.upper - window.lower >= MICROS_PER_SECOND);
        let job = {
            let (run, path) = (run.clone(), request.path);
            tokio::task::spawn_blocking(move || convert_page(&run, path, &body, window, split.is_some(), cursor))
        };
        let page = job.await.map_err(|err| task_error(run, err))??;
        let Page::Rows { outcome, parts, keys, coerced, cursor: next } = page else {
            if let Some((a, b)) = split {
                tracing::debug!(table = run.spec.name, %window, "splitting a large window");
                return Ok(Fetched::Split(a, b));
            }
            unreachable!("a page is split only when a split was offered");
        };
        cursor = next;
        pager.advance(&outcome);
        rows += keys.len() as u64;
        run.counters.add_rows(keys.len() as u64, coerced);
        report::tick(&run.bar, &run.counters);
        tail.add(&keys);
        for part in parts {
            if tx.send(part).await.is_err() {
                // The writer stopped: its error is the one to report.
                return Ok(Fetched::Done { rows, tail });
            }
        }
        first = false;
    }
    Ok(Fetched::Done { rows, tail })
}

/// The versions read at the largest key so far: a page that starts again at that key (keyset paging
/// after a concurrent change) must not add them twice.
#[derive(Debug, Default)]
struct CursorVersions {
    key: Option<Micros>,
    versions: HashSet<Version>,
}

impl CursorVersions {
    fn note(&mut self, rows: &[RowKey]) {
        for row in rows {
            let Some(key) = row.key else { continue };
            if self.key.is_none_or(|k| key > k) {
                self.key = Some(key);
                self.versions.clear();
            }
            if self.key == Some(key) {
                self.versions.insert((row.id.clone(), row.version));
            }
        }
    }
}

enum Page {
    Split,
    Rows { outcome: PageOutcome, parts: Vec<PartitionBatch>, keys: Vec<RowKey>, coerced: u64, cursor: CursorVersions },
}

/// Parses and converts one page (blocking thread).
fn convert_page(
    run: &TableRun,
    path: &str,
    body: &Bytes,
    window: Window,
    may_split: bool,
    mut cursor: CursorVersions,
) -> Result<Page, TableError> {
    let bad = |message: String| TableError::Fetch {
        table: run.spec.name,
        window,
        source: ApiError::BadResponse { path: path.to_string(), message },
    };
    let envelope = Envelope::parse(body).map_err(|err| bad(err.to_string()))?;
    if may_split && envelope.total_results.is_some_and(|total| total > SPLIT_ROWS) {
        return Ok(Page::Split);
    }
    let mut keys = Vec::with_capacity(envelope.data.len());
    let decoded = decode(run, &envelope.data, window, &cursor, &mut keys)?;
    cursor.note(&decoded.rows);
    let outcome = PageOutcome {
        len: envelope.data.len(),
        has_more: envelope.has_more.unwrap_or(false),
        cursor_next: envelope.cursor_next,
        keys,
    };
    Ok(Page::Rows { outcome, parts: partitions(&decoded), coerced: decoded.coerced, keys: decoded.rows, cursor })
}

/// Decodes the records in `window` that are not repeats; `keys` gets the key of every record.
fn decode(
    run: &TableRun,
    records: &[&RawValue],
    window: Window,
    cursor: &CursorVersions,
    keys: &mut Vec<Option<Micros>>,
) -> Result<Decoded, TableError> {
    run.decoder
        .decode(records, |row| {
            keys.push(row.key);
            let version = (row.id.clone(), row.version);
            row.key.is_none_or(|key| window.contains(key))
                && !run.seen.contains(&version)
                && !cursor.versions.contains(&version)
        })
        .map_err(|source| TableError::Convert { table: run.spec.name, window, source })
}

/// Splits a decoded page into runs of rows of one partition (rows arrive in key order).
fn partitions(decoded: &Decoded) -> Vec<PartitionBatch> {
    let partition = |key: Option<Micros>| key.map_or_else(|| NULL_PARTITION.to_string(), time::month_of);
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
pub async fn read_full(
    run: Arc<TableRun>,
    endpoints: &'static [Endpoint],
    limit: u32,
    tag_column: Option<&'static str>,
    window: Window,
) -> Result<WindowOutput, TableError> {
    let mut merged: BTreeMap<String, (Box<RawValue>, Vec<&'static str>)> = BTreeMap::new();
    for endpoint in endpoints {
        let mut pager = Pager::offset(endpoint.path, limit);
        while let Some(request) = pager.request() {
            let body = run
                .context
                .client
                .get(request.path, &request.query, &run.counters)
                .await
                .map_err(|source| TableError::Fetch { table: run.spec.name, window, source })?;
            let (records, outcome) = tokio::task::spawn_blocking(move || parse_records(&body))
                .await
                .map_err(|err| task_error(&run, err))?
                .map_err(|message| TableError::Fetch {
                    table: run.spec.name,
                    window,
                    source: ApiError::BadResponse { path: request.path.to_string(), message },
                })?;
            pager.advance(&outcome);
            for (id, raw) in records {
                merged.entry(id).or_insert_with(|| (raw, Vec::new())).1.push(endpoint.tag);
            }
        }
    }

    let job = {
        let run = run.clone();
        tokio::task::spawn_blocking(move || {
            let records: Vec<Box<RawValue>> =
                merged.into_values().map(|(raw, tags)| with_tags(raw, tag_column, &tags)).collect();
            let refs: Vec<&RawValue> = records.iter().map(AsRef::as_ref).collect();
            let decoded = decode(&run, &refs, window, &CursorVersions::default(), &mut Vec::new())?;
            let decoded =
                sort_by_key(decoded).map_err(|source| TableError::Convert { table: run.spec.name, window, source })?;
            Ok::<_, TableError>((partitions(&decoded), decoded.rows, decoded.coerced))
        })
    };
    let (parts, keys, coerced) = job.await.map_err(|err| task_error(&run, err))??;
    run.counters.add_rows(keys.len() as u64, coerced);
    report::tick(&run.bar, &run.counters);
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

/// Appends `"<column>": [tags]` to a record's JSON, leaving every byte Close sent as it was.
fn with_tags(raw: Box<RawValue>, column: Option<&str>, tags: &[&str]) -> Box<RawValue> {
    let Some(column) = column else { return raw };
    let text = raw.get().trim_end();
    let Some(body) = text.strip_suffix('}') else { return raw };
    let separator = if body.trim_end() == "{" { "" } else { "," };
    let tags = serde_json::to_string(tags).unwrap_or_else(|_| "[]".into());
    let column = serde_json::to_string(column).unwrap_or_default();
    RawValue::from_string(format!("{body}{separator}{column}:{tags}}}")).unwrap_or(raw)
}

/// Reorders a decoded batch (and its keys) by the replication key, so partitions come in runs.
fn sort_by_key(decoded: Decoded) -> Result<Decoded, crate::convert::DecodeError> {
    let keys = TimestampMicrosecondArray::from(decoded.rows.iter().map(|r| r.key).collect::<Vec<_>>());
    let order = arrow::compute::sort_to_indices(&keys, None, None).map_err(crate::convert::DecodeError::arrow)?;
    let batch =
        arrow::compute::take_record_batch(&decoded.batch, &order).map_err(crate::convert::DecodeError::arrow)?;
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
    fn tags_are_appended_without_touching_the_record() {
        let tagged =
            with_tags(raw(r#"{"id":"cf_1","n":1.50000000000000000001}"#), Some("object_types"), &["lead", "shared"]);
        assert_eq!(tagged.get(), r#"{"id":"cf_1","n":1.50000000000000000001,"object_types":["lead","shared"]}"#);
        assert_eq!(with_tags(raw("{ }"), Some("t"), &["x"]).get(), r#"{ "t":["x"]}"#);
        assert_eq!(with_tags(raw(r#"{"id":"u"}"#), None, &["user"]).get(), r#"{"id":"u"}"#);
    }

    #[test]
    fn records_without_an_id_are_never_merged() {
        let (records, outcome) = parse_records(br#"{"data":[{"x":1},{"x":2},{"id":"a"}],"has_more":true}"#).unwrap();
        let ids: HashSet<&str> = records.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids.len(), 3);
        assert!(ids.contains("a") && outcome.has_more && outcome.len == 3);
    }
}
