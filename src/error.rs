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
    /// The run loop itself failed (a task of the runtime could not be joined).
    #[error("{0}")]
    Internal(String),
    /// The destination cannot be opened or written, found before any table started.
    #[error("{0}")]
    Destination(LakeError),
    /// One or more tables failed; each was already reported on its own line.
    #[error("{failed} of {total} tables failed")]
    TablesFailed { failed: usize, total: usize },
    /// `status` could not read the lake.
    #[error("{0}")]
    Lake(LakeError),
    /// `check` found problems, each already printed on its own line.
    #[error("{failed} check(s) failed")]
    ChecksFailed { failed: usize, code: u8 },
}

impl Error {
    /// The process exit status of the contract: 2 for usage, configuration and authentication
    /// errors found before any table starts, 1 when a run failed. A Close that cannot be reached, or
    /// answers with server errors, is an outage rather than a mistake: 1, so schedulers retry.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config(_) | Error::Destination(_) => 2,
            Error::Startup(ApiError::Exhausted { .. }) => 1,
            Error::Startup(_) => 2,
            Error::TablesFailed { .. } | Error::Lake(_) | Error::Internal(_) => 1,
            Error::ChecksFailed { code, .. } => *code,
        }
    }
}
