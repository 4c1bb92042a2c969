//! `close-lake compact`: merges each partition's small files into files of the target size.
//!
//! A compaction is a run like any other: it holds the table's lease, opens the table, stages the
//! merged files, and commits one Delta version that adds the new files and removes the old ones
//! (`dataChange: false`). Delta readers see either the old files or the new ones, never both, and a
//! reader that began before the commit keeps reading the old ones: they stay on the store until a
//! vacuum finds them removed longer ago than the retention (the command vacuums at its end).

use std::collections::BTreeMap;

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMicrosecondType;

use crate::config::CompactPlan;
use crate::convert::arrow_schema;
use crate::error::Error;
use crate::lake::commit::Pending;
use crate::lake::lease::Scope;
use crate::lake::manifest::{FileEntry, RunKind, RunStats};
use crate::lake::transaction::{Options, Transaction};
use crate::lake::writer::{PartitionBatch, StagedWriter, TARGET_FILE_BYTES};
use crate::lake::{Lake, LakeError, reader};
use crate::tables::TableSpec;
use crate::time;

/// A file below this is small: worth merging with its neighbours. Each input is decoded whole in
/// memory, so this also bounds what one input costs.
const SMALL_FILE_BYTES: u64 = 32 * 1024 * 1024;

pub async fn run(plan: CompactPlan) -> Result<(), Error> {
    let lake = plan.dest.open().map_err(Error::Destination)?;
    run_on(plan, lake).await
}

/// Runs the command on a lake opened by the caller.
pub async fn run_on(plan: CompactPlan, lake: Lake) -> Result<(), Error> {
    let run_id = crate::export::new_run_id();
    crate::report::each_table(
        &plan.tables,
        async |spec| compact_table(&lake, spec, &plan, &run_id).await,
        |spec, (partitions, before, after)| {
            println!("{:<21} {partitions} partitions compacted, {before} files -> {after}", spec.name)
        },
    )
    .await
}

/// Returns the partitions compacted and the table's file count before and after.
async fn compact_table(
    lake: &Lake,
    spec: &'static TableSpec,
    plan: &CompactPlan,
    run_id: &str,
) -> Result<(usize, usize, usize), LakeError> {
    let options = Options { lease_ttl: plan.lease_ttl, retention: plan.retention };
    let meta = spec.lake_meta();
    Transaction::run(
        lake,
        spec.name,
        meta,
        &Scope::Table,
        run_id,
        options,
        |err| err,
        async |txn| compact_in(spec, plan, txn).await,
    )
    .await
}

async fn compact_in(
    spec: &'static TableSpec,
    plan: &CompactPlan,
    txn: &mut Transaction,
) -> Result<(usize, usize, usize), LakeError> {
    let started_at = time::now();
    let lake = txn.lake().clone();
    let live: Vec<FileEntry> = txn.files().cloned().collect();
    let before = live.len();
    let mut by_partition: BTreeMap<String, Vec<FileEntry>> = BTreeMap::new();
    for file in live.into_iter().filter(|f| f.bytes < SMALL_FILE_BYTES) {
        by_partition.entry(file.partition.clone()).or_default().push(file);
    }
    by_partition.retain(|partition, files| {
        files.len() >= 2 && plan.partitions.as_ref().is_none_or(|wanted| wanted.contains(partition))
    });
    if by_partition.is_empty() {
        txn.vacuum().await?;
        return Ok((0, before, before));
    }

    let names = txn.staging();
    let mut files = Vec::new();
    let mut removed = Vec::new();
    for (partition, inputs) in &by_partition {
        let mut writer = StagedWriter::new(lake.clone(), names.clone(), arrow_schema(spec), TARGET_FILE_BYTES);
        for input in inputs {
            for batch in reader::batches(&lake, input).await? {
                let keys = batch
                    .column_by_name(spec.key)
                    .and_then(|c| c.as_primitive_opt::<TimestampMicrosecondType>())
                    .cloned();
                let (min_key, max_key) =
                    keys.map_or((None, None), |k| (k.iter().flatten().min(), k.iter().flatten().max()));
                let part = PartitionBatch { partition: partition.clone(), batch, min_key, max_key };
                if let Err(err) = writer.write(part).await {
                    writer.abort().await;
                    return Err(err);
                }
            }
        }
        files.extend(writer.finish().await?);
        removed.extend(inputs.iter().cloned());
    }
    let rows = files.iter().map(|f| f.rows).sum();
    let keys = |pick: fn(&FileEntry) -> Option<&String>| {
        removed.iter().filter_map(pick).filter_map(|k| time::parse_timestamp(k))
    };
    let window = (
        keys(|f| f.min_key.as_ref()).min().unwrap_or_default(),
        keys(|f| f.max_key.as_ref()).max().unwrap_or_default() + 1,
    );
    let (added, retired) = (files.len(), removed.len());
    let pending = Pending {
        kind: RunKind::Compact,
        started_at,
        window,
        files,
        tail: Vec::new(),
        max_key: None,
        lookback: spec.lookback,
        key: spec.key,
        version: spec.version,
        removed,
        stats: RunStats { rows, ..RunStats::default() },
    };
    txn.commit(pending).await?;
    // The compaction stands whatever the vacuum meets; the next one tries again.
    if let Err(err) = txn.vacuum().await {
        tracing::warn!(table = spec.name, error = %err, "vacuum failed; the next one will try again");
    }
    Ok((by_partition.len(), before, before - retired + added))
}
