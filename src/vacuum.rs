//! `close-lake vacuum`: deletes, table by table, the files commits removed and the files no commit
//! names, once they are older than the retention by the store's clock (see [`crate::lake::vacuum`]).
//! It holds each table's lease, so it never runs beside an export or a compaction of the table.

use crate::config::MaintainPlan;
use crate::error::Error;
use crate::lake::lease::Scope;
use crate::lake::vacuum::{self, Vacuumed};
use crate::lake::{Lake, commit};

pub async fn run(plan: MaintainPlan) -> Result<(), Error> {
    let lake = plan.dest.open().map_err(Error::Destination)?;
    run_on(plan, lake).await
}

/// Runs the command on a lake opened by the caller.
pub async fn run_on(plan: MaintainPlan, lake: Lake) -> Result<(), Error> {
    let run_id = crate::export::new_run_id();
    let mut failed = 0;
    for spec in &plan.tables {
        let done = commit::leased(
            &lake,
            spec.name,
            &Scope::Table,
            &run_id,
            plan.lease_ttl,
            |err| err,
            async |_| {
                let mut snapshot = commit::recover(&lake, spec.name, &spec.lake_meta()).await?;
                vacuum::vacuum(&lake, &mut snapshot, plan.retention, &run_id).await
            },
        )
        .await;
        match done {
            Ok(Vacuumed { deleted, bytes, young }) => {
                println!(
                    "{:<14} {deleted} files deleted ({bytes} bytes), {young} kept until the retention passes",
                    spec.name
                )
            }
            Err(err) => {
                failed += 1;
                eprintln!("close-lake: {}: {}", spec.name, crate::report::one_line(&err.to_string()));
            }
        }
    }
    if failed > 0 { Err(Error::TablesFailed { failed, total: plan.tables.len() }) } else { Ok(()) }
}
