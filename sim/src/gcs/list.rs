//! Listing: `GET /<bucket>?list-type=2&prefix=..&delimiter=..&max-keys=..&continuation-token=..&start-after=..`
//! answered with the S3-style `ListBucketResult` GCS's XML API returns (and object_store parses): `Contents`
//! (Key, Generation, LastModified, ETag, Size), `CommonPrefixes`, `KeyCount`, `IsTruncated` and, on a full
//! page, a `NextContinuationToken`. Pages hold at most `max-keys` entries (default and cap 1000), a common
//! prefix counting as one entry.

use std::collections::BTreeMap;
use std::ops::Bound;

use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};

use super::routes::Query;
use super::state::{Object, Shared};
use super::xml::{self, GcsError, escape, xml_date};

/// The default and largest page size.
const MAX_KEYS: usize = 1000;

/// `GET /<bucket>?list-type=2...`.
pub(crate) fn list(shared: &Shared, bucket: &str, query: &Query) -> Result<Response, GcsError> {
    if query.get("list-type") != Some("2") {
        return Err(GcsError::invalid_argument("This fake only lists objects with list-type=2"));
    }
    let max_keys = match query.get("max-keys") {
        None => MAX_KEYS,
        Some(n) => n.parse::<usize>().map_err(|_| GcsError::invalid_argument("max-keys must be an integer"))?,
    };
    let resume = match (query.get("continuation-token"), query.get("start-after")) {
        (Some(token), _) => Some(Resume::from_token(token)?),
        (None, Some(after)) => Some(Resume::After(after.to_string())),
        (None, None) => None,
    };
    let prefix = query.get("prefix").unwrap_or("");
    let delimiter = query.get("delimiter").filter(|d| !d.is_empty());
    let page = {
        let store = shared.lock();
        page(&store.bucket(bucket)?.objects, prefix, delimiter, max_keys.min(MAX_KEYS), resume)
    };

    let mut body = format!(
        "<ListBucketResult xmlns=\"http://doc.s3.amazonaws.com/2006-03-01\"><Name>{}</Name><Prefix>{}</Prefix>",
        escape(bucket),
        escape(prefix)
    );
    for (element, value) in [("Delimiter", delimiter), ("StartAfter", query.get("start-after"))] {
        if let Some(value) = value {
            body.push_str(&format!("<{element}>{}</{element}>", escape(value)));
        }
    }
    if let Some(token) = query.get("continuation-token") {
        body.push_str(&format!("<ContinuationToken>{}</ContinuationToken>", escape(token)));
    }
    let count = page.objects.len() + page.prefixes.len();
    body.push_str(&format!(
        "<MaxKeys>{}</MaxKeys><KeyCount>{count}</KeyCount><IsTruncated>{}</IsTruncated>",
        max_keys.min(MAX_KEYS),
        page.next.is_some()
    ));
    if let Some(next) = &page.next {
        body.push_str(&format!("<NextContinuationToken>{}</NextContinuationToken>", next.token()));
    }
    for o in &page.objects {
        body.push_str(&format!(
            "<Contents><Key>{}</Key><Generation>{}</Generation><MetaGeneration>1</MetaGeneration>\
             <LastModified>{}</LastModified><ETag>{}</ETag><Size>{}</Size></Contents>",
            escape(&o.key),
            o.generation,
            xml_date(o.updated),
            escape(&o.etag),
            o.size
        ));
    }
    for p in &page.prefixes {
        body.push_str(&format!("<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>", escape(p)));
    }
    body.push_str("</ListBucketResult>");
    Ok(xml::document(body))
}

/// Where a page starts: after a key (`start-after`, or a page that ended on an object), or past every key
/// under a common prefix (a page that ended on one).
#[derive(Debug, PartialEq)]
enum Resume {
    After(String),
    PastPrefix(String),
}

impl Resume {
    /// The opaque `NextContinuationToken`: base64url of `k:<key>` or `p:<prefix>`.
    fn token(&self) -> String {
        match self {
            Resume::After(key) => URL_SAFE_NO_PAD.encode(format!("k:{key}")),
            Resume::PastPrefix(prefix) => URL_SAFE_NO_PAD.encode(format!("p:{prefix}")),
        }
    }

    fn from_token(token: &str) -> Result<Resume, GcsError> {
        let decoded = URL_SAFE_NO_PAD.decode(token).ok().and_then(|b| String::from_utf8(b).ok());
        match decoded.as_deref().and_then(|d| d.split_once(':')) {
            Some(("k", key)) => Ok(Resume::After(key.to_string())),
            Some(("p", prefix)) => Ok(Resume::PastPrefix(prefix.to_string())),
            _ => Err(GcsError::invalid_argument("Invalid continuation-token")),
        }
    }
}

/// One `Contents` entry, copied out from under the lock.
struct Listed {
    key: String,
    generation: u64,
    etag: String,
    size: usize,
    updated: DateTime<Utc>,
}

struct Page {
    objects: Vec<Listed>,
    prefixes: Vec<String>,
    /// Set when more entries follow.
    next: Option<Resume>,
}

fn page(
    objects: &BTreeMap<String, Object>,
    prefix: &str,
    delimiter: Option<&str>,
    max_keys: usize,
    resume: Option<Resume>,
) -> Page {
    let (start, mut skip_under) = match &resume {
        Some(Resume::After(key) | Resume::PastPrefix(key)) if key.as_str() >= prefix => {
            (Bound::Excluded(key.as_str()), matches!(resume, Some(Resume::PastPrefix(_))).then(|| key.clone()))
        }
        _ => (Bound::Included(prefix), None),
    };
    let mut page = Page { objects: Vec::new(), prefixes: Vec::new(), next: None };
    let mut last: Option<Resume> = None;
    for (key, object) in objects.range::<str, _>((start, Bound::Unbounded)) {
        // Keys under `prefix` are contiguous from `prefix` on.
        if !key.starts_with(prefix) {
            break;
        }
        if skip_under.as_ref().is_some_and(|p| key.starts_with(p.as_str())) {
            continue;
        }
        if page.objects.len() + page.prefixes.len() == max_keys {
            // A zero-size page reports nothing more, so that a client paging with it cannot loop forever.
            page.next = last.take();
            break;
        }
        let rest = &key[prefix.len()..];
        match delimiter.and_then(|d| rest.find(d).map(|i| &key[..prefix.len() + i + d.len()])) {
            Some(common) => {
                page.prefixes.push(common.to_string());
                skip_under = Some(common.to_string());
                last = Some(Resume::PastPrefix(common.to_string()));
            }
            None => {
                page.objects.push(Listed {
                    key: key.clone(),
                    generation: object.generation,
                    etag: object.etag.clone(),
                    size: object.data.len(),
                    updated: object.updated,
                });
                last = Some(Resume::After(key.clone()));
            }
        }
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(keys: &[&str]) -> BTreeMap<String, Object> {
        let object = Object {
            data: Default::default(),
            generation: 1,
            etag: "\"e\"".to_string(),
            md5: None,
            updated: Utc::now(),
            metadata: Vec::new(),
        };
        keys.iter().map(|k| (k.to_string(), object.clone())).collect()
    }

    /// Pages through everything, returning each page's entries (prefixes marked with a trailing `*`).
    fn pages(keys: &[&str], prefix: &str, delimiter: Option<&str>, max_keys: usize) -> Vec<Vec<String>> {
        let objects = objects(keys);
        let mut resume = None;
        let mut out = Vec::new();
        loop {
            let page = page(&objects, prefix, delimiter, max_keys, resume);
            let mut entries: Vec<String> = page.objects.iter().map(|o| o.key.clone()).collect();
            entries.extend(page.prefixes.iter().map(|p| format!("{p}*")));
            out.push(entries);
            match page.next {
                Some(next) => resume = Resume::from_token(&next.token()).ok(),
                None => return out,
            }
        }
    }

    #[test]
    fn paging_with_a_delimiter_counts_each_prefix_once() {
        let keys = ["a/1", "a/2", "a/3", "b", "c/1", "c/2", "d"];
        assert_eq!(pages(&keys, "", Some("/"), 2), vec![vec!["b", "a/*"], vec!["d", "c/*"]]);
        assert_eq!(pages(&keys, "a/", None, 2), vec![vec!["a/1", "a/2"], vec!["a/3"]]);
        assert_eq!(pages(&keys, "", None, 10).concat().len(), 7);
        assert_eq!(pages(&keys, "", Some("/"), 0), vec![Vec::<String>::new()]);
    }

    #[test]
    fn start_after_below_the_prefix_starts_at_the_prefix() {
        let objects = objects(&["a", "b/1", "b/2", "c"]);
        let page = page(&objects, "b/", None, 10, Some(Resume::After("a".into())));
        assert_eq!(page.objects.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(), ["b/1", "b/2"]);
    }

    #[test]
    fn bad_tokens_are_rejected() {
        assert!(Resume::from_token("!!").is_err());
        assert!(Resume::from_token(&URL_SAFE_NO_PAD.encode("x:y")).is_err());
        assert_eq!(Resume::from_token(&Resume::After("k:1".into()).token()).ok(), Some(Resume::After("k:1".into())));
    }
}
