//! `GET /opportunity/`, offset-paged and filtered by `date_created` and `date_updated` (`__gt/__gte/__lt/__lte`),
//! the date-only `date_won` (exact or ranges), `lead_id`, `user_id`, `status_id`, `status_type`, `status_label`
//! and `value_period` (each also `__in`). `_order_by` is `date_updated`, `date_created`, `date_won`, `value` or
//! `confidence` (`-` for descending, ties by id). Without `_order_by` the order is Close's undocumented default,
//! newest `date_updated` first here: do not rely on it. Opportunities are their own records: a lead's embedded
//! copies are not updated when an opportunity changes (Close does not document that they are).

use std::ops::{Bound, RangeBounds};

use serde_json::Value;

use super::params::{Params, RangeOps};
use super::respond::{ApiError, Order, offset_page, sorted};
use crate::config::SimConfig;
use crate::store::{Row, Store};
use crate::time::{Micros, parse_micros};

const MAX_LIMIT: usize = 100;
const STRICT: RangeOps = RangeOps { strict: true };
/// Fields filtered by value, each also as `<field>__in`.
const BY_VALUE: [&str; 6] = ["lead_id", "user_id", "status_id", "status_type", "status_label", "value_period"];

pub fn opportunities(store: &Store, config: &SimConfig, params: &Params) -> Result<String, ApiError> {
    let (skip, limit) = params.paging(MAX_LIMIT, MAX_LIMIT, config.max_skip)?;
    let (lo, hi) = params.range("date_updated", STRICT)?;
    let created = params.range("date_created", STRICT)?;
    let won = (params.timestamp("date_won")?, params.range("date_won", STRICT)?);
    let order_by = params.order_by(&["date_updated", "date_created", "date_won", "value", "confidence"])?;
    let wanted: Vec<(&str, Vec<String>)> = BY_VALUE
        .iter()
        .filter_map(|field| {
            let values =
                params.list(&format!("{field}__in")).or_else(|| params.get(field).map(|v| vec![v.to_string()]));
            values.map(|v| (*field, v))
        })
        .collect();
    let by_won = won.0.is_some() || won.1 != (Bound::Unbounded, Bound::Unbounded);
    let by_created = created != (Bound::Unbounded, Bound::Unbounded);

    let table = &store.opportunities;
    let mut sel = table.select(None, lo, hi);
    if by_created || by_won || !wanted.is_empty() {
        sel = sel.filter(table, |r| {
            let v = r.value();
            let text = |field: &str| v.get(field).and_then(Value::as_str).map(str::to_string);
            let day = v.get("date_won").and_then(Value::as_str).and_then(parse_micros);
            created.contains(&r.created)
                && (!by_won || day.is_some_and(|d| won.0.is_none_or(|w| w == d) && won.1.contains(&d)))
                && wanted.iter().all(|(field, values)| text(field).is_some_and(|t| values.contains(&t)))
        });
    }
    let (sel, order) = match order_by {
        None => (sel, Order::Desc),
        Some(("date_updated", order)) => (sel, order),
        Some(("date_created", order)) => (sorted(table, &sel, |r| r.created), order),
        Some((field, order)) => (sorted(table, &sel, |r| number(r, field)), order),
    };
    Ok(offset_page(table, &sel, order, skip, limit, &params.fields()))
}

/// A sortable number for `field`: a date as midnight UTC, a number as itself; missing ones sort first.
fn number(row: &Row, field: &str) -> Micros {
    let v = row.value();
    match v.get(field) {
        Some(Value::String(s)) => parse_micros(s).unwrap_or(Micros::MIN),
        Some(Value::Number(n)) => n.as_f64().map_or(Micros::MIN, |f| f as Micros),
        _ => Micros::MIN,
    }
}
