//! Behaviour knobs of a running simulator: the API key, the `_skip` cap, deterministic throttling and event-log
//! retention. A [`SimConfig`] can be swapped on a live server with `SimHandle::set_config`.

use serde::{Deserialize, Serialize};

/// How the simulated API behaves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimConfig {
    /// HTTP Basic user name that authenticates (the password is ignored, Close uses an empty one).
    pub api_key: String,
    /// Largest `_skip` an offset endpoint accepts; a larger one answers 400 like Close does.
    pub max_skip: usize,
    /// Deterministic 429s for one endpoint group.
    pub throttle: Option<Throttle>,
    /// `Some(d)`: `/event/` only returns events whose `date_updated` is at most `d` days old.
    pub event_retention_days: Option<i64>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig { api_key: "sim-key".to_string(), max_skip: 250_000, throttle: None, event_retention_days: None }
    }
}

/// Every `every`-th request of endpoint group `group` (counting from the last request-counter reset) answers
/// 429 with `Retry-After: retry_after_secs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Throttle {
    /// Endpoint group, e.g. `activity`, `task`, `lead`, `event`, `custom_field`, `user`, `me`.
    pub group: String,
    /// Period of the 429s; 0 disables throttling.
    pub every: u64,
    /// Value of the `Retry-After` header (may be fractional).
    pub retry_after_secs: f64,
}
