//! Replay of a capture recorded by close-lake instead of generated data: `DIR/exchanges.jsonl`, one exchange per
//! line, `{"method", "path", "query": [[name, value], ..], "status", "headers": {lowercase name: value},
//! "body"}` (`body_base64` instead of `body` when the body was not UTF-8).
//!
//! A request is matched by method, path, its query pairs compared as a sorted multiset and the body of a POST
//! (`"request"` in the capture); the answers recorded
//! for identical requests are served in recorded order, the last one repeating once they run out. A request
//! with no recorded answer gets 404 `{"error": "close-sim replay: no recorded answer for GET /api/v1/..?.."}`.
//! No credentials are checked (the capture's key is redacted). `routes::dispatch` counts the requests per
//! endpoint group as usual and adds a `Date` when the capture has none; the other knobs do not apply. Recorded
//! framing headers (`content-length`, `transfer-encoding`, `connection`) are dropped.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Error, ErrorKind};
use std::path::Path;
use std::sync::Mutex;

use axum::body::{Body, Bytes};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use super::respond::ApiError;

/// The capture file inside a replay directory.
pub const EXCHANGES_FILE: &str = "exchanges.jsonl";

/// One recorded request and its answer, as the exporter writes it.
#[derive(Deserialize)]
struct Exchange {
    method: String,
    path: String,
    #[serde(default)]
    query: Vec<(String, String)>,
    /// The JSON body of a POST.
    #[serde(default)]
    request: Option<String>,
    status: u16,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<String>,
    body_base64: Option<String>,
}

/// Recorded headers not replayed: the server frames the body itself.
const FRAMING: [&str; 3] = ["content-length", "transfer-encoding", "connection"];

/// Method, path, the sorted query pairs and the body of a POST.
type Key = (String, String, Vec<(String, String)>, String);

struct Answer {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

/// The answers of a capture, with how many of each request's answers were served.
pub struct Replay {
    answers: Mutex<HashMap<Key, (Vec<Answer>, usize)>>,
}

impl Replay {
    /// Reads `dir/exchanges.jsonl`; a malformed line is an error naming it.
    pub fn load(dir: &Path) -> std::io::Result<Replay> {
        let path = dir.join(EXCHANGES_FILE);
        let file = std::fs::File::open(&path).map_err(|e| Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let mut answers: HashMap<Key, (Vec<Answer>, usize)> = HashMap::new();
        for (i, line) in BufReader::new(file).lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let bad =
                |what: String| Error::new(ErrorKind::InvalidData, format!("{}:{}: {what}", path.display(), i + 1));
            let exchange: Exchange = serde_json::from_str(&line).map_err(|e| bad(e.to_string()))?;
            let (key, answer) = parse(exchange).map_err(bad)?;
            answers.entry(key).or_default().0.push(answer);
        }
        Ok(Replay { answers: Mutex::new(answers) })
    }

    /// The next recorded answer to `method` `uri`.
    pub fn answer(&self, method: &Method, uri: &Uri, body: &[u8]) -> Response {
        let request = String::from_utf8_lossy(body).into_owned();
        let key = key(method.as_str(), uri.path(), query_pairs(uri.query()), request);
        let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        let Some((recorded, served)) = answers.get_mut(&key).filter(|(a, _)| !a.is_empty()) else {
            let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
            let message = format!("close-sim replay: no recorded answer for {method} {}{query}", uri.path());
            let mut response = Response::new(Body::from(ApiError::not_found(message).body()));
            *response.status_mut() = StatusCode::NOT_FOUND;
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            return response;
        };
        let answer = &recorded[(*served).min(recorded.len() - 1)];
        *served += 1;
        let mut response = Response::new(Body::from(answer.body.clone()));
        *response.status_mut() = answer.status;
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in &answer.headers {
            headers.insert(name.clone(), value.clone());
        }
        response
    }
}

fn key(method: &str, path: &str, mut query: Vec<(String, String)>, request: String) -> Key {
    query.sort();
    (method.to_ascii_uppercase(), path.to_string(), query, request)
}

fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn parse(e: Exchange) -> Result<(Key, Answer), String> {
    let status = StatusCode::from_u16(e.status).map_err(|_| format!("invalid status {}", e.status))?;
    let body = match (e.body, e.body_base64) {
        (Some(text), _) => Bytes::from(text),
        (None, Some(encoded)) => Bytes::from(STANDARD.decode(encoded.trim()).map_err(|e| format!("body_base64: {e}"))?),
        (None, None) => Bytes::new(),
    };
    let mut headers = Vec::with_capacity(e.headers.len());
    for (name, value) in
        e.headers.into_iter().filter(|(name, _)| !FRAMING.contains(&name.to_ascii_lowercase().as_str()))
    {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("invalid header name {name:?}"))?;
        let value = HeaderValue::from_str(&value).map_err(|_| format!("invalid value of header {name}"))?;
        headers.push((name, value));
    }
    Ok((key(&e.method, &e.path, e.query, e.request.unwrap_or_default()), Answer { status, headers, body }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_query_order_but_not_repeats() {
        let a = key("get", "/api/v1/lead/", query_pairs(Some("b=2&a=1&a=1")), String::new());
        let b = key(
            "GET",
            "/api/v1/lead/",
            vec![("a".into(), "1".into()), ("a".into(), "1".into()), ("b".into(), "2".into())],
            String::new(),
        );
        assert_eq!(a, b);
        assert_ne!(a, key("GET", "/api/v1/lead/", query_pairs(Some("a=1&b=2")), String::new()));
        let search = |body: &str| key("POST", "/api/v1/data/search/", Vec::new(), body.to_string());
        assert_ne!(search(r#"{"query":1}"#), search(r#"{"query":2}"#), "searches differ by their body");
    }

    #[test]
    fn parses_text_and_base64_bodies() {
        let line = r#"{"method": "GET", "path": "/api/v1/me/", "status": 200, "body_base64": "/wA=",
            "headers": {"ratelimit": "limit=100, remaining=9, reset=1", "transfer-encoding": "chunked"}}"#;
        let (k, answer) = parse(serde_json::from_str(line).expect("an exchange")).expect("valid");
        assert_eq!((k.0.as_str(), answer.body.as_ref()), ("GET", &[0xff_u8, 0][..]));
        assert_eq!(answer.headers.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["ratelimit"]);
        let bad = r#"{"method": "GET", "path": "/", "status": 1000}"#;
        assert!(parse(serde_json::from_str(bad).expect("an exchange")).is_err());
    }
}
