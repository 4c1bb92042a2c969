//! The run loop of `close-lake export`.
//!
//! [`run`] checks the key and the destination before any table starts (a bad key is one line in
//! total), then runs every requested table concurrently ([`table`]). Each table reads its window in
//! one or more concurrent key windows ([`window`]), stages Parquet, and commits one Delta version.
//! A table that fails is reported on one line and leaves the others committed.

mod table;
mod tail;
mod window;

use std::sync::Arc;
use std::time::Instant;

use crate::close::{Account, ApiError, Client};
use crate::config::ExportPlan;
use crate::convert::DecodeError;
use crate::error::Error;
use crate::lake::{Lake, LakeError};
use crate::report::{self, Counters, Progress, TableSummary};
use crate::time::{self, Micros};

pub use crate::close::pager::Window;

/// Why one table's run failed, with the stage and window it failed in.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("{table}: reading {window}: {source}")]
    Fetch { table: &'static str, window: Window, source: ApiError },
    #[error("{table}: converting a page of {window}: {source}")]
    Convert { table: &'static str, window: Window, source: DecodeError },
    #[error("{table}: {source}")]
    Lake { table: &'static str, source: Box<LakeError> },
    #[error("{table}: {message}")]
    Task { table: &'static str, message: String },
}

/// What every table run of one `export` shares.
pub struct RunContext {
    pub plan: ExportPlan,
    pub client: Client,
    pub lake: Lake,
    pub run_id: String,
    pub started_at: Micros,
    /// Who the key is, and its deactivated users.
    pub account: Account,
    /// Close's clock at the start: every window's upper bound is computed from it, so the bounds
    /// follow the server whose index lags, not this machine's clock.
    pub now: Micros,
}

pub async fn run(plan: ExportPlan) -> Result<(), Error> {
    run_on(plan, None).await
}

/// Runs an export or backfill into `lake` (a store the caller configured in code), or into
/// `--dest`, opened once the key is known good: a bad key writes nothing anywhere.
pub async fn run_on(plan: ExportPlan, lake: Option<Lake>) -> Result<(), Error> {
    let client = Client::new(&plan.api).map_err(Error::Startup)?;
    let account = Account::fetch(&client, &Counters::default()).await.map_err(Error::Startup)?;
    if let Some(warning) = account.role_warning() {
        tracing::warn!("{warning}");
    }
    let lake = match lake {
        Some(lake) => lake,
        None => plan.dest.open().map_err(Error::Destination)?,
    };
    let run_id = new_run_id();
    probe(&lake, &run_id).await.map_err(Error::Destination)?;
    note_account(&lake, &account).await;

    let now = account.server_now;
    let context = Arc::new(RunContext { plan, client, lake, run_id, started_at: time::now(), account, now });
    tracing::info!(run_id = %context.run_id, dest = %context.lake.dest(), "export started");
    let progress = Progress::default();
    let mut tasks = tokio::task::JoinSet::new();
    for (order, &spec) in context.plan.tables.clone().iter().enumerate() {
        let counters = Arc::new(Counters::default());
        let (context, bar) = (context.clone(), progress.table(spec.name, counters.clone()));
        tasks.spawn(async move {
            let started = Instant::now();
            // Its own task, so that a panic fails this table alone, with its name, and the
            // other tables go on to commit.
            let run = {
                let counters = counters.clone();
                tokio::spawn(async move { table::export(&context, spec, &counters).await })
            };
            let result = run.await.unwrap_or_else(|err| {
                Err(TableError::Task { table: spec.name, message: format!("the table's run stopped: {err}") })
            });
            bar.finish(match &result {
                Ok(done) => format!("{} ({} rows)", done.outcome, counters.rows()),
                Err(_) => "failed".to_string(),
            });
            (order, spec.name, started.elapsed(), counters, result)
        });
    }

    let mut summaries = Vec::new();
    let mut failures = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (order, name, duration, counters, result) = joined.map_err(|err| Error::Internal(err.to_string()))?;
        let (files, bytes, outcome) = match result {
            Ok(done) => (done.files, done.bytes, done.outcome),
            Err(err) => {
                failures.push((order, err));
                (0, 0, "failed".to_string())
            }
        };
        let line = TableSummary {
            table: name,
            rows: counters.rows(),
            files,
            bytes,
            requests: counters.requests(),
            retries: counters.retries(),
            coerced: counters.coerced(),
            duration,
            outcome,
        };
        tracing::info!(
            table = name, rows = line.rows, files, bytes, requests = line.requests, retries = line.retries,
            coerced = line.coerced, windows = counters.windows(), duration_ms = duration.as_millis() as u64, outcome = %line.outcome, "table done"
        );
        summaries.push((order, line));
    }
    summaries.sort_by_key(|(order, _)| *order);
    let lines: Vec<TableSummary> = summaries.into_iter().map(|(_, line)| line).collect();
    print!("{}", report::summary(&lines));
    failures.sort_by_key(|(order, _)| *order);
    for (_, err) in &failures {
        eprintln!("close-lake: {}", report::one_line(&err.to_string()));
    }
    if failures.is_empty() { Ok(()) } else { Err(Error::TablesFailed { failed: failures.len(), total: lines.len() }) }
}

/// What a table run committed.
#[derive(Debug)]
pub struct TableDone {
    pub files: u64,
    pub bytes: u64,
    pub outcome: String,
}

/// A run id that sorts by time and never repeats: `20261126T194817Z-1a2b3c4d`.
pub(crate) fn new_run_id() -> String {
    let uuid = uuid::Uuid::now_v7().simple().to_string();
    format!("{}-{}", time::to_datetime(time::now()).format("%Y%m%dT%H%M%SZ"), &uuid[uuid.len() - 8..])
}

/// Why the probe could not write, in the words a user can act on.
fn probe_failure(err: &object_store::Error) -> String {
    match err {
        object_store::Error::NotFound { .. } => "the bucket does not exist".to_string(),
        object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. } => {
            "access denied: check the AWS_* or GOOGLE_* credentials and the permissions in docs/destinations.md"
                .to_string()
        }
        other => report::one_line(&other.to_string()),
    }
}

/// Keeps what the run learned of the key (role, deactivated users) in the lake for `status`. It
/// describes the account, not the data, so a write that fails is a warning, not a failed run.
async fn note_account(lake: &Lake, account: &Account) {
    let note = serde_json::to_value(account.note()).unwrap_or_default();
    if let Err(err) = crate::lake::notes::write(lake, crate::lake::layout::ACCOUNT, &note).await {
        tracing::warn!(error = %err, "cannot keep the key's role in the lake");
    }
}

/// Writes and deletes one object, so an unwritable destination fails before any table starts.
pub(crate) async fn probe(lake: &Lake, run_id: &str) -> Result<(), LakeError> {
    use object_store::ObjectStoreExt;
    let path = object_store::path::Path::from(format!("{}/probes/{run_id}", crate::lake::layout::META));
    let unusable =
        |err: object_store::Error| LakeError::Unusable { dest: lake.dest().to_string(), reason: probe_failure(&err) };
    lake.store().put(&path, object_store::PutPayload::from_static(b"probe")).await.map_err(unusable)?;
    lake.store().delete(&path).await.map_err(unusable)?;
    Ok(())
}
