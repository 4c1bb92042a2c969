//! XML API multipart uploads, which GCS makes S3-compatible: initiate (`POST ?uploads`), upload a part
//! (`PUT ?partNumber=N&uploadId=U`), complete (`POST ?uploadId=U` with a `CompleteMultipartUpload` body)
//! and abort (`DELETE ?uploadId=U`). Completion checks what GCS checks: parts listed in ascending order,
//! each uploaded with the listed ETag, each but the last at least 5 MiB; and `x-goog-if-generation-match`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use super::objects::with_object_headers;
use super::routes::Req;
use super::state::{NewObject, Part, Shared, Store, Upload, generation_match, metadata_from};
use super::xml::{self, GcsError, escape, etags_match};

/// The smallest part but the last that completion accepts.
const MIN_PART_SIZE: usize = 5 * 1024 * 1024;
/// The highest part number.
const MAX_PART_NUMBER: u32 = 10_000;
const S3_NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// `POST /<bucket>/<object>?uploads`: starts an upload; its headers become the object's metadata.
pub(crate) fn initiate(shared: &Shared, bucket: &str, name: &str, req: &Req) -> Result<Response, GcsError> {
    let upload_id = {
        let mut store = shared.lock();
        store.bucket(bucket)?;
        let upload_id = store.new_upload_id();
        let upload = Upload { name: name.to_string(), metadata: metadata_from(&req.headers), parts: BTreeMap::new() };
        store.bucket_mut(bucket)?.uploads.insert(upload_id.clone(), upload);
        upload_id
    };
    Ok(xml::document(format!(
        "<InitiateMultipartUploadResult xmlns=\"{S3_NAMESPACE}\"><Bucket>{}</Bucket><Key>{}</Key>\
         <UploadId>{}</UploadId></InitiateMultipartUploadResult>",
        escape(bucket),
        escape(name),
        escape(&upload_id)
    )))
}

/// `PUT /<bucket>/<object>?partNumber=N&uploadId=U`: stores (or replaces) part N; answers with its ETag.
pub(crate) fn put_part(shared: &Shared, bucket: &str, name: &str, req: &Req) -> Result<Response, GcsError> {
    let upload_id = req.query.get("uploadId").unwrap_or_default();
    let number = req
        .query
        .get("partNumber")
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| (1..=MAX_PART_NUMBER).contains(n))
        .ok_or_else(|| GcsError::invalid_argument("partNumber must be an integer from 1 to 10000"))?;
    let part = Part { data: req.body.clone(), md5: xml::md5(&req.body) };
    let etag = xml::etag(&part.md5, None);
    upload_mut(&mut shared.lock(), bucket, name, upload_id)?.parts.insert(number, part);
    let mut response = StatusCode::OK.into_response();
    if let Ok(value) = HeaderValue::try_from(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    Ok(response)
}

/// The body of a completion: `<CompleteMultipartUpload><Part><PartNumber>..<ETag>..</Part>...`.
#[derive(Deserialize)]
struct CompleteRequest {
    #[serde(rename = "Part", default)]
    parts: Vec<ListedPart>,
}

#[derive(Deserialize)]
struct ListedPart {
    #[serde(rename = "PartNumber")]
    number: u32,
    #[serde(rename = "ETag")]
    etag: String,
}

/// `POST /<bucket>/<object>?uploadId=U`: assembles the listed parts into the object's next generation.
pub(crate) fn complete(shared: &Shared, bucket: &str, name: &str, req: &Req) -> Result<Response, GcsError> {
    let upload_id = req.query.get("uploadId").unwrap_or_default();
    let precondition = generation_match(&req.headers)?;
    let body = std::str::from_utf8(&req.body).map_err(|_| GcsError::malformed_xml("The body is not UTF-8"))?;
    let listed: CompleteRequest =
        quick_xml::de::from_str(body).map_err(|e| GcsError::malformed_xml(format!("Unreadable part list: {e}")))?;
    if listed.parts.is_empty() {
        return Err(GcsError::malformed_xml("The part list is empty"));
    }
    if listed.parts.windows(2).any(|w| w[0].number >= w[1].number) {
        return Err(GcsError::invalid_part_order());
    }

    // Take the parts under the lock, assemble them outside it, and commit only if the upload is still open.
    let chunks = {
        let mut store = shared.lock();
        let upload = upload_mut(&mut store, bucket, name, upload_id)?;
        let last = listed.parts.len() - 1;
        let mut chunks = Vec::with_capacity(listed.parts.len());
        for (i, wanted) in listed.parts.iter().enumerate() {
            let part = upload.parts.get(&wanted.number).filter(|p| etags_match(&xml::etag(&p.md5, None), &wanted.etag));
            let part = part.ok_or_else(|| {
                GcsError::invalid_part(format!("Part {} was not uploaded with ETag {}", wanted.number, wanted.etag))
            })?;
            if i < last && part.data.len() < MIN_PART_SIZE {
                return Err(GcsError::entity_too_small(wanted.number));
            }
            chunks.push((part.data.clone(), part.md5));
        }
        chunks
    };
    let mut data = Vec::with_capacity(chunks.iter().map(|(c, _)| c.len()).sum());
    let mut digests = Vec::with_capacity(16 * chunks.len());
    for (chunk, md5) in &chunks {
        data.extend_from_slice(chunk);
        digests.extend_from_slice(md5);
    }
    let etag = xml::etag(&xml::md5(&digests), Some(chunks.len()));
    let object = {
        let mut store = shared.lock();
        let metadata = upload_mut(&mut store, bucket, name, upload_id)?.metadata.clone();
        let new = NewObject { data: Bytes::from(data), etag, md5: None, metadata };
        let object = store.commit(bucket, name, precondition, new)?;
        store.bucket_mut(bucket)?.uploads.remove(upload_id);
        object
    };

    let location = match req.headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        Some(host) => format!(
            "<Location>http://{}/{}/{}</Location>",
            escape(host),
            utf8_percent_encode(bucket, NON_ALPHANUMERIC),
            utf8_percent_encode(name, NON_ALPHANUMERIC)
        ),
        None => String::new(),
    };
    let body = format!(
        "<CompleteMultipartUploadResult xmlns=\"{S3_NAMESPACE}\">{location}<Bucket>{}</Bucket><Key>{}</Key>\
         <ETag>{}</ETag></CompleteMultipartUploadResult>",
        escape(bucket),
        escape(name),
        escape(&object.etag)
    );
    Ok(with_object_headers(xml::document(body), &object))
}

/// `DELETE /<bucket>/<object>?uploadId=U`: discards the upload and its parts; 204.
pub(crate) fn abort(shared: &Shared, bucket: &str, name: &str, req: &Req) -> Result<Response, GcsError> {
    let upload_id = req.query.get("uploadId").unwrap_or_default();
    let mut store = shared.lock();
    upload_mut(&mut store, bucket, name, upload_id)?;
    store.bucket_mut(bucket)?.uploads.remove(upload_id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The open upload `upload_id` of `bucket/name`: 404 `NoSuchBucket` or `NoSuchUpload` otherwise.
fn upload_mut<'a>(store: &'a mut Store, bucket: &str, name: &str, upload_id: &str) -> Result<&'a mut Upload, GcsError> {
    store
        .bucket_mut(bucket)?
        .uploads
        .get_mut(upload_id)
        .filter(|upload| upload.name == name)
        .ok_or_else(|| GcsError::no_such_upload(upload_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_part_list_object_store_sends() {
        let body = "<CompleteMultipartUpload><Part><ETag>\"ab\"</ETag><PartNumber>1</PartNumber></Part>\
                    <Part><ETag>\"cd\"</ETag><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>";
        let listed: Result<CompleteRequest, _> = quick_xml::de::from_str(body);
        let parts: Vec<(u32, String)> =
            listed.map(|l| l.parts.into_iter().map(|p| (p.number, p.etag)).collect()).unwrap_or_default();
        assert_eq!(parts, [(1, "\"ab\"".to_string()), (2, "\"cd\"".to_string())]);
    }
}
