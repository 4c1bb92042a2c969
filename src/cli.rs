//! The command line, as declared to clap. Only declarations live here: validation is in
//! [`crate::config`], so every flag is checked in one place before any network or storage call.

use clap::{Args, Parser, Subcommand};

const ENVIRONMENT: &str = "\
Environment:
  CLOSE_API_KEY          Close API key (required by export and backfill; never printed, logged or written)
  CLOSE_API_URL          Close API base URL [default: https://api.close.com/api/v1]
  CLOSE_LAKE_DEST        Destination of the lake [default: ./lake]
  CLOSE_LAKE_START_DATE  First day to read for tables without a bookmark (YYYY-MM-DD, midnight UTC)
  CLOSE_LAKE_LAG         How far behind now every upper bound stays, e.g. 5m, 30s [default: 5m]
  CLOSE_LAKE_LEASE_TTL   How long a table lease lives without a heartbeat [default: 2m]
  CLOSE_LAKE_RETENTION   How long removed and unnamed files stay before a vacuum deletes them [default: 7d]
  CLOSE_LAKE_RECORD      Folder to record every API request and answer into (key redacted)
  CLOSE_LAKE_LOG         Log filter, e.g. info, debug, close_lake=trace [default: info]
  CLOSE_LAKE_LOG_FORMAT  text or json [default: text]
  AWS_*, GOOGLE_*        Credentials, region and endpoint of s3:// and gs:// destinations
A flag beats the environment.";

/// Export a Close CRM account into a Parquet data lake on S3, GCS or local disk.
#[derive(Debug, Parser)]
#[command(name = "close-lake", version, after_help = ENVIRONMENT, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Export new and changed records of each table since its bookmark, then commit them.
    #[command(after_help = ENVIRONMENT)]
    Export(ExportArgs),
    /// Re-read the records whose replication key falls in [from, to) and add the versions the lake
    /// lacks; never removes a version, never moves a bookmark.
    #[command(after_help = ENVIRONMENT)]
    Backfill(BackfillArgs),
    /// Print the bookmark, last committed run, rows and files of each table.
    #[command(after_help = ENVIRONMENT)]
    Status(StatusArgs),
    /// Print DuckDB SQL that defines a view per table and a `<table>_latest` view of current records.
    #[command(after_help = ENVIRONMENT)]
    Sql(SqlArgs),
    /// Merge each partition's small files into files of the target size, in one Delta commit.
    #[command(after_help = ENVIRONMENT)]
    Compact(CompactArgs),
    /// Delete files removed, or never committed, longer ago than the retention (by the store's clock).
    #[command(after_help = ENVIRONMENT)]
    Vacuum(VacuumArgs),
    /// Find committed files that are gone (deleted by hand), commit their removal, and print the
    /// backfill that reads them again.
    #[command(after_help = ENVIRONMENT)]
    Repair(RepairArgs),
    /// Probe the key, every table's endpoint and the destination, one line per check; writes no data.
    #[command(after_help = ENVIRONMENT)]
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct CompactArgs {
    /// Destination [env: CLOSE_LAKE_DEST] [default: ./lake]
    #[arg(long, value_name = "URL")]
    pub dest: Option<String>,
    /// Comma-separated tables [default: all]
    #[arg(long, value_name = "LIST")]
    pub tables: Option<String>,
    /// Comma-separated partitions, as their month: 2024-01,2024-02 [default: every partition]
    #[arg(long, value_name = "LIST")]
    pub partitions: Option<String>,
}

#[derive(Debug, Args)]
pub struct VacuumArgs {
    /// Destination [env: CLOSE_LAKE_DEST] [default: ./lake]
    #[arg(long, value_name = "URL")]
    pub dest: Option<String>,
    /// Comma-separated tables [default: all]
    #[arg(long, value_name = "LIST")]
    pub tables: Option<String>,
    /// Keep files removed less than this long ago, e.g. 7d, 12h, 0s; readers of versions older than
    /// this lose their files [env: CLOSE_LAKE_RETENTION] [default: 7d]
    #[arg(long, value_name = "DURATION")]
    pub retention: Option<String>,
}

#[derive(Debug, Args)]
pub struct RepairArgs {
    /// Destination [env: CLOSE_LAKE_DEST] [default: ./lake]
    #[arg(long, value_name = "URL")]
    pub dest: Option<String>,
    /// Comma-separated tables [default: all]
    #[arg(long, value_name = "LIST")]
    pub tables: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Destination: a local path, file:///abs/path, s3://bucket/prefix or gs://bucket/prefix
    /// [env: CLOSE_LAKE_DEST] [default: ./lake]
    #[arg(long, value_name = "URL")]
    pub dest: Option<String>,
    /// Comma-separated tables [default: all]: activities, custom_fields, event_log, leads, tasks,
    /// users, opportunities, contacts, custom_objects, lead_statuses, opportunity_statuses, pipelines,
    /// custom_activity_types, custom_object_types, email_templates, sms_templates, sequences,
    /// smart_views, roles, groups
    #[arg(long, value_name = "LIST")]
    pub tables: Option<String>,
    /// First day (midnight UTC, inclusive) read by tables that have no bookmark yet
    /// [env: CLOSE_LAKE_START_DATE] [default: all history]
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub start_date: Option<String>,
    /// Close API base URL [env: CLOSE_API_URL] [default: https://api.close.com/api/v1]
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Record every API request and answer into DIR (key redacted), for a bug report
    /// [env: CLOSE_LAKE_RECORD]
    #[arg(long, value_name = "DIR")]
    pub record: Option<String>,
}

#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// First day of the range, inclusive (YYYY-MM-DD, UTC)
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: String,
    /// Day after the range, exclusive (YYYY-MM-DD, UTC)
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub to: String,
    /// Comma-separated tables [default: all]
    #[arg(long, value_name = "LIST")]
    pub tables: Option<String>,
    /// Destination [env: CLOSE_LAKE_DEST] [default: ./lake]
    #[arg(long, value_name = "URL")]
    pub dest: Option<String>,
    /// Close API base URL [env: CLOSE_API_URL]
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Record every API request and answer into DIR (key redacted) [env: CLOSE_LAKE_RECORD]
    #[arg(long, value_name = "DIR")]
    pub record: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Destination to probe with one write and delete [env: CLOSE_LAKE_DEST] [default: ./lake]
    #[arg(long, value_name = "URL")]
    pub dest: Option<String>,
    /// Close API base URL [env: CLOSE_API_URL] [default: https://api.close.com/api/v1]
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// Destination [env: CLOSE_LAKE_DEST] [default: ./lake]
    #[arg(long, value_name = "URL")]
    pub dest: Option<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Destination [env: CLOSE_LAKE_DEST] [default: ./lake]
    #[arg(long, value_name = "URL")]
    pub dest: Option<String>,
    /// Print JSON for machines instead of one line per table
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_names_every_environment_variable() {
        let help = Cli::command().render_long_help().to_string();
        for var in ["CLOSE_API_KEY", "CLOSE_API_URL", "CLOSE_LAKE_DEST", "CLOSE_LAKE_START_DATE", "CLOSE_LAKE_LAG"] {
            assert!(help.contains(var), "--help lacks {var}");
        }
    }
}
