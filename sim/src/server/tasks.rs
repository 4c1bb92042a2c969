//! `GET /task/`, offset-paged and filtered by `date_updated` and `date_created` (`__gt/__gte/__lt/__lte`, both
//! at once if asked), the date-only `date` and `due_date` (exact or ranges), `id`/`id__in`, `lead_id`,
//! `is_complete`, `assigned_to` and `view`. The trap: without `_type` only `lead` tasks are listed; `_type=all`
//! lists every type, `_type=<t>` one, `_type__in=a,b` several. `_order_by` is `date` or `date_created` (`-` for
//! descending, ties by id); tasks cannot be sorted by `date_updated`. Without `_order_by` the order is Close's
//! undocumented default, newest `date_updated` first here: do not rely on it.

use std::ops::{Bound, RangeBounds};

use serde_json::Value;

use super::params::{Params, RangeOps};
use super::respond::{ApiError, Order, offset_page, sorted};
use crate::config::SimConfig;
use crate::store::{Row, Store};
use crate::time::{Micros, parse_micros};

const MAX_LIMIT: usize = 100;
const STRICT: RangeOps = RangeOps { strict: true };

/// A filter on a date-only field: `field=<day>` and `field__gt/__gte/__lt/__lte`.
struct DayFilter {
    field: &'static str,
    exact: Option<Micros>,
    range: (Bound<Micros>, Bound<Micros>),
}

impl DayFilter {
    fn parse(params: &Params, field: &'static str) -> Result<DayFilter, ApiError> {
        Ok(DayFilter { field, exact: params.timestamp(field)?, range: params.range(field, STRICT)? })
    }

    fn is_set(&self) -> bool {
        self.exact.is_some() || self.range != (Bound::Unbounded, Bound::Unbounded)
    }

    fn accepts(&self, task: &Value) -> bool {
        let Some(day) = task.get(self.field).and_then(Value::as_str).and_then(parse_micros) else {
            return !self.is_set();
        };
        self.exact.is_none_or(|t| t == day) && self.range.contains(&day)
    }
}

pub fn tasks(store: &Store, config: &SimConfig, params: &Params) -> Result<String, ApiError> {
    let (skip, limit) = params.paging(MAX_LIMIT, MAX_LIMIT, config.max_skip)?;
    let (lo, hi) = params.range("date_updated", STRICT)?;
    let created = params.range("date_created", STRICT)?;
    let days = [DayFilter::parse(params, "date")?, DayFilter::parse(params, "due_date")?];
    let order_by = params.order_by(&["date", "date_created"])?;
    let kinds: Option<Vec<String>> = match (params.list("_type__in"), params.get("_type")) {
        (Some(list), _) => Some(list),
        (None, Some("all")) => None,
        (None, Some(t)) => Some(vec![t.to_string()]),
        (None, None) => Some(vec!["lead".to_string()]),
    };
    let ids = params.list("id__in").or_else(|| params.get("id").map(|id| vec![id.to_string()]));
    let lead_id = params.get("lead_id");
    let is_complete = params.flag("is_complete")?;
    let (assigned_to, view) = (params.get("assigned_to"), params.get("view"));
    let by_value =
        is_complete.is_some() || assigned_to.is_some() || view.is_some() || days.iter().any(DayFilter::is_set);
    let by_created = created != (Bound::Unbounded, Bound::Unbounded);

    let table = &store.tasks;
    let mut sel = table.select(kinds.as_deref(), lo, hi);
    if ids.is_some() || lead_id.is_some() || by_created || by_value {
        sel = sel.filter(table, |r| {
            ids.as_ref().is_none_or(|ids| ids.iter().any(|id| *id == *r.id))
                && lead_id.is_none_or(|l| r.lead_id.as_deref() == Some(l))
                && created.contains(&r.created)
                && (!by_value || {
                    let v = r.value();
                    let is = |key: &str, want: Option<&str>| want.is_none_or(|w| v.get(key) == Some(&w.into()));
                    is_complete.is_none_or(|c| v.get("is_complete") == Some(&c.into()))
                        && is("assigned_to", assigned_to)
                        && is("view", view)
                        && days.iter().all(|d| d.accepts(&v))
                })
        });
    }
    let (sel, order) = match order_by {
        None => (sel, Order::Desc),
        Some(("date_created", order)) => (sorted(table, &sel, |r| r.created), order),
        Some((_, order)) => (sorted(table, &sel, |r| day_of(r, "date")), order),
    };
    Ok(offset_page(table, &sel, order, skip, limit, &params.fields()))
}

/// The date-only `field` of a task as midnight UTC; tasks without one sort first.
fn day_of(row: &Row, field: &str) -> Micros {
    row.value().get(field).and_then(Value::as_str).and_then(parse_micros).unwrap_or(Micros::MIN)
}
