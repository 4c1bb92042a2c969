//! Record templates: real-shaped Close records from `fixtures/sim/`, compiled into the binary with
//! `include_str!` and parsed once. The generator clones a template and overwrites ids, names and dates, so
//! every key Close sends (including the ones close-lake does not know yet) reaches the exporter.

use std::sync::LazyLock;

use serde_json::{Map, Value};

macro_rules! fixture {
    ($name:literal) => {
        ($name, include_str!(concat!("../../../fixtures/sim/", $name)))
    };
}

/// Every template file, by file name.
const FILES: &[(&str, &str)] = &[
    fixture!("activity_call.json"),
    fixture!("activity_created.json"),
    fixture!("activity_email.json"),
    fixture!("activity_emailthread.json"),
    fixture!("activity_lead_status_change.json"),
    fixture!("activity_meeting.json"),
    fixture!("activity_note.json"),
    fixture!("activity_opportunity_status_change.json"),
    fixture!("activity_sms.json"),
    fixture!("activity_task_completed.json"),
    fixture!("configuration.json"),
    fixture!("custom_field_activity.json"),
    fixture!("custom_field_contact.json"),
    fixture!("custom_field_lead.json"),
    fixture!("custom_field_opportunity.json"),
    fixture!("custom_field_shared.json"),
    fixture!("event_log.json"),
    fixture!("event_log_deleted.json"),
    fixture!("lead.json"),
    fixture!("task.json"),
    fixture!("task_email_followup.json"),
    fixture!("task_incoming_call.json"),
    fixture!("task_opportunity_due.json"),
    fixture!("user.json"),
];

static PARSED: LazyLock<Vec<(&'static str, Map<String, Value>)>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(name, text)| match serde_json::from_str(text) {
            Ok(Value::Object(map)) => (*name, map),
            _ => panic!("fixtures/sim/{name} is not a JSON object"),
        })
        .collect()
});

/// A fresh copy of the template in `fixtures/sim/<name>`.
///
/// Panics on an unknown name: templates are compiled in, so that is a bug in the generator, not bad input.
pub fn template(name: &str) -> Map<String, Value> {
    PARSED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, map)| map.clone())
        .unwrap_or_else(|| panic!("no template fixtures/sim/{name}"))
}

/// The configuration listings' records (`fixtures/sim/configuration.json`: statuses, pipelines, roles,
/// templates, ... from a real account and the reference's examples), by close-lake table.
pub fn configuration() -> &'static [(String, Value)] {
    static RECORDS: LazyLock<Vec<(String, Value)>> = LazyLock::new(|| {
        template("configuration.json")
            .into_iter()
            .flat_map(|(table, records)| {
                let records = match records {
                    Value::Array(records) => records,
                    _ => Vec::new(),
                };
                records.into_iter().map(move |r| (table.clone(), r))
            })
            .collect()
    });
    &RECORDS
}

/// The template an activity of `_type == type_name` is built from.
pub fn activity_template(type_name: &str) -> Map<String, Value> {
    let file = match type_name {
        "Call" => "activity_call.json",
        "Created" => "activity_created.json",
        "Email" => "activity_email.json",
        "EmailThread" => "activity_emailthread.json",
        "LeadStatusChange" => "activity_lead_status_change.json",
        "Meeting" => "activity_meeting.json",
        "OpportunityStatusChange" => "activity_opportunity_status_change.json",
        "SMS" => "activity_sms.json",
        "TaskCompleted" => "activity_task_completed.json",
        _ => "activity_note.json",
    };
    template(file)
}

/// The template a task of `_type == task_type` is built from.
pub fn task_template(task_type: &str) -> Map<String, Value> {
    template(match task_type {
        "email_followup" => "task_email_followup.json",
        "opportunity_due" => "task_opportunity_due.json",
        "incoming_call" => "task_incoming_call.json",
        _ => "task.json",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::ACTIVITY_KINDS;

    #[test]
    fn every_template_parses_and_matches_its_type() {
        assert_eq!(PARSED.len(), FILES.len());
        for kind in ACTIVITY_KINDS {
            assert_eq!(activity_template(kind.type_name)["_type"], kind.type_name);
        }
        for task_type in ["lead", "email_followup", "opportunity_due", "incoming_call"] {
            assert_eq!(task_template(task_type)["_type"], task_type);
        }
    }
}
