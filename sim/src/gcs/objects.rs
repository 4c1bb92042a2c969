//! Object writes: upload (`PUT`), server-side copy (`PUT` with `x-goog-copy-source`) and delete, plus the
//! headers every object response carries (`ETag`, `Last-Modified`, `x-goog-generation`, ...).

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::routes::{Req, decode};
use super::state::{NewObject, Object, Shared, generation_match, metadata_from};
use super::xml::{self, GcsError, escape, http_date, xml_date};

/// `PUT /<bucket>/<object>`: stores the body as the object's next generation.
pub(crate) fn put(shared: &Shared, bucket: &str, name: &str, req: &Req) -> Result<Response, GcsError> {
    let precondition = generation_match(&req.headers)?;
    let digest = xml::md5(&req.body);
    let new = NewObject {
        data: req.body.clone(),
        etag: xml::etag(&digest, None),
        md5: Some(digest),
        metadata: metadata_from(&req.headers),
    };
    let object = shared.lock().commit(bucket, name, precondition, new)?;
    Ok(with_object_headers(StatusCode::OK.into_response(), &object))
}

/// `PUT /<bucket>/<object>` with `x-goog-copy-source: [/]<bucket>/<object>`: copies the source's data and
/// (unless `x-goog-metadata-directive: REPLACE`) its metadata; answers with a `CopyObjectResult`.
pub(crate) fn copy(shared: &Shared, bucket: &str, name: &str, source: &str, req: &Req) -> Result<Response, GcsError> {
    let precondition = generation_match(&req.headers)?;
    let (source_bucket, source_name) = parse_copy_source(source)?;
    let replace_metadata =
        req.headers.get("x-goog-metadata-directive").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"REPLACE"));
    let object = {
        let mut store = shared.lock();
        store.bucket(bucket)?;
        let source = store
            .bucket(&source_bucket)?
            .objects
            .get(&source_name)
            .ok_or_else(|| GcsError::no_such_key(&source_bucket, &source_name))?;
        let new = NewObject {
            data: source.data.clone(),
            etag: source.etag.clone(),
            md5: source.md5,
            metadata: if replace_metadata { metadata_from(&req.headers) } else { source.metadata.clone() },
        };
        store.commit(bucket, name, precondition, new)?
    };
    let body = format!(
        "<CopyObjectResult><LastModified>{}</LastModified><ETag>{}</ETag></CopyObjectResult>",
        xml_date(object.updated),
        escape(&object.etag)
    );
    Ok(with_object_headers(xml::document(body), &object))
}

/// `DELETE /<bucket>/<object>`: 204, or 404 `NoSuchKey`.
pub(crate) fn delete(shared: &Shared, bucket: &str, name: &str) -> Result<Response, GcsError> {
    match shared.lock().bucket_mut(bucket)?.objects.remove(name) {
        Some(_) => Ok(StatusCode::NO_CONTENT.into_response()),
        None => Err(GcsError::no_such_key(bucket, name)),
    }
}

/// Splits a copy source, `/bucket/name` or (as object_store 0.14 sends it) `bucket/name`, each part
/// percent-encoded.
fn parse_copy_source(source: &str) -> Result<(String, String), GcsError> {
    let source = source.strip_prefix('/').unwrap_or(source);
    match source.split_once('/') {
        Some((bucket, name)) if !bucket.is_empty() && !name.is_empty() => Ok((decode(bucket)?, decode(name)?)),
        _ => Err(GcsError::invalid_argument(format!("Invalid copy source: {source}"))),
    }
}

/// Adds what GCS reports about an object to a response: `ETag`, `Last-Modified`, `x-goog-generation`,
/// `x-goog-metageneration`, `x-goog-stored-content-length` and, for objects with an MD5, `x-goog-hash`.
pub(crate) fn with_object_headers(mut response: Response, object: &Object) -> Response {
    let mut set = |name: HeaderName, value: String| {
        if let Ok(value) = HeaderValue::try_from(value) {
            response.headers_mut().insert(name, value);
        }
    };
    set(header::ETAG, object.etag.clone());
    set(header::LAST_MODIFIED, http_date(object.updated));
    set(HeaderName::from_static("x-goog-generation"), object.generation.to_string());
    set(HeaderName::from_static("x-goog-metageneration"), "1".to_string());
    set(HeaderName::from_static("x-goog-stored-content-length"), object.data.len().to_string());
    if let Some(md5) = &object.md5 {
        set(HeaderName::from_static("x-goog-hash"), format!("md5={}", STANDARD.encode(md5)));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_sources() {
        let parsed = parse_copy_source("lake/a%2Fb%3D1").ok();
        assert_eq!(parsed, Some(("lake".to_string(), "a/b=1".to_string())));
        let parsed = parse_copy_source("/lake/a/b").ok();
        assert_eq!(parsed, Some(("lake".to_string(), "a/b".to_string())));
        assert!(parse_copy_source("lake").is_err());
        assert!(parse_copy_source("/lake/").is_err());
    }
}
