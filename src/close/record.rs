//! `--record DIR`: a capture of every request and answer of a run, for a bug report.
//!
//! Each exchange is one JSON line of `DIR/exchanges.jsonl`: method, path, query pairs, status, the
//! headers that shape the client's behaviour (`ratelimit`, `retry-after`, `date`, `content-type`)
//! and the body (`body`, or `body_base64` when it is not UTF-8). Request headers are never written,
//! so neither is `Authorization`, and any occurrence of the key in a body is replaced by
//! `[REDACTED]`. `close-sim --replay DIR` serves such a capture, so a failing run on a real account
//! becomes a regression test.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use base64::Engine;
use bytes::Bytes;
use reqwest::header::HeaderMap;
use serde::Serialize;

/// The name of the capture file inside the record folder.
pub const EXCHANGES: &str = "exchanges.jsonl";
const KEPT_HEADERS: [&str; 4] = ["ratelimit", "retry-after", "date", "content-type"];
const REDACTED: &str = "[REDACTED]";

/// Appends exchanges to a capture. Clones share one file.
#[derive(Clone)]
pub struct Recorder {
    file: Arc<Mutex<BufWriter<File>>>,
    /// The key, to redact it wherever an answer would echo it. Never printed.
    key: Arc<str>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Recorder")
    }
}

/// One request and its answer, as written.
#[derive(Debug, Serialize)]
pub struct Exchange {
    method: &'static str,
    path: String,
    query: Vec<(String, String)>,
    /// The JSON body of a POST (`data/search/`): replays match on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<String>,
    status: u16,
    headers: std::collections::BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body_base64: Option<String>,
    /// The body as received, encoded into `body` or `body_base64` on the writing thread.
    #[serde(skip)]
    raw: Bytes,
}

impl Exchange {
    /// A GET of `path` with `query`, or a POST of `request` to it.
    pub fn new(
        path: &str,
        (query, request): (&[(String, String)], Option<&str>),
        status: u16,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Exchange {
        let headers = KEPT_HEADERS
            .iter()
            .filter_map(|name| Some((*name, headers.get(*name)?.to_str().ok()?.to_string())))
            .collect();
        Exchange {
            method: if request.is_some() { "POST" } else { "GET" },
            path: path.to_string(),
            query: query.to_vec(),
            request: request.map(str::to_string),
            status,
            headers,
            body: None,
            body_base64: None,
            raw: body,
        }
    }

    /// Scrubs the key (and the Basic credentials made of it) from every part, then encodes the body.
    fn redact(mut self, key: &str) -> Exchange {
        let secrets: Vec<String> = if key.is_empty() {
            Vec::new()
        } else {
            vec![key.to_string(), base64::engine::general_purpose::STANDARD.encode(format!("{key}:"))]
        };
        let scrub = |text: &mut String| {
            for secret in &secrets {
                if text.contains(secret.as_str()) {
                    *text = text.replace(secret.as_str(), REDACTED);
                }
            }
        };
        for (_, value) in &mut self.query {
            scrub(value);
        }
        if let Some(request) = &mut self.request {
            scrub(request);
        }
        for value in self.headers.values_mut() {
            scrub(value);
        }
        let mut raw = self.raw.to_vec();
        for secret in &secrets {
            raw = replace_bytes(&raw, secret.as_bytes(), REDACTED.as_bytes());
        }
        match String::from_utf8(raw) {
            Ok(text) => self.body = Some(text),
            Err(err) => self.body_base64 = Some(base64::engine::general_purpose::STANDARD.encode(err.as_bytes())),
        }
        self
    }
}

/// `haystack` with every occurrence of `needle` replaced.
fn replace_bytes(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(at) = rest.windows(needle.len()).position(|w| w == needle) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(with);
        rest = &rest[at + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}

impl Recorder {
    /// Creates `dir` if needed and starts `dir/exchanges.jsonl` afresh.
    pub fn create(dir: &Path, key: &str) -> std::io::Result<Recorder> {
        fs::create_dir_all(dir)?;
        let file = File::create(dir.join(EXCHANGES))?;
        Ok(Recorder { file: Arc::new(Mutex::new(BufWriter::new(file))), key: Arc::from(key) })
    }

    /// Appends one exchange (on a blocking thread) and flushes it, so a run that is killed leaves a
    /// capture of everything up to that moment. A capture that cannot be written is a warning: it
    /// must never fail the export it describes.
    pub async fn write(&self, exchange: Exchange) {
        let (file, key) = (self.file.clone(), self.key.clone());
        let written = tokio::task::spawn_blocking(move || {
            let mut line = serde_json::to_vec(&exchange.redact(&key)).map_err(std::io::Error::other)?;
            line.push(b'\n');
            let mut file = file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            file.write_all(&line)?;
            file.flush()
        })
        .await;
        if let Ok(Err(err)) = written {
            tracing::warn!(error = %err, "cannot append to the capture of this run");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_redacted_everywhere() {
        let mut headers = HeaderMap::new();
        headers.insert("ratelimit", "limit=100, remaining=9, reset=1".parse().unwrap());
        headers.insert("x-secret", "not kept".parse().unwrap());
        let body = Bytes::from_static(br#"{"echo": "api_SECRET", "basic": "YXBpX1NFQ1JFVDo=", "data": []}"#);
        let query = vec![("q".to_string(), "api_SECRET".to_string())];
        let exchange = Exchange::new("/api/v1/me/", (&query, None), 200, &headers, body).redact("api_SECRET");
        let line = serde_json::to_string(&exchange).unwrap();
        assert!(!line.contains("api_SECRET") && !line.contains("YXBpX1NFQ1JFVDo="), "{line}");
        assert!(line.contains(REDACTED) && line.contains("remaining=9") && !line.contains("x-secret"));
    }

    #[test]
    fn bodies_that_are_not_utf8_are_kept_as_base64() {
        let body = Bytes::from(b"\xff k1 \xff".to_vec());
        let exchange = Exchange::new("/api/v1/x/", (&[], None), 200, &HeaderMap::new(), body).redact("k1");
        let line = serde_json::to_string(&exchange).unwrap();
        let encoded = base64::engine::general_purpose::STANDARD.encode(b"\xff [REDACTED] \xff");
        assert!(line.contains(&format!(r#""body_base64":"{encoded}""#)), "{line}");
    }
}
