//! Conversion of Close JSON records into Arrow record batches, against a table's declared schema.
//!
//! This is CPU work and runs on blocking threads, never on the async runtime. Each record is parsed
//! once into borrowed `(key, raw value)` pairs: scalars go straight into Arrow builders, nested
//! values into JSON text columns as the bytes Close sent, and every field without a column into
//! the extras column, so nothing a record carries is lost. See [`decode`].

mod decode;

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

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
