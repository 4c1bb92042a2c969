//! One table's run, export or backfill: lease, recover, plan the window, read it, commit.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::tail::TailCollector;
use super::window::{self, TableRun, WindowOutput};
use super::{RunContext, TableDone, TableError};
use crate::close::pager::{Pager, Window};
use crate::config::Mode;
use crate::convert::Decoder;
use crate::lake::LakeError;
use crate::lake::commit::Pending;
use crate::lake::lease::Scope;
use crate::lake::manifest::{Manifest, RunKind, RunStats};
use crate::lake::reader::{self, Version};
use crate::lake::transaction::{Options, Transaction};
use crate::report::Counters;
use crate::tables::{Replication, Source, TableSpec};
use crate::time::{self, MICROS_PER_DAY, Micros};

/// Where a first run without `--start-date` starts: before Close existed, so all history.
const HISTORY_START: Micros = 946_684_800_000_000; // 2000-01-01T00:00:00Z
/// Windows of one table read at once; the client's rate governor and its in-flight slots pace them
/// all. Each holds a writer's buffers: 12 raised an export's peak memory by a third and did not
/// shorten a run behind 300 ms of latency (the reader of a large tie group is its critical path).
const WINDOWS_PER_TABLE: usize = 8;

pub async fn export(
    context: &Arc<RunContext>,
    spec: &'static TableSpec,
    counters: &Arc<Counters>,
) -> Result<TableDone, TableError> {
    let lake_error = |source: LakeError| TableError::Lake { table: spec.name, source: Box::new(source) };
    let scope = match &context.plan.mode {
        Mode::Export => Scope::Table,
        Mode::Backfill { from_day, to_day, .. } => Scope::Range { from: from_day.clone(), to: to_day.clone() },
    };
    let options = Options { lease_ttl: context.plan.lease_ttl, retention: context.plan.retention };
    counters.set_phase("opening the table");
    let (lake, meta) = (&context.lake, spec.lake_meta());
    Transaction::run(lake, spec.name, meta, &scope, &context.run_id, options, lake_error, async |txn| {
        export_in(context, spec, counters, txn).await
    })
    .await
}

async fn export_in(
    context: &Arc<RunContext>,
    spec: &'static TableSpec,
    counters: &Arc<Counters>,
    txn: &mut Transaction,
) -> Result<TableDone, TableError> {
    let lake_error = |source: LakeError| TableError::Lake { table: spec.name, source: Box::new(source) };
    let head = txn.head().cloned();
    let now = context.now;
    let (window, kind) = match &context.plan.mode {
        // A record of a table versioned by content is keyed by this run's start (this machine's
        // clock to the microsecond: Close's `Date` counts whole seconds, and two runs may start within
        // one), never before the latest stored key: there is no history to read, only the present to
        // compare with the latest stored versions.
        Mode::Export if spec.replication == Replication::Content => {
            let latest = head.as_ref().and_then(|m| m.bookmark_micros).map_or(Micros::MIN, |b| b + 1);
            let seen_at = context.started_at.max(latest);
            (Window { lower: seen_at, upper: seen_at + 1 }, RunKind::Export)
        }
        Mode::Backfill { .. } if spec.replication == Replication::Content => {
            return Ok(TableDone { files: 0, bytes: 0, outcome: "nothing to backfill: versioned by content".into() });
        }
        Mode::Export => (plan_window(context, spec, head.as_ref(), now), RunKind::Export),
        Mode::Backfill { from, to, .. } => {
            let upper = (*to).min(time::floor_to(now - context.plan.lag, spec.granule()));
            (Window { lower: *from, upper }, RunKind::Backfill)
        }
    };
    if window.lower >= window.upper {
        return Ok(TableDone { files: 0, bytes: 0, outcome: "up to date".into() });
    }
    tracing::info!(table = spec.name, %window, ?kind, "reading");

    // An export drops the versions of its re-read span (the tail); a backfill, and an export of a
    // table that only backfills have filled so far, every version the lake holds in the window.
    let seen = match (&context.plan.mode, &head) {
        _ if spec.replication == Replication::Content => {
            counters.set_phase("reading the latest versions the lake holds");
            latest_versions(txn, spec).await.map_err(lake_error)?
        }
        (Mode::Export, Some(head)) if head.bookmark_micros.is_some() => head.tail_versions(),
        (Mode::Export, None) => HashSet::new(),
        _ => {
            counters.set_phase("reading the versions the lake holds");
            versions_in(txn, spec, window).await.map_err(lake_error)?
        }
    };
    let run = Arc::new(TableRun {
        context: context.clone(),
        spec,
        decoder: Decoder::new(spec, &context.run_id, now),
        seen,
        files: txn.staging(),
        counters: counters.clone(),
    });
    counters.set_phase("");
    let output = match &spec.source {
        Source::Keyset { .. } => read_windows(run.clone(), Pager::keyset(spec, window)).await?,
        Source::Cursor { path, limit } => {
            read_windows(run.clone(), Pager::cursor(path, spec.key, *limit, window)).await?
        }
        Source::Search { .. } => {
            counters.set_phase("listing the custom fields to ask for");
            let fields = window::search_fields(&run, window).await?;
            counters.set_phase("");
            read_windows(run.clone(), Pager::search(spec, window, Arc::new(fields))).await?
        }
        Source::Full { .. } => window::read_full(run.clone(), window).await?,
    };

    let rows = output.rows;
    // A table with nothing to hold yet (an account without SMS templates, a plan without custom
    // objects) is still created, empty, so every query over the lake finds it.
    if rows == 0 && head.is_some() {
        return Ok(TableDone { files: 0, bytes: 0, outcome: "nothing new".into() });
    }
    counters.set_phase("committing");
    let pending = Pending {
        kind,
        started_at: context.started_at,
        window: (window.lower, window.upper),
        files: output.files,
        max_key: output.tail.max_key(),
        tail: output.tail.into_rows(),
        lookback: spec.lookback,
        key: spec.key,
        version: spec.version,
        removed: Vec::new(),
        stats: RunStats {
            rows,
            requests: counters.requests(),
            retries: counters.retries(),
            coerced: counters.coerced(),
        },
    };
    let Some(manifest) = txn.commit(pending).await.map_err(lake_error)? else {
        return Ok(TableDone { files: 0, bytes: 0, outcome: "nothing new".into() });
    };
    let (files, bytes) = (manifest.files.len() as u64, manifest.files.iter().map(|f| f.bytes).sum());
    tracing::info!(table = spec.name, manifest = manifest.number, rows = manifest.stats.rows, files, bookmark = ?manifest.bookmark, "committed");
    Ok(TableDone { files, bytes, outcome: format!("committed #{}", manifest.number) })
}

/// Every `(id, version)` the lake holds with a key in `window`, read from the files whose key
/// range meets it.
async fn versions_in(txn: &Transaction, spec: &TableSpec, window: Window) -> Result<HashSet<Version>, LakeError> {
    let mut held = HashSet::new();
    for file in txn.files() {
        if file.overlaps(window.lower, window.upper) {
            for (id, key, version) in reader::versions(txn.lake(), file, spec.key, spec.version).await? {
                if key.is_none_or(|k| window.contains(k)) {
                    held.insert((id, version));
                }
            }
        }
    }
    Ok(held)
}

/// The `(id, content hash)` of each record's latest stored version: a record read with that same
/// content is a repeat, any other content (a change, or a change back) a new version.
async fn latest_versions(txn: &Transaction, spec: &TableSpec) -> Result<HashSet<Version>, LakeError> {
    let mut latest: HashMap<String, (Option<Micros>, Option<Micros>)> = HashMap::new();
    for file in txn.files() {
        for (id, seen_at, hash) in reader::versions(txn.lake(), file, spec.key, spec.version).await? {
            let entry = latest.entry(id).or_insert((seen_at, hash));
            if seen_at > entry.0 {
                *entry = (seen_at, hash);
            }
        }
    }
    Ok(latest.into_iter().map(|(id, (_, hash))| (id, hash)).collect())
}

/// `[bookmark - lookback, now - lag)`, or from the start date (or all history) on a first run. The
/// upper bound falls on the source's granule (a millisecond, or the lead query's minute), so the
/// server's truncation cannot move a record across it. The lower bound stays exactly where the
/// commit's tail starts (keys are whole milliseconds already): the pager rounds its requests down
/// to the granule, and what that re-reads below the bound is dropped, not doubled.
fn plan_window(context: &RunContext, spec: &TableSpec, head: Option<&Manifest>, now: Micros) -> Window {
    let upper = time::floor_to(now - context.plan.lag, spec.granule());
    let lower = match head.and_then(|m| m.bookmark_micros) {
        Some(bookmark) => time::floor_to(bookmark - spec.lookback, time::MICROS_PER_MILLI),
        None => context.plan.start.unwrap_or(HISTORY_START),
    };
    if let Some(days) = spec.retention_days {
        let horizon = now - days * MICROS_PER_DAY;
        let asked = head.is_some_and(|m| m.bookmark_micros.is_some()) || context.plan.start.is_some();
        if asked && lower < horizon {
            tracing::warn!(
                table = spec.name,
                from = %time::format_rfc3339(lower),
                kept_since = %time::format_rfc3339(horizon),
                "Close keeps only about {days} days of {}: older entries no longer exist and cannot be exported",
                spec.name
            );
        }
    }
    Window { lower, upper }
}

/// Reads the window of `pager` and every part it splits off, up to [`WINDOWS_PER_TABLE`] at once,
/// into one output. Each window's tail is merged as it ends, so a table of hundreds of windows keeps
/// one look-back of rows, not one per window (with 8 MiB row groups and two malloc arenas, that took
/// an export of 2 million activities from a peak of 1 GiB to 250 MiB).
async fn read_windows(run: Arc<TableRun>, pager: Pager) -> Result<WindowOutput, TableError> {
    let (parts_tx, mut parts) = mpsc::unbounded_channel();
    let mut pending = VecDeque::from([pager]);
    let mut tasks = JoinSet::new();
    let mut merged = WindowOutput { files: Vec::new(), rows: 0, tail: TailCollector::new(run.spec.lookback) };
    loop {
        while tasks.len() < WINDOWS_PER_TABLE {
            let Some(next) = pending.pop_front() else { break };
            tasks.spawn(window::read_window(run.clone(), next, parts_tx.clone()));
        }
        if tasks.is_empty() {
            break;
        }
        tokio::select! {
            biased;
            Some(part) = parts.recv() => pending.push_back(part),
            Some(joined) = tasks.join_next() => {
                let output = joined.map_err(|err| TableError::Task { table: run.spec.name, message: err.to_string() })??;
                merged.files.extend(output.files);
                merged.rows += output.rows;
                merged.tail.merge(output.tail);
                // A reader sends its parts before it ends: take them before deciding we are done.
                while let Ok(part) = parts.try_recv() {
                    pending.push_back(part);
                }
            }
        }
    }
    Ok(merged)
}
