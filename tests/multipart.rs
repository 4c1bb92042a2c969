//! Files above the multipart threshold round-trip byte-exact through S3 and GCS, and an upload
//! that fails part-way is aborted: no parts stay behind.

mod common;

use std::sync::Arc;
use std::sync::atomic::AtomicU32;

use arrow::array::{RecordBatch, StringArray, TimestampMicrosecondArray};
use close_lake::convert::arrow_schema;
use close_lake::lake::Destination;
use close_lake::lake::writer::{PartitionBatch, RunFiles, StagedWriter};
use close_lake::tables;
use common::*;
use object_store::ObjectStoreExt;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

const PART: usize = 5 * 1024 * 1024;

/// Users rows whose `first_name` is incompressible text, about `bytes` in all.
fn batch(bytes: usize) -> RecordBatch {
    let schema = arrow_schema(tables::by_name("users").unwrap());
    let rows = bytes / 1_000;
    let names: Vec<String> = (0..rows)
        .map(|i| {
            (0..125)
                .map(|j| format!("{:08x}", (i as u64 * 7919 + j as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32))
                .collect()
        })
        .collect();
    let columns = schema
        .fields()
        .iter()
        .map(|field| -> arrow::array::ArrayRef {
            match field.name().as_str() {
                "id" => Arc::new(StringArray::from((0..rows).map(|i| format!("user_{i}")).collect::<Vec<_>>())),
                "first_name" => Arc::new(StringArray::from(names.clone())),
                "date_updated" | "_close_lake_extracted_at" => {
                    Arc::new(TimestampMicrosecondArray::from(vec![1_700_000_000_000_000; rows]).with_timezone("UTC"))
                }
                _ => arrow::array::new_null_array(field.data_type(), rows),
            }
        })
        .collect();
    RecordBatch::try_new(schema, columns).unwrap()
}

fn writer(lake: close_lake::lake::Lake) -> StagedWriter {
    let names = RunFiles {
        table: "users",
        partition_column: "date_updated_month".into(),
        run_id: "multipart-test".into(),
        seq: Arc::new(AtomicU32::new(0)),
    };
    let schema = arrow_schema(tables::by_name("users").unwrap());
    StagedWriter::new(lake, names, schema, u64::MAX).with_part_bytes(PART)
}

fn part(batch: RecordBatch) -> PartitionBatch {
    PartitionBatch { partition: "2023-11".into(), batch, min_key: Some(1), max_key: Some(1) }
}

/// The lake on the test's store (configured in code: tests share one process environment).
fn open(h: &TestLake) -> close_lake::lake::Lake {
    close_lake::lake::Lake::new(h.store().unwrap(), Destination::parse(&h.dest).unwrap())
}

async fn round_trip(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let store = TestLake::new(backend, dir.path()).await;
    let lake = open(&store);
    let data = batch(5 * PART);
    let mut writer = writer(lake.clone());
    writer.write(part(data.clone())).await.unwrap();
    let files = writer.finish().await.unwrap();
    assert_eq!(files.len(), 1);
    assert!(files[0].bytes as usize > 2 * PART, "the file spans several parts ({} bytes)", files[0].bytes);

    let staged = object_store::path::Path::from(files[0].staged.as_str());
    let got = lake.store().get(&staged).await.unwrap();
    if backend == Backend::S3 {
        let etag = got.meta.e_tag.clone().unwrap_or_default();
        assert!(etag.contains('-'), "S3 names multipart objects' ETags <md5>-<parts>: {etag}");
    }
    let bytes = got.bytes().await.unwrap();
    assert_eq!(bytes.len() as u64, files[0].bytes);
    let read: Vec<RecordBatch> =
        ParquetRecordBatchReaderBuilder::try_new(bytes).unwrap().build().unwrap().map(|b| b.unwrap()).collect();
    let read = arrow::compute::concat_batches(&data.schema(), &read).unwrap();
    assert_eq!(read, data);
}

async fn a_failed_upload_leaves_no_parts(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let store = match backend {
        Backend::Gcs => TestLake::on_gcs(common::services::Gcs::start_own().await).await,
        _ => TestLake::new(backend, dir.path()).await,
    };
    let lake = open(&store);
    // Small row groups reach the upload as they are encoded, so parts go up before the file ends.
    let mut writer = writer(lake.clone()).with_row_group_bytes(256 * 1024);
    let data = batch(3 * PART);
    for offset in (0..data.num_rows()).step_by(500) {
        writer.write(part(data.slice(offset, 500.min(data.num_rows() - offset)))).await.unwrap();
    }
    assert_eq!(pending_uploads(&store).await, 1, "the file went up in parts before the failure");
    writer.abort().await;
    assert!(store.objects("").await.is_empty(), "no object from an aborted upload");
    assert_eq!(pending_uploads(&store).await, 0, "no parts left behind");
}

/// Multipart uploads started and neither completed nor aborted.
async fn pending_uploads(store: &TestLake) -> usize {
    let bucket = store.bucket.as_ref().unwrap();
    match store.backend {
        Backend::S3 => {
            let moto = store.moto.as_ref().unwrap();
            let listing =
                reqwest::get(format!("{}/{bucket}?uploads", moto.endpoint)).await.unwrap().text().await.unwrap();
            listing.matches("<Upload>").count()
        }
        Backend::Gcs => store.gcs.as_ref().unwrap().fake.as_ref().unwrap().pending_uploads(bucket),
        Backend::Local => 0,
    }
}

on_backends!(round_trip:
    S3 => a_large_file_round_trips_through_s3_multipart,
    Gcs => a_large_file_round_trips_through_gcs_multipart,
);

on_backends!(a_failed_upload_leaves_no_parts:
    S3 => an_aborted_s3_upload_leaves_no_parts,
    Gcs => an_aborted_gcs_upload_leaves_no_parts,
);
