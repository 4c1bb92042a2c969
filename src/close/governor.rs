//! The rate governor: one gate per endpoint group (the first segment of the path: `activity`, `lead`,
//! `data` for search, ...), as Close counts its rate limits.
//!
//! Every answer's `RateLimit: limit=.., remaining=.., reset=..` header is observed. Requests of a group
//! are then spaced evenly, a little under `limit` per window (the window is the longest `reset` seen,
//! at least a second), so concurrent windows spend the budget without tripping 429s; when a group has
//! no requests left, or a 429 says `Retry-After`, that group's gate closes until the time Close named.
//! Other groups keep going: one throttled endpoint never stalls the rest.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::HeaderMap;
use tokio::time::Instant;

/// The share of the announced limit the spacing aims at: arrival jitter must not push a window over.
/// Evenly spaced at 98 %, a window sees at most its limit even when one send slips by a few ms.
const PACE: f64 = 0.98;
/// The longest window the spacing is computed over: one odd `reset` must not slow a group for good.
const MAX_WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub struct Governor {
    gates: Mutex<HashMap<String, Arc<Mutex<Gate>>>>,
    /// The latest `RateLimit` each group announced, for `close-lake check`.
    seen: Mutex<HashMap<String, RateLimit>>,
}

/// One group's gate.
#[derive(Debug)]
struct Gate {
    /// Closed until then (a 429, or an exhausted window).
    open_at: Instant,
    /// The earliest send time not yet taken by a waiting request.
    next_slot: Instant,
    /// The time between two sends, once Close announced a limit.
    spacing: Option<Duration>,
    /// The longest `reset` seen: the length of Close's window for this group.
    window: Duration,
}

/// What a `RateLimit` header says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub limit: Option<f64>,
    pub remaining: Option<f64>,
    pub reset: Option<f64>,
}

impl Governor {
    fn gate(&self, group: &str) -> Arc<Mutex<Gate>> {
        let mut gates = self.gates.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        gates
            .entry(group.to_string())
            .or_insert_with(|| {
                let now = Instant::now();
                Arc::new(Mutex::new(Gate { open_at: now, next_slot: now, spacing: None, window: Duration::ZERO }))
            })
            .clone()
    }

    fn lock(gate: &Mutex<Gate>) -> std::sync::MutexGuard<'_, Gate> {
        gate.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until `group` may send again: takes the group's next free slot, then waits for it and
    /// for the gate to open.
    pub async fn wait(&self, group: &str) {
        let gate = self.gate(group);
        let slot = {
            let mut gate = Self::lock(&gate);
            // Never a slot inside a closure: those would all wake at its end, in one burst.
            let slot = gate.next_slot.max(gate.open_at).max(Instant::now());
            if let Some(spacing) = gate.spacing {
                gate.next_slot = slot + spacing;
            }
            slot
        };
        tokio::time::sleep_until(slot).await;
        loop {
            let open_at = Self::lock(&gate).open_at;
            if open_at <= Instant::now() {
                return;
            }
            tokio::time::sleep_until(open_at).await;
        }
    }

    /// Closes `group` for `wait` from now (never shortening an earlier closure).
    pub fn close_for(&self, group: &str, wait: Duration) {
        let gate = self.gate(group);
        let mut gate = Self::lock(&gate);
        gate.open_at = gate.open_at.max(Instant::now() + wait);
    }

    /// Observes an answer's headers: the group's pace follows its limit, and an exhausted group waits
    /// for its reset.
    pub fn observe(&self, group: &str, headers: &HeaderMap) {
        let Some(limit) = rate_limit(headers) else { return };
        self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(group.to_string(), limit);
        if let (Some(per_window), Some(reset)) = (limit.limit.filter(|l| *l >= 1.0), limit.reset) {
            let gate = self.gate(group);
            let mut gate = Self::lock(&gate);
            gate.window = gate.window.max(seconds(reset)).clamp(Duration::from_secs(1), MAX_WINDOW);
            gate.spacing = Some(gate.window.div_f64(per_window * PACE));
        }
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
    async fn a_group_is_paced_a_little_under_its_limit() {
        let governor = Governor::default();
        governor.observe("activity", &headers(&[("ratelimit", "limit=20, remaining=19, reset=0.9")]));
        let start = Instant::now();
        for _ in 0..21 {
            governor.wait("activity").await;
        }
        // 21 sends at 19.6 a second: the 21st goes 20 spacings (1.02 s) after the first, so no second
        // holds more than the limit (the paused clock wakes on whole milliseconds).
        let paced = start.elapsed();
        assert!(paced > Duration::from_secs(1) && paced <= Duration::from_millis(1_030), "{paced:?}");
        governor.wait("task").await;
        assert_eq!(start.elapsed(), paced, "another group is not paced by this one");
    }

    #[tokio::test(start_paused = true)]
    async fn slots_after_a_closure_stay_spaced() {
        let governor = Governor::default();
        governor.observe("lead", &headers(&[("ratelimit", "limit=10, remaining=5, reset=1")]));
        governor.close_for("lead", Duration::from_secs(2));
        let start = Instant::now();
        governor.wait("lead").await;
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        governor.wait("lead").await;
        assert!(start.elapsed() >= Duration::from_millis(2_100), "the next slot is a spacing later, not at once");
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
