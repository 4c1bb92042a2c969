//! The one retry policy of the client: which failures are worth another attempt, and how long to
//! wait before it (exponential backoff with full jitter, so concurrent windows do not retry in step).

use std::time::Duration;

use rand::Rng;

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts for transient failures (5xx, timeouts, dropped connections), the first included.
    pub max_attempts: u32,
    /// Waits for 429 answers: Close says how long, so these are cheap but still bounded.
    pub max_throttled: u32,
    pub base: Duration,
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            max_throttled: 50,
            base: Duration::from_millis(250),
            cap: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1`, after `attempt` transient failures (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self.base.saturating_mul(1 << attempt.min(16)).min(self.cap);
        let millis = ceiling.as_millis().max(1) as u64;
        Duration::from_millis(rand::rng().random_range(millis / 2..=millis))
    }

    /// Statuses worth another attempt. 429 is handled apart: it says how long to wait.
    pub fn is_transient(status: u16) -> bool {
        matches!(status, 500 | 502 | 503 | 504)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy::default();
        let first = policy.backoff(1);
        assert!(first >= Duration::from_millis(250) && first <= Duration::from_millis(500));
        assert!(policy.backoff(30) <= policy.cap);
        assert!(policy.backoff(30) >= policy.cap / 2);
    }

    #[test]
    fn only_server_errors_are_transient() {
        for status in [500, 502, 503, 504] {
            assert!(RetryPolicy::is_transient(status));
        }
        for status in [400, 401, 403, 404, 429] {
            assert!(!RetryPolicy::is_transient(status));
        }
    }
}
