//! The crate's top-level error and its mapping to the exit statuses of the contract.
//!
//! Each module types its own errors ([`crate::config::ConfigError`], [`crate::close::ApiError`],
//! [`crate::lake::LakeError`], [`crate::export::TableError`]); this enum only says which of them
//! ends a run, and with which status: 2 for anything found before a table starts (usage,
//! configuration, authentication, destination), 1 when a table failed.

use crate::close::ApiError;
use crate::config::ConfigError;
use crate::lake::LakeError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The API refused the key, or could not be reached, before any table started.
    #[error("{0}")]
    Startup(ApiError),
    /// The destination cannot be opened or written, found before any table started.
    #[error("{0}")]
    Destination(LakeError),
    /// One or more tables failed; each was already reported on its own line.
    #[error("{failed} of {total} tables failed; the other tables committed")]
    TablesFailed { failed: usize, total: usize },
    /// A report (status) could not read the lake.
    #[error("{0}")]
    Lake(LakeError),
    #[error("{0}")]
    NotYetAvailable(&'static str),
}

impl Error {
    /// The process exit status of the contract: 2 before any table starts, 1 when a run failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config(_) | Error::Startup(_) | Error::Destination(_) | Error::NotYetAvailable(_) => 2,
            Error::TablesFailed { .. } | Error::Lake(_) => 1,
        }
    }
}

/// The exit status for an error that reached `main`.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    err.downcast_ref::<Error>().map_or(1, Error::exit_code)
}
