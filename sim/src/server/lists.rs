//! `GET /activity/` (all types), `GET /activity/<type>/` (one type) and `GET /task/`, offset-paged and
//! filtered by their replication key. The `/task/` trap lives here: without `_type` only `lead` tasks are
//! listed; `_type=all` lists every type, `_type=<t>` one, `_type__in=a,b` several.

use super::params::{Params, RangeOps};
use super::respond::{ApiError, Order, offset_page};
use crate::config::SimConfig;
use crate::kinds::ActivityKind;
use crate::store::Store;

const MAX_LIMIT: usize = 100;

/// Activities by `date_created` (`__gt/__gte/__lt/__lte`), optionally of one type and one `lead_id`.
/// Newest first unless `_order_by=date_created`.
pub fn activities(
    store: &Store,
    config: &SimConfig,
    params: &Params,
    kind: Option<&ActivityKind>,
) -> Result<String, ApiError> {
    let (skip, limit) = params.paging(MAX_LIMIT, MAX_LIMIT, config.max_skip)?;
    let (lo, hi) = params.range("date_created", RangeOps { strict: true })?;
    let order = params.order("date_created", Order::Desc)?;
    let kinds = kind.map(|k| vec![k.type_name.to_string()]);
    let table = &store.activities;
    let mut sel = table.select(kinds.as_deref(), lo, hi);
    if let Some(lead_id) = params.get("lead_id") {
        sel = sel.filter(table, |r| r.lead_id.as_deref() == Some(lead_id));
    }
    Ok(offset_page(table, &sel, order, skip, limit, &params.fields()))
}

/// Tasks by `date_updated` (`__gt/__gte/__lt/__lte`), of the types `_type`/`_type__in` ask for (only `lead`
/// when neither is given). Newest first unless `_order_by=date_updated`.
pub fn tasks(store: &Store, config: &SimConfig, params: &Params) -> Result<String, ApiError> {
    let (skip, limit) = params.paging(MAX_LIMIT, MAX_LIMIT, config.max_skip)?;
    let (lo, hi) = params.range("date_updated", RangeOps { strict: true })?;
    let order = params.order("date_updated", Order::Desc)?;
    let kinds: Option<Vec<String>> = match (params.get("_type__in"), params.get("_type")) {
        (Some(list), _) => Some(list.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect()),
        (None, Some("all")) => None,
        (None, Some(t)) => Some(vec![t.to_string()]),
        (None, None) => Some(vec!["lead".to_string()]),
    };
    let table = &store.tasks;
    let mut sel = table.select(kinds.as_deref(), lo, hi);
    if let Some(lead_id) = params.get("lead_id") {
        sel = sel.filter(table, |r| r.lead_id.as_deref() == Some(lead_id));
    }
    Ok(offset_page(table, &sel, order, skip, limit, &params.fields()))
}
