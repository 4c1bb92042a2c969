//! Behaviour knobs of a running simulator: the API key, the `_skip` cap, event-log retention, and the choices
//! where Close's behaviour is undocumented or varies (undocumented parameters, lead query precision, the key's
//! role, the event cursor), plus test hooks (deterministic 429s, faults, unavailable endpoints). Every default is
//! the strictest plausible behaviour. A [`SimConfig`] can be swapped on a live server with `SimHandle::set_config`.

use serde::{Deserialize, Serialize};

/// How the simulated API behaves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SimConfig {
    /// HTTP Basic user name that authenticates (the password is ignored, Close uses an empty one).
    pub api_key: String,
    /// Largest `_skip` an offset endpoint accepts; a larger one answers 400 like Close does.
    pub max_skip: usize,
    /// Deterministic 429s for one endpoint group.
    pub throttle: Option<Throttle>,
    /// `Some(d)`: `/event/` only returns events whose `date_updated` is at most `d` days old.
    pub event_retention_days: Option<i64>,
    /// What a query parameter the endpoint does not document gets.
    pub unknown_params: ParamPolicy,
    /// How `GET /lead/?query=` compares its time bounds.
    pub lead_query_precision: Precision,
    /// Whether the key belongs to an admin (`/me/`'s membership role). A non-admin key gets `/event/` `data`
    /// and `previous_data` only for events less than an hour old.
    pub admin_key: bool,
    /// Whether `/event/` requests carrying `_cursor` apply the `date_updated__gte/__lte` filters.
    pub event_cursor_filters: CursorFilters,
    /// Endpoints that answer an error status instead (optional features missing from the plan).
    pub unavailable: Vec<Unavailable>,
    /// Deterministic faults: wrong statuses, cut bodies, HTML from a proxy.
    pub faults: Vec<Fault>,
    /// How long every answer takes (Close's own pages take 100-300 ms).
    pub latency: std::time::Duration,
    /// Requests per endpoint group per second, enforced: the ones beyond it answer 429 with `Retry-After`
    /// until the window resets. `None`: 100 announced in `RateLimit`, none refused.
    pub rate_limit: Option<u32>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            api_key: "sim-key".to_string(),
            max_skip: 250_000,
            throttle: None,
            event_retention_days: None,
            unknown_params: ParamPolicy::Refuse,
            lead_query_precision: Precision::Minute,
            admin_key: true,
            event_cursor_filters: CursorFilters::Ignored,
            unavailable: Vec::new(),
            faults: Vec::new(),
            latency: std::time::Duration::ZERO,
            rate_limit: None,
        }
    }
}

/// Every `every`-th request of endpoint group `group` (counting from the last request-counter reset) answers
/// 429 with `Retry-After: retry_after_secs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Throttle {
    /// Endpoint group, e.g. `activity`, `task`, `lead`, `event`, `custom_field`, `user`, `me`, `organization`.
    pub group: String,
    /// Period of the 429s; 0 disables throttling.
    pub every: u64,
    /// Value of the `Retry-After` header (may be fractional).
    pub retry_after_secs: f64,
}

/// The answer to a query parameter an endpoint does not document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParamPolicy {
    /// 400 `{"error": "Unknown parameter <name> for /<path>/: Close documents <list>"}`.
    Refuse,
    /// Silently ignored: the filter or sort it asks for is not applied.
    Ignore,
}

/// How `GET /lead/?query=` compares time bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Precision {
    /// Every bound value is floored to its minute before comparing (`>= "10:05:30.5"` means `>= 10:05:00`).
    Minute,
    /// Bounds compare at full precision.
    Exact,
}

/// Whether `/event/` applies `date_updated__gte/__lte` to requests that carry `_cursor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CursorFilters {
    /// Only the first request (no cursor) is bounded; the cursor walk continues into older history.
    Ignored,
    /// Every page applies the range.
    Applied,
}

/// An endpoint (path under `/api/v1/`, e.g. `custom_field/custom_object_type/`) that answers `status` with
/// Close's `{"error": ..}` envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unavailable {
    pub path: String,
    pub status: u16,
}

/// Every `every`-th request of endpoint group `group` (counting like [`Throttle`]) gets `kind` instead of its
/// answer. A request the throttle refuses gets the 429.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    pub group: String,
    /// Period of the fault; 0 disables it.
    pub every: u64,
    pub kind: FaultKind,
}

/// What a faulty answer looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FaultKind {
    /// This status (e.g. 503) with an `{"error": ..}` body.
    Status(u16),
    /// 200 with the real body cut at half its length.
    CutBody,
    /// 200, `text/html`, `<html><body>upstream error</body></html>`.
    NotJson,
}
