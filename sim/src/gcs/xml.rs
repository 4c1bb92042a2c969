//! The XML side of the fake: GCS's `<Error>` documents (and the [`GcsError`] every handler returns), text
//! escaping, and the timestamp and ETag formats that responses share.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use md5::{Digest, Md5};

/// The declaration GCS puts in front of every XML body.
pub(crate) const XML_DECLARATION: &str = "<?xml version='1.0' encoding='UTF-8'?>";

/// A failed request, rendered as GCS renders it: a status and `<Error><Code>..</Code><Message>..</Message>`.
#[derive(Debug)]
pub(crate) struct GcsError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Extra headers, e.g. `Content-Range: bytes */LEN` on a 416.
    headers: Vec<(header::HeaderName, String)>,
}

impl GcsError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> GcsError {
        GcsError { status, code, message: message.into(), headers: Vec::new() }
    }

    pub(crate) fn no_such_bucket(bucket: &str) -> GcsError {
        GcsError::new(StatusCode::NOT_FOUND, "NoSuchBucket", format!("The specified bucket does not exist: {bucket}"))
    }

    pub(crate) fn no_such_key(bucket: &str, name: &str) -> GcsError {
        GcsError::new(StatusCode::NOT_FOUND, "NoSuchKey", format!("The specified key does not exist: {bucket}/{name}"))
    }

    pub(crate) fn no_such_upload(upload_id: &str) -> GcsError {
        GcsError::new(
            StatusCode::NOT_FOUND,
            "NoSuchUpload",
            format!("The specified upload does not exist: {upload_id}"),
        )
    }

    pub(crate) fn precondition_failed() -> GcsError {
        GcsError::new(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold.",
        )
    }

    pub(crate) fn bucket_exists(bucket: &str) -> GcsError {
        GcsError::new(StatusCode::CONFLICT, "BucketAlreadyOwnedByYou", format!("You already own the bucket {bucket}."))
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> GcsError {
        GcsError::new(StatusCode::BAD_REQUEST, "InvalidArgument", message)
    }

    pub(crate) fn invalid_bucket_name(bucket: &str) -> GcsError {
        GcsError::new(StatusCode::BAD_REQUEST, "InvalidBucketName", format!("Invalid bucket name: '{bucket}'"))
    }

    pub(crate) fn malformed_xml(message: impl Into<String>) -> GcsError {
        GcsError::new(StatusCode::BAD_REQUEST, "MalformedXML", message)
    }

    pub(crate) fn invalid_part(message: impl Into<String>) -> GcsError {
        GcsError::new(StatusCode::BAD_REQUEST, "InvalidPart", message)
    }

    pub(crate) fn invalid_part_order() -> GcsError {
        GcsError::new(StatusCode::BAD_REQUEST, "InvalidPartOrder", "The parts must be listed in ascending order.")
    }

    pub(crate) fn entity_too_small(part_number: u32) -> GcsError {
        GcsError::new(
            StatusCode::BAD_REQUEST,
            "EntityTooSmall",
            format!("Part {part_number} is smaller than the 5 MiB minimum of every part but the last."),
        )
    }

    pub(crate) fn invalid_range(size: u64) -> GcsError {
        let mut e = GcsError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "InvalidRange",
            "The requested range cannot be satisfied.",
        );
        e.headers.push((header::CONTENT_RANGE, format!("bytes */{size}")));
        e
    }

    pub(crate) fn method_not_allowed(what: &str) -> GcsError {
        GcsError::new(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", format!("Not supported by this fake: {what}"))
    }
}

impl IntoResponse for GcsError {
    fn into_response(self) -> Response {
        let body = format!(
            "{XML_DECLARATION}<Error><Code>{}</Code><Message>{}</Message></Error>",
            self.code,
            escape(&self.message)
        );
        let mut response =
            (self.status, [(header::CONTENT_TYPE, "application/xml; charset=UTF-8")], body).into_response();
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::try_from(value) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

/// A `200 OK` XML document.
pub(crate) fn document(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/xml; charset=UTF-8")], format!("{XML_DECLARATION}{body}")).into_response()
}

/// Escapes the text of an XML element (`&`, `<`, `>`; quotes stay literal, as in GCS's `<ETag>"..."</ETag>`).
pub(crate) fn escape(text: &str) -> String {
    quick_xml::escape::partial_escape(text).into_owned()
}

/// `Last-Modified` and friends: `Tue, 15 Nov 1994 08:12:31 GMT`.
pub(crate) fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// `LastModified` in XML bodies: RFC 3339 with milliseconds, `2024-05-01T12:00:00.123Z`.
pub(crate) fn xml_date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The raw MD5 digest of `data`.
pub(crate) fn md5(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}

/// A quoted ETag from a digest, with a `-N` part-count suffix for multipart objects.
pub(crate) fn etag(digest: &[u8; 16], parts: Option<usize>) -> String {
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    match parts {
        Some(n) => format!("\"{hex}-{n}\""),
        None => format!("\"{hex}\""),
    }
}

/// Whether two ETags name the same content, ignoring quotes and a weak `W/` prefix.
pub(crate) fn etags_match(a: &str, b: &str) -> bool {
    fn bare(t: &str) -> &str {
        t.trim().trim_start_matches("W/").trim_matches('"')
    }
    bare(a) == bare(b)
}
