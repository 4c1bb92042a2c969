//! A minimal `POST /data/search/` for leads, contacts and custom objects: an `and` of one `object_type`
//! (required), `match_all` and `moment_range` conditions on `date_updated`/`date_created` (`on_or_after`,
//! `after`, `before`, `on_or_before`, with `fixed_utc` or `fixed_local_date` values, taken as UTC), `sort` on
//! those fields, `_fields` ({"contact": [..]}: only the fields named, a missing one as null; without it a hit
//! is only `{"__object_type", "id"}`), `_limit` up to 200 and `results_limit`.
//!
//! Leads come from the lead search index, which lags writes as for `GET /lead/`. Like Close, a query yields at most
//! 10,000 results, and each cursor expires 30 s after it was issued (400 afterwards: resume with a new query
//! from the last committed key). Other query shapes are refused with a 400 naming what is unsupported.

use std::ops::Bound;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::lead_query::{LeadField, LeadQuery};
use super::leads::select;
use super::respond::{ApiError, Order, ordered};
use super::{cursor, faults};
use crate::config::SimConfig;
use crate::store::Store;
use crate::time::{Micros, parse_micros};

const MAX_LIMIT: usize = 200;
const MAX_RESULTS: usize = 10_000;
/// How long a search cursor stays valid.
pub const CURSOR_TTL_MS: u128 = 30_000;

#[derive(Serialize, Deserialize)]
struct SearchCursor {
    /// Results already returned.
    offset: usize,
    /// Unix milliseconds when the cursor was issued.
    issued: u128,
}

/// A plan without custom objects (`/custom_object/` configured unavailable) refuses searches of them alike.
pub fn search(store: &Store, config: &SimConfig, body: &[u8]) -> Result<String, ApiError> {
    let req: Value = serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("Invalid JSON: {e}")))?;
    let q = req.get("query").ok_or_else(|| ApiError::field("query", "Missing data for required field."))?;
    let object_type = object_type(q).ok_or_else(|| {
        ApiError::bad_request("The query must select one object_type: lead, contact or custom_object.")
    })?;
    if object_type == "custom_object"
        && let Some(error) = faults::unavailable(config, "/api/v1/custom_object/")
    {
        return Err(error);
    }
    let mut query = LeadQuery::default();
    apply(q, object_type, &mut query)?;
    query.sort = sort(req.get("sort"), object_type)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default();
    let offset = match req.get("cursor").and_then(Value::as_str) {
        None | Some("") => 0,
        Some(c) => {
            let c: SearchCursor = cursor::decode(c).ok_or_else(|| ApiError::bad_request("Invalid cursor."))?;
            if now.saturating_sub(c.issued) > CURSOR_TTL_MS {
                return Err(ApiError::bad_request("The cursor has expired. Please start a new search."));
            }
            c.offset
        }
    };
    let limit = number(&req, "_limit")?.unwrap_or(MAX_LIMIT).min(MAX_LIMIT);
    let cap = number(&req, "results_limit")?.unwrap_or(MAX_RESULTS).min(MAX_RESULTS);
    let fields: Option<Vec<String>> = req
        .get("_fields")
        .and_then(|f| f.get(object_type))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect());

    let table = match object_type {
        "contact" => &store.contacts,
        "custom_object" => &store.custom_objects,
        _ => store.lead_search(),
    };
    let (sel, order) = select(table, &query);
    let end = sel.len().min(cap);
    let page_len = limit.min(end.saturating_sub(offset));
    let mut data = Vec::with_capacity(page_len);
    for p in ordered(&sel, order, offset, page_len) {
        let row = &table.rows[p];
        let mut hit = Map::new();
        hit.insert("__object_type".into(), json!(object_type));
        match &fields {
            None => {
                hit.insert("id".into(), json!(&*row.id));
            }
            Some(keys) => {
                let v = row.value();
                for k in keys {
                    hit.insert(k.clone(), v.get(k).cloned().unwrap_or(Value::Null));
                }
            }
        }
        data.push(Value::Object(hit));
    }
    let next = offset + page_len;
    let cursor = (next < end).then(|| cursor::encode(&SearchCursor { offset: next, issued: now }));
    Ok(json!({ "data": data, "cursor": cursor }).to_string())
}

fn number(req: &Value, key: &str) -> Result<Option<usize>, ApiError> {
    match req.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(|n| Some(n as usize)).ok_or_else(|| ApiError::field(key, "Not a valid integer.")),
    }
}

fn unsupported(what: &Value) -> ApiError {
    ApiError::bad_request(format!("close-sim does not support this search query part: {what}"))
}

/// The object type the query selects: its one `object_type` clause (at the top or in its `and`).
fn object_type(q: &Value) -> Option<&'static str> {
    fn named(q: &Value) -> Option<&str> {
        (q.get("type") == Some(&json!("object_type"))).then(|| q.get("object_type").and_then(Value::as_str)).flatten()
    }
    let clauses: Vec<&Value> = match q.get("type").and_then(Value::as_str) {
        Some("and") => q.get("queries").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default(),
        _ => vec![q],
    };
    let mut types = clauses.into_iter().filter_map(named);
    let only = types.next()?;
    if types.next().is_some() {
        return None;
    }
    ["lead", "contact", "custom_object"].into_iter().find(|t| *t == only)
}

fn apply(q: &Value, object_type: &str, out: &mut LeadQuery) -> Result<(), ApiError> {
    match q.get("type").and_then(Value::as_str) {
        Some("and") => {
            for sub in q.get("queries").and_then(Value::as_array).into_iter().flatten() {
                apply(sub, object_type, out)?;
            }
            Ok(())
        }
        Some("match_all") | Some("object_type") => Ok(()),
        Some("field_condition") => condition(q, object_type, out),
        _ => Err(unsupported(q)),
    }
}

/// A `regular_field` of the query's object type that the simulator filters or sorts on.
fn field_of(f: Option<&Value>, object_type: &str) -> Option<LeadField> {
    let f = f?;
    if f.get("type")? != "regular_field" || f.get("object_type").is_some_and(|o| o != object_type) {
        return None;
    }
    match f.get("field_name")?.as_str()? {
        "date_updated" => Some(LeadField::DateUpdated),
        "date_created" => Some(LeadField::DateCreated),
        _ => None,
    }
}

fn condition(q: &Value, object_type: &str, out: &mut LeadQuery) -> Result<(), ApiError> {
    let field = field_of(q.get("field"), object_type).ok_or_else(|| unsupported(q))?;
    let cond = q.get("condition").filter(|c| c.get("type") == Some(&json!("moment_range")));
    let cond = cond.ok_or_else(|| unsupported(q))?;
    let range = match field {
        LeadField::DateUpdated => &mut out.updated,
        LeadField::DateCreated => &mut out.created,
    };
    let moment = |key: &str| -> Result<Option<Micros>, ApiError> {
        match cond.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(m) => {
                m.get("value").and_then(Value::as_str).and_then(parse_micros).map(Some).ok_or_else(|| unsupported(m))
            }
        }
    };
    if let Some(t) = moment("on_or_after")? {
        range.0 = Bound::Included(t);
    }
    if let Some(t) = moment("after")? {
        range.0 = Bound::Excluded(t);
    }
    if let Some(t) = moment("before")? {
        range.1 = Bound::Excluded(t);
    }
    if let Some(t) = moment("on_or_before")? {
        range.1 = Bound::Included(t);
    }
    Ok(())
}

fn sort(spec: Option<&Value>, object_type: &str) -> Result<Option<(LeadField, Order)>, ApiError> {
    let Some(first) = spec.and_then(Value::as_array).and_then(|a| a.first()) else {
        return Ok(None);
    };
    let field = field_of(first.get("field"), object_type).ok_or_else(|| unsupported(first))?;
    let order = if first.get("direction") == Some(&json!("desc")) { Order::Desc } else { Order::Asc };
    Ok(Some((field, order)))
}
