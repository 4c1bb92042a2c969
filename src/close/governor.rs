//! The rate governor: one gate per endpoint group (method and path family, per Close's rate limits).
//!
//! Every answer's `RateLimit: limit=.., remaining=.., reset=..` header is observed; when a group has
//! no requests left, or a 429 says `Retry-After`, that group's gate closes until the time Close named.
//! Other groups keep going: one throttled endpoint never stalls the rest.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::HeaderMap;
use tokio::time::Instant;

#[derive(Debug, Default)]
pub struct Governor {
    gates: Mutex<HashMap<String, Arc<Mutex<Instant>>>>,
    /// The latest `RateLimit` each group announced, for `close-lake check`.
    seen: Mutex<HashMap<String, RateLimit>>,
}

/// What a `RateLimit` header says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub limit: Option<f64>,
    pub remaining: Option<f64>,
    pub reset: Option<f64>,
}

impl Governor {
    fn gate(&self, group: &str) -> Arc<Mutex<Instant>> {
        let mut gates = self.gates.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        gates.entry(group.to_string()).or_insert_with(|| Arc::new(Mutex::new(Instant::now()))).clone()
    }

    fn open_at(gate: &Mutex<Instant>) -> Instant {
        *gate.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until `group` may send again.
    pub async fn wait(&self, group: &str) {
        let gate = self.gate(group);
        loop {
            let open_at = Self::open_at(&gate);
            if open_at <= Instant::now() {
                return;
            }
            tokio::time::sleep_until(open_at).await;
        }
    }

    /// Closes `group` for `wait` from now (never shortening an earlier closure).
    pub fn close_for(&self, group: &str, wait: Duration) {
        let gate = self.gate(group);
        let mut open_at = gate.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *open_at = (*open_at).max(Instant::now() + wait);
    }

    /// Observes an answer's headers: an exhausted group waits for its reset.
    pub fn observe(&self, group: &str, headers: &HeaderMap) {
        let Some(limit) = rate_limit(headers) else { return };
        self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(group.to_string(), limit);
        if limit.remaining.is_some_and(|r| r <= 0.0)
            && let Some(reset) = limit.reset
        {
            self.close_for(group, seconds(reset));
        }
    }

    /// The latest `RateLimit` `group` announced.
    pub fn last_seen(&self, group: &str) -> Option<RateLimit> {
        self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(group).copied()
    }
}

/// Parses `RateLimit: limit=100, remaining=50, reset=5` (also `;`-separated).
pub fn rate_limit(headers: &HeaderMap) -> Option<RateLimit> {
    let value = headers.get("ratelimit")?.to_str().ok()?;
    let mut out = RateLimit { limit: None, remaining: None, reset: None };
    for part in value.split([',', ';']) {
        let Some((name, number)) = part.split_once('=') else { continue };
        let number = number.trim().parse::<f64>().ok();
        match name.trim() {
            "limit" => out.limit = number,
            "remaining" => out.remaining = number,
            "reset" => out.reset = number,
            _ => {}
        }
    }
    Some(out)
}

/// `Retry-After` in seconds (fractional allowed). HTTP dates are not used by Close.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get("retry-after")?.to_str().ok()?;
    value.trim().parse::<f64>().ok().map(seconds)
}

/// A wait the server asked for, bounded to an hour; anything not a finite number is no wait.
fn seconds(s: f64) -> Duration {
    if s.is_finite() { Duration::from_secs_f64(s.clamp(0.0, 3_600.0)) } else { Duration::ZERO }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn parses_both_separators() {
        let a = rate_limit(&headers(&[("ratelimit", "limit=100, remaining=50, reset=5")])).unwrap();
        let b = rate_limit(&headers(&[("ratelimit", "limit=100; remaining=50; reset=5")])).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.reset, Some(5.0));
        assert_eq!(retry_after(&headers(&[("retry-after", "0.5")])), Some(Duration::from_millis(500)));
        assert_eq!(retry_after(&headers(&[("retry-after", "NaN")])), Some(Duration::ZERO));
        assert_eq!(retry_after(&headers(&[("retry-after", "-inf")])), Some(Duration::ZERO));
    }

    #[tokio::test(start_paused = true)]
    async fn a_closed_group_waits_and_others_do_not() {
        let governor = Governor::default();
        governor.observe("activity", &headers(&[("ratelimit", "limit=100, remaining=0, reset=2.5")]));
        let start = Instant::now();
        governor.wait("task").await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        governor.wait("activity").await;
        assert_eq!(start.elapsed(), Duration::from_millis(2_500));
    }

    #[tokio::test(start_paused = true)]
    async fn a_later_closure_is_never_shortened() {
        let governor = Governor::default();
        governor.close_for("lead", Duration::from_secs(5));
        governor.close_for("lead", Duration::from_secs(1));
        let start = Instant::now();
        governor.wait("lead").await;
        assert_eq!(start.elapsed(), Duration::from_secs(5));
    }
}
