//! Who the key is, learned before any table starts: `GET /me/` (which also proves the key), then
//! `GET /organization/<id>/` for each of its organizations.
//!
//! From the memberships come the key's role and the users who are only inactive members:
//! Close lists deactivated users in `inactive_memberships` and at `/user/<id>/`, never at `/user/`,
//! yet activities, leads and tasks keep referring to them. A non-admin key sees event `data` and
//! `previous_data` only for events under an hour old, so the role is worth a warning.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ApiError, Client};
use crate::report::Counters;
use crate::time::{self, Micros};

/// The role Close gives administrators of an organization.
const ADMIN_ROLE: &str = "admin";

/// What the key can see of the account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Account {
    /// The key's user.
    pub user_id: String,
    /// The key's role in its organizations (`admin`, `superuser`, `user`, a custom role id), when
    /// the memberships could be read.
    pub role: Option<String>,
    /// Users who are inactive members only (deactivated), in id order.
    pub inactive_user_ids: Vec<String>,
    /// Close's clock when the run started (its `Date` header), else this machine's.
    pub server_now: Micros,
}

impl Account {
    /// Asks Close who the key is. A bad key fails here, once, before any table starts.
    pub async fn fetch(client: &Client, counters: &Counters) -> Result<Account, ApiError> {
        let me: Me = parse("me/", &client.get("me/", &[], counters).await?)?;
        let server_now = client.server_time().unwrap_or_else(time::now);
        let mut account = Account { user_id: me.id.clone(), server_now, ..Account::default() };
        let mut active = Vec::new();
        for organization in me.organizations.iter().filter_map(organization_id) {
            let path = format!("organization/{organization}/");
            let organization: Organization = match client.get(&path, &[], counters).await {
                Ok(body) => parse(&path, &body)?,
                Err(err) if err.is_unavailable() => {
                    tracing::warn!("{err}: the key's role and deactivated users are unknown");
                    continue;
                }
                Err(err) => return Err(err),
            };
            for member in &organization.memberships {
                // Admin of any one organization sees that organization's event data: prefer it.
                if member.user_id == me.id && account.role.as_deref() != Some(ADMIN_ROLE) && member.role_id.is_some() {
                    account.role = member.role_id.clone();
                }
                active.push(member.user_id.clone());
            }
            account.inactive_user_ids.extend(organization.inactive_memberships.into_iter().map(|m| m.user_id));
        }
        account.inactive_user_ids.retain(|id| !active.contains(id));
        account.inactive_user_ids.sort();
        account.inactive_user_ids.dedup();
        Ok(account)
    }

    /// Whether the key is known to lack an admin role (and so the older event data).
    pub fn is_known_non_admin(&self) -> bool {
        self.role.as_deref().is_some_and(|role| role != ADMIN_ROLE)
    }

    /// What `status` shows of the key, kept in the lake by each export.
    pub fn note(&self) -> KeyNote {
        KeyNote {
            role: self.role.clone(),
            event_data_limited: self.is_known_non_admin(),
            inactive_users: self.inactive_user_ids.len(),
            seen_at: time::format_rfc3339(self.server_now),
        }
    }

    /// The one warning a non-admin key gets.
    pub fn role_warning(&self) -> Option<String> {
        self.is_known_non_admin().then(|| {
            format!(
                "the API key's user has role `{}`, not admin: Close returns event `data` and `previous_data` only \
                 for events under an hour old, so older event_log rows land without them. Use an admin's key to keep them",
                self.role.as_deref().unwrap_or_default()
            )
        })
    }
}

/// The key as the last export saw it (`_close_lake/account.json`, `status --json`'s `api_key`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyNote {
    pub role: Option<String>,
    /// Whether event `data`/`previous_data` older than an hour are missing (a non-admin key).
    pub event_data_limited: bool,
    /// Deactivated users read through the organization's memberships.
    pub inactive_users: usize,
    pub seen_at: String,
}

#[derive(Debug, Deserialize)]
struct Me {
    id: String,
    #[serde(default)]
    organizations: Vec<Value>,
}

#[derive(Debug, Deserialize)]
struct Organization {
    #[serde(default)]
    memberships: Vec<Membership>,
    #[serde(default)]
    inactive_memberships: Vec<Membership>,
}

#[derive(Debug, Deserialize)]
struct Membership {
    user_id: String,
    #[serde(default)]
    role_id: Option<String>,
}

/// `/me/` names its organizations by id or as objects with an `id`.
fn organization_id(value: &Value) -> Option<&str> {
    value.as_str().or_else(|| value.get("id")?.as_str())
}

fn parse<'a, T: Deserialize<'a>>(path: &str, body: &'a [u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|err| ApiError::BadResponse { path: path.to_string(), message: err.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organizations_come_as_ids_or_objects() {
        let me: Me =
            serde_json::from_str(r#"{"id": "user_1", "organizations": ["orga_1", {"id": "orga_2"}, 3]}"#).unwrap();
        let ids: Vec<_> = me.organizations.iter().filter_map(organization_id).collect();
        assert_eq!(ids, ["orga_1", "orga_2"]);
    }

    #[test]
    fn only_a_known_non_admin_role_warns() {
        let account = |role: Option<&str>| Account { role: role.map(str::to_string), ..Account::default() };
        assert!(account(Some("user")).role_warning().unwrap().contains("role `user`"));
        assert!(account(Some("admin")).role_warning().is_none());
        assert!(account(None).role_warning().is_none());
    }
}
