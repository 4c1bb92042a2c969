//! Generated tasks: mostly `_type` lead, plus email_followup, opportunity_due and incoming_call (the types
//! `/task/` hides unless asked for). `date` and `due_date` are date-only; a quarter of the tasks share one
//! exact `date_updated`.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde_json::{Value, json};

use super::ids::{ORGANIZATION_ID, object_id};
use super::people::set;
use super::templates::task_template;
use super::{Ctx, tie_group};
use crate::kinds::TASK_KINDS;
use crate::time::{close_ts, date_only};

const TEXTS: &[&str] = &["Follow up", "Send proposal", "Call back", "Book a demo", "Send Steli an email"];

/// `n` tasks, handed to `out` one at a time; tasks 1 to 3 take the non-lead types so each type exists.
pub fn tasks(ctx: &mut Ctx, n: usize, out: &mut dyn FnMut(Value)) {
    let ties = tie_group(n);
    let midpoint = ctx.start + (ctx.end - ctx.start) / 2;
    let tie_time = ctx.time_between(midpoint, ctx.end);
    let weights: Vec<u32> = TASK_KINDS.iter().map(|(_, w)| *w).collect();
    for i in 0..n {
        let kind = if (1..=3).contains(&i) { i } else { ctx.weighted(&weights) };
        let task_type = TASK_KINDS[kind].0;
        // The tie group starts at index 4 so the guaranteed types keep their own timestamps.
        let (created, updated) = if (4..4 + ties).contains(&i) {
            (ctx.time_between(ctx.start, tie_time), tie_time)
        } else {
            let created = ctx.any_time();
            (created, ctx.updated_after(created, 0.6))
        };
        out(task(ctx, task_type, created, updated));
    }
}

/// One task of type `task_type`.
pub fn task(ctx: &mut Ctx, task_type: &str, created: DateTime<Utc>, updated: DateTime<Utc>) -> Value {
    let mut t = task_template(task_type);
    let prefix = if task_type == "lead" { "task_" } else { "noti_" };
    let lead = ctx.lead();
    let user = ctx.user();
    let due = created + Duration::days(ctx.rng.random_range(0..14));
    set(&mut t, "id", json!(object_id(&mut ctx.rng, prefix)));
    set(&mut t, "_type", json!(task_type));
    set(&mut t, "organization_id", json!(ORGANIZATION_ID));
    set(&mut t, "lead_id", lead.as_ref().map_or(Value::Null, |l| json!(l.id)));
    set(&mut t, "lead_name", lead.as_ref().map_or(Value::Null, |l| json!(l.name)));
    if t.contains_key("contact_id") {
        let contact = lead.as_ref().and_then(|l| l.contacts.first()).filter(|_| task_type != "lead");
        set(&mut t, "contact_id", contact.map_or(Value::Null, |c| json!(c.0)));
        set(&mut t, "contact_name", contact.map_or(Value::Null, |c| json!(c.1)));
    }
    for key in ["assigned_to", "created_by", "updated_by"] {
        set(&mut t, key, json!(user.id));
    }
    for key in ["assigned_to_name", "created_by_name", "updated_by_name"] {
        set(&mut t, key, json!(user.name));
    }
    let done = ctx.rng.random_bool(0.4);
    set(&mut t, "is_complete", json!(done));
    set(&mut t, "view", json!(if done { "archive" } else { "inbox" }));
    set(&mut t, "date", json!(date_only(due)));
    if t.contains_key("due_date") {
        set(&mut t, "due_date", json!(date_only(due)));
    }
    if task_type == "lead" {
        set(&mut t, "text", json!(TEXTS[ctx.rng.random_range(0..TEXTS.len())]));
    }
    if task_type == "opportunity_due"
        && let Some(opp) = lead.as_ref().and_then(|l| l.opportunities.first())
    {
        set(&mut t, "object_id", json!(opp));
    }
    set(&mut t, "date_created", json!(close_ts(created)));
    set(&mut t, "date_updated", json!(close_ts(updated)));
    Value::Object(t)
}
