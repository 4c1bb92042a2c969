//! The small listings: `GET /custom_field/<object type>/` (a shared field shows up under `shared/` and under
//! every object type it is associated with, so ids repeat across endpoints), `GET /user/` and `GET /me/`.
//! Offset paging; date parameters are ignored, as Close does.

use serde_json::{Value, json};

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

pub fn users(store: &Store, config: &SimConfig, params: &Params) -> Result<String, ApiError> {
    let rows: Vec<&Row> = store.users.iter().collect();
    page(&rows, config, params)
}

/// The first user, with its organizations as objects.
pub fn me(store: &Store) -> Result<String, ApiError> {
    let mut user = store.users.first().map(Row::value).unwrap_or_else(|| json!({"id": null}));
    let orgs: Vec<Value> = user
        .get("organizations")
        .and_then(Value::as_array)
        .map(|ids| {
            let ids = ids
                .iter()
                .filter_map(|o| o.as_str().map(str::to_string).or_else(|| o.get("id")?.as_str().map(str::to_string)));
            ids.map(|id| json!({"id": id, "name": "Simulated Organization"})).collect()
        })
        .unwrap_or_default();
    if let Value::Object(map) = &mut user {
        map.insert("organizations".into(), Value::Array(orgs));
    }
    Ok(user.to_string())
}

fn page(rows: &[&Row], config: &SimConfig, params: &Params) -> Result<String, ApiError> {
    let (skip, limit) = params.paging(MAX_LIMIT, MAX_LIMIT, config.max_skip)?;
    let page: Vec<&Row> = rows.iter().skip(skip).take(limit).copied().collect();
    Ok(offset_envelope(&page, rows.len(), skip, &params.fields()))
}
