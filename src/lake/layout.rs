//! The names of every object in a lake.
//!
//! ```text
//! <table>/_delta_log/<version>.json                     one per committed run: the commit point
//! <table>/_delta_log/<version>.checkpoint.parquet       the table's state every 10 versions
//! <table>/_delta_log/_last_checkpoint                   which checkpoint is the newest
//! <table>/<key>_month=YYYY-MM/<run>-<seq>.parquet      data files, Hive partitions
//! _close_lake/staging/<table>/<run>/<seq>.parquet       files of a run being written
//! _close_lake/leases/<table>.json                       who is exporting the table now
//! _close_lake/leases/<table>/backfill-<from>_<to>.json  who is backfilling a range of it
//! _close_lake/account.json                              the key's role, as the last export saw it
//! _close_lake/clock/<uuid>                              a probe of the store's clock, deleted at once
//! ```
//! A table folder holds the Delta log and Parquet files; a run's files move there just before its
//! commit, so a run that dies or fails in between, or loses its race for good, leaves files no
//! commit names. Delta readers never see them; a vacuum deletes them once the retention has passed.

use object_store::path::Path;

/// The folder of close-lake's own objects. Readers globbing `<table>/**/*.parquet` never see it.
pub const META: &str = "_close_lake";

/// The Hive folder name of a partition whose key is missing (its Delta partition value is null).
pub const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// What the last export learned of the API key (its role), for `status`.
pub const ACCOUNT: &str = "_close_lake/account.json";

pub fn data_file(table: &str, partition_column: &str, partition: &str, run_id: &str, seq: u32) -> Path {
    Path::from(format!("{table}/{partition_column}={partition}/{run_id}-{seq:05}.parquet"))
}

pub fn staging_dir(table: &str) -> Path {
    Path::from(format!("{META}/staging/{table}"))
}

/// The final paths of a run's files, written just before they move into the table folder.
pub fn publishing_note(table: &str, run_id: &str) -> Path {
    Path::from(format!("{META}/staging/{table}/{run_id}/publishing.json"))
}

pub fn staged_file(table: &str, run_id: &str, seq: u32) -> Path {
    Path::from(format!("{META}/staging/{table}/{run_id}/{seq:05}.parquet"))
}

/// The Delta log of a table.
pub fn delta_log_dir(table: &str) -> Path {
    Path::from(format!("{table}/_delta_log"))
}

/// One version of a table's Delta log (20 digits, so listing order is version order).
pub fn delta_commit(table: &str, version: u64) -> Path {
    Path::from(format!("{table}/_delta_log/{version:020}.json"))
}

/// The checkpoint of a version.
pub fn delta_checkpoint(table: &str, version: u64) -> Path {
    Path::from(format!("{table}/_delta_log/{version:020}.checkpoint.parquet"))
}

pub fn delta_last_checkpoint(table: &str) -> Path {
    Path::from(format!("{table}/_delta_log/_last_checkpoint"))
}

/// The version of a Delta commit path, if it is one.
pub fn delta_version(path: &Path) -> Option<u64> {
    let name = path.filename()?.strip_suffix(".json")?;
    (name.len() == 20).then(|| name.parse().ok()).flatten()
}

pub fn lease(table: &str) -> Path {
    Path::from(format!("{META}/leases/{table}.json"))
}

/// The folder of a table's backfill leases, one per key range.
pub fn range_leases(table: &str) -> Path {
    Path::from(format!("{META}/leases/{table}"))
}

pub fn range_lease(table: &str, from: &str, to: &str) -> Path {
    Path::from(format!("{META}/leases/{table}/backfill-{from}_{to}.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            data_file("leads", "date_updated_month", "2024-01", "r1", 7).as_ref(),
            "leads/date_updated_month=2024-01/r1-00007.parquet"
        );
        let commit = delta_commit("leads", 12);
        assert_eq!(commit.as_ref(), "leads/_delta_log/00000000000000000012.json");
        assert_eq!(delta_version(&commit), Some(12));
        assert_eq!(delta_version(&Path::from("leads/_delta_log/_last_checkpoint")), None);
        assert_eq!(staged_file("leads", "r1", 3).as_ref(), "_close_lake/staging/leads/r1/00003.parquet");
    }
}
