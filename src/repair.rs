//! `close-lake repair`: mends a table whose commits name files that are gone (deleted by hand, or
//! lost by the store). It commits the removal of every missing file, so every Delta reader works
//! again, and prints the backfill that reads their rows from Close again. A table with nothing
//! missing is left as it is.

use crate::config::MaintainPlan;
use crate::error::Error;
use crate::lake::commit::Pending;
use crate::lake::lease::Scope;
use crate::lake::manifest::{FileEntry, RunKind, RunStats};
use crate::lake::transaction::{Options, Transaction};
use crate::lake::{Lake, LakeError};
use crate::tables::TableSpec;
use crate::time;

pub async fn run(plan: MaintainPlan) -> Result<(), Error> {
    let lake = plan.dest.open().map_err(Error::Destination)?;
    let run_id = crate::export::new_run_id();
    crate::report::each_table(&plan.tables, async |spec| repair_table(&lake, spec, &plan, &run_id).await, report).await
}

/// What `repair` found in a table, and the backfill that reads the missing files again.
fn report(spec: &'static TableSpec, missing: Vec<FileEntry>) {
    if missing.is_empty() {
        println!("{:<21} every committed file is there", spec.name);
        return;
    }
    let rows: u64 = missing.iter().map(|f| f.rows).sum();
    let keys = |f: &FileEntry, max: bool| {
        let value = if max { f.max_key.as_deref() } else { f.min_key.as_deref() };
        value.and_then(time::parse_timestamp)
    };
    let from = missing.iter().filter_map(|f| keys(f, false)).min();
    let to = missing.iter().filter_map(|f| keys(f, true)).max();
    println!("{:<21} {} missing files ({rows} rows) removed from the table", spec.name, missing.len());
    if spec.replication == crate::tables::Replication::Content {
        println!("{:<21} the next export stores each record's content again where it differs", spec.name);
    } else if let (Some(from), Some(to)) = (from, to) {
        let day = |micros| time::to_datetime(micros).format("%Y-%m-%d").to_string();
        println!(
            "{:<21} read them again with: close-lake backfill --tables {} --from {} --to {}",
            spec.name,
            spec.name,
            day(from),
            day(to + time::MICROS_PER_DAY)
        );
    }
}

/// The missing files of a table, after committing their removal.
async fn repair_table(
    lake: &Lake,
    spec: &'static TableSpec,
    plan: &MaintainPlan,
    run_id: &str,
) -> Result<Vec<FileEntry>, LakeError> {
    let options = Options { lease_ttl: plan.lease_ttl, retention: plan.retention };
    Transaction::run(
        lake,
        spec.name,
        spec.lake_meta(),
        &Scope::Table,
        run_id,
        options,
        |err| err,
        async |txn| {
            let missing = txn.missing_files().await?;
            if missing.is_empty() {
                return Ok(missing);
            }
            tracing::warn!(
                table = spec.name,
                files = missing.len(),
                "committed files are missing; removing them from the table"
            );
            let now = time::now();
            let pending = Pending {
                kind: RunKind::Repair,
                started_at: now,
                window: (now, now),
                files: Vec::new(),
                tail: Vec::new(),
                max_key: None,
                lookback: spec.lookback,
                key: spec.key,
                version: spec.version,
                removed: missing.clone(),
                stats: RunStats::default(),
            };
            txn.commit(pending).await?;
            Ok(missing)
        },
    )
    .await
}
