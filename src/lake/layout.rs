//! The names of every object in a lake.
//!
//! ```text
//! <table>/<key>_month=YYYY-MM/<run>-<seq>.parquet      committed data, Hive partitions
//! _close_lake/manifests/<table>/<number>.json           one per committed run: the commit point
//! _close_lake/bookmarks/<table>.json                    where the next run starts (derivable)
//! _close_lake/staging/<table>/<run>/<seq>.parquet       files of a run before its commit
//! _close_lake/leases/<table>.json                       who is exporting the table now
//! _close_lake/leases/<table>/backfill-<from>_<to>.json  who is backfilling a range of it
//! _close_lake/account.json                              the key's role, as the last export saw it
//! ```
//! Nothing but committed Parquet ever sits inside a table folder.

use object_store::path::Path;

/// The folder of close-lake's own objects. Readers globbing `<table>/**/*.parquet` never see it.
pub const META: &str = "_close_lake";

/// What the last export learned of the API key (its role), for `status`.
pub const ACCOUNT: &str = "_close_lake/account.json";

pub fn data_file(table: &str, partition_column: &str, partition: &str, run_id: &str, seq: u32) -> Path {
    Path::from(format!("{table}/{partition_column}={partition}/{run_id}-{seq:05}.parquet"))
}

pub fn staging_dir(table: &str) -> Path {
    Path::from(format!("{META}/staging/{table}"))
}

pub fn staged_file(table: &str, run_id: &str, seq: u32) -> Path {
    Path::from(format!("{META}/staging/{table}/{run_id}/{seq:05}.parquet"))
}

pub fn manifests_dir(table: &str) -> Path {
    Path::from(format!("{META}/manifests/{table}"))
}

/// Zero-padded so that listing order is commit order.
pub fn manifest(table: &str, number: u64) -> Path {
    Path::from(format!("{META}/manifests/{table}/{number:010}.json"))
}

/// The number of a manifest path, if it is one.
pub fn manifest_number(path: &Path) -> Option<u64> {
    path.filename()?.strip_suffix(".json")?.parse().ok()
}

pub fn bookmark(table: &str) -> Path {
    Path::from(format!("{META}/bookmarks/{table}.json"))
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
        let manifest = manifest("leads", 12);
        assert_eq!(manifest.as_ref(), "_close_lake/manifests/leads/0000000012.json");
        assert_eq!(manifest_number(&manifest), Some(12));
        assert_eq!(staged_file("leads", "r1", 3).as_ref(), "_close_lake/staging/leads/r1/00003.parquet");
    }
}
