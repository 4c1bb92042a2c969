//! One HTTP client for every Close endpoint: Basic auth with the key, the governor, the retry policy.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use tokio::sync::Semaphore;
use url::Url;

use super::ApiError;
use super::governor::{self, Governor};
use super::retry::RetryPolicy;
use crate::config::{ApiKey, ApiSettings};
use crate::report::Counters;

/// Requests in flight at once across all tables; Close allows about 20 per second per key.
const MAX_IN_FLIGHT: usize = 8;

#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: Url,
    key: ApiKey,
    governor: Arc<Governor>,
    retry: RetryPolicy,
    in_flight: Arc<Semaphore>,
}

/// What one attempt came to.
enum Attempt {
    Done(Bytes),
    Throttled(Option<Duration>),
    Transient(String),
}

impl Client {
    pub fn new(api: &ApiSettings) -> Result<Client, ApiError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("close-lake/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|err| ApiError::BadResponse { path: String::new(), message: err.to_string() })?;
        Ok(Client {
            http,
            base_url: api.base_url.clone(),
            key: api.key.clone(),
            governor: Arc::new(Governor::default()),
            retry: RetryPolicy::default(),
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        })
    }

    /// Checks the key before any table starts, so a bad key is one line, not one per table.
    pub async fn check_auth(&self, counters: &Counters) -> Result<(), ApiError> {
        self.get("me/", &[], counters).await.map(drop)
    }

    /// GETs `path` (relative to the base URL) and returns the body of its 200 answer, after waiting
    /// out rate limits and retrying transient failures.
    pub async fn get(&self, path: &str, query: &[(String, String)], counters: &Counters) -> Result<Bytes, ApiError> {
        let group = path.split('/').next().unwrap_or(path);
        let url = self
            .base_url
            .join(path)
            .map_err(|err| ApiError::BadResponse { path: path.to_string(), message: err.to_string() })?;
        let (mut failures, mut throttled) = (0u32, 0u32);
        loop {
            self.governor.wait(group).await;
            let attempt = {
                let _permit = self.in_flight.acquire().await;
                counters.add_request();
                self.attempt(&url, path, group, query).await?
            };
            match attempt {
                Attempt::Done(body) => return Ok(body),
                Attempt::Throttled(wait) => {
                    throttled += 1;
                    counters.add_retry();
                    if throttled >= self.retry.max_throttled {
                        return Err(ApiError::Exhausted {
                            path: path.to_string(),
                            attempts: throttled,
                            last: "429 Too Many Requests".into(),
                        });
                    }
                    let wait = wait.unwrap_or_else(|| self.retry.backoff(throttled));
                    tracing::debug!(group, wait_ms = wait.as_millis() as u64, "throttled by Close");
                    self.governor.close_for(group, wait);
                }
                Attempt::Transient(last) => {
                    failures += 1;
                    if failures >= self.retry.max_attempts {
                        return Err(ApiError::Exhausted { path: path.to_string(), attempts: failures, last });
                    }
                    counters.add_retry();
                    let wait = self.retry.backoff(failures);
                    tracing::warn!(path, attempt = failures, wait_ms = wait.as_millis() as u64, error = %last, "retrying");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn attempt(
        &self,
        url: &Url,
        path: &str,
        group: &str,
        query: &[(String, String)],
    ) -> Result<Attempt, ApiError> {
        let sent = self.http.get(url.clone()).basic_auth(self.key.expose(), Some("")).query(query).send().await;
        let response = match sent {
            Ok(response) => response,
            // Strip the URL: reqwest errors print it, and it is ours to say, not the error's.
            Err(err) => return Ok(Attempt::Transient(err.without_url().to_string())),
        };
        let status = response.status();
        self.governor.observe(group, response.headers());
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Ok(Attempt::Throttled(governor::retry_after(response.headers())));
        }
        if RetryPolicy::is_transient(status.as_u16()) {
            return Ok(Attempt::Transient(format!("{status}")));
        }
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(err) => return Ok(Attempt::Transient(err.without_url().to_string())),
        };
        if status.is_success() {
            return Ok(Attempt::Done(body));
        }
        let message = error_message(&body);
        Err(match status.as_u16() {
            401 => ApiError::Unauthorized { path: path.to_string() },
            400 if message.contains("max_skip") || message.contains("maximum skip") => {
                ApiError::MaxSkip { path: path.to_string(), message }
            }
            code => ApiError::Refused { path: path.to_string(), status: code, message },
        })
    }
}

/// The message of a Close error envelope: `{"error": ..}` or `{"errors": [..], "field-errors": {..}}`.
fn error_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Envelope {
        error: Option<serde_json::Value>,
        errors: Option<serde_json::Value>,
        #[serde(rename = "field-errors")]
        field_errors: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<Envelope>(body) {
        Ok(Envelope { error: Some(serde_json::Value::String(text)), .. }) => text,
        Ok(Envelope { error: Some(other), .. }) => other.to_string(),
        Ok(Envelope { errors, field_errors, .. }) if errors.is_some() || field_errors.is_some() => {
            format!("errors {}, field errors {}", errors.unwrap_or_default(), field_errors.unwrap_or_default())
        }
        _ => String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_error_envelopes() {
        assert_eq!(error_message(br#"{"error": "Empty query"}"#), "Empty query");
        let validation = error_message(br#"{"errors": [], "field-errors": {"lead": "This field is required."}}"#);
        assert!(validation.contains("This field is required."));
        assert_eq!(error_message(b"<html>bad gateway</html>"), "<html>bad gateway</html>");
    }
}
