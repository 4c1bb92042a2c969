//! The table registry: each table is one [`TableSpec`] declaration.
//!
//! A spec says where a table's records come from ([`Source`]), how it replicates ([`Replication`]),
//! which column is its replication key and which its version, and the Arrow columns it declares.
//! The run loop, pagers, converter and lake are generic over specs: every table, from activities to
//! groups, is one declaration in [`specs`] over one of four sources (keyset pages, the event log's
//! cursor, search, or a small listing read in full) and three ways to replicate.

mod specs;

use crate::convert::ColumnType;
use crate::time::{MICROS_PER_HOUR, MICROS_PER_MILLI, Micros};

pub use specs::all;

/// How a table's records are read from Close.
#[derive(Debug)]
pub enum Source {
    /// A server-side filter on the replication key with ascending order and offset pages.
    /// Pages advance by key (`key >= last key seen`), skipping only the records already read at
    /// that exact key, so `_skip` stays small however deep the history goes.
    Keyset {
        path: &'static str,
        filter: KeyFilter,
        /// The field pages are sorted and advanced by: `None` for the replication key itself.
        /// `/task/` filters by `date_updated` but sorts only by `date` or `date_created`, so tasks
        /// filter a `date_updated` window and page through it by `date_created`, which never moves.
        order_by: Option<&'static str>,
        /// The precision of the server's bounds on the order field: a millisecond where Close takes
        /// timestamps, a minute for the lead query language. Bounds and split points fall on it.
        granule: Micros,
        /// Largest `_limit` the endpoint accepts.
        limit: u32,
        /// Parameters every request carries (for example `_type=all` on `/task/`).
        params: &'static [(&'static str, &'static str)],
    },
    /// `POST /data/search/` over one object type: a window of the key (`date_updated`), sorted by it.
    /// Search returns only the fields a query names: the declared columns, and every custom field of
    /// the type, listed at the start of each run.
    Search {
        object_type: &'static str,
        /// The custom field listings whose fields belong to the type (a shared field counts where it
        /// is associated with the type).
        custom_fields: &'static [&'static str],
        /// A plan may lack the object type (402/403/404): a warning and no records.
        optional: bool,
        limit: u32,
    },
    /// Cursor pages, newest first, filtered by `key__gte`/`key__lte` (the event log).
    Cursor { path: &'static str, limit: u32 },
    /// No server-side date filter: small tables read in full from every endpoint, merged by `id`
    /// and filtered by key locally. Each endpoint's tag is recorded in `tag_column`.
    Full {
        endpoints: &'static [Endpoint],
        /// The `_limit` of `_skip` pages, or `None` where the endpoint documents no paging and
        /// answers every record at once.
        limit: Option<u32>,
        tag_column: Option<&'static str>,
        /// Also read the users who are only inactive members of the key's organizations (deactivated
        /// users: `/user/` lists active members only, yet records keep referring to the others).
        inactive_users: bool,
    },
}

/// One endpoint of a [`Source::Full`] table and the tag its records get.
#[derive(Debug)]
pub struct Endpoint {
    pub path: &'static str,
    pub tag: &'static str,
    /// A plan may lack this endpoint (402/403/404): a warning and no records, not a failed table.
    pub optional: bool,
    /// Parameters every request carries (for example every type of smart view).
    pub params: &'static [(&'static str, &'static str)],
}

/// How an endpoint filters and sorts by the replication key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFilter {
    /// `key__gte=`, `key__lt=`, `_order_by=key`.
    Params,
    /// Close's query language in `query=`: `key >= "..." key < "..." sort:key` (`/lead/` ignores
    /// the `__gte` parameters and would silently return every lead).
    Query,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replication {
    /// Records never change their key; recent ones are re-read for new versions.
    AppendOnly,
    /// Change data capture: the key moves forward on every change.
    Cdc,
    /// Records without timestamps (statuses, roles, groups), read in full: a version is stored when
    /// a record's content differs from its latest stored version. The key is [`SEEN_AT_COLUMN`], the
    /// time of the run that first saw that content, and the version is [`CONTENT_HASH_COLUMN`].
    Content,
}

/// The key of a [`Replication::Content`] table: when a run first saw a record's content.
pub const SEEN_AT_COLUMN: &str = "_close_lake_seen_at";
/// The version of a [`Replication::Content`] table: a hash of the record's content (keys sorted).
pub const CONTENT_HASH_COLUMN: &str = "_close_lake_content_hash";

/// A table's declaration.
#[derive(Debug)]
pub struct TableSpec {
    pub name: &'static str,
    pub replication: Replication,
    pub source: Source,
    /// The replication key: the column windows, bookmarks and partitions are computed from.
    pub key: &'static str,
    /// The column that identifies a version of a record: `date_updated`, or the content hash of a
    /// table versioned by content.
    pub version: &'static str,
    /// How far before the bookmark each run starts reading again.
    pub lookback: Micros,
    /// How far back the API keeps this table's history, if it forgets (the event log: ~30 days).
    pub retention_days: Option<i64>,
    /// Declared columns. Fields without a column are kept in the extras column.
    pub columns: &'static [Column],
}

#[derive(Debug)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColumnType,
}

impl TableSpec {
    /// The Hive partition column derived from the replication key, e.g. `date_created_month`.
    pub fn partition_column(&self) -> String {
        format!("{}_month", self.key)
    }

    /// The partition of a row: its key's month (`YYYY-MM`), or Hive's default partition for a row
    /// without a key. With [`TableSpec::partition_column`], the one place partitioning is decided.
    pub fn partition_value(key: Option<crate::time::Micros>) -> String {
        key.map_or_else(|| crate::lake::layout::NULL_PARTITION.to_string(), crate::time::month_of)
    }

    /// What the lake needs to know of the table: its Arrow schema, key and partition column.
    pub fn lake_meta(&self) -> crate::lake::delta::TableMeta {
        crate::lake::delta::TableMeta {
            schema: crate::convert::arrow_schema(self),
            key: self.key.to_string(),
            partition_column: self.partition_column(),
        }
    }

    /// The field pages advance by: the replication key unless the source sorts by another.
    pub fn order_key(&self) -> &'static str {
        match self.source {
            Source::Keyset { order_by: Some(order), .. } => order,
            _ => self.key,
        }
    }

    /// The column whose largest value marks a record's newest version.
    pub fn newest_by(&self) -> &'static str {
        match self.replication {
            Replication::Content => self.key,
            Replication::Cdc | Replication::AppendOnly => self.version,
        }
    }

    /// The precision of the server's bounds on the order field.
    pub fn granule(&self) -> Micros {
        match self.source {
            Source::Keyset { granule, .. } => granule,
            _ => MICROS_PER_MILLI,
        }
    }
}

/// Declares a column: `col!(name, Type)`.
macro_rules! col {
    ($name:literal, $ty:ident) => {
        $crate::tables::Column { name: $name, ty: $crate::convert::ColumnType::$ty }
    };
}
pub(crate) use col;

pub fn by_name(name: &str) -> Option<&'static TableSpec> {
    all().iter().find(|spec| spec.name == name)
}

pub fn names() -> Vec<&'static str> {
    all().iter().map(|spec| spec.name).collect()
}

/// The event log's look-back: Close merges actions on one object into one event and rewrites its
/// `date_updated`, so a run reads the hour before its bookmark again.
pub const EVENT_OVERLAP: Micros = MICROS_PER_HOUR;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_in_contract_order() {
        let names = names();
        let six = ["activities", "custom_fields", "event_log", "leads", "tasks", "users"];
        assert_eq!(names[..6], six, "the six first, as the contract lists them");
        let more =
            ["opportunities", "contacts", "custom_objects", "lead_statuses", "opportunity_statuses", "pipelines"];
        assert_eq!(names[6..12], more);
        let configuration = [
            "custom_activity_types",
            "custom_object_types",
            "email_templates",
            "sms_templates",
            "sequences",
            "smart_views",
        ];
        assert_eq!(names[12..18], configuration);
        assert_eq!(names[18..], ["roles", "groups"]);
    }

    #[test]
    fn every_table_declares_id_key_and_version() {
        for spec in all() {
            for needed in ["id", spec.key, spec.version, spec.order_key()] {
                let column = spec.columns.iter().find(|c| c.name == needed);
                assert!(column.is_some(), "{} lacks column {needed}", spec.name);
            }
            let key = spec.columns.iter().find(|c| c.name == spec.key).unwrap();
            assert_eq!(key.ty, ColumnType::Timestamp, "{}: key must be a timestamp", spec.name);
            let mut names: Vec<_> = spec.columns.iter().map(|c| c.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), spec.columns.len(), "{}: duplicate column", spec.name);
            assert!(names.iter().all(|n| !n.contains('.')), "{}: dotted column name", spec.name);
            assert!(!names.contains(&spec.partition_column().as_str()));
        }
    }
}
