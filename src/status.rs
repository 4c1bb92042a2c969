//! `close-lake status`: what the lake holds, read from each table's newest Delta commit.

use serde::Serialize;

use crate::close::account::KeyNote;
use crate::config::StatusPlan;
use crate::error::Error;
use crate::lake::snapshot::Snapshot;
use crate::lake::{Lake, LakeError, layout, notes};
use crate::tables;

#[derive(Debug, Serialize)]
pub struct TableStatus {
    pub table: &'static str,
    pub bookmark: Option<String>,
    /// The number of the last committed run (1, 2, ...).
    pub manifest: Option<u64>,
    /// The table's Delta version (the last run's number minus one).
    pub delta_version: Option<u64>,
    pub last_run: Option<String>,
    pub committed_at: Option<String>,
    pub rows: u64,
    pub files: u64,
    pub bytes: u64,
}

pub async fn run(plan: StatusPlan) -> Result<(), Error> {
    let missing = matches!(&plan.dest, crate::lake::Destination::Local(path) if !path.exists());
    let (statuses, account) = if missing {
        (Vec::new(), None)
    } else {
        let lake = plan.dest.open().map_err(Error::Destination)?;
        let note = notes::read(&lake, layout::ACCOUNT).await.map_err(Error::Lake)?;
        // A note this release cannot read is no reason to fail `status`: it is shown as absent.
        let account = note.and_then(|note| serde_json::from_value::<KeyNote>(note).ok());
        (read(&lake).await.map_err(Error::Lake)?, account)
    };
    let empty = statuses.iter().all(|s| s.manifest.is_none());
    if plan.json {
        let out = serde_json::json!({ "dest": plan.dest.to_string(), "empty": empty, "api_key": account, "tables": statuses });
        println!("{out:#}");
    } else if empty {
        println!("{}: no committed data yet (run `close-lake export` to fill it)", plan.dest);
    } else {
        for s in &statuses {
            match (&s.manifest, &s.committed_at) {
                (Some(number), Some(at)) => println!(
                    "{:<21} bookmark {}  version {}  run #{} {} at {}  rows {}  files {}",
                    s.table,
                    s.bookmark.as_deref().unwrap_or("-"),
                    number - 1,
                    number,
                    s.last_run.as_deref().unwrap_or("-"),
                    at,
                    s.rows,
                    s.files
                ),
                _ => println!("{:<21} no committed run", s.table),
            }
        }
        if let Some(account) = account.filter(|a| a.event_data_limited) {
            println!(
                "note: the API key has role `{}`, not admin: event data and previous_data are kept only for events under an hour old",
                account.role.as_deref().unwrap_or("?")
            );
        }
    }
    Ok(())
}

/// The status of every table, from its newest manifest.
pub async fn read(lake: &Lake) -> Result<Vec<TableStatus>, LakeError> {
    let mut out = Vec::new();
    for spec in tables::all() {
        let snapshot = Snapshot::load(lake, spec.name, &spec.lake_meta()).await?;
        out.push(match snapshot.head().cloned() {
            Some(m) => TableStatus {
                table: spec.name,
                bookmark: m.bookmark,
                manifest: Some(m.number),
                delta_version: Some(crate::lake::delta::version_of(m.number)),
                last_run: Some(m.run_id),
                committed_at: Some(m.committed_at),
                rows: m.totals.rows,
                files: m.totals.files,
                bytes: m.totals.bytes,
            },
            None => TableStatus {
                table: spec.name,
                bookmark: None,
                manifest: None,
                delta_version: None,
                last_run: None,
                committed_at: None,
                rows: 0,
                files: 0,
                bytes: 0,
            },
        });
    }
    Ok(out)
}
