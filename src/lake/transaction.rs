//! The lake as the runs that write it see it: one transaction over one table.
//!
//! [`Transaction::run`] takes the lease of a scope (the table, or a key range of it), opens the
//! table at its newest version, hands the run its transaction, and releases the lease whatever
//! happened; if the run fails, what it staged is deleted. Inside, a run reads the table's state
//! ([`Transaction::head`], [`Transaction::files`]), names the files it stages
//! ([`Transaction::staging`]), and commits once ([`Transaction::commit`]) what it brings in a
//! [`Pending`], whose kind says how repeats are dropped (an export's tail, a backfill's range).
//! Leases, checkpoints, publication and vacuums stay behind this API.

use std::sync::Arc;
use std::sync::atomic::AtomicU32;

use super::commit::{self, Pending};
use super::delta::TableMeta;
use super::lease::{Lease, Scope};
use super::manifest::{FileEntry, Manifest};
use super::snapshot::Snapshot;
use super::vacuum::{self, Vacuumed};
use super::writer::RunFiles;
use super::{Lake, LakeError};
use crate::time::Micros;

/// How a transaction holds its lease and keeps removed files.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub lease_ttl: Micros,
    /// How long removed and unnamed files stay before a vacuum deletes them.
    pub retention: Micros,
}

/// One run's transaction over one table.
pub struct Transaction {
    lake: Lake,
    table: &'static str,
    run_id: String,
    meta: TableMeta,
    options: Options,
    lease: Lease,
    snapshot: Snapshot,
}

impl Transaction {
    /// Runs `work` in a transaction over `scope` of `table`. `lake_error` turns the lake's own
    /// failures (the lease, opening the table) into the caller's error.
    #[allow(clippy::too_many_arguments)]
    pub async fn run<T, E>(
        lake: &Lake,
        table: &'static str,
        meta: TableMeta,
        scope: &Scope,
        run_id: &str,
        options: Options,
        lake_error: impl Fn(LakeError) -> E,
        work: impl AsyncFnOnce(&mut Transaction) -> Result<T, E>,
    ) -> Result<T, E> {
        let lease = Lease::acquire(lake, table, scope, run_id, options.lease_ttl).await.map_err(&lake_error)?;
        let opened = commit::recover(lake, table, &meta).await;
        let result = match opened {
            Ok(snapshot) => {
                let mut txn = Transaction {
                    lake: lake.clone(),
                    table,
                    run_id: run_id.to_string(),
                    meta,
                    options,
                    lease,
                    snapshot,
                };
                let result = work(&mut txn).await;
                if result.is_err() {
                    commit::discard(lake, table, run_id).await;
                }
                (txn.lease, result)
            }
            Err(err) => (lease, Err(lake_error(err))),
        };
        let (lease, result) = result;
        if let Err(err) = lease.release().await {
            // The run's outcome stands; a lease left behind expires, or is taken over at once by
            // the next run in this process space.
            tracing::warn!(table, error = %err, "could not release the lease");
        }
        result
    }

    /// close-lake's state at the table's newest version (bookmark, tail, totals).
    pub fn head(&self) -> Option<&Manifest> {
        self.snapshot.head()
    }

    /// The table's live files at the version the run opened.
    pub fn files(&self) -> impl Iterator<Item = &FileEntry> {
        self.snapshot.files()
    }

    pub fn lake(&self) -> &Lake {
        &self.lake
    }

    /// What the table declares (schema, key, partition column).
    pub fn meta(&self) -> &TableMeta {
        &self.meta
    }

    /// Names for the files this run stages.
    pub fn staging(&self) -> RunFiles {
        RunFiles {
            table: self.table,
            partition_column: self.meta.partition_column.clone(),
            run_id: self.run_id.clone(),
            seq: Arc::new(AtomicU32::new(0)),
        }
    }

    /// Commits what the run brings; `None` when other runs had committed all of it first. A
    /// commit that brings a checkpoint also vacuums (the commit stands whatever the vacuum meets).
    pub async fn commit(&mut self, pending: Pending) -> Result<Option<Manifest>, LakeError> {
        let run = commit::Run {
            table: self.table,
            run_id: &self.run_id,
            meta: &self.meta,
            retention: self.options.retention,
        };
        let committed = commit::commit(&self.lake, &run, pending, &mut self.snapshot, &self.lease).await?;
        if committed.is_some()
            && self.snapshot.checkpointed_now()
            && let Err(err) = self.vacuum().await
        {
            tracing::warn!(table = self.table, error = %err, "vacuum failed; the next one will try again");
        }
        Ok(committed)
    }

    /// Deletes what the retention lets go (see [`vacuum`]).
    pub async fn vacuum(&mut self) -> Result<Vacuumed, LakeError> {
        vacuum::vacuum(&self.lake, &mut self.snapshot, self.options.retention, &self.run_id).await
    }

    /// The live files that are gone from the store.
    pub async fn missing_files(&self) -> Result<Vec<FileEntry>, LakeError> {
        vacuum::missing_files(&self.lake, &self.snapshot).await
    }
}
