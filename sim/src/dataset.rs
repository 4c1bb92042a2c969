//! The record collections a simulator serves: what [`SimHandle::start`](crate::SimHandle::start) loads and
//! [`SimHandle::snapshot`](crate::SimHandle::snapshot) returns. Records are plain JSON objects shaped like Close's.
//!
//! Also reads recorded Close streams (`real-records.jsonl`: one `{"stream": .., "record": ..}` per line).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::Value;

/// Every record the simulator serves, one collection per close-lake table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    /// Activities of every type (`_type` Call, Email, Note, ...).
    pub activities: Vec<Value>,
    /// Custom field definitions with the endpoint they are listed under: `lead`, `contact`, `opportunity`,
    /// `activity` or `shared`. A `shared` field is also listed under each `associations[].object_type`.
    pub custom_fields: Vec<(String, Value)>,
    /// Event-log records (naive timestamps).
    pub events: Vec<Value>,
    /// Leads with nested contacts and opportunities.
    pub leads: Vec<Value>,
    /// Opportunities as `/opportunity/` lists them: generated as the copies leads embed, then changed
    /// on their own by mutations.
    pub opportunities: Vec<Value>,
    /// Contacts as `/contact/` and search list them: generated as the copies leads embed, then changed on
    /// their own by mutations.
    pub contacts: Vec<Value>,
    /// Custom object instances (each with `custom_object_type_id` and `lead_id`).
    pub custom_objects: Vec<Value>,
    /// The configuration listings by close-lake table (`lead_statuses`, `pipelines`, `roles`, ...).
    pub configuration: BTreeMap<String, Vec<Value>>,
    /// Tasks of every type (`_type` lead, email_followup, ...).
    pub tasks: Vec<Value>,
    /// Every user, active or deactivated (an exporter must export both); the first one answers `/me/`.
    pub users: Vec<Value>,
    /// Ids of the deactivated users: `GET /user/` omits them, `GET /organization/<id>/` lists them under
    /// `inactive_memberships`, `GET /user/<id>/` still answers them, and records keep referring to them.
    pub deactivated_users: Vec<String>,
}

impl Dataset {
    /// The activities a `GET /activity/` without `thread_emails` lists: every one except `EmailThread`s
    /// (`thread_emails=true` lists them all, `thread_emails=only` every one except `Email`s).
    pub fn activities_visible_by_default(&self) -> Vec<&Value> {
        self.activities.iter().filter(|a| a.get("_type").and_then(Value::as_str) != Some("EmailThread")).collect()
    }

    /// The users `GET /user/` lists: every one not deactivated.
    pub fn active_users(&self) -> Vec<&Value> {
        let active = |u: &&Value| {
            let id = u.get("id").and_then(Value::as_str).unwrap_or_default();
            !self.deactivated_users.iter().any(|d| d == id)
        };
        self.users.iter().filter(active).collect()
    }

    /// Reads recorded streams: `*_activities` (except `custom_activities`, which are activity type definitions)
    /// become activities, `*_tasks` tasks, `<type>_custom_fields` custom fields of that object type, and `leads`,
    /// `opportunities`, `events`, `users` their tables (no user is deactivated). Other streams are ignored, and so are lines that
    /// are not JSON objects.
    pub fn from_real_records(path: &Path) -> std::io::Result<Dataset> {
        let file = std::fs::File::open(path)?;
        let mut dataset = Dataset::default();
        for line in BufReader::new(file).lines() {
            let line = line?;
            let Ok(Value::Object(mut line)) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            let (Some(Value::String(stream)), Some(record)) = (line.remove("stream"), line.remove("record")) else {
                continue;
            };
            dataset.add_stream_record(&stream, record);
        }
        Ok(dataset)
    }

    fn add_stream_record(&mut self, stream: &str, record: Value) {
        if !record.is_object() {
            return;
        }
        match stream {
            "leads" => self.leads.push(record),
            "opportunities" => self.opportunities.push(record),
            "contacts" => self.contacts.push(record),
            "custom_activities" => self.configuration.entry("custom_activity_types".into()).or_default().push(record),
            "email_sequences" => self.configuration.entry("sequences".into()).or_default().push(record),
            "roles" | "lead_statuses" | "opportunity_statuses" | "pipelines" | "email_templates" | "smart_views" => {
                self.configuration.entry(stream.into()).or_default().push(record)
            }
            "events" => self.events.push(record),
            "users" => self.users.push(record),
            s if s.ends_with("_activities") => self.activities.push(record),
            s if s.ends_with("_tasks") => self.tasks.push(record),
            s => {
                if let Some(object_type) = s.strip_suffix("_custom_fields") {
                    self.custom_fields.push((object_type.to_string(), record));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_streams_to_tables() {
        let mut d = Dataset::default();
        for (stream, id) in [
            ("call_activities", "acti_1"),
            ("custom_activities", "actitype_1"),
            ("lead_tasks", "task_1"),
            ("email_followup_tasks", "noti_1"),
            ("contact_custom_fields", "cf_1"),
            ("leads", "lead_1"),
            ("events", "ev_1"),
            ("users", "user_1"),
            ("roles", "role_1"),
        ] {
            d.add_stream_record(stream, json!({ "id": id }));
        }
        assert_eq!(d.activities, vec![json!({"id": "acti_1"})]);
        assert_eq!(d.tasks.len(), 2);
        assert_eq!(d.custom_fields, vec![("contact".to_string(), json!({"id": "cf_1"}))]);
        assert_eq!((d.leads.len(), d.events.len(), d.users.len()), (1, 1, 1));
    }

    #[test]
    fn reads_the_shared_recording_when_present() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/close-samples/real-records.jsonl");
        let Ok(d) = Dataset::from_real_records(&path) else {
            return; // the recording lives outside the repository
        };
        assert!(d.activities.len() >= 20);
        assert!(d.activities.iter().all(|a| a["id"].as_str().is_some_and(|id| id.starts_with("acti_"))));
        assert!(d.tasks.iter().any(|t| t["_type"] != "lead"));
        assert!(!d.leads.is_empty() && !d.users.is_empty() && !d.events.is_empty());
    }
}
