//! The Close API client: HTTP, authentication, rate limits, retries and paging.
//!
//! [`Client`] sends one request and returns its body, waiting out `RateLimit` and `Retry-After` per
//! endpoint group ([`governor`]) and retrying transient failures with backoff and jitter ([`retry`]).
//! [`pager`] turns a table's [`crate::tables::Source`] and a window into the sequence of page requests.
//! [`account`] learns who the key is (its user, role, organizations) before any table starts;
//! [`record`] writes the capture of `--record`. Nothing here knows about Arrow or Parquet.

pub mod account;
mod client;
pub mod governor;
pub mod pager;
pub mod record;
pub mod retry;

pub use account::Account;
pub use client::Client;

/// Why a request to Close failed. Messages name the endpoint, never the key.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    #[error(
        "Close rejected the API key (401 on {path}): check CLOSE_API_KEY, or create a new key in Close > Settings > Developer > API Keys"
    )]
    Unauthorized { path: String },
    #[error("Close refused {path} with {status}: {message}")]
    Refused { path: String, status: u16, message: String },
    #[error(
        "Close refused {path}: the skip is beyond its maximum ({message}); more records share one timestamp than Close can page through"
    )]
    MaxSkip { path: String, message: String },
    #[error("Close did not answer {path} after {attempts} attempts: {last}")]
    Exhausted { path: String, attempts: u32, last: String },
    #[error("the answer of Close to {path} is not the JSON it documents: {message}")]
    BadResponse { path: String, message: String },
}

impl ApiError {
    /// Close's answer for an endpoint the account's plan or the key's role lacks (402, 403, 404).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, ApiError::Refused { status: 402..=404, .. })
    }
}
