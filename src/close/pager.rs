//! Paging: the one helper that turns a table's source and a window into page requests, and each
//! answer's envelope into the next request.
//!
//! - Keyset sources page by key: each request asks for `key >= cursor`, where `cursor` is the last
//!   key read, so `_skip` never grows with history and Close's max-skip cap is never met, whatever
//!   the account's size. Records already read at `cursor` come back and are dropped as repeats by
//!   the caller; only inside a group of ties larger than half a page does `_skip` pass over part of
//!   the group, always leaving half a page of overlap. A record that changes or disappears during
//!   the run therefore cannot shift an unread record out of sight, as it does with deep offsets.
//! - Cursor sources (the event log) follow `cursor_next`.
//! - Offset sources (small tables read in full) follow `_skip` until `has_more` is false.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::tables::KeyFilter;
use crate::time::{self, Micros};

/// A window of the replication key: `[lower, upper)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub lower: Micros,
    pub upper: Micros,
}

impl Window {
    pub fn contains(&self, key: Micros) -> bool {
        self.lower <= key && key < self.upper
    }

    /// Splits in two halves, or `None` when the window is too short to split.
    pub fn halves(&self) -> Option<(Window, Window)> {
        let mid = self.lower + (self.upper - self.lower) / 2;
        (mid > self.lower && mid < self.upper)
            .then_some((Window { lower: self.lower, upper: mid }, Window { lower: mid, upper: self.upper }))
    }
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}, {})", time::format_rfc3339(self.lower), time::format_rfc3339(self.upper))
    }
}

/// One page to fetch.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRequest {
    pub path: &'static str,
    pub query: Vec<(String, String)>,
}

/// The envelope of a list answer, with its records left unparsed.
#[derive(Debug, Deserialize)]
pub struct Envelope<'a> {
    #[serde(borrow)]
    pub data: Vec<&'a RawValue>,
    #[serde(default)]
    pub has_more: Option<bool>,
    #[serde(default)]
    pub total_results: Option<u64>,
    #[serde(default)]
    pub cursor_next: Option<String>,
}

impl<'a> Envelope<'a> {
    pub fn parse(body: &'a [u8]) -> Result<Envelope<'a>, serde_json::Error> {
        serde_json::from_slice(body)
    }
}

/// What the pager needs to know of an answer.
#[derive(Debug, Default)]
pub struct PageOutcome {
    pub len: usize,
    pub has_more: bool,
    pub cursor_next: Option<String>,
    /// The replication key of every record of the page, in order.
    pub keys: Vec<Option<Micros>>,
}

#[derive(Debug, Clone)]
pub enum Pager {
    Keyset {
        path: &'static str,
        filter: KeyFilter,
        key: &'static str,
        limit: u32,
        params: Params,
        window: Window,
        /// The last key read: every request starts there.
        cursor: Micros,
        /// How far into the group of records at `cursor` the reads have reached.
        read_at_cursor: usize,
        done: bool,
    },
    Cursor {
        path: &'static str,
        key: &'static str,
        limit: u32,
        window: Window,
        cursor: Option<String>,
        done: bool,
    },
    Offset {
        path: &'static str,
        limit: u32,
        skip: usize,
        done: bool,
    },
}

type Params = &'static [(&'static str, &'static str)];

impl Pager {
    pub fn keyset(
        path: &'static str,
        filter: KeyFilter,
        key: &'static str,
        limit: u32,
        params: Params,
        window: Window,
    ) -> Pager {
        Pager::Keyset { path, filter, key, limit, params, window, cursor: window.lower, read_at_cursor: 0, done: false }
    }

    pub fn cursor(path: &'static str, key: &'static str, limit: u32, window: Window) -> Pager {
        Pager::Cursor { path, key, limit, window, cursor: None, done: false }
    }

    pub fn offset(path: &'static str, limit: u32) -> Pager {
        Pager::Offset { path, limit, skip: 0, done: false }
    }

    /// The next page to fetch, or `None` when the pager is exhausted.
    pub fn request(&self) -> Option<PageRequest> {
        let pair = |k: &str, v: String| (k.to_string(), v);
        match self {
            Pager::Keyset { done: true, .. } | Pager::Cursor { done: true, .. } | Pager::Offset { done: true, .. } => {
                None
            }
            Pager::Keyset { path, filter, key, limit, params, window, cursor, read_at_cursor, .. } => {
                let skip = keyset_skip(*read_at_cursor, *limit);
                let mut query: Vec<(String, String)> = params.iter().map(|(k, v)| pair(k, v.to_string())).collect();
                let (from, to) = (time::format_filter(*cursor), time::format_filter(window.upper));
                match filter {
                    KeyFilter::Params => {
                        query.push(pair(&format!("{key}__gte"), from));
                        query.push(pair(&format!("{key}__lt"), to));
                        query.push(pair("_order_by", key.to_string()));
                    }
                    KeyFilter::Query => {
                        query.push(pair("query", format!(r#"{key} >= "{from}" {key} < "{to}" sort:{key}"#)));
                    }
                }
                query.push(pair("_skip", skip.to_string()));
                query.push(pair("_limit", limit.to_string()));
                Some(PageRequest { path, query })
            }
            Pager::Cursor { path, key, limit, window, cursor, .. } => {
                // The event log documents only `__lte` for the upper end: records at `upper` are
                // dropped by the caller, which keeps every window half-open.
                let mut query = vec![
                    pair(&format!("{key}__gte"), time::format_filter(window.lower)),
                    pair(&format!("{key}__lte"), time::format_filter(window.upper)),
                    pair("_limit", limit.to_string()),
                ];
                if let Some(cursor) = cursor {
                    query.push(pair("_cursor", cursor.clone()));
                }
                Some(PageRequest { path, query })
            }
            Pager::Offset { path, limit, skip, .. } => Some(PageRequest {
                path,
                query: vec![pair("_skip", skip.to_string()), pair("_limit", limit.to_string())],
            }),
        }
    }

    /// Moves past a fetched page.
    pub fn advance(&mut self, page: &PageOutcome) {
        match self {
            Pager::Keyset { cursor, read_at_cursor, limit, done, .. } => {
                let last = page.keys.iter().rev().find_map(|k| *k);
                if page.len == 0 || !page.has_more {
                    *done = true;
                } else if let Some(last) = last.filter(|last| *last != *cursor) {
                    *cursor = last;
                    *read_at_cursor = page.keys.iter().filter(|k| **k == Some(last)).count();
                } else {
                    // The whole page sat at the cursor: a group of ties larger than a page.
                    *read_at_cursor = keyset_skip(*read_at_cursor, *limit) + page.len;
                }
            }
            Pager::Cursor { cursor, done, .. } => {
                *cursor = page.cursor_next.clone();
                *done = page.len == 0 || cursor.is_none();
            }
            Pager::Offset { skip, done, .. } => {
                *skip += page.len;
                *done = page.len == 0 || !page.has_more;
            }
        }
    }
}

/// The `_skip` of a keyset request: none until the ties at the cursor fill half a page, then past
/// all but half a page of them, so each page still moves forward by at least half a page.
fn keyset_skip(read_at_cursor: usize, limit: u32) -> usize {
    read_at_cursor.saturating_sub(limit as usize / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value<'a>(request: &'a PageRequest, name: &str) -> Option<&'a str> {
        request.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    const W: Window = Window { lower: 1_000_000, upper: 9_000_000 };

    #[test]
    fn keyset_restarts_at_the_last_key_read() {
        let mut pager = Pager::keyset("activity/", KeyFilter::Params, "date_created", 4, &[], W);
        let first = pager.request().unwrap();
        assert_eq!(value(&first, "date_created__gte"), Some("1970-01-01T00:00:01.000000+00:00"));
        assert_eq!(value(&first, "date_created__lt"), Some("1970-01-01T00:00:09.000000+00:00"));
        assert_eq!(value(&first, "_order_by"), Some("date_created"));
        assert_eq!(value(&first, "_skip"), Some("0"));
        // Two ties at the end of a page of four: read them again rather than skip past them.
        let keys = vec![Some(2), Some(3), Some(5), Some(5)];
        pager.advance(&PageOutcome { len: 4, has_more: true, keys, ..Default::default() });
        let second = pager.request().unwrap();
        assert_eq!(value(&second, "date_created__gte"), Some(time::format_filter(5).as_str()));
        assert_eq!(value(&second, "_skip"), Some("0"));
    }

    #[test]
    fn keyset_moves_through_ties_larger_than_a_page_with_overlap() {
        let mut pager = Pager::keyset("activity/", KeyFilter::Params, "date_created", 4, &[], W);
        pager.advance(&PageOutcome { len: 4, has_more: true, keys: vec![Some(5); 4], ..Default::default() });
        assert_eq!(value(&pager.request().unwrap(), "_skip"), Some("2"));
        pager.advance(&PageOutcome { len: 4, has_more: true, keys: vec![Some(5); 4], ..Default::default() });
        assert_eq!(value(&pager.request().unwrap(), "_skip"), Some("4"));
        pager.advance(&PageOutcome { len: 2, has_more: false, keys: vec![Some(5), Some(6)], ..Default::default() });
        assert!(pager.request().is_none());
    }

    #[test]
    fn lead_queries_use_the_query_language() {
        let pager = Pager::keyset("lead/", KeyFilter::Query, "date_updated", 200, &[], W);
        let request = pager.request().unwrap();
        let query = value(&request, "query").unwrap();
        assert!(query.starts_with(r#"date_updated >= "1970-01-01T00:00:01.000000+00:00" date_updated < ""#));
        assert!(query.ends_with("sort:date_updated"));
        assert_eq!(value(&request, "date_updated__gte"), None);
    }

    #[test]
    fn params_ride_along() {
        let pager = Pager::keyset("task/", KeyFilter::Params, "date_updated", 100, &[("_type", "all")], W);
        assert_eq!(value(&pager.request().unwrap(), "_type"), Some("all"));
    }

    #[test]
    fn cursor_follows_cursor_next() {
        let mut pager = Pager::cursor("event/", "date_updated", 50, W);
        assert_eq!(value(&pager.request().unwrap(), "_cursor"), None);
        pager.advance(&PageOutcome { len: 50, cursor_next: Some("abc".into()), ..Default::default() });
        assert_eq!(value(&pager.request().unwrap(), "_cursor"), Some("abc"));
        pager.advance(&PageOutcome { len: 3, cursor_next: None, ..Default::default() });
        assert!(pager.request().is_none());
    }

    #[test]
    fn offset_stops_when_nothing_more() {
        let mut pager = Pager::offset("user/", 100);
        pager.advance(&PageOutcome { len: 100, has_more: true, ..Default::default() });
        assert_eq!(value(&pager.request().unwrap(), "_skip"), Some("100"));
        pager.advance(&PageOutcome { len: 7, has_more: false, ..Default::default() });
        assert!(pager.request().is_none());
    }

    #[test]
    fn windows_split_in_halves() {
        let (a, b) = W.halves().unwrap();
        assert_eq!((a.lower, a.upper, b.lower, b.upper), (1_000_000, 5_000_000, 5_000_000, 9_000_000));
        assert!(Window { lower: 1, upper: 2 }.halves().is_none());
    }
}
