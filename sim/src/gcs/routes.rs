//! Request routing. Splits the path into `/<bucket>/<object>` the way GCS does (each part percent-decoded
//! once, so `%2F` and `/` both put a slash in the object name), reads the query string, and hands each
//! (target, method, query) to its handler: bucket creation and listing here and in `list`, object reads in
//! `read`, object writes in `objects`, multipart uploads in `multipart`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;

use super::state::Shared;
use super::xml::GcsError;
use super::{list, multipart, objects, read};

/// The header that turns an object PUT into a server-side copy.
const COPY_SOURCE: &str = "x-goog-copy-source";

/// One request, body read in full.
pub(crate) struct Req {
    pub(crate) method: Method,
    pub(crate) headers: HeaderMap,
    pub(crate) query: Query,
    pub(crate) body: Bytes,
}

/// The decoded query string, in order.
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    fn parse(query: Option<&str>) -> Query {
        Query(form_urlencoded::parse(query.unwrap_or("").as_bytes()).into_owned().collect())
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }
}

enum Target {
    Service,
    Bucket(String),
    Object(String, String),
}

/// The fallback handler of the fake's router: every request comes through here.
pub(crate) async fn dispatch(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(e) => return GcsError::invalid_argument(format!("Could not read the request body: {e}")).into_response(),
    };
    let req = Req { method: parts.method, headers: parts.headers, query: Query::parse(parts.uri.query()), body };
    parse_target(parts.uri.path()).and_then(|target| route(&shared, target, &req)).unwrap_or_else(|e| e.into_response())
}

fn route(shared: &Shared, target: Target, req: &Req) -> Result<Response, GcsError> {
    let (bucket, name) = match target {
        Target::Service => return Err(GcsError::method_not_allowed("requests without a bucket")),
        Target::Bucket(bucket) => return route_bucket(shared, &bucket, req),
        Target::Object(bucket, name) => (bucket, name),
    };
    let q = &req.query;
    match req.method {
        Method::GET | Method::HEAD => read::get(shared, &bucket, &name, req),
        Method::PUT if q.has("uploadId") => multipart::put_part(shared, &bucket, &name, req),
        Method::PUT => match req.headers.get(COPY_SOURCE) {
            Some(source) => {
                let source = source.to_str().map_err(|_| GcsError::invalid_argument("Unreadable copy source"))?;
                objects::copy(shared, &bucket, &name, source, req)
            }
            None => objects::put(shared, &bucket, &name, req),
        },
        Method::POST if q.has("uploads") => multipart::initiate(shared, &bucket, &name, req),
        Method::POST if q.has("uploadId") => multipart::complete(shared, &bucket, &name, req),
        Method::DELETE if q.has("uploadId") => multipart::abort(shared, &bucket, &name, req),
        Method::DELETE => objects::delete(shared, &bucket, &name),
        _ => Err(GcsError::method_not_allowed(&format!("{} on an object", req.method))),
    }
}

fn route_bucket(shared: &Shared, bucket: &str, req: &Req) -> Result<Response, GcsError> {
    match req.method {
        Method::PUT => create_bucket(shared, bucket),
        Method::GET => list::list(shared, bucket, &req.query),
        Method::HEAD => shared.lock().bucket(bucket).map(|_| StatusCode::OK.into_response()),
        _ => Err(GcsError::method_not_allowed(&format!("{} on a bucket", req.method))),
    }
}

/// `PUT /<bucket>`: GCS's XML "create bucket"; 409 if it exists.
fn create_bucket(shared: &Shared, bucket: &str) -> Result<Response, GcsError> {
    if !valid_bucket_name(bucket) {
        return Err(GcsError::invalid_bucket_name(bucket));
    }
    match shared.lock().create_bucket(bucket) {
        true => Ok(StatusCode::OK.into_response()),
        false => Err(GcsError::bucket_exists(bucket)),
    }
}

/// GCS's naming rule (without the longer limit of dotted names): 3 to 63 of `a-z 0-9 - _ .`, starting and
/// ending with a letter or digit.
fn valid_bucket_name(name: &str) -> bool {
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
        && edge_ok(name.chars().next())
        && edge_ok(name.chars().last())
}

/// `/` is the service, `/<bucket>` (or `/<bucket>/`) a bucket, `/<bucket>/<object...>` an object.
fn parse_target(path: &str) -> Result<Target, GcsError> {
    let path = path.strip_prefix('/').unwrap_or(path);
    let (bucket, name) = path.split_once('/').unwrap_or((path, ""));
    if bucket.is_empty() {
        return Ok(Target::Service);
    }
    let bucket = decode(bucket)?;
    if name.is_empty() { Ok(Target::Bucket(bucket)) } else { Ok(Target::Object(bucket, decode(name)?)) }
}

/// Percent-decodes one path part (`+` stays a plus, as in any URL path).
pub(crate) fn decode(part: &str) -> Result<String, GcsError> {
    percent_decode_str(part)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| GcsError::invalid_argument("Object and bucket names must be UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(path: &str) -> Option<(String, String)> {
        match parse_target(path) {
            Ok(Target::Object(b, o)) => Some((b, o)),
            _ => None,
        }
    }

    #[test]
    fn paths_decode_once() {
        assert_eq!(object("/b/a%2Fb%3Dc"), Some(("b".into(), "a/b=c".into())));
        assert_eq!(object("/b/a/b=c"), Some(("b".into(), "a/b=c".into())));
        assert_eq!(object("/b/100%2525+x"), Some(("b".into(), "100%25+x".into())));
        assert!(matches!(parse_target("/b/"), Ok(Target::Bucket(b)) if b == "b"));
        assert!(matches!(parse_target("/"), Ok(Target::Service)));
        assert!(parse_target("/b/%FF").is_err());
    }

    #[test]
    fn bucket_names() {
        assert!(valid_bucket_name("lake-test_1.a"));
        assert!(!valid_bucket_name("ab"));
        assert!(!valid_bucket_name("Lake"));
        assert!(!valid_bucket_name("-lake"));
    }
}
