//! Changes to a live simulator between two exporter runs: updates (`date_updated` moves to `at`), inserts
//! (fresh ids, created and updated at `at`) and lead deletes, each recorded in the event log as Close does
//! (`action` updated/created/deleted, naive timestamps equal to `at`, `data` null and `previous_data` the
//! object on deletes).
//!
//! Records are picked deterministically: updates and deletes take the rows least recently updated (ties by
//! id), so repeated mutations walk through the table; inserts clone an existing record of the table (or a
//! template when the table is empty). Deleting a lead removes only the lead, not its activities or tasks.
//!
//! A mutation marked `index_delayed` leaves the lead search index behind until it is flushed (see
//! `store/lead_index.rs`).

mod edit;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::store::Store;
use edit::Editor;

/// What to change; every count defaults to 0 and `at` to now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Mutation {
    /// The instant of every change: new `date_updated` values and event timestamps.
    pub at: DateTime<Utc>,
    pub update_activities: usize,
    pub new_activities: usize,
    pub update_leads: usize,
    pub new_leads: usize,
    pub delete_leads: usize,
    /// Opportunities change on their own: their leads' embedded copies stay as they were.
    pub update_opportunities: usize,
    pub delete_opportunities: usize,
    /// Contacts change on their own: their leads' embedded copies stay as they were.
    pub update_contacts: usize,
    pub delete_contacts: usize,
    pub update_custom_objects: usize,
    pub delete_custom_objects: usize,
    /// Records edited in every configuration listing (statuses, pipelines, roles, ...): a second edit of
    /// the same records brings their content back.
    pub update_configuration: usize,
    /// Records deleted from the end of every configuration listing.
    pub delete_configuration: usize,
    pub update_tasks: usize,
    pub new_tasks: usize,
    pub update_users: usize,
    pub update_custom_fields: usize,
    /// New custom fields are lead fields.
    pub new_custom_fields: usize,
    /// The lead search index lags this mutation: the lead versions it writes stay out of `GET /lead/` and
    /// `POST /data/search/` (which keep showing the previous version, or nothing for a new lead) until
    /// `SimHandle::flush_lead_index`. `GET /lead/<id>/` and snapshots show them at once.
    pub index_delayed: bool,
}

impl Default for Mutation {
    fn default() -> Self {
        Mutation {
            at: Utc::now(),
            update_activities: 0,
            new_activities: 0,
            update_leads: 0,
            new_leads: 0,
            delete_leads: 0,
            update_opportunities: 0,
            delete_opportunities: 0,
            update_contacts: 0,
            delete_contacts: 0,
            update_custom_objects: 0,
            delete_custom_objects: 0,
            update_configuration: 0,
            delete_configuration: 0,
            update_tasks: 0,
            new_tasks: 0,
            update_users: 0,
            update_custom_fields: 0,
            new_custom_fields: 0,
            index_delayed: false,
        }
    }
}

/// The ids a mutation touched, by table (`activities`, `custom_fields`, `leads`, `tasks`, `users`, and
/// `event_log` for the events it appended). Deleted lead ids are listed under `leads` too.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MutationReport {
    pub changed_ids: BTreeMap<String, Vec<String>>,
}

/// Applies `m` to `store`, drawing new ids from `rng`.
pub fn apply(store: &mut Store, rng: &mut StdRng, m: &Mutation) -> MutationReport {
    if m.index_delayed {
        store.hold_lead_index();
    }
    let mut ed = Editor::new(store, rng, m.at);
    ed.update_activities(m.update_activities);
    ed.new_activities(m.new_activities);
    ed.update_leads(m.update_leads);
    ed.new_leads(m.new_leads);
    ed.delete_leads(m.delete_leads);
    ed.update_opportunities(m.update_opportunities);
    ed.delete_opportunities(m.delete_opportunities);
    ed.update_contacts(m.update_contacts);
    ed.delete_contacts(m.delete_contacts);
    ed.update_custom_objects(m.update_custom_objects);
    ed.delete_custom_objects(m.delete_custom_objects);
    ed.update_configuration(m.update_configuration);
    ed.delete_configuration(m.delete_configuration);
    ed.update_tasks(m.update_tasks);
    ed.new_tasks(m.new_tasks);
    ed.update_users(m.update_users);
    ed.update_custom_fields(m.update_custom_fields);
    ed.new_custom_fields(m.new_custom_fields);
    let report = ed.finish();
    if !m.index_delayed
        && let Some(ids) = report.changed_ids.get("leads")
    {
        store.publish_leads(ids);
    }
    report
}
