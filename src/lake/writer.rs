//! Parquet files of one stream of rows, written under the staging prefix.
//!
//! Rows arrive in the window's read order, already split by partition. Most tables read in
//! partition order, but some do not (tasks read by `date_created` land by `date_updated` month), so
//! the writer keeps one file open per partition, up to [`OPEN_FILES`]: a partition past that closes
//! the file written least recently, and a file past the target size is closed. Encoding runs on a
//! blocking thread; each flushed row group is drained from the encoder's buffer and streamed to the
//! store (multipart beyond a few MiB), so memory holds at most one row group per open file.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use bytes::Bytes;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use tokio::io::AsyncWriteExt;

use super::manifest::FileEntry;
use super::{Lake, LakeError, layout};
use crate::time::{self, Micros};

/// Target size of a data file before it is rotated.
pub const TARGET_FILE_BYTES: u64 = 256 * 1024 * 1024;
/// A row group is flushed when its encoded size reaches this, bounding memory per open file: a
/// table reads up to 8 windows at once, and at 64 MiB each window's file stayed whole in memory
/// until it closed. 8 MiB of ZSTD is ~100,000 activities.
pub const ROW_GROUP_BYTES: usize = 8 * 1024 * 1024;
/// Bytes buffered per upload; a file larger than this goes up as a multipart upload in parts of
/// this size (S3 needs at least 5 MiB per part).
pub const UPLOAD_PART_BYTES: usize = 10 * 1024 * 1024;
/// Files one writer keeps open at once, one per partition. Four hold the months a task list read
/// by creation interleaves (2,000 tasks made 1,282 files with one); each adds at most a row group
/// and an upload buffer of memory.
pub const OPEN_FILES: usize = 4;

/// The Parquet settings of every data file: ZSTD, page statistics and index, a bloom filter on `id`,
/// row groups flushed at `row_group_bytes`.
pub fn writer_properties(row_group_bytes: usize) -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).unwrap_or_default()))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_column_bloom_filter_enabled(ColumnPath::from("id"), true)
        .set_max_row_group_row_count(Some(1_000_000))
        .set_max_row_group_bytes(Some(row_group_bytes))
        .set_created_by(concat!("close-lake ", env!("CARGO_PKG_VERSION")).to_string())
        .build()
}

/// Rows of one partition, with their key range.
#[derive(Debug)]
pub struct PartitionBatch {
    pub partition: String,
    pub batch: RecordBatch,
    pub min_key: Option<Micros>,
    pub max_key: Option<Micros>,
}

/// What names a run's files: shared by all writers of one table run so sequence numbers are unique.
#[derive(Debug, Clone)]
pub struct RunFiles {
    pub table: &'static str,
    pub partition_column: String,
    pub run_id: String,
    pub seq: Arc<AtomicU32>,
}

pub struct StagedWriter {
    lake: Lake,
    names: RunFiles,
    schema: SchemaRef,
    props: WriterProperties,
    target_bytes: u64,
    part_bytes: usize,
    /// Open files, the one written most recently last.
    open: Vec<OpenFile>,
    files: Vec<FileEntry>,
}

struct OpenFile {
    entry: FileEntry,
    min_key: Option<Micros>,
    max_key: Option<Micros>,
    encoder: Option<ArrowWriter<Vec<u8>>>,
    upload: BufWriter,
    staged: Path,
}

impl StagedWriter {
    pub fn new(lake: Lake, names: RunFiles, schema: SchemaRef, target_bytes: u64) -> StagedWriter {
        StagedWriter {
            lake,
            names,
            schema,
            props: writer_properties(ROW_GROUP_BYTES),
            target_bytes,
            part_bytes: UPLOAD_PART_BYTES,
            open: Vec::new(),
            files: Vec::new(),
        }
    }

    /// Sets the upload buffer, and so the size of multipart parts (at least 5 MiB on S3).
    pub fn with_part_bytes(mut self, part_bytes: usize) -> StagedWriter {
        self.part_bytes = part_bytes;
        self
    }

    /// Sets the encoded size at which a row group is flushed to the upload.
    pub fn with_row_group_bytes(mut self, row_group_bytes: usize) -> StagedWriter {
        self.props = writer_properties(row_group_bytes);
        self
    }

    pub async fn write(&mut self, part: PartitionBatch) -> Result<(), LakeError> {
        if part.batch.num_rows() == 0 {
            return Ok(());
        }
        let found = self.open.iter().position(|open| open.entry.partition == part.partition);
        let at = match found {
            Some(at) if self.open[at].entry.bytes < self.target_bytes => at,
            found => {
                if let Some(at) = found {
                    self.close_file(at).await?;
                } else if self.open.len() >= OPEN_FILES {
                    self.close_file(0).await?;
                }
                let file = self.open_file(&part.partition)?;
                self.open.push(file);
                self.open.len() - 1
            }
        };
        let last = self.open.len() - 1;
        self.open[at..].rotate_left(1);
        let open = &mut self.open[last];
        let encoder = open.encoder.take().ok_or_else(|| LakeError::Task("encoder missing".into()))?;
        let rows = part.batch.num_rows() as u64;
        let path = open.staged.to_string();
        let (encoder, chunk) = tokio::task::spawn_blocking(move || {
            let mut encoder = encoder;
            encoder.write(&part.batch)?;
            let chunk = std::mem::take(encoder.inner_mut());
            Ok::<_, parquet::errors::ParquetError>((encoder, chunk))
        })
        .await
        .map_err(|err| LakeError::Task(err.to_string()))?
        .map_err(|source| LakeError::Parquet { path, source })?;
        open.encoder = Some(encoder);
        open.entry.rows += rows;
        open.min_key = open.min_key.into_iter().chain(part.min_key).min();
        open.max_key = open.max_key.into_iter().chain(part.max_key).max();
        upload(open, chunk).await
    }

    /// Closes the open files and returns every file written.
    pub async fn finish(mut self) -> Result<Vec<FileEntry>, LakeError> {
        while !self.open.is_empty() {
            self.close_file(0).await?;
        }
        Ok(self.files)
    }

    /// Abandons the open uploads (their parts are aborted); staged files stay for recovery to delete.
    pub async fn abort(mut self) {
        for mut open in self.open.drain(..) {
            let _ = open.upload.abort().await;
        }
    }

    fn open_file(&self, partition: &str) -> Result<OpenFile, LakeError> {
        let seq = self.names.seq.fetch_add(1, Ordering::Relaxed);
        let staged = layout::staged_file(self.names.table, &self.names.run_id, seq);
        let path =
            layout::data_file(self.names.table, &self.names.partition_column, partition, &self.names.run_id, seq);
        let encoder = ArrowWriter::try_new(Vec::new(), self.schema.clone(), Some(self.props.clone()))
            .map_err(|source| LakeError::Parquet { path: staged.to_string(), source })?;
        Ok(OpenFile {
            entry: FileEntry {
                path: path.to_string(),
                staged: staged.to_string(),
                partition: partition.to_string(),
                rows: 0,
                bytes: 0,
                min_key: None,
                max_key: None,
            },
            min_key: None,
            max_key: None,
            encoder: Some(encoder),
            upload: BufWriter::with_capacity(self.lake.store().clone(), staged.clone(), self.part_bytes),
            staged,
        })
    }

    async fn close_file(&mut self, at: usize) -> Result<(), LakeError> {
        let mut open = self.open.remove(at);
        let encoder = open.encoder.take().ok_or_else(|| LakeError::Task("encoder missing".into()))?;
        let path = open.staged.to_string();
        let tail = tokio::task::spawn_blocking(move || encoder.into_inner())
            .await
            .map_err(|err| LakeError::Task(err.to_string()))?
            .map_err(|source| LakeError::Parquet { path, source })?;
        upload(&mut open, tail).await?;
        // A failed shutdown cannot be aborted (object_store's writer panics on it): a multipart
        // upload left open is the store's to expire (docs/destinations.md, lifecycle rules).
        if let Err(err) = open.upload.shutdown().await {
            return Err(LakeError::Store {
                op: "uploading",
                path: open.staged.to_string(),
                source: object_store::Error::Generic { store: "upload", source: Box::new(err) },
            });
        }
        open.entry.min_key = open.min_key.map(time::format_rfc3339);
        open.entry.max_key = open.max_key.map(time::format_rfc3339);
        self.files.push(open.entry);
        Ok(())
    }
}

async fn upload(open: &mut OpenFile, chunk: Vec<u8>) -> Result<(), LakeError> {
    if chunk.is_empty() {
        return Ok(());
    }
    open.entry.bytes += chunk.len() as u64;
    open.upload.put(Bytes::from(chunk)).await.map_err(|err| LakeError::store("uploading", &open.staged, err))
}
