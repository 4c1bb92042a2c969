//! `close-lake vacuum`: deletes, table by table, the files commits removed and the files no commit
//! names, once they are older than the retention by the store's clock (see [`crate::lake::vacuum`]).
//! It holds each table's lease, so it never runs beside an export or a compaction of the table.

use crate::config::MaintainPlan;
use crate::error::Error;
use crate::lake::Lake;
use crate::lake::lease::Scope;
use crate::lake::transaction::{Options, Transaction};
use crate::lake::vacuum::Vacuumed;

pub async fn run(plan: MaintainPlan) -> Result<(), Error> {
    let lake = plan.dest.open().map_err(Error::Destination)?;
    run_on(plan, lake).await
}

/// Runs the command on a lake opened by the caller.
pub async fn run_on(plan: MaintainPlan, lake: Lake) -> Result<(), Error> {
    let run_id = crate::export::new_run_id();
    let options = Options { lease_ttl: plan.lease_ttl, retention: plan.retention };
    crate::report::each_table(
        &plan.tables,
        async |spec| {
            let (meta, vacuum) = (spec.lake_meta(), async |txn: &mut Transaction| txn.vacuum().await);
            Transaction::run(&lake, spec.name, meta, &Scope::Table, &run_id, options, |err| err, vacuum).await
        },
        |spec, Vacuumed { deleted, bytes, young }| {
            println!(
                "{:<21} {deleted} files deleted ({bytes} bytes), {young} kept until the retention passes",
                spec.name
            )
        },
    )
    .await
}
