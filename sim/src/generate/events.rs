//! Generated event-log records and the event builder mutations share. Generated events fall within the last
//! 25 days (before `now - 1h`): lead updates, creations, activity edits and deletions (`data` null,
//! `previous_data` the object). Timestamps are naive UTC; some events were merged later (`date_updated` a few
//! seconds after `date_created`), and a handful share one `date_updated`.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde_json::{Value, json};

use super::Ctx;
use super::ids::{ORGANIZATION_ID, event_id, object_id, request_id};
use super::people::set;
use super::templates::template;
use crate::kinds::ACTIVITY_KINDS;
use crate::time::{close_ts, naive_ts};

/// What an event-log record says happened.
#[derive(Debug, Clone)]
pub struct EventSpec {
    /// `created`, `updated` or `deleted`.
    pub action: &'static str,
    pub object_type: String,
    pub object_id: String,
    pub lead_id: Option<String>,
    pub user_id: Option<String>,
    pub changed_fields: Vec<String>,
    /// The object after the action (null for deletes).
    pub data: Value,
    /// The previous values of the changed fields (the whole object for deletes, null for creations).
    pub previous_data: Value,
    pub date_created: DateTime<Utc>,
    pub date_updated: DateTime<Utc>,
}

/// An event-log record in Close's shape (naive timestamps).
pub fn event(rng: &mut impl Rng, spec: EventSpec) -> Value {
    let file = if spec.action == "deleted" { "event_log_deleted.json" } else { "event_log.json" };
    let mut e = template(file);
    let request_path = format!("/api/v1/{}/{}/", spec.object_type.replace('.', "/"), spec.object_id);
    let method = match spec.action {
        "created" => "POST",
        "deleted" => "DELETE",
        _ => "PUT",
    };
    set(&mut e, "id", json!(event_id(rng)));
    set(&mut e, "request_id", json!(request_id(rng)));
    set(&mut e, "organization_id", json!(ORGANIZATION_ID));
    set(&mut e, "action", json!(spec.action));
    set(&mut e, "object_type", json!(spec.object_type));
    set(&mut e, "object_id", json!(spec.object_id));
    set(&mut e, "lead_id", json!(spec.lead_id));
    set(&mut e, "user_id", json!(spec.user_id));
    set(&mut e, "changed_fields", json!(spec.changed_fields));
    set(&mut e, "data", spec.data);
    set(&mut e, "previous_data", spec.previous_data);
    set(&mut e, "meta", json!({"request_path": request_path, "request_method": method}));
    set(&mut e, "date_created", json!(naive_ts(spec.date_created)));
    set(&mut e, "date_updated", json!(naive_ts(spec.date_updated)));
    Value::Object(e)
}

/// `n` events within the last 25 days, handed to `out` one at a time.
pub fn events(ctx: &mut Ctx, n: usize, out: &mut dyn FnMut(Value)) {
    let from = (ctx.now - Duration::days(25)).max(ctx.start);
    let tie_time = ctx.time_between(from, ctx.end);
    let ties = if n >= 10 { 5 } else { 0 };
    for i in 0..n {
        let created = if i < ties { tie_time } else { ctx.time_between(from, ctx.end) };
        let updated = if i >= ties && ctx.rng.random_bool(0.1) {
            (created + Duration::seconds(ctx.rng.random_range(1..30))).min(ctx.end)
        } else {
            created
        };
        let spec = match i % 20 {
            0..=8 => lead_updated(ctx, created, updated),
            9..=12 => created_event(ctx, created, updated),
            13..=15 => deleted_event(ctx, i, created, updated),
            _ => activity_updated(ctx, i, created, updated),
        };
        out(event(&mut ctx.rng, spec));
    }
}

fn base(ctx: &mut Ctx, action: &'static str, object_type: &str, object_id: String) -> EventSpec {
    let user = ctx.user();
    EventSpec {
        action,
        object_type: object_type.to_string(),
        object_id,
        lead_id: None,
        user_id: Some(user.id),
        changed_fields: Vec::new(),
        data: Value::Null,
        previous_data: Value::Null,
        date_created: ctx.end,
        date_updated: ctx.end,
    }
}

fn lead_updated(ctx: &mut Ctx, created: DateTime<Utc>, updated: DateTime<Utc>) -> EventSpec {
    let lead = ctx.lead();
    let id = lead.as_ref().map_or_else(|| object_id(&mut ctx.rng, "lead_"), |l| l.id.clone());
    let name = lead.map_or_else(|| "Deleted lead".to_string(), |l| l.name);
    let before = created - Duration::days(ctx.rng.random_range(1..60));
    EventSpec {
        lead_id: Some(id.clone()),
        changed_fields: vec!["date_updated".into(), "status_label".into()],
        data: json!({"id": id, "display_name": name, "status_label": "Interested",
            "date_updated": close_ts(created)}),
        previous_data: json!({"status_label": "Potential", "date_updated": close_ts(before)}),
        date_created: created,
        date_updated: updated,
        ..base(ctx, "updated", "lead", id)
    }
}

fn created_event(ctx: &mut Ctx, created: DateTime<Utc>, updated: DateTime<Utc>) -> EventSpec {
    let lead = ctx.lead();
    let lead_id = lead.as_ref().map(|l| l.id.clone());
    let (object_type, id) = match ctx.rng.random_range(0..3) {
        0 => ("contact", object_id(&mut ctx.rng, "cont_")),
        1 => ("task.lead", object_id(&mut ctx.rng, "task_")),
        _ => ("opportunity", object_id(&mut ctx.rng, "oppo_")),
    };
    EventSpec {
        lead_id: lead_id.clone(),
        data: json!({"id": id, "lead_id": lead_id, "date_created": close_ts(created),
            "date_updated": close_ts(created)}),
        date_created: created,
        date_updated: updated,
        ..base(ctx, "created", object_type, id)
    }
}

fn deleted_event(ctx: &mut Ctx, i: usize, created: DateTime<Utc>, updated: DateTime<Utc>) -> EventSpec {
    let (object_type, prefix) = [("lead", "lead_"), ("contact", "cont_"), ("task.lead", "task_")][i % 3];
    let id = object_id(&mut ctx.rng, prefix);
    let lead_id = if prefix == "lead_" { Some(id.clone()) } else { ctx.lead().map(|l| l.id) };
    EventSpec {
        lead_id,
        previous_data: json!({"id": id, "display_name": format!("Removed {i}"),
            "date_updated": close_ts(created - Duration::days(3))}),
        date_created: created,
        date_updated: updated,
        ..base(ctx, "deleted", object_type, id)
    }
}

fn activity_updated(ctx: &mut Ctx, i: usize, created: DateTime<Utc>, updated: DateTime<Utc>) -> EventSpec {
    let kind = ACTIVITY_KINDS[i % ACTIVITY_KINDS.len()];
    let id = object_id(&mut ctx.rng, "acti_");
    let lead_id = ctx.lead().map(|l| l.id);
    EventSpec {
        lead_id: lead_id.clone(),
        changed_fields: vec!["date_updated".into(), "note".into()],
        data: json!({"id": id, "_type": kind.type_name, "lead_id": lead_id, "note": "edited",
            "date_updated": close_ts(created)}),
        previous_data: json!({"note": "", "date_updated": close_ts(created - Duration::hours(5))}),
        date_created: created,
        date_updated: updated,
        ..base(ctx, "updated", kind.event_object_type, id)
    }
}
