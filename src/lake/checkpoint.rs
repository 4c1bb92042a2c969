//! Delta checkpoints: the whole state of a table at one version in one Parquet file
//! (`_delta_log/<version>.checkpoint.parquet`), so that opening a table reads the checkpoint and
//! the few commits after it, not its whole history. `_delta_log/_last_checkpoint` names the newest.
//!
//! A checkpoint holds one action a row (`protocol`, `metaData`, `txn`, every live `add`, the
//! `remove`s a vacuum has not yet made final) in the schema of the protocol's "Checkpoint Schema".
//! This module converts between that Parquet file and the log's JSON lines, so [`super::delta`]
//! reads a checkpoint exactly as it reads a commit.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::{Deserialize, Serialize};

use super::writer::writer_properties;

/// Commits between checkpoints (Delta's own default): opening a table reads at most this many
/// commits after its checkpoint.
pub const INTERVAL: u64 = 10;

/// What `_delta_log/_last_checkpoint` says.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LastCheckpoint {
    pub version: u64,
    /// Actions (rows) in the checkpoint.
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_in_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_of_add_files: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("{0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    #[error("{0}")]
    Parquet(#[from] parquet::errors::ParquetError),
}

/// Encodes JSON action lines as a checkpoint file.
pub fn encode(lines: &[u8]) -> Result<Vec<u8>, CheckpointError> {
    let schema = schema();
    let mut decoder = arrow_json::ReaderBuilder::new(schema.clone()).with_batch_size(8_192).build_decoder()?;
    let mut writer = ArrowWriter::try_new(Vec::new(), schema, Some(writer_properties(super::writer::ROW_GROUP_BYTES)))?;
    let mut rest = lines;
    while !rest.is_empty() {
        let read = decoder.decode(rest)?;
        rest = &rest[read..];
        if let Some(batch) = decoder.flush()? {
            writer.write(&batch)?;
        }
    }
    if let Some(batch) = decoder.flush()? {
        writer.write(&batch)?;
    }
    Ok(writer.into_inner()?)
}

/// Decodes a checkpoint file (close-lake's or another writer's) into JSON action lines.
pub fn decode(file: Bytes) -> Result<Vec<u8>, CheckpointError> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)?.build()?;
    let mut writer = arrow_json::LineDelimitedWriter::new(Vec::new());
    for batch in reader {
        writer.write(&batch?)?;
    }
    writer.finish()?;
    Ok(writer.into_inner())
}

/// The checkpoint schema of the actions close-lake writes (PROTOCOL.md, "Checkpoint Schema").
pub fn schema() -> SchemaRef {
    let string = |name: &str| Field::new(name, DataType::Utf8, true);
    let long = |name: &str| Field::new(name, DataType::Int64, true);
    let boolean = |name: &str| Field::new(name, DataType::Boolean, true);
    let map = |name: &str| {
        let entries = Fields::from(vec![Field::new("key", DataType::Utf8, false), string("value")]);
        Field::new(
            name,
            DataType::Map(Arc::new(Field::new("key_value", DataType::Struct(entries), false)), false),
            true,
        )
    };
    let structure = |name: &str, fields: Vec<Field>| Field::new(name, DataType::Struct(Fields::from(fields)), true);
    Arc::new(Schema::new(vec![
        structure("txn", vec![string("appId"), long("version"), long("lastUpdated")]),
        structure(
            "add",
            vec![
                string("path"),
                map("partitionValues"),
                long("size"),
                long("modificationTime"),
                boolean("dataChange"),
                string("stats"),
                map("tags"),
            ],
        ),
        structure(
            "remove",
            vec![
                string("path"),
                long("deletionTimestamp"),
                boolean("dataChange"),
                boolean("extendedFileMetadata"),
                map("partitionValues"),
                long("size"),
            ],
        ),
        structure(
            "metaData",
            vec![
                string("id"),
                string("name"),
                string("description"),
                structure("format", vec![string("provider"), map("options")]),
                string("schemaString"),
                Field::new(
                    "partitionColumns",
                    DataType::List(Arc::new(Field::new("element", DataType::Utf8, true))),
                    true,
                ),
                map("configuration"),
                long("createdTime"),
            ],
        ),
        structure(
            "protocol",
            vec![
                Field::new("minReaderVersion", DataType::Int32, true),
                Field::new("minWriterVersion", DataType::Int32, true),
            ],
        ),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_through_a_checkpoint() {
        let lines = concat!(
            r#"{"protocol":{"minReaderVersion":1,"minWriterVersion":2}}"#,
            "\n",
            r#"{"metaData":{"id":"x","name":"leads","format":{"provider":"parquet","options":{}},"schemaString":"{}","partitionColumns":["date_updated_month"],"configuration":{},"createdTime":1}}"#,
            "\n",
            r#"{"txn":{"appId":"close-lake","version":7}}"#,
            "\n",
            r#"{"add":{"path":"a=1/f.parquet","partitionValues":{"date_updated_month":"2024-01"},"size":10,"modificationTime":0,"dataChange":false,"stats":"{\"numRecords\":3}"}}"#,
            "\n",
            r#"{"add":{"path":"a=2/g.parquet","partitionValues":{"date_updated_month":null},"size":11,"modificationTime":0,"dataChange":false}}"#,
            "\n",
            r#"{"remove":{"path":"a=1/old.parquet","deletionTimestamp":5,"dataChange":false,"size":4}}"#,
            "\n",
        );
        let file = encode(lines.as_bytes()).unwrap();
        let back = String::from_utf8(decode(Bytes::from(file)).unwrap()).unwrap();
        let rows: Vec<serde_json::Value> = back.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(rows.len(), 6, "{back}");
        assert_eq!(rows[0]["protocol"]["minWriterVersion"], 2);
        assert_eq!(rows[1]["metaData"]["partitionColumns"][0], "date_updated_month");
        assert_eq!(rows[2]["txn"]["version"], 7);
        assert_eq!(rows[3]["add"]["partitionValues"]["date_updated_month"], "2024-01");
        assert_eq!(rows[3]["add"]["stats"], r#"{"numRecords":3}"#);
        assert!(rows[4]["add"]["partitionValues"]["date_updated_month"].is_null(), "{back}");
        assert_eq!(rows[5]["remove"]["deletionTimestamp"], 5);
    }
}
