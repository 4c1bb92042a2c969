//! Users and their organization: `GET /user/` (active users only), `GET /user/<id>/` (any user, deactivated ones
//! too), `GET /me/` (the first user, with its organizations as objects and its memberships, whose `role_id`
//! follows `admin_key`), and `GET /organization/<id>/` with `memberships` and `inactive_memberships` (user data
//! prefixed with `user_`, as Close's reference shows). Every other user's role is `user`.

use serde_json::{Value, json};

use super::params::Params;
use super::respond::ApiError;
use super::small::page;
use crate::config::SimConfig;
use crate::store::{Row, Store};

/// The name of every simulated organization.
pub const ORGANIZATION_NAME: &str = "Simulated Organization";

pub fn users(store: &Store, config: &SimConfig, params: &Params) -> Result<String, ApiError> {
    let rows: Vec<&Row> = store.users.iter().filter(|r| !store.is_deactivated(&r.id)).collect();
    page(&rows, config, params)
}

/// One user, active or deactivated, or Close's 404.
pub fn user(store: &Store, params: &Params, id: &str) -> Result<String, ApiError> {
    let row = store
        .users
        .iter()
        .find(|r| &*r.id == id)
        .ok_or_else(|| ApiError::not_found("Empty query: User matching query does not exist."))?;
    let mut out = String::new();
    params.fields().write(row, &mut out);
    Ok(out)
}

/// The key's user: the first one.
pub fn me(store: &Store, config: &SimConfig, params: &Params) -> Result<String, ApiError> {
    let mut user = store.users.first().map(Row::value).unwrap_or_else(|| json!({"id": null}));
    let orgs = organization_ids(&user);
    let user_id = user.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
    let role = role_id(config, true);
    if let Value::Object(map) = &mut user {
        let objects = orgs.iter().map(|id| json!({"id": id, "name": ORGANIZATION_NAME})).collect();
        map.insert("organizations".into(), Value::Array(objects));
        let memberships = orgs
            .iter()
            .map(|org| {
                json!({"id": membership_id(&user_id), "organization_id": org, "user_id": user_id, "role_id": role,
                    "permissions_granted": [], "auto_record_calls": "unset", "track_email_opens": true})
            })
            .collect();
        map.insert("memberships".into(), Value::Array(memberships));
    }
    Ok(params.fields().project(user).to_string())
}

/// The organization `id` with its active and inactive memberships, or Close's 404.
pub fn organization(store: &Store, config: &SimConfig, params: &Params, id: &str) -> Result<String, ApiError> {
    let members: Vec<Value> =
        store.users.iter().map(Row::value).filter(|u| organization_ids(u).iter().any(|o| o == id)).collect();
    if members.is_empty() {
        return Err(ApiError::not_found("Empty query: Organization matching query does not exist."));
    }
    let me = store.users.first().map(|r| &*r.id);
    let created = members.iter().filter_map(|u| u.get("date_created")?.as_str()).min().map(str::to_string);
    let (mut active, mut inactive) = (Vec::new(), Vec::new());
    for user in &members {
        let user_id = user.get("id").and_then(Value::as_str).unwrap_or_default();
        let membership = membership(user, role_id(config, Some(user_id) == me));
        if store.is_deactivated(user_id) { inactive.push(membership) } else { active.push(membership) }
    }
    let org = json!({"id": id, "name": ORGANIZATION_NAME, "created_by": null, "updated_by": null,
        "date_created": created, "date_updated": created, "memberships": active, "inactive_memberships": inactive});
    Ok(params.fields().project(org).to_string())
}

/// A membership as `GET /organization/<id>/` lists it.
fn membership(user: &Value, role: &str) -> Value {
    let text = |key: &str| user.get(key).and_then(Value::as_str).unwrap_or_default();
    let full_name = format!("{} {}", text("first_name"), text("last_name")).trim().to_string();
    json!({
        "id": membership_id(text("id")),
        "user_id": text("id"),
        "user_email": text("email"),
        "user_first_name": text("first_name"),
        "user_last_name": text("last_name"),
        "user_full_name": full_name,
        "user_phone": null,
        "role_id": role,
        "permissions_granted": [],
        "auto_record_calls": "unset",
        "track_email_opens": true,
    })
}

fn role_id(config: &SimConfig, is_me: bool) -> &'static str {
    if is_me && config.admin_key { "admin" } else { "user" }
}

/// `memb_` and the user id's suffix: one stable membership per user.
fn membership_id(user_id: &str) -> String {
    format!("memb_{}", user_id.strip_prefix("user_").unwrap_or(user_id))
}

/// The organization ids of a user record (`organizations` holds ids, or objects with an `id`).
fn organization_ids(user: &Value) -> Vec<String> {
    let ids = user.get("organizations").and_then(Value::as_array).into_iter().flatten();
    ids.filter_map(|o| o.as_str().or_else(|| o.get("id")?.as_str()).map(str::to_string)).collect()
}
