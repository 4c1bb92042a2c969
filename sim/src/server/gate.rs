//! What every API request passes before its handler: counting per endpoint group, the `RateLimit` header
//! (per group per 1-second window: 100 that only inform by default, or the configured limit, enforced with
//! 429s and `Retry-After` as Close does), HTTP Basic auth against the configured key, and the configured
//! deterministic 429s.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::config::SimConfig;

/// Requests allowed per group per window, as the `RateLimit` header reports it, when no limit is enforced.
pub const RATE_LIMIT: u32 = 100;
const WINDOW: Duration = Duration::from_secs(1);

/// Request counters: totals since the last reset, and the current rate-limit window of each group.
#[derive(Debug, Default)]
pub struct Counters {
    totals: HashMap<String, u64>,
    windows: HashMap<String, (Instant, u32)>,
}

/// One counted request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Its number within the group since the last reset (the first is 1).
    pub nth: u64,
    pub remaining: u32,
    /// Seconds until the window resets.
    pub reset_secs: f64,
    /// Whether this request is beyond the window's `limit`.
    pub over: bool,
}

impl Counters {
    pub fn hit(&mut self, group: &str, now: Instant, limit: u32) -> Hit {
        let nth = {
            let total = self.totals.entry(group.to_string()).or_default();
            *total += 1;
            *total
        };
        let window = self.windows.entry(group.to_string()).or_insert((now, 0));
        if now.duration_since(window.0) >= WINDOW {
            *window = (now, 0);
        }
        window.1 += 1;
        let reset = WINDOW.saturating_sub(now.duration_since(window.0));
        Hit { nth, remaining: limit.saturating_sub(window.1), reset_secs: reset.as_secs_f64(), over: window.1 > limit }
    }

    pub fn get(&self, group: &str) -> u64 {
        self.totals.get(group).copied().unwrap_or(0)
    }

    pub fn all(&self) -> BTreeMap<String, u64> {
        self.totals.iter().map(|(g, n)| (g.clone(), *n)).collect()
    }

    pub fn reset(&mut self) {
        self.totals.clear();
        self.windows.clear();
    }
}

/// `limit=L, remaining=N, reset=S`.
pub fn rate_limit_header(limit: u32, remaining: u32, reset_secs: f64) -> String {
    format!("limit={limit}, remaining={remaining}, reset={}", secs(reset_secs))
}

/// Seconds as Close prints them: an integer when whole, else up to three decimals (`0.5`, `0.734`).
pub fn secs(s: f64) -> String {
    let rounded = (s.max(0.0) * 1000.0).round() / 1000.0;
    format!("{rounded}")
}

/// Whether the request's Basic credentials name `api_key` (the password is not checked).
pub fn authorized(headers: &HeaderMap, api_key: &str) -> bool {
    let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some(encoded) = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")) else {
        return false;
    };
    let Ok(decoded) = STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let user = decoded.split(|b| *b == b':').next().unwrap_or_default();
    !api_key.is_empty() && user == api_key.as_bytes()
}

/// `Some(retry_after)` when the configured throttle refuses the `nth` request of `group`.
pub fn throttled(config: &SimConfig, group: &str, nth: u64) -> Option<f64> {
    let t = config.throttle.as_ref()?;
    (t.group == group && t.every > 0 && nth.is_multiple_of(t.every)).then_some(t.retry_after_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Throttle;
    use axum::http::HeaderValue;

    #[test]
    fn counts_and_windows() {
        let mut c = Counters::default();
        let t0 = Instant::now();
        assert_eq!(c.hit("lead", t0, RATE_LIMIT).remaining, 99);
        assert_eq!(c.hit("lead", t0, RATE_LIMIT).nth, 2);
        assert_eq!(c.hit("lead", t0 + Duration::from_millis(1500), RATE_LIMIT).remaining, 99);
        assert_eq!((c.get("lead"), c.get("task")), (3, 0));
        let (a, b) = (c.hit("task", t0, 2), c.hit("task", t0, 2));
        assert!(!a.over && !b.over && b.remaining == 0);
        assert!(c.hit("task", t0, 2).over, "the third in a window of 2");
        assert!(!c.hit("task", t0 + Duration::from_secs(1), 2).over, "a new window");
        c.reset();
        assert!(c.all().is_empty());
    }

    #[test]
    fn formats_seconds() {
        assert_eq!(secs(0.5), "0.5");
        assert_eq!(secs(2.0), "2");
        assert_eq!(rate_limit_header(100, 7, 0.7344), "limit=100, remaining=7, reset=0.734");
    }

    #[test]
    fn checks_basic_auth() {
        let mut h = HeaderMap::new();
        assert!(!authorized(&h, "k"));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic azo=")); // "k:"
        assert!(authorized(&h, "k"));
        assert!(!authorized(&h, "other"));
    }

    #[test]
    fn throttles_every_nth_of_one_group() {
        let config = SimConfig {
            throttle: Some(Throttle { group: "activity".into(), every: 3, retry_after_secs: 0.5 }),
            ..SimConfig::default()
        };
        let refused: Vec<u64> = (1..=7).filter(|n| throttled(&config, "activity", *n).is_some()).collect();
        assert_eq!(refused, [3, 6]);
        assert_eq!(throttled(&config, "lead", 3), None);
    }
}
