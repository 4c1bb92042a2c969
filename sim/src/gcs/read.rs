//! Object reads: `GET` and `HEAD /<bucket>/<object>` with `?generation=N`, the conditional headers
//! object_store sends (`If-Match`, `If-None-Match`, `If-Modified-Since`, `If-Unmodified-Since`) and single
//! byte ranges (`bytes=a-b`, `bytes=a-`, `bytes=-n`). axum drops the body of a `HEAD` answer after setting
//! its `Content-Length`, so both methods build the same response.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::DateTime;

use super::objects::with_object_headers;
use super::routes::Req;
use super::state::{Object, Shared};
use super::xml::{GcsError, etags_match};

/// `GET`/`HEAD /<bucket>/<object>`.
pub(crate) fn get(shared: &Shared, bucket: &str, name: &str, req: &Req) -> Result<Response, GcsError> {
    let object =
        shared.lock().bucket(bucket)?.objects.get(name).cloned().ok_or_else(|| GcsError::no_such_key(bucket, name))?;
    if let Some(generation) = req.query.get("generation") {
        let generation: u64 =
            generation.parse().map_err(|_| GcsError::invalid_argument("generation must be an integer"))?;
        if generation != object.generation {
            return Err(GcsError::no_such_key(bucket, name));
        }
    }
    match preconditions(&req.headers, &object) {
        Precondition::Proceed => {}
        Precondition::NotModified => {
            return Ok(with_object_headers(StatusCode::NOT_MODIFIED.into_response(), &object));
        }
        Precondition::Failed => return Err(GcsError::precondition_failed()),
    }
    let size = object.data.len() as u64;
    let mut response = match requested_range(&req.headers, size)? {
        None => (StatusCode::OK, object.data.clone()).into_response(),
        Some((first, last)) => {
            // Both ends are below `size`, which is a `usize`.
            let part = object.data.slice(first as usize..=last as usize);
            let mut response = (StatusCode::PARTIAL_CONTENT, part).into_response();
            if let Ok(value) = HeaderValue::try_from(format!("bytes {first}-{last}/{size}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            response
        }
    };
    let headers = response.headers_mut();
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    for (name, value) in &object.metadata {
        headers.insert(name.clone(), value.clone());
    }
    Ok(with_object_headers(response, &object))
}

#[derive(Debug, PartialEq)]
enum Precondition {
    Proceed,
    NotModified,
    Failed,
}

/// RFC 9110's evaluation order: `If-Match`, else `If-Unmodified-Since` (412); then `If-None-Match`, else
/// `If-Modified-Since` (304). Dates compare at the one-second resolution of `Last-Modified`; unparsable
/// dates are ignored.
fn preconditions(headers: &HeaderMap, object: &Object) -> Precondition {
    let text = |name: HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let date = |name: HeaderName| text(name).and_then(|v| DateTime::parse_from_rfc2822(v).ok()).map(|d| d.timestamp());
    let modified = object.updated.timestamp();
    let any_matches = |list: &str| list.split(',').any(|t| t.trim() == "*" || etags_match(t, &object.etag));

    if let Some(list) = text(header::IF_MATCH) {
        if !any_matches(list) {
            return Precondition::Failed;
        }
    } else if date(header::IF_UNMODIFIED_SINCE).is_some_and(|since| modified > since) {
        return Precondition::Failed;
    }
    if let Some(list) = text(header::IF_NONE_MATCH) {
        if any_matches(list) {
            return Precondition::NotModified;
        }
    } else if date(header::IF_MODIFIED_SINCE).is_some_and(|since| modified <= since) {
        return Precondition::NotModified;
    }
    Precondition::Proceed
}

/// The inclusive byte range a `Range` header asks of an object of `size` bytes: `None` to serve it whole
/// (no header, or one that is malformed or asks for several ranges, as HTTP says to ignore), 416 when the
/// range starts past the end.
fn requested_range(headers: &HeaderMap, size: u64) -> Result<Option<(u64, u64)>, GcsError> {
    let Some(spec) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Some((first, last)) = spec.trim().strip_prefix("bytes=").and_then(|s| s.split_once('-')) else {
        return Ok(None);
    };
    if last.contains(',') {
        return Ok(None);
    }
    let (first, last) = (first.trim(), last.trim());
    let number = |s: &str| s.parse::<u64>().ok();
    match (number(first), number(last)) {
        // bytes=-n: the last n bytes.
        (None, Some(n)) if first.is_empty() => {
            if n == 0 || size == 0 {
                return Err(GcsError::invalid_range(size));
            }
            Ok(Some((size.saturating_sub(n), size - 1)))
        }
        // bytes=a- and bytes=a-b.
        (Some(a), b) if b.is_some() || last.is_empty() => {
            if b.is_some_and(|b| b < a) {
                return Ok(None);
            }
            if a >= size {
                return Err(GcsError::invalid_range(size));
            }
            Ok(Some((a, b.map_or(size - 1, |b| b.min(size - 1)))))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn range(spec: &str, size: u64) -> Result<Option<(u64, u64)>, u16> {
        let mut headers = HeaderMap::new();
        headers.insert(header::RANGE, HeaderValue::from_str(spec).map_err(|_| 0u16)?);
        requested_range(&headers, size).map_err(|e| e.into_response().status().as_u16())
    }

    #[test]
    fn ranges() {
        assert_eq!(range("bytes=2-5", 10), Ok(Some((2, 5))));
        assert_eq!(range("bytes=2-50", 10), Ok(Some((2, 9))));
        assert_eq!(range("bytes=7-", 10), Ok(Some((7, 9))));
        assert_eq!(range("bytes=-3", 10), Ok(Some((7, 9))));
        assert_eq!(range("bytes=-30", 10), Ok(Some((0, 9))));
        assert_eq!(range("bytes=10-", 10), Err(416));
        assert_eq!(range("bytes=-0", 10), Err(416));
        assert_eq!(range("bytes=0-", 0), Err(416));
        assert_eq!(range("bytes=5-2", 10), Ok(None));
        assert_eq!(range("bytes=0-1,4-5", 10), Ok(None));
        assert_eq!(range("items=0-1", 10), Ok(None));
        assert_eq!(range("bytes=x-1", 10), Ok(None));
    }

    fn object(etag: &str, updated: &str) -> Object {
        Object {
            data: Default::default(),
            generation: 1,
            etag: etag.to_string(),
            md5: None,
            updated: DateTime::parse_from_rfc3339(updated).map(|d| d.with_timezone(&Utc)).unwrap_or_default(),
            metadata: Vec::new(),
        }
    }

    fn check(pairs: &[(HeaderName, &'static str)]) -> Precondition {
        let headers = pairs.iter().map(|(n, v)| (n.clone(), HeaderValue::from_static(v))).collect();
        preconditions(&headers, &object("\"abc\"", "2024-05-01T12:00:00.500Z"))
    }

    #[test]
    fn conditional_headers() {
        use Precondition::*;
        assert_eq!(check(&[]), Proceed);
        assert_eq!(check(&[(header::IF_MATCH, "\"abc\"")]), Proceed);
        assert_eq!(check(&[(header::IF_MATCH, "\"x\", \"abc\"")]), Proceed);
        assert_eq!(check(&[(header::IF_MATCH, "\"x\"")]), Failed);
        assert_eq!(check(&[(header::IF_NONE_MATCH, "\"abc\"")]), NotModified);
        assert_eq!(check(&[(header::IF_NONE_MATCH, "*")]), NotModified);
        assert_eq!(check(&[(header::IF_NONE_MATCH, "\"x\"")]), Proceed);
        assert_eq!(check(&[(header::IF_MODIFIED_SINCE, "Wed, 01 May 2024 12:00:00 GMT")]), NotModified);
        assert_eq!(check(&[(header::IF_MODIFIED_SINCE, "Wed, 01 May 2024 11:59:59 GMT")]), Proceed);
        assert_eq!(check(&[(header::IF_UNMODIFIED_SINCE, "Wed, 01 May 2024 11:59:59 GMT")]), Failed);
        assert_eq!(check(&[(header::IF_UNMODIFIED_SINCE, "Wed, 01 May 2024 12:00:00 GMT")]), Proceed);
        assert_eq!(check(&[(header::IF_MODIFIED_SINCE, "not a date")]), Proceed);
    }
}
