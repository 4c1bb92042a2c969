//! close-lake: export a Close CRM account into a Parquet data lake and keep it current.
//!
//! One run of one table is one straight line, and the module tree follows it:
//!
//! ```text
//! cli ──> config ──> export (run loop) ──> close (HTTP, pagers) ──> convert (JSON -> Arrow) ──> lake (Parquet, commit)
//!                        │
//!                        └── tables (one declaration per table)
//! ```
//!
//! - [`cli`] declares the command line; [`config`] validates it into a plan before any I/O.
//! - [`tables`] holds the table declarations; everything else is generic over them.
//! - [`close`] owns HTTP: auth, rate limits, retries, paging. It knows nothing of Arrow.
//! - [`convert`] turns a page of Close JSON into an Arrow record batch against a table's schema.
//! - [`lake`] owns the destination: stores, layout, Parquet files, the Delta log, leases.
//! - [`export`] runs tables (exports and backfills); [`status`] reports on a lake; [`sql`] prints
//!   DuckDB views over it; [`compact`] merges small files; [`vacuum`] deletes what the retention
//!   lets go; [`repair`] mends a table whose files were deleted by hand; [`check`] probes the key,
//!   the API and the destination; [`report`] shows progress and summaries.
//! - [`time`] holds the one representation of timestamps (UTC microseconds); [`error`] maps failures
//!   to exit statuses.

pub mod check;
pub mod cli;
pub mod close;
pub mod compact;
pub mod config;
pub mod convert;
pub mod error;
pub mod export;
pub mod lake;
pub mod repair;
pub mod report;
pub mod sql;
pub mod status;
pub mod tables;
pub mod time;
pub mod vacuum;

pub use error::Error;

/// Runs one parsed command line to completion.
pub async fn run(cli: cli::Cli) -> Result<(), Error> {
    match cli.command {
        cli::Command::Export(args) => {
            let plan = config::ExportPlan::from_args(&args, &config::Env::from_process())?;
            export::run(plan).await
        }
        cli::Command::Backfill(args) => {
            let plan = config::ExportPlan::from_backfill_args(&args, &config::Env::from_process())?;
            export::run(plan).await
        }
        cli::Command::Compact(args) => {
            compact::run(config::CompactPlan::from_args(&args, &config::Env::from_process())?).await
        }
        cli::Command::Vacuum(args) => {
            vacuum::run(config::MaintainPlan::from_vacuum_args(&args, &config::Env::from_process())?).await
        }
        cli::Command::Repair(args) => {
            repair::run(config::MaintainPlan::from_repair_args(&args, &config::Env::from_process())?).await
        }
        cli::Command::Sql(args) => sql::run(config::SqlPlan::from_args(&args, &config::Env::from_process())?).await,
        cli::Command::Check(args) => {
            check::run(config::CheckPlan::from_args(&args, &config::Env::from_process())?).await
        }
        cli::Command::Status(args) => {
            let plan = config::StatusPlan::from_args(&args, &config::Env::from_process())?;
            status::run(plan).await
        }
    }
}
