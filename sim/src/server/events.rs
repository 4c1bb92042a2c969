//! `GET /event/`: the event log, newest first (`date_updated` desc, then id desc), filtered by
//! `date_updated__gte`/`__lte` (no `__gt`/`__lt`: undocumented, so ignored), `object_type`, `action` and
//! `lead_id`. Cursor paging: `_limit` at most 50 (larger values are capped), `cursor_next` continues after the
//! last returned event when sent back as `_cursor` with the same filters; `cursor_previous` is always null.
//! With a retention configured, older events do not exist.

use std::ops::Bound;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::cursor;
use super::params::{Params, RangeOps};
use super::respond::{ApiError, write_rows};
use crate::config::SimConfig;
use crate::store::Store;
use crate::time::Micros;

const MAX_LIMIT: usize = 50;

pub fn events(store: &Store, config: &SimConfig, params: &Params, now: DateTime<Utc>) -> Result<String, ApiError> {
    let limit = params.number("_limit")?.unwrap_or(MAX_LIMIT).clamp(1, MAX_LIMIT);
    let (mut lo, hi) = params.range("date_updated", RangeOps { strict: false })?;
    if let Some(days) = config.event_retention_days {
        let floor = (now - Duration::days(days)).timestamp_micros();
        lo = match lo {
            Bound::Included(t) | Bound::Excluded(t) if t >= floor => lo,
            _ => Bound::Included(floor),
        };
    }
    let table = &store.events;
    let kinds = params.get("object_type").map(|t| vec![t.to_string()]);
    let mut sel = table.select(kinds.as_deref(), lo, hi);
    let (action, lead_id) = (params.get("action"), params.get("lead_id"));
    if action.is_some() || lead_id.is_some() {
        sel = sel.filter(table, |r| {
            action.is_none_or(|a| *r.action == *a) && lead_id.is_none_or(|l| r.lead_id.as_deref() == Some(l))
        });
    }
    // Events come newest first: a page is the `limit` rows just before the cursor in ascending order.
    let end = match params.get("_cursor").filter(|c| !c.is_empty()) {
        None => sel.len(),
        Some(c) => {
            let (key, id): (Micros, String) =
                cursor::decode(c).ok_or_else(|| ApiError::bad_request("Invalid cursor."))?;
            partition(sel.len(), |i| {
                let row = &table.rows[sel.get(i)];
                (row.key, &*row.id) < (key, id.as_str())
            })
        }
    };
    let start = end.saturating_sub(limit);
    let rows: Vec<_> = (start..end).rev().map(|i| &table.rows[sel.get(i)]).collect();
    let next = match rows.last() {
        Some(last) if start > 0 => json!(cursor::encode(&(last.key, &*last.id))),
        _ => serde_json::Value::Null,
    };
    let mut out = String::with_capacity(64 + rows.iter().map(|r| r.raw.len() + 1).sum::<usize>());
    out.push_str("{\"data\": [");
    write_rows(rows.into_iter(), &params.fields(), &mut out);
    out.push_str(&format!("], \"cursor_next\": {next}, \"cursor_previous\": null}}"));
    Ok(out)
}

/// First index in `0..len` for which `before` is false.
fn partition(len: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, len);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if before(mid) { lo = mid + 1 } else { hi = mid }
    }
    lo
}
