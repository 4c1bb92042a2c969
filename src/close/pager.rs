//! Paging: the one helper that turns a table's source and a window into page requests, and each
//! answer's envelope into the next request.
//!
//! - Keyset sources page by their order field (the key, or tasks' `date_created`): each request
//!   asks for `order >= cursor`, where `cursor` is the granule (millisecond, or the lead query's
//!   minute) of the last record read, so `_skip` never grows with history and Close's max-skip cap
//!   is never met, whatever the account's size. Records already read in that granule come back and
//!   are dropped as repeats by the caller; only inside a granule holding more than half a page does
//!   `_skip` pass over part of it, always leaving half a page of overlap. A record that changes or
//!   disappears during the run therefore cannot shift an unread record out of sight, as it does
//!   with deep offsets. After its first page a large window splits by its key span, and a window
//!   reading through ties larger than a page hands the rest after them to another reader
//!   ([`Pager::split`]).
//! - Cursor sources (the event log) follow `cursor_next`, newest first, until a page reaches below
//!   the window. After its first page a large window of more than two days splits the rest below it
//!   on whole seconds.
//! - Search sources (contacts, custom objects) send a new `POST /data/search/` query from the last
//!   millisecond read for each page, following the answer's `cursor` only through a millisecond that
//!   holds more than a page ([`Search`]).
//! - Offset sources (small tables read in full) follow `_skip` until `has_more` is false, or take
//!   the one answer of a listing Close does not page.
//!
//! Every bound sent falls on the source's granule, so a record at a bound is in exactly one window.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::tables::{KeyFilter, Source, TableSpec};
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
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}, {})", time::format_rfc3339(self.lower), time::format_rfc3339(self.upper))
    }
}

/// One page to fetch: a GET with `query`, or a POST of the JSON `body`.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRequest {
    pub path: &'static str,
    pub query: Vec<(String, String)>,
    pub body: Option<String>,
}

/// The envelope of a list answer, with its records left unparsed.
#[derive(Debug, Deserialize)]
pub struct Envelope<'a> {
    #[serde(borrow)]
    pub data: Vec<&'a RawValue>,
    #[serde(default)]
    pub has_more: Option<bool>,
    /// The event log's `cursor_next`, or search's `cursor`.
    #[serde(default, alias = "cursor")]
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
    /// The order key of every record of the page, in order (the replication key, or tasks'
    /// `date_created`).
    pub keys: Vec<Option<Micros>>,
}

/// How many parts one split may cut the rest of a window into, and how many levels of windows may
/// split: a table's first window, its parts and their parts (at most 1 + 7 + 56 + 448 windows, read
/// eight at a time).
const SPLIT_PARTS: u64 = 8;
const SPLIT_DEPTH: u8 = 3;
/// The pages each part of a table's first window should hold: few, so that even a table of a few
/// dozen pages is read by enough readers to keep a rate limit busy behind Close's latency (20
/// requests a second at 300 ms take six in flight). Each part costs at most one partial page.
const FIRST_PAGES_PER_PART: u64 = 3;
/// The pages each part of a deeper split should hold: parts split again only when they are large.
const PAGES_PER_WINDOW: u64 = 20;

/// The shortest event-log window that splits.
const CURSOR_SPLIT_SPAN: Micros = 2 * 86_400 * time::MICROS_PER_SECOND;

/// How many parts the rest of a window estimated to hold `records` should be cut into (0 or 1:
/// none). `splits_left` says whether this is a table's first window.
fn parts_for(records: f64, limit: u32, splits_left: u8) -> u64 {
    let per_part = if splits_left == SPLIT_DEPTH { FIRST_PAGES_PER_PART } else { PAGES_PER_WINDOW };
    ((records / (per_part * u64::from(limit)) as f64) as u64).min(SPLIT_PARTS)
}

/// `parts` bounds that cut `rest` evenly, on `granule`, each strictly inside it.
fn cut_points(rest: Window, parts: u64, granule: Micros) -> Vec<Micros> {
    let step = (rest.upper - rest.lower) / parts as i64;
    let mut bounds: Vec<Micros> = (1..parts as i64)
        .map(|i| time::floor_to(rest.lower + i * step, granule))
        .filter(|b| *b > rest.lower && *b < rest.upper)
        .collect();
    bounds.dedup();
    bounds
}

#[derive(Debug, Clone)]
pub enum Pager {
    Keyset(Keyset),
    Cursor {
        path: &'static str,
        key: &'static str,
        limit: u32,
        window: Window,
        cursor: Option<String>,
        /// How many more levels of splitting this window's parts may do.
        splits_left: u8,
        /// Whether this window already considered splitting (once, after its first page).
        split_considered: bool,
        done: bool,
    },
    Search(Search),
    /// `_skip` pages of `limit`, or one answer holding every record where `limit` is `None`.
    Offset {
        path: &'static str,
        params: Params,
        limit: Option<u32>,
        skip: usize,
        done: bool,
    },
}

/// Keyset paging over a window: see the module docs.
#[derive(Debug, Clone)]
pub struct Keyset {
    path: &'static str,
    filter: KeyFilter,
    key: &'static str,
    /// The field pages are sorted and advanced by (the key itself, or tasks' `date_created`).
    order: &'static str,
    granule: Micros,
    limit: u32,
    params: Params,
    /// The filter on the key.
    window: Window,
    /// What is left to read of the order field; `upper` is [`OPEN`] when unbounded.
    span: Window,
    /// Where the next request starts: a multiple of `granule`.
    cursor: Micros,
    /// The `_skip` of the next request: how many records of the cursor's granule to pass over.
    skip: usize,
    pages: u32,
    /// How many more levels of splitting this window's parts may do.
    splits_left: u8,
    /// Whether this window already considered splitting (once, after its first page).
    split_considered: bool,
    done: bool,
}

/// Search pages over a window of `date_updated`: each page is a new query from the millisecond of
/// the last record read (those already read there come back and are dropped as repeats), so no
/// query nears Close's 10,000-result cap and no cursor is kept long enough to expire. Only when a
/// whole page sits in one millisecond does the next page follow the answer's `cursor`.
#[derive(Debug, Clone)]
pub struct Search {
    object_type: &'static str,
    fields: std::sync::Arc<Vec<String>>,
    limit: u32,
    window: Window,
    from: Micros,
    cursor: Option<String>,
    done: bool,
}

/// The upper end of an order span with no bound (tasks: a `date_created` past any window).
pub const OPEN: Micros = Micros::MAX;

type Params = &'static [(&'static str, &'static str)];

impl Pager {
    /// Keyset pages of `spec` (a [`Source::Keyset`] table) over `window` of its key.
    pub fn keyset(spec: &'static TableSpec, window: Window) -> Pager {
        let Source::Keyset { path, filter, limit, params, granule, .. } = &spec.source else {
            unreachable!("Pager::keyset is built for keyset sources");
        };
        let order = spec.order_key();
        // The order span of a window of the key is the window itself; tasks' `date_created` is
        // bounded by nothing the window says, so its span starts at the epoch and stays open.
        let span = if order == spec.key { window } else { Window { lower: 0, upper: OPEN } };
        let cursor = time::floor_to(span.lower, *granule);
        Pager::Keyset(Keyset {
            path,
            filter: *filter,
            key: spec.key,
            order,
            granule: *granule,
            limit: *limit,
            params,
            window,
            span,
            cursor,
            skip: 0,
            pages: 0,
            splits_left: SPLIT_DEPTH,
            split_considered: false,
            done: false,
        })
    }

    pub fn cursor(path: &'static str, key: &'static str, limit: u32, window: Window) -> Pager {
        Pager::cursor_part(path, key, limit, window, SPLIT_DEPTH)
    }

    /// A cursor pager over `window` that may split `splits_left` more levels.
    fn cursor_part(path: &'static str, key: &'static str, limit: u32, window: Window, splits_left: u8) -> Pager {
        Pager::Cursor { path, key, limit, window, cursor: None, splits_left, split_considered: false, done: false }
    }

    /// Search pages of `spec` (a [`Source::Search`] table) over `window`, naming `fields`.
    pub fn search(spec: &'static TableSpec, window: Window, fields: std::sync::Arc<Vec<String>>) -> Pager {
        let Source::Search { object_type, limit, .. } = &spec.source else {
            unreachable!("Pager::search is built for search sources");
        };
        let from = time::floor_to(window.lower, time::MICROS_PER_MILLI);
        Pager::Search(Search { object_type, fields, limit: *limit, window, from, cursor: None, done: false })
    }

    pub fn offset(path: &'static str, params: Params, limit: Option<u32>) -> Pager {
        Pager::Offset { path, params, limit, skip: 0, done: false }
    }

    /// The window of the replication key whose records this pager yields; others are dropped.
    pub fn window(&self) -> Window {
        match self {
            Pager::Keyset(k) => k.window,
            Pager::Cursor { window, .. } => *window,
            Pager::Search(s) => s.window,
            Pager::Offset { .. } => Window { lower: Micros::MIN, upper: Micros::MAX },
        }
    }

    /// The next page to fetch, or `None` when the pager is exhausted.
    pub fn request(&self) -> Option<PageRequest> {
        let pair = |k: &str, v: String| (k.to_string(), v);
        match self {
            Pager::Keyset(Keyset { done: true, .. })
            | Pager::Cursor { done: true, .. }
            | Pager::Offset { done: true, .. }
            | Pager::Search(Search { done: true, .. }) => None,
            Pager::Search(s) => Some(s.request()),
            Pager::Keyset(k) => Some(k.request()),
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
                Some(PageRequest { path, query, body: None })
            }
            Pager::Offset { path, params, limit, skip, .. } => {
                let mut query: Vec<(String, String)> = params.iter().map(|(k, v)| pair(k, v.to_string())).collect();
                if let Some(limit) = limit {
                    query.push(pair("_skip", skip.to_string()));
                    query.push(pair("_limit", limit.to_string()));
                }
                Some(PageRequest { path, query, body: None })
            }
        }
    }

    /// Moves past a fetched page. `page.keys` are the records' order keys (the key itself, or
    /// tasks' `date_created`).
    pub fn advance(&mut self, page: &PageOutcome) {
        match self {
            Pager::Keyset(k) => k.advance(page),
            Pager::Cursor { cursor, window, done, .. } => {
                *cursor = page.cursor_next.clone();
                // Newest first: once a page reaches below the window, the rest is older still,
                // whatever the server does with the date filters on cursor requests.
                let below = page.keys.iter().flatten().any(|key| *key < window.lower);
                *done = page.len == 0 || cursor.is_none() || below;
            }
            Pager::Search(s) => s.advance(page),
            Pager::Offset { limit, skip, done, .. } => {
                *skip += page.len;
                *done = limit.is_none() || page.len == 0 || !page.has_more;
            }
        }
    }

    /// After the first page of a keyset window, cuts the rest of the window into parts when the
    /// page's key span says it holds many pages more: this pager keeps the first part and the
    /// others come back as pagers of their own, to be read concurrently. A page wholly inside one
    /// granule (ties larger than a page) splits off the rest after that granule the same way. The
    /// decision depends on the data alone (never on timing), so a run makes the same requests every
    /// time it reads the same records, and the split needs nothing of `total_results`, which Close
    /// does not promise.
    pub fn split(&mut self, page: &PageOutcome) -> Vec<Pager> {
        match self {
            Pager::Keyset(k) => k.split(page).into_iter().map(Pager::Keyset).collect(),
            Pager::Cursor { .. } => self.split_cursor(page),
            _ => Vec::new(),
        }
    }

    /// The event log reads newest first: after its first page, the rest of the window below that
    /// page's oldest second is cut into parts, each read from its own first request, and this
    /// pager reads on only through that second.
    fn split_cursor(&mut self, page: &PageOutcome) -> Vec<Pager> {
        let Pager::Cursor { path, key, limit, window, splits_left, split_considered, done, .. } = self else {
            return Vec::new();
        };
        if std::mem::replace(split_considered, true) || *done || *splits_left == 0 || page.len < *limit as usize {
            return Vec::new();
        }
        let keys = page.keys.iter().flatten();
        let (Some(oldest), Some(newest)) = (keys.clone().min(), keys.max()) else { return Vec::new() };
        let rest = Window { lower: window.lower, upper: time::floor_to(*oldest, time::MICROS_PER_SECOND) };
        // Events come in bursts, so one page's span says little of the rest: only a window of
        // more than two days (a first run, a backfill) splits; a scheduled run reads on.
        if rest.upper <= rest.lower || window.upper - window.lower <= CURSOR_SPLIT_SPAN {
            return Vec::new();
        }
        let per_record = ((newest - oldest).max(time::MICROS_PER_SECOND) as f64) / page.len as f64;
        let parts = parts_for((rest.upper - rest.lower) as f64 / per_record, *limit, *splits_left);
        if parts < 2 {
            return Vec::new();
        }
        let mut bounds = vec![rest.lower];
        bounds.extend(cut_points(rest, parts, time::MICROS_PER_SECOND));
        bounds.push(rest.upper);
        let children = bounds
            .windows(2)
            .map(|b| Pager::cursor_part(path, key, *limit, Window { lower: b[0], upper: b[1] }, *splits_left - 1))
            .collect();
        window.lower = rest.upper;
        children
    }
}

impl Search {
    fn request(&self) -> PageRequest {
        let object_type = self.object_type;
        let field =
            serde_json::json!({"type": "regular_field", "object_type": object_type, "field_name": "date_updated"});
        let moment = |t: Micros| serde_json::json!({"type": "fixed_utc", "value": time::format_filter(t)});
        let mut body = serde_json::json!({
            "query": {"type": "and", "queries": [
                {"type": "object_type", "object_type": object_type},
                {"type": "field_condition", "field": field.clone(), "condition": {
                    "type": "moment_range", "on_or_after": moment(self.from), "before": moment(self.window.upper),
                }},
            ]},
            "sort": [{"direction": "asc", "field": field}],
            "_fields": {object_type: *self.fields},
            "_limit": self.limit,
        });
        if let Some(cursor) = &self.cursor {
            body["cursor"] = serde_json::Value::from(cursor.as_str());
        }
        PageRequest { path: "data/search/", query: Vec::new(), body: Some(body.to_string()) }
    }

    fn advance(&mut self, page: &PageOutcome) {
        let last = page.keys.iter().rev().find_map(|k| *k).map(|k| time::floor_to(k, time::MICROS_PER_MILLI));
        match (last, &page.cursor_next) {
            (_, None) => self.done = true,
            _ if page.len == 0 => self.done = true,
            (Some(last), Some(_)) if last > self.from => {
                self.from = last;
                self.cursor = None;
            }
            (_, Some(cursor)) => self.cursor = Some(cursor.clone()),
        }
    }
}

impl Keyset {
    fn request(&self) -> PageRequest {
        let pair = |k: &str, v: String| (k.to_string(), v);
        let (key, order) = (self.key, self.order);
        let mut query: Vec<(String, String)> = self.params.iter().map(|(k, v)| pair(k, v.to_string())).collect();
        let from = time::format_filter(self.cursor);
        match self.filter {
            KeyFilter::Params if order == key => {
                query.push(pair(&format!("{key}__gte"), from));
                query.push(pair(&format!("{key}__lt"), time::format_filter(self.span.upper)));
                query.push(pair("_order_by", key.to_string()));
            }
            KeyFilter::Params => {
                query.push(pair(&format!("{key}__gte"), time::format_filter(self.window.lower)));
                query.push(pair(&format!("{key}__lt"), time::format_filter(self.window.upper)));
                query.push(pair(&format!("{order}__gte"), from));
                if self.span.upper != OPEN {
                    query.push(pair(&format!("{order}__lt"), time::format_filter(self.span.upper)));
                }
                query.push(pair("_order_by", order.to_string()));
            }
            KeyFilter::Query => {
                let to = time::format_filter(self.span.upper);
                query.push(pair("query", format!(r#"{order} >= "{from}" {order} < "{to}" sort:{order}"#)));
            }
        }
        query.push(pair("_skip", self.skip.to_string()));
        query.push(pair("_limit", self.limit.to_string()));
        PageRequest { path: self.path, query, body: None }
    }

    fn advance(&mut self, page: &PageOutcome) {
        self.pages += 1;
        let granule = |t: Micros| time::floor_to(t, self.granule);
        let last = page.keys.iter().rev().find_map(|k| *k).map(granule);
        if page.len == 0 || !page.has_more {
            self.done = true;
        } else if let Some(last) = last.filter(|last| *last > self.cursor) {
            // A new granule: read it again from its start, or, when its records fill more than half
            // of what came, from half a page before the end of them.
            self.cursor = last;
            let in_granule = page.keys.iter().filter(|k| k.map(granule) == Some(last)).count();
            self.skip = in_granule.saturating_sub(page.len / 2);
        } else {
            // The whole page sat in the cursor's granule, a group of ties larger than a page: move
            // on by half of what came (at least one record, whatever page size Close chose) and read
            // the other half again.
            self.skip += page.len - page.len / 2;
        }
    }

    fn split(&mut self, page: &PageOutcome) -> Vec<Keyset> {
        let first = self.pages == 1 && !std::mem::replace(&mut self.split_considered, true);
        if self.done || self.splits_left == 0 || page.len < self.limit as usize {
            return Vec::new();
        }
        let keys = page.keys.iter().flatten();
        let (Some(first_key), Some(last)) = (keys.clone().min(), keys.max()) else { return Vec::new() };
        let end = if self.order == self.key { self.span.upper } else { self.span.upper.min(self.window.upper) };
        if first {
            // Everything read so far lies below the granule after the last key read.
            let rest = time::floor_to(*last, self.granule) + self.granule;
            if rest >= end {
                return Vec::new();
            }
            let per_record = ((last - first_key).max(self.granule) as f64) / page.len as f64;
            let parts = parts_for((end - rest) as f64 / per_record, self.limit, self.splits_left);
            if parts < 2 {
                return Vec::new();
            }
            return self.split_off(&cut_points(Window { lower: rest, upper: end }, parts, self.granule));
        }
        // A whole page in the cursor's granule: ties larger than a page, read with overlap. The
        // rest of the window after that granule goes to another reader meanwhile.
        let in_cursor = |key: Micros| time::floor_to(key, self.granule) == self.cursor;
        let rest = self.cursor + self.granule;
        if in_cursor(*first_key) && in_cursor(*last) && rest < end { self.split_off(&[rest]) } else { Vec::new() }
    }

    /// Hands the order span from the first of `bounds` on to new pagers, one per bound; this pager
    /// keeps what lies below the first.
    fn split_off(&mut self, bounds: &[Micros]) -> Vec<Keyset> {
        let mut children = Vec::new();
        for (i, lower) in bounds.iter().enumerate() {
            let upper = bounds.get(i + 1).copied().unwrap_or(self.span.upper);
            let mut child = self.clone();
            child.span = Window { lower: *lower, upper };
            if self.order == self.key {
                child.window = child.span;
            }
            child.cursor = *lower;
            child.skip = 0;
            child.pages = 0;
            child.split_considered = false;
            child.splits_left = self.splits_left - 1;
            children.push(child);
        }
        if let Some(first_child) = bounds.first() {
            self.span.upper = *first_child;
            if self.order == self.key {
                self.window.upper = *first_child;
            }
        }
        children
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::by_name;
    use crate::time::{MICROS_PER_MINUTE, MICROS_PER_SECOND};

    fn value<'a>(request: &'a PageRequest, name: &str) -> Option<&'a str> {
        request.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn page(keys: Vec<Option<Micros>>, has_more: bool) -> PageOutcome {
        PageOutcome { len: keys.len(), has_more, keys, ..Default::default() }
    }

    const W: Window = Window { lower: 1_000_000, upper: 9_000_000 };

    fn activities(window: Window) -> Pager {
        Pager::keyset(by_name("activities").unwrap(), window)
    }

    #[test]
    fn keyset_restarts_at_the_last_key_read() {
        let mut pager = activities(W);
        let first = pager.request().unwrap();
        assert_eq!(value(&first, "date_created__gte"), Some("1970-01-01T00:00:01.000000+00:00"));
        assert_eq!(value(&first, "date_created__lt"), Some("1970-01-01T00:00:09.000000+00:00"));
        assert_eq!(value(&first, "_order_by"), Some("date_created"));
        assert_eq!((value(&first, "_skip"), value(&first, "_limit")), (Some("0"), Some("100")));
        // Two ties at the end of a page: read them again rather than skip past them.
        let mut keys = vec![Some(2_000_000); 98];
        keys.extend([Some(5_000_000), Some(5_000_000)]);
        pager.advance(&page(keys, true));
        let second = pager.request().unwrap();
        assert_eq!(value(&second, "date_created__gte"), Some(time::format_filter(5_000_000).as_str()));
        assert_eq!(value(&second, "_skip"), Some("0"));
    }

    #[test]
    fn keyset_moves_through_ties_larger_than_a_page_with_overlap() {
        let mut pager = activities(W);
        pager.advance(&page(vec![Some(5_000_000); 100], true));
        assert_eq!(value(&pager.request().unwrap(), "_skip"), Some("50"));
        pager.advance(&page(vec![Some(5_000_000); 100], true));
        assert_eq!(value(&pager.request().unwrap(), "_skip"), Some("100"));
        pager.advance(&page(vec![Some(5_000_000), Some(6_000_000)], false));
        assert!(pager.request().is_none());
    }

    #[test]
    fn short_pages_inside_a_large_granule_still_move_on() {
        // Close may cap a page below the `_limit` asked: 30 of 100, all at one millisecond.
        let mut pager = activities(W);
        let ties: Vec<Option<Micros>> = vec![Some(5_000_000); 1_000];
        let mut pages = 0;
        while let Some(request) = pager.request() {
            let skip: usize = value(&request, "_skip").unwrap().parse().unwrap();
            let rows: Vec<_> = ties.iter().skip(skip).take(30).copied().collect();
            let more = skip + rows.len() < ties.len();
            pager.advance(&page(rows, more));
            pages += 1;
            assert!(pages < 100, "no loop");
        }
        assert_eq!(pages, 66, "15 new records a page after the first");
    }

    #[test]
    fn leads_page_by_the_minute_and_a_bulk_edit_in_one_minute_ends() {
        let minute = 10 * MICROS_PER_MINUTE;
        let window = Window { lower: minute + 30 * MICROS_PER_SECOND, upper: minute + 5 * MICROS_PER_MINUTE };
        let mut pager = Pager::keyset(by_name("leads").unwrap(), window);
        let request = pager.request().unwrap();
        let query = value(&request, "query").unwrap();
        assert_eq!(
            query,
            r#"date_updated >= "1970-01-01T00:10:00.000000+00:00" date_updated < "1970-01-01T00:15:00.000000+00:00" sort:date_updated"#
        );
        assert_eq!(value(&request, "date_updated__gte"), None);
        // 2,000 leads edited within one minute, distinct milliseconds: pages of 200 move by 100.
        let edited: Vec<Option<Micros>> = (0..2_000).map(|i| Some(minute + 60_000_000 + i * 1_000)).collect();
        let mut pages = 0;
        let mut skip = 0;
        while let Some(request) = pager.request() {
            skip = value(&request, "_skip").unwrap().parse::<usize>().unwrap();
            let rows: Vec<_> = edited.iter().skip(skip).take(200).copied().collect();
            let more = skip + rows.len() < edited.len();
            pager.advance(&page(rows, more));
            pages += 1;
            assert!(pages < 40, "no loop");
        }
        assert_eq!((skip, pages), (1_800, 19), "half a page forward each time, to the last 200");
    }

    #[test]
    fn tasks_filter_a_window_of_updates_and_page_by_creation() {
        let mut pager = Pager::keyset(by_name("tasks").unwrap(), W);
        let first = pager.request().unwrap();
        assert_eq!(value(&first, "_type"), Some("all"));
        assert_eq!(value(&first, "date_updated__gte"), Some("1970-01-01T00:00:01.000000+00:00"));
        assert_eq!(value(&first, "date_updated__lt"), Some("1970-01-01T00:00:09.000000+00:00"));
        assert_eq!(value(&first, "date_created__gte"), Some("1970-01-01T00:00:00.000000+00:00"));
        assert_eq!(value(&first, "date_created__lt"), None);
        assert_eq!(value(&first, "_order_by"), Some("date_created"));
        pager.advance(&page(vec![Some(500_000); 100], true));
        pager.advance(&page(vec![Some(700_000); 100], true));
        let third = pager.request().unwrap();
        assert_eq!(value(&third, "date_created__gte"), Some("1970-01-01T00:00:00.700000+00:00"));
        assert_eq!(value(&third, "date_updated__gte"), Some("1970-01-01T00:00:01.000000+00:00"));
    }

    #[test]
    fn a_dense_first_page_splits_the_rest_on_whole_milliseconds() {
        let day = 86_400 * MICROS_PER_SECOND;
        let window = Window { lower: 0, upper: 100 * day + 7 };
        let mut pager = activities(window);
        // A page of 100 spread over ten seconds: the rest of 100 days holds far more than 20 pages.
        let keys: Vec<Option<Micros>> = (0..100).map(|i| Some(day + i * 100_000 + 3)).collect();
        let outcome = page(keys, true);
        pager.advance(&outcome);
        let children = pager.split(&outcome);
        assert_eq!(children.len(), 7);
        let mut windows = vec![pager.window()];
        windows.extend(children.iter().map(Pager::window));
        assert_eq!(windows[0].lower, 0);
        assert_eq!(windows.last().unwrap().upper, window.upper);
        for pair in windows.windows(2) {
            assert_eq!(pair[0].upper, pair[1].lower, "contiguous");
            assert_eq!(pair[0].upper % 1_000, 0, "on a whole millisecond");
        }
        assert!(windows[0].upper > day + 99 * 100_000 + 3, "the first page stays in the first part");
        // The split happens once, after the first page; children may split once each in turn.
        assert!(pager.split(&outcome).is_empty());
        // Tasks split their open `date_created` span: the last part stays open.
        let mut tasks = Pager::keyset(by_name("tasks").unwrap(), window);
        tasks.advance(&outcome);
        let parts = tasks.split(&outcome);
        assert!(!parts.is_empty());
        let first = tasks.request().unwrap();
        assert_eq!(value(&first, "date_updated__lt"), Some(time::format_filter(window.upper).as_str()));
        assert!(value(&first, "date_created__lt").is_some(), "the first part is bounded");
        let last = parts.last().unwrap().request().unwrap();
        assert_eq!(value(&last, "date_created__lt"), None, "the last part stays open");
        assert_eq!(value(&last, "date_updated__gte"), Some(time::format_filter(window.lower).as_str()));
        // A sparse page does not split.
        let mut sparse = activities(Window { lower: 0, upper: 2 * day });
        let keys: Vec<Option<Micros>> = (0..100).map(|i| Some(i * 10 * MICROS_PER_MINUTE)).collect();
        let outcome = page(keys, true);
        sparse.advance(&outcome);
        assert!(sparse.split(&outcome).is_empty());
    }

    #[test]
    fn event_cursor_walk_stops_below_the_window() {
        let mut pager = Pager::cursor("event/", "date_updated", 50, W);
        assert_eq!(value(&pager.request().unwrap(), "_cursor"), None);
        pager.advance(&PageOutcome {
            len: 2,
            cursor_next: Some("abc".into()),
            keys: vec![Some(8_000_000); 2],
            has_more: false,
        });
        assert_eq!(value(&pager.request().unwrap(), "_cursor"), Some("abc"));
        // A server that ignores the filters on cursor requests walks on into older history.
        pager.advance(&PageOutcome {
            len: 2,
            cursor_next: Some("def".into()),
            keys: vec![Some(2_000_000), Some(999_000)],
            has_more: false,
        });
        assert!(pager.request().is_none());
    }

    #[test]
    fn ties_larger_than_a_page_hand_the_rest_of_the_window_to_another_reader() {
        let window = Window { lower: 0, upper: 12 * MICROS_PER_SECOND };
        let mut pager = activities(window);
        // A sparse first page: no split by density, and the cursor moves to the tie's millisecond.
        let tie = 5 * MICROS_PER_SECOND;
        let mut keys: Vec<Option<Micros>> = (0..60).map(|i| Some(i * 80_000)).collect();
        keys.extend(std::iter::repeat_n(Some(tie), 40));
        let outcome = page(keys, true);
        pager.advance(&outcome);
        assert!(pager.split(&outcome).is_empty());
        // A page wholly in the tie: the rest after its millisecond goes to a new reader, once.
        let ties = page(vec![Some(tie); 100], true);
        pager.advance(&ties);
        let rest = pager.split(&ties);
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].window(), Window { lower: tie + 1_000, upper: window.upper });
        assert_eq!(pager.window(), Window { lower: 0, upper: tie + 1_000 });
        pager.advance(&ties);
        assert!(pager.split(&ties).is_empty(), "nothing is left after the tie in this window");
    }

    #[test]
    fn a_dense_first_event_page_splits_the_rest_below_it_on_whole_seconds() {
        let day = 86_400 * MICROS_PER_SECOND;
        let window = Window { lower: 0, upper: 30 * day };
        let mut pager = Pager::cursor("event/", "date_updated", 50, window);
        // The newest 50 events span 50 seconds just under the window's top: 30 days hold far more.
        let keys: Vec<Option<Micros>> = (0..50).map(|i| Some(30 * day - 1 - i * MICROS_PER_SECOND)).collect();
        let outcome = PageOutcome { len: 50, cursor_next: Some("abc".into()), keys: keys.clone(), has_more: true };
        pager.advance(&outcome);
        let children = pager.split(&outcome);
        assert_eq!(children.len(), 8);
        let oldest = keys.iter().flatten().min().copied().unwrap();
        assert_eq!(pager.window(), Window { lower: time::floor_to(oldest, MICROS_PER_SECOND), upper: window.upper });
        assert_eq!(value(&pager.request().unwrap(), "_cursor"), Some("abc"), "this pager reads on by its cursor");
        let mut windows: Vec<Window> = children.iter().map(Pager::window).collect();
        windows.push(pager.window());
        assert_eq!(windows[0].lower, window.lower);
        for pair in windows.windows(2) {
            assert_eq!(pair[0].upper, pair[1].lower, "contiguous");
            assert_eq!(pair[0].upper % MICROS_PER_SECOND, 0, "on a whole second");
        }
        for child in &children {
            let first = child.request().unwrap();
            assert_eq!(value(&first, "_cursor"), None, "each part starts with its own filters");
            assert_eq!(value(&first, "date_updated__gte"), Some(time::format_filter(child.window().lower).as_str()));
            assert_eq!(value(&first, "date_updated__lte"), Some(time::format_filter(child.window().upper).as_str()));
        }
        assert!(pager.split(&outcome).is_empty(), "once, after the first page");
        // A page that is not full, or one that spans the whole window, does not split.
        let mut short = Pager::cursor("event/", "date_updated", 50, window);
        let partial = PageOutcome { len: 49, keys: keys[..49].to_vec(), ..Default::default() };
        short.advance(&partial);
        assert!(short.split(&partial).is_empty());
        // A scheduled run's window of a day reads on by cursor: events come in bursts.
        let mut scheduled = Pager::cursor("event/", "date_updated", 50, Window { lower: 29 * day, upper: 30 * day });
        scheduled.advance(&outcome);
        assert!(scheduled.split(&outcome).is_empty());
    }

    #[test]
    fn cursor_follows_cursor_next() {
        let mut pager = Pager::cursor("event/", "date_updated", 50, W);
        pager.advance(&PageOutcome { len: 50, cursor_next: Some("abc".into()), ..Default::default() });
        assert_eq!(value(&pager.request().unwrap(), "_cursor"), Some("abc"));
        pager.advance(&PageOutcome { len: 3, cursor_next: None, ..Default::default() });
        assert!(pager.request().is_none());
    }

    #[test]
    fn offset_stops_when_nothing_more() {
        let mut pager = Pager::offset("user/", &[], Some(100));
        pager.advance(&PageOutcome { len: 100, has_more: true, ..Default::default() });
        assert_eq!(value(&pager.request().unwrap(), "_skip"), Some("100"));
        pager.advance(&PageOutcome { len: 7, has_more: false, ..Default::default() });
        assert!(pager.request().is_none());
    }

    #[test]
    fn an_unpaged_listing_is_one_request_with_its_own_parameters_only() {
        let mut pager = Pager::offset("saved_search/", &[("type__in", "lead,contact")], None);
        assert_eq!(pager.request().unwrap().query, [("type__in".to_string(), "lead,contact".to_string())]);
        pager.advance(&PageOutcome { len: 100, has_more: true, ..Default::default() });
        assert!(pager.request().is_none());
    }
}
