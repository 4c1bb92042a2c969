//! The lake: everything about the destination, and nothing about Close.
//!
//! - [`store`] parses the destination URL and opens an `object_store` for it.
//! - [`clock`] reads the store's clock, which judges every lease and retention period.
//! - [`layout`] names every object: data files, the Delta log, staging, leases.
//! - [`writer`] encodes record batches into Parquet files under the staging prefix.
//! - [`manifest`] reads and creates commits; [`delta`] writes them as Delta Lake log versions;
//!   [`checkpoint`] writes the table's state every few versions; [`snapshot`] opens a table from
//!   its newest checkpoint and the commits after it.
//! - [`reader`] reads committed and staged files back (versions, and rewrites without some).
//! - [`lease`] keeps two runs from exporting one table at once.
//! - [`transaction`] is what runs see of all this: a transaction over one table (lease, snapshot,
//!   staging names, one commit).
//! - [`commit`] is the protocol: open the table, publish the run's files, create the next version.
//! - [`vacuum`] deletes removed and unnamed files after the retention; `repair` mends a damaged lake.
//! - [`notes`] keeps small facts beside the tables for `status` (the key's role).
//! - [`upgrade`] turns a lake of close-lake 0.1 (its own manifests) into Delta tables in place.

pub mod checkpoint;
mod clock;
pub mod commit;
pub mod delta;
pub mod layout;
pub mod lease;
pub mod manifest;
pub mod notes;
pub mod reader;
pub mod snapshot;
pub mod store;
pub mod transaction;
pub mod upgrade;
pub mod vacuum;
pub mod writer;

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::path::Path;
use tokio::sync::OnceCell;

pub use store::Destination;

/// Why a lake operation failed. Every variant names the object or folder it concerns.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error("cannot use {dest} as the destination: {reason}. Fix: choose a --dest this process can create and write")]
    Unusable { dest: String, reason: String },
    #[error("{op} {path} failed: {source}")]
    Store { op: &'static str, path: String, source: object_store::Error },
    #[error(
        "table {table} is locked by {holder} since {since} (lease {path}, expires {expires}); \
         another close-lake run is exporting it: wait for it to finish"
    )]
    Locked { table: String, holder: String, since: String, expires: String, path: String },
    #[error("the lease on {table} was taken over by {holder}; this run stops without committing")]
    LeaseLost { table: String, holder: String },
    #[error("{path} is not a valid close-lake {what}: {message}")]
    Corrupt { path: String, what: &'static str, message: String },
    #[error("writing Parquet for {path}: {source}")]
    Parquet { path: String, source: parquet::errors::ParquetError },
    #[error("other runs kept committing {table} at the same time (last tried: commit {number}); rerun to continue")]
    CommitRace { table: String, number: u64 },
    #[error("a background task of the lake failed: {0}")]
    Task(String),
}

impl LakeError {
    pub fn store(op: &'static str, path: &Path, source: object_store::Error) -> LakeError {
        LakeError::Store { op, path: path.to_string(), source }
    }
}

/// An opened lake: a store and the destination it came from.
#[derive(Debug, Clone)]
pub struct Lake {
    store: Arc<dyn ObjectStore>,
    dest: Destination,
    /// How far the store's clock is ahead of this machine's, measured once per process.
    clock_offset: Arc<OnceCell<crate::time::Micros>>,
}

impl Lake {
    /// A lake on a store opened elsewhere (for embedding, or a store configured in code).
    pub fn new(store: Arc<dyn ObjectStore>, dest: Destination) -> Lake {
        Lake { store, dest, clock_offset: Arc::default() }
    }

    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    pub fn dest(&self) -> &Destination {
        &self.dest
    }

    /// Now, by the store's clock (see [`clock`]).
    pub async fn store_now(&self) -> Result<crate::time::Micros, LakeError> {
        let offset = self.clock_offset.get_or_try_init(|| clock::measure_offset(self)).await?;
        Ok(crate::time::now() + offset)
    }
}
