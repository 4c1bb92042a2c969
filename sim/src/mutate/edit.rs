//! The record edits behind [`apply`](super::apply): picking rows, changing fields, cloning records under fresh
//! ids, and logging one event per change.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use serde_json::{Map, Value, json};

use super::MutationReport;
use crate::generate::events::{EventSpec, event};
use crate::generate::ids::object_id;
use crate::generate::templates::{activity_template, task_template, template};
use crate::kinds::{ACTIVITY_KINDS, activity_by_type, task_event_object_type};
use crate::server::configuration::LISTINGS;
use crate::store::{CustomFieldRow, Row, Store, Table};
use crate::time::{close_ts, date_only};

/// The three indexed tables mutations change.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Activities,
    Leads,
    Opportunities,
    Contacts,
    CustomObjects,
    Tasks,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Activities => "activities",
            Kind::Leads => "leads",
            Kind::Opportunities => "opportunities",
            Kind::Contacts => "contacts",
            Kind::CustomObjects => "custom_objects",
            Kind::Tasks => "tasks",
        }
    }

    fn row(self, v: &Value) -> Row {
        match self {
            Kind::Activities => Row::new(v, "date_created", "_type"),
            Kind::Leads | Kind::Opportunities | Kind::Contacts => Row::new(v, "date_updated", ""),
            Kind::CustomObjects => Row::new(v, "date_updated", "custom_object_type_id"),
            Kind::Tasks => Row::new(v, "date_updated", "_type"),
        }
    }

    /// `object_type` of the events about `v`.
    fn object_type(self, v: &Value) -> String {
        let t = v.get("_type").and_then(Value::as_str).unwrap_or_default();
        match self {
            Kind::Activities => activity_by_type(t).map_or("activity", |k| k.event_object_type).to_string(),
            Kind::Leads => "lead".to_string(),
            Kind::Opportunities => "opportunity".to_string(),
            Kind::Contacts => "contact".to_string(),
            Kind::CustomObjects => "custom_object".to_string(),
            Kind::Tasks => task_event_object_type(t),
        }
    }

    /// The lead an event about `v` refers to.
    fn lead_id(self, v: &Value) -> Option<String> {
        let field = if matches!(self, Kind::Leads) { "id" } else { "lead_id" };
        v.get(field).and_then(Value::as_str).map(str::to_string)
    }

    fn table(self, store: &mut Store) -> &mut Table {
        match self {
            Kind::Activities => &mut store.activities,
            Kind::Leads => &mut store.leads,
            Kind::Opportunities => &mut store.opportunities,
            Kind::Contacts => &mut store.contacts,
            Kind::CustomObjects => &mut store.custom_objects,
            Kind::Tasks => &mut store.tasks,
        }
    }
}

/// Applies the parts of one mutation and collects its report and events.
pub struct Editor<'a> {
    store: &'a mut Store,
    rng: &'a mut StdRng,
    at: DateTime<Utc>,
    report: BTreeMap<String, Vec<String>>,
    events: Vec<Value>,
}

impl<'a> Editor<'a> {
    pub fn new(store: &'a mut Store, rng: &'a mut StdRng, at: DateTime<Utc>) -> Editor<'a> {
        Editor { store, rng, at, report: BTreeMap::new(), events: Vec::new() }
    }

    fn at_ts(&self) -> Value {
        json!(close_ts(self.at))
    }

    pub fn update_activities(&mut self, n: usize) {
        self.update(Kind::Activities, n, |v| {
            let note = v.get("note").and_then(Value::as_str).map(|s| json!(format!("{s} (edited)")));
            note.map(|n| ("note", n)).into_iter().collect()
        });
    }

    pub fn update_leads(&mut self, n: usize) {
        let description = json!(format!("Edited by close-sim at {}", close_ts(self.at)));
        self.update(Kind::Leads, n, |_| vec![("description", description.clone())]);
    }

    /// Opportunities change on their own: the copies their leads embed stay as they were.
    pub fn update_opportunities(&mut self, n: usize) {
        self.update(Kind::Opportunities, n, |v| {
            let confidence = v.get("confidence").and_then(Value::as_i64).unwrap_or(0);
            vec![("confidence", json!((confidence + 10) % 100))]
        });
    }

    pub fn delete_opportunities(&mut self, n: usize) {
        self.delete(Kind::Opportunities, n);
    }

    /// Contacts change on their own: the copies their leads embed stay as they were.
    pub fn update_contacts(&mut self, n: usize) {
        self.update(Kind::Contacts, n, |v| vec![("title", edited(v, "title"))]);
    }

    pub fn delete_contacts(&mut self, n: usize) {
        self.delete(Kind::Contacts, n);
    }

    pub fn update_custom_objects(&mut self, n: usize) {
        self.update(Kind::CustomObjects, n, |v| vec![("name", edited(v, "name"))]);
    }

    pub fn delete_custom_objects(&mut self, n: usize) {
        self.delete(Kind::CustomObjects, n);
    }

    /// Deletes the `n` least recently updated records of `kind`, each with its event.
    fn delete(&mut self, kind: Kind, n: usize) {
        let mut picks = oldest(kind.table(self.store).rows.iter(), n);
        picks.sort_unstable_by(|a, b| b.cmp(a));
        for p in picks {
            let previous = kind.table(self.store).rows.remove(p).value();
            let lead = kind.lead_id(&previous);
            self.log("deleted", kind.name(), kind.object_type(&previous), lead, vec![], Value::Null, previous);
        }
        kind.table(self.store).reindex();
    }

    /// Edits `n` records of every configuration listing: a name (or label) gains " (edited)", or loses it
    /// when it has it, so two edits bring the content back; `date_updated` moves where the record has one.
    pub fn update_configuration(&mut self, n: usize) {
        for listing in &LISTINGS {
            let rows = self.store.configuration.entry(listing.table.to_string()).or_default();
            let mut edits = Vec::new();
            for row in rows.iter_mut().take(n) {
                let mut v = row.value();
                let field = if v.get("label").is_some() { "label" } else { "name" };
                let old = v.get(field).and_then(Value::as_str).unwrap_or_default().to_string();
                let new = old.strip_suffix(" (edited)").map_or_else(|| format!("{old} (edited)"), str::to_string);
                let mut changes = vec![(field, json!(new))];
                // Built-in roles keep their year-1 sentinel through edits.
                if v.get("date_updated").is_some_and(|d| d != "0001-01-01T00:00:00") {
                    changes.push(("date_updated", json!(close_ts(self.at))));
                }
                let (changed_fields, previous) = change(&mut v, changes);
                *row = Row::new(&v, "date_updated", "");
                edits.push((changed_fields, v, previous));
            }
            for (changed_fields, v, previous) in edits {
                self.log("updated", listing.table, listing.event_object_type.into(), None, changed_fields, v, previous);
            }
        }
    }

    /// Deletes the last `n` records of every configuration listing, each with its event.
    pub fn delete_configuration(&mut self, n: usize) {
        for listing in &LISTINGS {
            let rows = self.store.configuration.entry(listing.table.to_string()).or_default();
            let keep = rows.len().saturating_sub(n);
            let deleted: Vec<Value> = rows.split_off(keep).iter().map(Row::value).collect();
            for previous in deleted {
                self.log(
                    "deleted",
                    listing.table,
                    listing.event_object_type.into(),
                    None,
                    vec![],
                    Value::Null,
                    previous,
                );
            }
        }
    }

    pub fn update_tasks(&mut self, n: usize) {
        self.update(Kind::Tasks, n, |v| vec![("is_complete", json!(v.get("is_complete") != Some(&Value::Bool(true))))]);
    }

    /// Moves `date_updated` of the `n` least recently updated rows to `at`, plus the `extra` changes.
    fn update(&mut self, kind: Kind, n: usize, extra: impl Fn(&Value) -> Vec<(&'static str, Value)>) {
        let picks = oldest(kind.table(self.store).rows.iter(), n);
        for &p in &picks {
            let mut v = kind.table(self.store).rows[p].value();
            let mut changes = vec![("date_updated", self.at_ts())];
            changes.extend(extra(&v));
            let (changed_fields, previous) = change(&mut v, changes);
            kind.table(self.store).rows[p] = kind.row(&v);
            self.log("updated", kind.name(), kind.object_type(&v), kind.lead_id(&v), changed_fields, v, previous);
        }
        if !picks.is_empty() {
            kind.table(self.store).reindex();
        }
    }

    pub fn new_activities(&mut self, n: usize) {
        for k in 0..n {
            let kind = ACTIVITY_KINDS[k % ACTIVITY_KINDS.len()];
            let types = [kind.type_name.to_string()];
            let table = &self.store.activities;
            let existing = table.select(Some(&types), std::ops::Bound::Unbounded, std::ops::Bound::Unbounded);
            let mut v = match existing.len() {
                0 => Value::Object(activity_template(kind.type_name)),
                len => table.rows[existing.get(k / ACTIVITY_KINDS.len() % len)].value(),
            };
            self.insert(Kind::Activities, &mut v, "acti_", &["date_created", "date_updated", "activity_at"]);
        }
        self.store.activities.reindex();
    }

    pub fn new_tasks(&mut self, n: usize) {
        let types = ["lead".to_string()];
        for k in 0..n {
            let table = &self.store.tasks;
            let existing = table.select(Some(&types), std::ops::Bound::Unbounded, std::ops::Bound::Unbounded);
            let mut v = match existing.len() {
                0 => Value::Object(task_template("lead")),
                len => table.rows[existing.get(k % len)].value(),
            };
            set(&mut v, "is_complete", json!(false));
            for key in ["date", "due_date"] {
                if v.get(key).is_some_and(|d| !d.is_null()) {
                    set(&mut v, key, json!(date_only(self.at)));
                }
            }
            self.insert(Kind::Tasks, &mut v, "task_", &["date_created", "date_updated"]);
        }
        self.store.tasks.reindex();
    }

    pub fn new_leads(&mut self, n: usize) {
        for k in 0..n {
            let rows = &self.store.leads.rows;
            let mut v = match rows.len() {
                0 => Value::Object(template("lead.json")),
                len => rows[k % len].value(),
            };
            let id = self.fresh_id(Kind::Leads, "lead_");
            let name = format!("Sim Lead {}", &id[5..13]);
            for key in ["name", "display_name"] {
                set(&mut v, key, json!(name));
            }
            set(&mut v, "html_url", json!(format!("https://app.close.com/lead/{id}/")));
            for (list, prefix) in [("contacts", "cont_"), ("opportunities", "oppo_")] {
                if let Some(Value::Array(items)) = v.get_mut(list) {
                    for item in items.iter_mut() {
                        set(item, "id", json!(object_id(self.rng, prefix)));
                        set(item, "lead_id", json!(id));
                        for key in ["date_created", "date_updated"] {
                            set(item, key, json!(close_ts(self.at)));
                        }
                        if item.get("lead_name").is_some() {
                            set(item, "lead_name", json!(name));
                        }
                    }
                }
            }
            set(&mut v, "id", json!(id));
            for (list, kind, prefix) in
                [("opportunities", Kind::Opportunities, "oppo_"), ("contacts", Kind::Contacts, "cont_")]
            {
                let embedded = v.get(list).and_then(Value::as_array).cloned().unwrap_or_default();
                for mut item in embedded {
                    self.insert(kind, &mut item, prefix, &["date_created", "date_updated"]);
                }
            }
            self.insert(Kind::Leads, &mut v, "lead_", &["date_created", "date_updated"]);
        }
        self.store.leads.reindex();
        self.store.opportunities.reindex();
        self.store.contacts.reindex();
    }

    /// Appends `v` under a fresh id (unless it already got one) with `date_fields` set to `at`. Appending keeps
    /// existing positions valid; the caller reindexes once per batch.
    fn insert(&mut self, kind: Kind, v: &mut Value, prefix: &str, date_fields: &[&str]) {
        let has_fresh_id = v
            .get("id")
            .and_then(Value::as_str)
            .is_some_and(|id| id.starts_with(prefix) && kind.table(self.store).position(id).is_none());
        if !has_fresh_id {
            let id = self.fresh_id(kind, prefix);
            set(v, "id", json!(id));
        }
        for key in date_fields {
            set(v, key, self.at_ts());
        }
        kind.table(self.store).rows.push(kind.row(v));
        self.log("created", kind.name(), kind.object_type(v), kind.lead_id(v), vec![], v.clone(), Value::Null);
    }

    pub fn delete_leads(&mut self, n: usize) {
        let mut picks = oldest(self.store.leads.rows.iter(), n);
        picks.sort_unstable_by(|a, b| b.cmp(a));
        for p in picks {
            let previous = self.store.leads.rows.remove(p).value();
            let id = Kind::Leads.lead_id(&previous);
            // Deleting a lead deletes its opportunities, contacts and custom objects, each with its own event.
            for kind in [Kind::Opportunities, Kind::Contacts, Kind::CustomObjects] {
                let mut owned: Vec<usize> = (0..kind.table(self.store).rows.len())
                    .filter(|&o| kind.table(self.store).rows[o].lead_id.as_deref() == id.as_deref())
                    .collect();
                owned.sort_unstable_by(|a, b| b.cmp(a));
                for o in owned {
                    let record = kind.table(self.store).rows.remove(o).value();
                    self.log(
                        "deleted",
                        kind.name(),
                        kind.object_type(&record),
                        id.clone(),
                        vec![],
                        Value::Null,
                        record,
                    );
                }
            }
            self.log("deleted", "leads", "lead".into(), id, vec![], Value::Null, previous);
        }
        self.store.leads.reindex();
        for kind in [Kind::Opportunities, Kind::Contacts, Kind::CustomObjects] {
            kind.table(self.store).reindex();
        }
    }

    pub fn update_users(&mut self, n: usize) {
        for p in oldest(self.store.users.iter(), n) {
            let mut v = self.store.users[p].value();
            let tz = if v.get("last_used_timezone") == Some(&json!("UTC")) { "Europe/Berlin" } else { "UTC" };
            let (changed, previous) =
                change(&mut v, vec![("date_updated", self.at_ts()), ("last_used_timezone", json!(tz))]);
            self.store.users[p] = Row::new(&v, "date_updated", "");
            self.log("updated", "users", "user".into(), None, changed, v, previous);
        }
    }

    pub fn update_custom_fields(&mut self, n: usize) {
        let description = json!(format!("Edited by close-sim at {}", close_ts(self.at)));
        for p in oldest(self.store.custom_fields.iter().map(|f| &f.row), n) {
            let field = &self.store.custom_fields[p];
            let (object_type, mut v) = (field.object_type.clone(), field.row.value());
            let changes = vec![("date_updated", self.at_ts()), ("description", description.clone())];
            let (changed, previous) = change(&mut v, changes);
            self.store.custom_fields[p] = CustomFieldRow::new(object_type.clone(), &v);
            let event_type = format!("custom_field.{object_type}");
            self.log("updated", "custom_fields", event_type, None, changed, v, previous);
        }
    }

    pub fn new_custom_fields(&mut self, n: usize) {
        for _ in 0..n {
            let mut id = object_id(self.rng, "cf_");
            while self.store.custom_fields.iter().any(|f| *f.row.id == *id) {
                id = object_id(self.rng, "cf_");
            }
            let mut v = Value::Object(template("custom_field_lead.json"));
            let fields = [
                ("id", json!(id)),
                ("name", json!(format!("Sim Field {}", &id[3..11]))),
                ("type", json!("text")),
                ("choices", Value::Null),
                ("date_created", self.at_ts()),
                ("date_updated", self.at_ts()),
            ];
            for (key, value) in fields {
                set(&mut v, key, value);
            }
            self.store.custom_fields.push(CustomFieldRow::new("lead".into(), &v));
            self.log("created", "custom_fields", "custom_field.lead".into(), None, vec![], v, Value::Null);
        }
    }

    /// Appends the collected events to the event log and returns the report.
    pub fn finish(self) -> MutationReport {
        if !self.events.is_empty() {
            let rows = self.events.iter().map(|e| Row::new(e, "date_updated", "object_type"));
            self.store.events.rows.extend(rows);
            self.store.events.reindex();
        }
        MutationReport { changed_ids: self.report }
    }

    fn fresh_id(&mut self, kind: Kind, prefix: &str) -> String {
        loop {
            let id = object_id(self.rng, prefix);
            if kind.table(self.store).position(&id).is_none() {
                return id;
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn log(
        &mut self,
        action: &'static str,
        table: &str,
        object_type: String,
        lead_id: Option<String>,
        changed_fields: Vec<String>,
        data: Value,
        previous_data: Value,
    ) {
        let source = if data.is_null() { &previous_data } else { &data };
        let object_id = source.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
        let user_id = source.get("updated_by").and_then(Value::as_str).map(str::to_string);
        self.report.entry(table.to_string()).or_default().push(object_id.clone());
        let spec = EventSpec {
            action,
            object_type,
            object_id,
            lead_id,
            user_id,
            changed_fields,
            data,
            previous_data,
            date_created: self.at,
            date_updated: self.at,
        };
        let e = event(self.rng, spec);
        let event_id = e.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
        self.report.entry("event_log".to_string()).or_default().push(event_id);
        self.events.push(e);
    }
}

/// Positions of the `n` rows with the oldest `date_updated` (ties by id).
fn oldest<'r>(rows: impl Iterator<Item = &'r Row>, n: usize) -> Vec<usize> {
    let mut order: Vec<(i64, &str, usize)> = rows.enumerate().map(|(i, r)| (r.updated, &*r.id, i)).collect();
    order.sort_unstable();
    order.into_iter().take(n).map(|(_, _, i)| i).collect()
}

/// Applies `changes` to the object `v`; returns the changed field names and their previous values.
fn change(v: &mut Value, changes: Vec<(&'static str, Value)>) -> (Vec<String>, Value) {
    let mut previous = Map::new();
    let mut names = Vec::new();
    if let Value::Object(map) = v {
        for (key, new) in changes {
            previous.insert(key.to_string(), map.insert(key.to_string(), new).unwrap_or(Value::Null));
            names.push(key.to_string());
        }
    }
    (names, Value::Object(previous))
}

/// `v[field]` (a string) with " (edited)" appended.
fn edited(v: &Value, field: &str) -> Value {
    json!(format!("{} (edited)", v.get(field).and_then(Value::as_str).unwrap_or_default()))
}

fn set(v: &mut Value, key: &str, value: Value) {
    if let Value::Object(map) = v {
        map.insert(key.to_string(), value);
    }
}
