//! `GET /event/`: the event log, newest first (`date_updated` desc, then id desc), filtered by
//! `date_updated__gte`/`__lte`, `object_type`, `object_id`, `action`, `lead_id`, `user_id` and `request_id`.
//! Cursor paging: `_limit` at most 50 (larger values are capped), `cursor_next` continues after the last
//! returned event when sent back as `_cursor` with the same filters; `cursor_previous` is always null. By default
//! ([`CursorFilters::Ignored`]) a request carrying `_cursor` does not apply the `date_updated` range: the walk
//! continues into older history and the reader must stop once a page reaches below its window.
//!
//! With a retention configured, older events do not exist. A non-admin key gets `data` and `previous_data` as
//! null for events whose `date_updated` is more than an hour old.

use std::ops::Bound;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::cursor;
use super::params::{Params, RangeOps};
use super::respond::ApiError;
use crate::config::{CursorFilters, SimConfig};
use crate::store::{Row, Store};
use crate::time::Micros;

const MAX_LIMIT: usize = 50;

pub fn events(store: &Store, config: &SimConfig, params: &Params, now: DateTime<Utc>) -> Result<String, ApiError> {
    let limit = params.number("_limit")?.unwrap_or(MAX_LIMIT).clamp(1, MAX_LIMIT);
    let cursor = params.get("_cursor").filter(|c| !c.is_empty());
    let (mut lo, mut hi) = params.range("date_updated", RangeOps { strict: false })?;
    if cursor.is_some() && config.event_cursor_filters == CursorFilters::Ignored {
        (lo, hi) = (Bound::Unbounded, Bound::Unbounded);
    }
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
    let by_value = ["object_id", "user_id", "request_id"].map(|k| (k, params.get(k)));
    let needs_value = by_value.iter().any(|(_, want)| want.is_some());
    if action.is_some() || lead_id.is_some() || needs_value {
        sel = sel.filter(table, |r| {
            action.is_none_or(|a| *r.action == *a)
                && lead_id.is_none_or(|l| r.lead_id.as_deref() == Some(l))
                && (!needs_value || {
                    let v = r.value();
                    by_value.iter().all(|(key, want)| want.is_none_or(|w| v.get(key) == Some(&w.into())))
                })
        });
    }
    // Events come newest first: a page is the `limit` rows just before the cursor in ascending order.
    let end = match cursor {
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
    let rows: Vec<&Row> = (start..end).rev().map(|i| &table.rows[sel.get(i)]).collect();
    let next = match rows.last() {
        Some(last) if start > 0 => json!(cursor::encode(&(last.key, &*last.id))),
        _ => Value::Null,
    };
    // A non-admin key sees the data of recent events only.
    let hidden_before = (!config.admin_key).then(|| (now - Duration::hours(1)).timestamp_micros());
    let mut out = String::with_capacity(64 + rows.iter().map(|r| r.raw.len() + 1).sum::<usize>());
    out.push_str("{\"data\": [");
    for (i, row) in rows.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match hidden_before {
            Some(t) if row.key < t => out.push_str(&without_data(row.value()).to_string()),
            _ => out.push_str(&row.raw),
        }
    }
    out.push_str(&format!("], \"cursor_next\": {next}, \"cursor_previous\": null}}"));
    Ok(out)
}

/// The event with `data` and `previous_data` null.
fn without_data(mut event: Value) -> Value {
    if let Value::Object(map) = &mut event {
        for key in ["data", "previous_data"] {
            map.insert(key.to_string(), Value::Null);
        }
    }
    event
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
