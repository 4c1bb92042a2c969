//! `GET /lead/` and `GET /lead/<id>/`. Leads are filtered only through `query=` (see
//! [`lead_query`](super::lead_query)); date parameters such as `date_updated__gte` are undocumented (refused, or
//! ignored so every lead comes back). The listing reads the lagging search index, `/lead/<id>/` the latest
//! version. Offset paging with `_limit` up to 200; newest `date_updated` first (ties by id) unless the query sorts.

use std::ops::{Bound, RangeBounds};

use super::lead_query::{self, LeadField, LeadQuery};
use super::params::Params;
use super::respond::{ApiError, Order, offset_page};
use crate::config::SimConfig;
use crate::store::{Selection, Store, Table};

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 200;

pub fn leads(store: &Store, config: &SimConfig, params: &Params) -> Result<String, ApiError> {
    let (skip, limit) = params.paging(DEFAULT_LIMIT, MAX_LIMIT, config.max_skip)?;
    let query = lead_query::parse(params.get("query").unwrap_or_default(), config.lead_query_precision)?;
    let table = store.lead_search();
    let (sel, order) = select(table, &query);
    Ok(offset_page(table, &sel, order, skip, limit, &params.fields()))
}

/// One lead, or Close's 404.
pub fn lead(store: &Store, params: &Params, id: &str) -> Result<String, ApiError> {
    let row = store
        .leads
        .position(id)
        .map(|p| &store.leads.rows[p])
        .ok_or_else(|| ApiError::not_found("Empty query: Lead matching query does not exist."))?;
    let mut out = String::new();
    params.fields().write(row, &mut out);
    Ok(out)
}

/// The leads `query` matches, in ascending order of its sort field, and the direction to walk them.
pub fn select<'t>(table: &'t Table, query: &LeadQuery) -> (Selection<'t>, Order) {
    let mut sel = table.select(None, query.updated.0, query.updated.1);
    let (lo, hi) = query.created;
    if !(lo == Bound::Unbounded && hi == Bound::Unbounded) {
        sel = sel.filter(table, |r| (lo, hi).contains(&r.created));
    }
    match query.sort {
        Some((LeadField::DateCreated, order)) => {
            let mut positions: Vec<u32> = (0..sel.len()).map(|i| sel.get(i) as u32).collect();
            positions.sort_by(|a, b| {
                let (a, b) = (&table.rows[*a as usize], &table.rows[*b as usize]);
                (a.created, &a.id).cmp(&(b.created, &b.id))
            });
            (Selection::Owned(positions), order)
        }
        Some((LeadField::DateUpdated, order)) => (sel, order),
        None => (sel, Order::Desc),
    }
}
