//! Conversion of Close JSON records into Arrow record batches, against a table's declared schema.
//!
//! This is CPU work and runs on blocking threads, never on the async runtime. Each record is parsed
//! once into borrowed `(key, raw value)` pairs: scalars go straight into Arrow builders, nested
//! values into JSON text columns as the bytes Close sent, and every field without a column into
//! the extras column, so nothing a record carries is lost. See [`decode`].

mod decode;

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::tables::TableSpec;

pub use decode::{DecodeError, Decoded, Decoder, RowKey};

/// The type of a declared column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Str,
    /// Any Close timestamp shape, stored as microseconds in UTC.
    Timestamp,
    /// A date-only value (`2022-11-12`).
    Date,
    Int,
    Float,
    Bool,
    /// A nested value kept as JSON text, exactly as Close sent it.
    Json,
}

/// Fields that have no declared column (and values that did not fit theirs), as one JSON object.
pub const EXTRA_COLUMN: &str = "_close_lake_extra";
/// The run that wrote the row.
pub const RUN_ID_COLUMN: &str = "_close_lake_run_id";
/// When the run read the row from Close.
pub const EXTRACTED_AT_COLUMN: &str = "_close_lake_extracted_at";
/// Close's flat `custom.cf_<id>` keys, as one JSON object keyed by field id (column names take no dots).
pub const CUSTOM_BY_ID_COLUMN: &str = "custom_by_id";
/// The key prefix of Close's flat custom field values.
pub const CUSTOM_PREFIX: &str = "custom.";

/// A stable 64-bit hash of a JSON value's content: objects hash by sorted keys, so the order
/// Close lists a record's fields in changes nothing. FNV-1a, the same on every machine and release.
pub fn content_hash(value: &serde_json::Value) -> i64 {
    fn feed(hash: &mut u64, bytes: &[u8]) {
        for byte in bytes {
            *hash ^= u64::from(*byte);
            *hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn walk(hash: &mut u64, value: &serde_json::Value) {
        use serde_json::Value;
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort_unstable();
                feed(hash, b"{");
                for key in keys {
                    feed(hash, serde_json::to_string(key).unwrap_or_default().as_bytes());
                    feed(hash, b":");
                    walk(hash, &map[key]);
                    feed(hash, b",");
                }
                feed(hash, b"}");
            }
            Value::Array(items) => {
                feed(hash, b"[");
                for item in items {
                    walk(hash, item);
                    feed(hash, b",");
                }
                feed(hash, b"]");
            }
            scalar => feed(hash, scalar.to_string().as_bytes()),
        }
    }
    let mut hash = 0xcbf2_9ce4_8422_2325;
    walk(&mut hash, value);
    hash as i64
}

pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

impl ColumnType {
    pub fn arrow_type(self) -> DataType {
        match self {
            ColumnType::Str | ColumnType::Json => DataType::Utf8,
            ColumnType::Timestamp => timestamp_type(),
            ColumnType::Date => DataType::Date32,
            ColumnType::Int => DataType::Int64,
            ColumnType::Float => DataType::Float64,
            ColumnType::Bool => DataType::Boolean,
        }
    }
}

/// The Arrow schema of a table's files: declared columns, then extras and lineage.
pub fn arrow_schema(spec: &TableSpec) -> SchemaRef {
    let mut fields: Vec<Field> =
        spec.columns.iter().map(|column| Field::new(column.name, column.ty.arrow_type(), true)).collect();
    fields.push(Field::new(EXTRA_COLUMN, DataType::Utf8, true));
    fields.push(Field::new(RUN_ID_COLUMN, DataType::Utf8, true));
    fields.push(Field::new(EXTRACTED_AT_COLUMN, timestamp_type(), true));
    Arc::new(Schema::new(fields))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::content_hash;

    #[test]
    fn content_hashes_ignore_key_order_and_see_every_change() {
        let a = json!({"id": "stat_1", "label": "Won", "type": "won", "nested": {"x": 1, "y": [1, 2]}});
        let reordered = json!({"type": "won", "nested": {"y": [1, 2], "x": 1}, "label": "Won", "id": "stat_1"});
        assert_eq!(content_hash(&a), content_hash(&reordered));
        for changed in [
            json!({"id": "stat_1", "label": "Won!", "type": "won", "nested": {"x": 1, "y": [1, 2]}}),
            json!({"id": "stat_1", "label": "Won", "type": "won", "nested": {"x": 1, "y": [2, 1]}}),
            json!({"id": "stat_1", "label": "Won", "type": "won", "nested": {"x": "1", "y": [1, 2]}}),
            json!({"id": "stat_1", "label": "Won", "type": "won"}),
        ] {
            assert_ne!(content_hash(&a), content_hash(&changed), "{changed}");
        }
        // Pinned: a lake written by one release must compare equal under the next.
        assert_eq!(content_hash(&json!({"a": 1})), 5_344_979_206_489_826_249);
    }
}
