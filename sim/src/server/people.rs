//! `GET /contact/` (offset pages, `lead_id` the only filter, no documented order: newest `date_updated` first
//! here, so a change during a read shifts the pages of a reader that relies on it) and `GET /custom_object/`
//! (`lead_id` required, `custom_object_type_id` optional, no paging: every instance of the lead at once).
//! Listing every contact or custom object by change is `POST /data/search/`'s work.

use std::ops::Bound;

use super::params::Params;
use super::respond::{ApiError, Order, offset_envelope, offset_page};
use crate::config::SimConfig;
use crate::store::{Row, Store};

const MAX_LIMIT: usize = 100;

pub fn contacts(store: &Store, config: &SimConfig, params: &Params) -> Result<String, ApiError> {
    let (skip, limit) = params.paging(MAX_LIMIT, MAX_LIMIT, config.max_skip)?;
    let table = &store.contacts;
    let mut sel = table.select(None, Bound::Unbounded, Bound::Unbounded);
    if let Some(lead) = params.get("lead_id") {
        sel = sel.filter(table, |r| r.lead_id.as_deref() == Some(lead));
    }
    Ok(offset_page(table, &sel, Order::Desc, skip, limit, &params.fields()))
}

pub fn custom_objects(store: &Store, params: &Params) -> Result<String, ApiError> {
    let lead = params.get("lead_id").ok_or_else(|| ApiError::field("lead_id", "Missing data for required field."))?;
    let kind = params.get("custom_object_type_id");
    let rows: Vec<&Row> = store
        .custom_objects
        .rows
        .iter()
        .filter(|r| r.lead_id.as_deref() == Some(lead) && kind.is_none_or(|k| *r.kind == *k))
        .collect();
    Ok(offset_envelope(&rows, false, &params.fields()))
}
