//! Reading committed and staged files back: the versions a file holds, and rewriting a staged file
//! without some of them. Used where runs meet: a backfill learns which versions the lake already
//! holds in its range, and a commit drops the versions a concurrent run committed first.

use std::collections::HashSet;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, BooleanArray, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use bytes::Bytes;
use futures::FutureExt;
use futures::TryStreamExt;
use futures::future::BoxFuture;
use object_store::ObjectStore;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStoreExt, PutPayload};
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::arrow::{ArrowWriter, ParquetRecordBatchStreamBuilder, ProjectionMask};
use parquet::errors::ParquetError;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

use super::manifest::{FileEntry, TailRow};
use super::writer::{ROW_GROUP_BYTES, writer_properties};
use super::{Lake, LakeError};
use crate::time::{self, Micros};

/// `(id, version)`: one version of one record.
pub type Version = (String, Option<Micros>);

/// Where a run's or a commit's file is: in the table folder, or still staged (a run's own files,
/// or those of a run committing meanwhile; files read back from the log have no staged path).
///
/// Publication on object stores is copy then delete, so a file can be missed at both places while
/// another run publishes it: the final path is tried again last.
async fn locate(lake: &Lake, file: &FileEntry) -> Result<ObjectMeta, LakeError> {
    for path in [&file.path, &file.staged, &file.path].into_iter().filter(|p| !p.is_empty()) {
        let path = Path::from(path.as_str());
        match lake.store().head(&path).await {
            Ok(meta) => return Ok(meta),
            Err(object_store::Error::NotFound { .. }) => continue,
            Err(err) => return Err(LakeError::store("reading", &path, err)),
        }
    }
    Err(LakeError::Corrupt {
        path: file.path.clone(),
        what: "data file",
        message: "named by a commit or a run, but neither in the table folder nor staged".into(),
    })
}

/// The bytes of a run's or a commit's file.
async fn fetch(lake: &Lake, file: &FileEntry) -> Result<Bytes, LakeError> {
    let meta = locate(lake, file).await?;
    let got = lake.store().get(&meta.location).await.map_err(|err| LakeError::store("reading", &meta.location, err))?;
    got.bytes().await.map_err(|err| LakeError::store("reading", &meta.location, err))
}

/// `(id, key, version)` of every row of a file. Reads the footer and those three columns' pages
/// only (ranged reads), never the whole file.
pub async fn versions(lake: &Lake, file: &FileEntry, key: &str, version: &str) -> Result<Vec<TailRow>, LakeError> {
    let meta = locate(lake, file).await?;
    let parquet = |source| LakeError::Parquet { path: meta.location.to_string(), source };
    let source = RangeReader { store: lake.store().clone(), meta: meta.clone() };
    let builder = ParquetRecordBatchStreamBuilder::new(source).await.map_err(parquet)?;
    let wanted: Vec<usize> =
        ["id", key, version].iter().filter_map(|name| builder.schema().index_of(name).ok()).collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), wanted);
    let mut batches = builder.with_projection(mask).build().map_err(parquet)?;
    let mut rows = Vec::new();
    while let Some(batch) = batches.try_next().await.map_err(parquet)? {
        rows.extend(super::manifest::cpu(|| row_versions(&batch, key, version)));
    }
    Ok(rows)
}

/// A Parquet file on the store read by byte ranges: the footer, then only the pages asked for.
struct RangeReader {
    store: Arc<dyn ObjectStore>,
    meta: ObjectMeta,
}

impl AsyncFileReader for RangeReader {
    fn get_bytes(&mut self, range: std::ops::Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        async move {
            self.store.get_range(&self.meta.location, range).await.map_err(|e| ParquetError::External(Box::new(e)))
        }
        .boxed()
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<std::ops::Range<u64>>,
    ) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        async move {
            self.store.get_ranges(&self.meta.location, &ranges).await.map_err(|e| ParquetError::External(Box::new(e)))
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            let size = self.meta.size;
            let reader = ParquetMetaDataReader::new().with_arrow_reader_options(options);
            Ok(Arc::new(reader.load_and_finish(self, size).await?))
        }
        .boxed()
    }
}

/// `(id, key, version)` of every row of a batch. A column of another type than close-lake writes
/// (a file put there by hand) reads as missing rather than stopping the run.
fn row_versions(batch: &RecordBatch, key: &str, version: &str) -> Vec<TailRow> {
    // Keys are microsecond timestamps; versions are too, or content hashes (Int64).
    let integers = |name: &str| {
        let column = batch.column_by_name(name)?;
        match column.data_type() {
            DataType::Int64 | DataType::Timestamp(TimeUnit::Microsecond, _) => {
                arrow_cast::cast(column, &DataType::Int64).ok()?.as_primitive_opt::<Int64Type>().cloned()
            }
            _ => None,
        }
    };
    let ids = batch.column_by_name("id").and_then(|c| c.as_string_opt::<i32>()).cloned();
    let (keys, versions) = (integers(key), integers(version));
    let value = |array: &Option<arrow_array::Int64Array>, i: usize| {
        array.as_ref().filter(|a| !a.is_null(i)).map(|a| a.value(i))
    };
    (0..batch.num_rows())
        .map(|i| {
            let id = ids.as_ref().filter(|a| !a.is_null(i)).map(|a| a.value(i).to_string()).unwrap_or_default();
            (id, value(&keys, i), value(&versions, i))
        })
        .collect()
}

/// Rewrites a run's file (staged, or moved into the table but not committed) into its staged path
/// without the rows whose `(id, version)` is in `drop`; the next publication moves it again. `None`
/// when no row is left (both copies are then deleted).
pub async fn drop_versions(
    lake: &Lake,
    mut file: FileEntry,
    drop: Arc<HashSet<Version>>,
    key: &str,
    version: &str,
) -> Result<Option<FileEntry>, LakeError> {
    let staged = Path::from(file.staged.as_str());
    let bytes = fetch(lake, &file).await?;
    let (path, key, version) = (file.staged.clone(), key.to_string(), version.to_string());
    let rewritten = tokio::task::spawn_blocking(move || {
        let parquet = |source| LakeError::Parquet { path: path.clone(), source };
        let builder = ParquetRecordBatchReaderBuilder::try_new(bytes).map_err(parquet)?;
        let schema = builder.schema().clone();
        let mut writer =
            ArrowWriter::try_new(Vec::new(), schema, Some(writer_properties(ROW_GROUP_BYTES))).map_err(parquet)?;
        let (mut rows, mut min, mut max) = (0u64, None::<Micros>, None::<Micros>);
        for batch in builder.build().map_err(parquet)? {
            let batch = batch.map_err(|err| parquet(err.into()))?;
            let keep: BooleanArray = row_versions(&batch, &key, &version)
                .into_iter()
                .map(|(id, k, v)| {
                    let kept = !drop.contains(&(id, v));
                    if kept {
                        min = min.into_iter().chain(k).min();
                        max = max.into_iter().chain(k).max();
                    }
                    Some(kept)
                })
                .collect();
            let kept = arrow_select::filter::filter_record_batch(&batch, &keep).map_err(|err| parquet(err.into()))?;
            rows += kept.num_rows() as u64;
            writer.write(&kept).map_err(parquet)?;
        }
        let bytes = writer.into_inner().map_err(parquet)?;
        Ok::<_, LakeError>((bytes, rows, min, max))
    })
    .await
    .map_err(|err| LakeError::Task(err.to_string()))??;
    let (bytes, rows, min, max) = rewritten;
    if rows == file.rows {
        // None of its versions was committed meanwhile: the staged file stands as it is.
        return Ok(Some(file));
    }
    if rows == 0 {
        // Not committed yet: neither copy belongs to the table.
        for path in [&staged, &Path::from(file.path.as_str())] {
            super::commit::delete_if_present(lake, path).await?;
        }
        return Ok(None);
    }
    file.rows = rows;
    file.bytes = bytes.len() as u64;
    file.min_key = min.map(time::format_rfc3339);
    file.max_key = max.map(time::format_rfc3339);
    lake.store()
        .put(&staged, PutPayload::from(bytes))
        .await
        .map_err(|err| LakeError::store("rewriting", &staged, err))?;
    Ok(Some(file))
}

/// Every row of a file, as record batches.
pub async fn batches(lake: &Lake, file: &FileEntry) -> Result<Vec<RecordBatch>, LakeError> {
    let bytes = fetch(lake, file).await?;
    let path = file.path.clone();
    tokio::task::spawn_blocking(move || {
        let parquet = |source| LakeError::Parquet { path: path.clone(), source };
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes).map_err(parquet)?.build().map_err(parquet)?;
        reader.map(|batch| batch.map_err(|err| parquet(err.into()))).collect()
    })
    .await
    .map_err(|err| LakeError::Task(err.to_string()))?
}
