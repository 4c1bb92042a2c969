//! The custom field listings, `GET /custom_field/<object type>/` (a shared field shows up under `shared/` and
//! under every object type it is associated with, so ids repeat across endpoints), and the offset paging of the
//! small listings (custom fields, users), which have no date filter.

use super::params::Params;
use super::respond::{ApiError, offset_envelope};
use crate::config::SimConfig;
use crate::store::{Row, Store};

const MAX_LIMIT: usize = 100;

/// The endpoints under `/custom_field/`.
pub const CUSTOM_FIELD_TYPES: [&str; 6] =
    ["lead", "contact", "opportunity", "activity", "custom_object_type", "shared"];

pub fn custom_fields(
    store: &Store,
    config: &SimConfig,
    params: &Params,
    object_type: &str,
) -> Result<String, ApiError> {
    page(&store.custom_fields_for(object_type), config, params)
}

/// One `_skip`/`_limit` page of `rows`.
pub fn page(rows: &[&Row], config: &SimConfig, params: &Params) -> Result<String, ApiError> {
    let (skip, limit) = params.paging(MAX_LIMIT, MAX_LIMIT, config.max_skip)?;
    let page: Vec<&Row> = rows.iter().skip(skip).take(limit).copied().collect();
    Ok(offset_envelope(&page, skip.saturating_add(page.len()) < rows.len(), &params.fields()))
}
