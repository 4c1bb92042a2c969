//! Generated activities of all ten types, linked to generated leads, contacts and users. A large group shares
//! one exact whole-second `date_created` (a bulk import: at least 150 records once 300 are asked for), and about
//! a quarter were edited after creation (`date_updated > date_created`).

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};
use serde_json::{Value, json};

use super::Ctx;
use super::ids::{ORGANIZATION_ID, object_id};
use super::people::set;
use super::templates::activity_template;
use crate::kinds::{ACTIVITY_KINDS, ActivityKind};
use crate::time::close_ts;

/// Size of the bulk-import group sharing one `date_created`.
pub fn activity_tie_group(n: usize) -> usize {
    match n {
        0..4 => 0,
        4..300 => n / 2,
        _ => (n / 20).clamp(150, 5_000),
    }
}

/// `n` activities, handed to `out` one at a time; the first ten cycle through every type so each exists.
pub fn activities(ctx: &mut Ctx, n: usize, out: &mut dyn FnMut(Value)) {
    let ties = activity_tie_group(n);
    let midpoint = ctx.start + (ctx.end - ctx.start) / 2;
    let tie_time = ctx.time_between(ctx.start, midpoint);
    let tie_time = tie_time - Duration::nanoseconds(i64::from(tie_time.timestamp_subsec_nanos()));
    let weights: Vec<u32> = ACTIVITY_KINDS.iter().map(|k| k.weight).collect();
    // Spread the tie group over the indices so it mixes types.
    let mut in_tie = vec![false; n];
    in_tie[..ties].fill(true);
    in_tie.shuffle(&mut ctx.rng);
    for (i, tied) in in_tie.into_iter().enumerate() {
        let kind = if i < ACTIVITY_KINDS.len() { ACTIVITY_KINDS[i] } else { ACTIVITY_KINDS[ctx.weighted(&weights)] };
        let created = if tied { tie_time } else { ctx.any_time() };
        let updated = ctx.updated_after(created, 0.25);
        out(activity(ctx, &kind, created, updated));
    }
}

/// One activity of type `kind`.
pub fn activity(ctx: &mut Ctx, kind: &ActivityKind, created: DateTime<Utc>, updated: DateTime<Utc>) -> Value {
    let mut a = activity_template(kind.type_name);
    let lead = ctx.lead();
    let user = ctx.user();
    let contact = lead.as_ref().and_then(|l| l.contacts.choose(&mut ctx.rng).cloned());
    let contact = contact.filter(|_| ctx.rng.random_bool(0.6));
    set(&mut a, "id", json!(object_id(&mut ctx.rng, "acti_")));
    set(&mut a, "_type", json!(kind.type_name));
    set(&mut a, "organization_id", json!(ORGANIZATION_ID));
    set(&mut a, "lead_id", lead.as_ref().map_or(Value::Null, |l| json!(l.id)));
    set(&mut a, "contact_id", contact.as_ref().map_or(Value::Null, |c| json!(c.0)));
    for key in ["user_id", "created_by", "updated_by"] {
        set(&mut a, key, json!(user.id));
    }
    for key in ["user_name", "created_by_name", "updated_by_name"] {
        set(&mut a, key, json!(user.name));
    }
    set(&mut a, "date_created", json!(close_ts(created)));
    set(&mut a, "date_updated", json!(close_ts(updated)));
    set(&mut a, "activity_at", json!(close_ts(created)));
    match kind.type_name {
        "Call" => {
            set(&mut a, "duration", json!(ctx.rng.random_range(0..1_800)));
            set(&mut a, "direction", json!(if ctx.rng.random_bool(0.5) { "outbound" } else { "inbound" }));
        }
        "Email" => {
            let subject = format!("Re: proposal {}", ctx.rng.random_range(1..1_000));
            set(&mut a, "subject", json!(subject));
            set(&mut a, "date_sent", json!(close_ts(created)));
        }
        "Meeting" => {
            set(&mut a, "starts_at", json!(close_ts(created)));
            set(&mut a, "ends_at", json!(close_ts(created + Duration::hours(1))));
        }
        "Note" => {
            let note = format!("Spoke with {}", contact.map_or("the team".to_string(), |c| c.1));
            set(&mut a, "note_html", json!(format!("<body><p>{note}</p></body>")));
            set(&mut a, "note", json!(note));
        }
        "OpportunityStatusChange" => {
            let opp = lead.as_ref().and_then(|l| l.opportunities.first().cloned());
            set(&mut a, "opportunity_id", opp.map_or(Value::Null, Value::String));
        }
        _ => {}
    }
    Value::Object(a)
}
