//! One HTTP client for every Close endpoint: Basic auth with the key, the governor, the retry policy,
//! the check that a 200 carries the JSON Close documents, Close's clock, and the optional capture.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use tokio::sync::Semaphore;
use url::Url;

use super::ApiError;
use super::governor::{self, Governor, RateLimit};
use super::pager::PageRequest;
use super::record::{Exchange, Recorder};
use super::retry::RetryPolicy;
use crate::config::{ApiKey, ApiSettings};
use crate::report::Counters;
use crate::time::Micros;

/// Requests in flight at once per endpoint group: enough to spend a group's whole rate budget at
/// Close's latencies (20 a second at 300 ms is 6 in flight), the governor paces the rest.
const MAX_IN_FLIGHT: usize = 8;

#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: Url,
    key: ApiKey,
    governor: Arc<Governor>,
    retry: RetryPolicy,
    in_flight: Arc<std::sync::Mutex<std::collections::HashMap<String, Arc<Semaphore>>>>,
    recorder: Option<Recorder>,
    /// Close's clock as its latest answer's `Date` tells it.
    server_date: Arc<std::sync::Mutex<Option<Micros>>>,
}

/// What one attempt came to.
enum Attempt {
    Done(Bytes),
    Throttled(Option<Duration>),
    Transient(String),
}

/// The JSON a 200 must carry: any object, or a list envelope (an object whose `data` is an array).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Object,
    List,
}

impl Client {
    pub fn new(api: &ApiSettings) -> Result<Client, ApiError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("close-lake/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|err| ApiError::BadResponse { path: String::new(), message: err.to_string() })?;
        let recorder = match &api.record {
            Some(dir) => Some(Recorder::create(dir, api.key.expose()).map_err(|err| ApiError::BadResponse {
                path: dir.display().to_string(),
                message: format!("cannot record the run's requests there: {err}"),
            })?),
            None => None,
        };
        Ok(Client {
            http,
            base_url: api.base_url.clone(),
            key: api.key.clone(),
            governor: Arc::new(Governor::default()),
            retry: RetryPolicy::default(),
            in_flight: Arc::default(),
            recorder,
            server_date: Arc::default(),
        })
    }

    /// The in-flight slots of an endpoint group.
    fn group_slots(&self, group: &str) -> Arc<Semaphore> {
        let mut groups = self.in_flight.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        groups.entry(group.to_string()).or_insert_with(|| Arc::new(Semaphore::new(MAX_IN_FLIGHT))).clone()
    }

    /// Close's clock as of its latest answer, if it sent a `Date`: the end of the second `Date`
    /// names. `Date` truncates to seconds; taking its start would put the upper bound of a run with
    /// no lag before records Close wrote in that same second (the bookmark is the largest key read,
    /// not this bound, so the later end loses nothing).
    pub fn server_time(&self) -> Option<Micros> {
        *self.server_date.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The `RateLimit` Close last announced for an endpoint group.
    pub fn rate_limit(&self, group: &str) -> Option<RateLimit> {
        self.governor.last_seen(group)
    }

    /// GETs a list endpoint: the body of its 200 answer, which is sure to be an object whose `data`
    /// is an array. A 200 whose body was cut short or is not that JSON is retried like a 503.
    pub async fn get_list(
        &self,
        path: &str,
        query: &[(String, String)],
        counters: &Counters,
    ) -> Result<Bytes, ApiError> {
        self.fetch(path, query, None, Shape::List, counters).await
    }

    /// Fetches one page a pager asked for: a GET with its query, or a POST of its body.
    pub async fn page(&self, request: &PageRequest, counters: &Counters) -> Result<Bytes, ApiError> {
        match &request.body {
            None => self.get_list(request.path, &request.query, counters).await,
            Some(body) => self.post_list(request.path, body, counters).await,
        }
    }

    /// POSTs a JSON query to a list endpoint (`data/search/`): the body of its 200 answer, checked
    /// and retried as [`Client::get_list`] does.
    pub async fn post_list(&self, path: &str, body: &str, counters: &Counters) -> Result<Bytes, ApiError> {
        self.fetch(path, &[], Some(body), Shape::List, counters).await
    }

    /// GETs one object (`me/`, `user/<id>/`): the body of its 200 answer, a JSON object.
    pub async fn get(&self, path: &str, query: &[(String, String)], counters: &Counters) -> Result<Bytes, ApiError> {
        self.fetch(path, query, None, Shape::Object, counters).await
    }

    /// GETs `path` (relative to the base URL), or POSTs `body` to it, and returns the body of its 200
    /// answer, after waiting out rate limits and retrying transient failures.
    async fn fetch(
        &self,
        path: &str,
        query: &[(String, String)],
        body: Option<&str>,
        shape: Shape,
        counters: &Counters,
    ) -> Result<Bytes, ApiError> {
        let group = path.split('/').next().unwrap_or(path);
        let url = self
            .base_url
            .join(path)
            .map_err(|err| ApiError::BadResponse { path: path.to_string(), message: err.to_string() })?;
        let (mut failures, mut throttled) = (0u32, 0u32);
        loop {
            self.governor.wait(group).await;
            let mut exchange = None;
            let attempt = {
                let _permit = self.group_slots(group).acquire_owned().await;
                counters.add_request();
                self.attempt(&url, path, group, (query, body), shape, &mut exchange).await
            };
            // Recorded after the permit is released, so a capture never holds up other requests.
            if let (Some(recorder), Some(exchange)) = (&self.recorder, exchange) {
                recorder.write(exchange).await;
            }
            let attempt = attempt?;
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
        (query, request_body): (&[(String, String)], Option<&str>),
        shape: Shape,
        exchange: &mut Option<Exchange>,
    ) -> Result<Attempt, ApiError> {
        let request = match request_body {
            None => self.http.get(url.clone()).query(query),
            Some(body) => self
                .http
                .post(url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string()),
        };
        let sent = request.basic_auth(self.key.expose(), Some("")).send().await;
        let response = match sent {
            Ok(response) => response,
            // Strip the URL: reqwest errors print it, and it is ours to say, not the error's.
            Err(err) => return Ok(Attempt::Transient(err.without_url().to_string())),
        };
        let status = response.status();
        let headers = response.headers().clone();
        self.governor.observe(group, &headers);
        if let Some(date) = headers.get(reqwest::header::DATE).and_then(|v| v.to_str().ok())
            && let Ok(date) = chrono::DateTime::parse_from_rfc2822(date)
        {
            let end_of_second = date.timestamp_micros() + crate::time::MICROS_PER_SECOND;
            *self.server_date.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(end_of_second);
        }
        let body = response.bytes().await;
        if self.recorder.is_some() {
            let recorded = body.as_ref().map(Bytes::clone).unwrap_or_default();
            *exchange = Some(Exchange::new(url.path(), (query, request_body), status.as_u16(), &headers, recorded));
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Ok(Attempt::Throttled(governor::retry_after(&headers)));
        }
        if RetryPolicy::is_transient(status.as_u16()) {
            return Ok(Attempt::Transient(format!("{status}")));
        }
        let body = match body {
            Ok(body) => body,
            Err(err) => return Ok(Attempt::Transient(err.without_url().to_string())),
        };
        if status.is_success() {
            // A proxy's error page or a stream cut short behind a 200: as transient as a 503.
            return Ok(match check_shape(body, shape).await {
                Ok(body) => Attempt::Done(body),
                Err(problem) => {
                    Attempt::Transient(format!("200 with a body that is not the JSON Close documents ({problem})"))
                }
            });
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

/// Checks, off the async runtime, that `body` is the JSON `shape` says.
async fn check_shape(body: Bytes, shape: Shape) -> Result<Bytes, String> {
    use serde::de::IgnoredAny;
    #[derive(serde::Deserialize)]
    struct List {
        data: Vec<IgnoredAny>,
    }
    let checked = tokio::task::spawn_blocking(move || {
        let parsed = match shape {
            Shape::Object => serde_json::from_slice::<std::collections::HashMap<String, IgnoredAny>>(&body).map(drop),
            Shape::List => serde_json::from_slice::<List>(&body).map(|list| drop(list.data)),
        };
        parsed.map(|()| body)
    })
    .await;
    match checked {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(err)) => Err(err.to_string()),
        Err(err) => Err(err.to_string()),
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
