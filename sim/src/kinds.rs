//! The closed registry of activity and task types: each activity `_type` with its per-type endpoint, the
//! template it is generated from and the `object_type` its event-log records carry.

/// One activity type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActivityKind {
    /// `_type` value on the record.
    pub type_name: &'static str,
    /// Path under `/activity/` that lists only this type.
    pub endpoint: &'static str,
    /// `object_type` of event-log records about it.
    pub event_object_type: &'static str,
    /// Relative share in generated data.
    pub weight: u32,
}

const fn kind(type_name: &'static str, endpoint: &'static str, event: &'static str, weight: u32) -> ActivityKind {
    ActivityKind { type_name, endpoint, event_object_type: event, weight }
}

/// Every activity type the simulator knows, in generation order.
pub const ACTIVITY_KINDS: [ActivityKind; 10] = [
    kind("Call", "call", "activity.call", 15),
    kind("Created", "created", "activity.created", 8),
    kind("Email", "email", "activity.email", 25),
    kind("EmailThread", "emailthread", "activity.email_thread", 8),
    kind("LeadStatusChange", "status_change/lead", "activity.lead_status_change", 8),
    kind("Meeting", "meeting", "activity.meeting", 5),
    kind("Note", "note", "activity.note", 15),
    kind("OpportunityStatusChange", "status_change/opportunity", "activity.opportunity_status_change", 4),
    kind("SMS", "sms", "activity.sms", 7),
    kind("TaskCompleted", "task_completed", "activity.task_completed", 5),
];

/// The activity type listed by the per-type endpoint `endpoint` (e.g. `status_change/lead`).
pub fn activity_by_endpoint(endpoint: &str) -> Option<&'static ActivityKind> {
    ACTIVITY_KINDS.iter().find(|k| k.endpoint == endpoint)
}

/// The activity type with `_type == type_name`.
pub fn activity_by_type(type_name: &str) -> Option<&'static ActivityKind> {
    ACTIVITY_KINDS.iter().find(|k| k.type_name == type_name)
}

/// Task `_type`s generated, with their relative share; `/task/` without `_type` lists only `lead`.
pub const TASK_KINDS: [(&str, u32); 4] =
    [("lead", 70), ("email_followup", 12), ("opportunity_due", 10), ("incoming_call", 8)];

/// `object_type` of event-log records about a task of type `task_type`.
pub fn task_event_object_type(task_type: &str) -> String {
    format!("task.{task_type}")
}
