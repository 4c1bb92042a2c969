//! Generated users and custom field definitions (every object type, one multi-choice field, one `lcf_` id and
//! one shared field associated with leads and contacts).

use chrono::Duration;
use serde_json::{Map, Value, json};

use super::ids::{ORGANIZATION_ID, object_id};
use super::templates::template;
use super::{Ctx, UserRef};
use crate::time::close_ts;

const NAMES: &[(&str, &str)] = &[
    ("Airbyte", "Team"),
    ("Jane", "Doe"),
    ("Ravi", "Patel"),
    ("Mina", "Okafor"),
    ("Lukas", "Berg"),
    ("Sofia", "Costa"),
    ("Kenji", "Sato"),
    ("Amara", "Nwosu"),
];

const TIMEZONES: &[&str] = &["Europe/Kiev", "America/New_York", "Europe/Berlin", "Asia/Tokyo"];

/// Ids of the generated custom fields, which leads, contacts and opportunities fill in.
#[derive(Debug, Clone, Default)]
pub struct FieldIds {
    /// Lead, single choice "Industry".
    pub industry: String,
    /// Lead, user "Lead Owner".
    pub owner: String,
    /// Lead, multi-choice "Tags" (values are lists).
    pub tags: String,
    /// Lead, number "Score", with a legacy `lcf_` id.
    pub score: String,
    /// Lead, date "Renewal Date" (date-only values).
    pub renewal: String,
    /// Contact, date "Birthday".
    pub birthday: String,
    /// Opportunity, text "Contract Link".
    pub contract: String,
    /// Shared text "Region", associated with leads and contacts.
    pub region: String,
    /// Custom object type, text "Serial Number".
    pub serial: String,
}

pub const INDUSTRIES: &[&str] = &["Software", "Real estate", "Retail", "Manufacturing"];
pub const TAGS: &[&str] = &["VIP", "Partner", "Churn risk", "Upsell"];
pub const REGIONS: &[&str] = &["EMEA", "AMER", "APAC"];

/// `n` users; the first one is the sample's "Airbyte Team" user shape.
pub fn users(ctx: &mut Ctx, n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let (first, last) = NAMES[i % NAMES.len()];
            let suffix = if i < NAMES.len() { String::new() } else { (i / NAMES.len()).to_string() };
            let mut u = template("user.json");
            let id = object_id(&mut ctx.rng, "user_");
            let created = ctx.start + Duration::minutes(i as i64 * 7);
            let updated = ctx.updated_after(created, 0.9);
            let email = format!("{}.{}{suffix}@example.com", first.to_lowercase(), last.to_lowercase());
            set(&mut u, "id", json!(id));
            set(&mut u, "first_name", json!(first));
            set(&mut u, "last_name", json!(format!("{last}{suffix}")));
            set(&mut u, "email", json!(email));
            set(&mut u, "last_used_timezone", json!(TIMEZONES[i % TIMEZONES.len()]));
            set(&mut u, "email_verified_at", json!(close_ts(created + Duration::minutes(1))));
            set(&mut u, "organizations", json!([ORGANIZATION_ID]));
            set(&mut u, "date_created", json!(close_ts(created)));
            set(&mut u, "date_updated", json!(close_ts(updated)));
            ctx.users.push(UserRef { id, name: format!("{first} {last}{suffix}") });
            Value::Object(u)
        })
        .collect()
}

struct FieldDef {
    object_type: &'static str,
    template: &'static str,
    prefix: &'static str,
    name: &'static str,
    field_type: &'static str,
    choices: Option<&'static [&'static str]>,
    multiple: bool,
}

/// The custom field definitions, keyed by the endpoint that lists them; fills `ctx.fields`.
pub fn custom_fields(ctx: &mut Ctx) -> Vec<(String, Value)> {
    let defs = [
        def("lead", "cf_", "Industry", "choices", Some(INDUSTRIES), false),
        def("lead", "cf_", "Lead Owner", "user", None, false),
        def("lead", "cf_", "Tags", "choices", Some(TAGS), true),
        def("lead", "lcf_", "Score", "number", None, false),
        def("lead", "cf_", "Renewal Date", "date", None, false),
        def("contact", "cf_", "Birthday", "date", None, false),
        def("opportunity", "cf_", "Contract Link", "text", None, false),
        def("activity", "cf_", "Contact", "contact", None, false),
        def("shared", "cf_", "Region", "text", None, false),
        def("custom_object_type", "cf_", "Serial Number", "text", None, false),
    ];
    let mut out = Vec::with_capacity(defs.len());
    let mut ids = Vec::with_capacity(defs.len());
    for d in &defs {
        let (id, field) = custom_field(ctx, d);
        ids.push(id);
        out.push((d.object_type.to_string(), field));
    }
    // Indices follow `defs`; the activity field (7) is defined but not filled in by generated records.
    ctx.fields = FieldIds {
        industry: ids[0].clone(),
        owner: ids[1].clone(),
        tags: ids[2].clone(),
        score: ids[3].clone(),
        renewal: ids[4].clone(),
        birthday: ids[5].clone(),
        contract: ids[6].clone(),
        region: ids[8].clone(),
        serial: ids[9].clone(),
    };
    out
}

fn def(
    object_type: &'static str,
    prefix: &'static str,
    name: &'static str,
    field_type: &'static str,
    choices: Option<&'static [&'static str]>,
    multiple: bool,
) -> FieldDef {
    let template = match object_type {
        "contact" => "custom_field_contact.json",
        "opportunity" => "custom_field_opportunity.json",
        "activity" => "custom_field_activity.json",
        "shared" => "custom_field_shared.json",
        _ => "custom_field_lead.json",
    };
    FieldDef { object_type, template, prefix, name, field_type, choices, multiple }
}

fn custom_field(ctx: &mut Ctx, d: &FieldDef) -> (String, Value) {
    let mut f = template(d.template);
    let id = object_id(&mut ctx.rng, d.prefix);
    let first_tenth = ctx.start + (ctx.end - ctx.start) / 10;
    let created = ctx.time_between(ctx.start, first_tenth);
    let updated = ctx.updated_after(created, 0.4);
    let user = ctx.user();
    set(&mut f, "id", json!(id));
    set(&mut f, "name", json!(d.name));
    set(&mut f, "type", json!(d.field_type));
    set(&mut f, "choices", d.choices.map_or(Value::Null, |c| json!(c)));
    set(&mut f, "accepts_multiple_values", json!(d.multiple));
    set(&mut f, "created_by", json!(user.id));
    set(&mut f, "updated_by", json!(user.id));
    set(&mut f, "date_created", json!(close_ts(created)));
    set(&mut f, "date_updated", json!(close_ts(updated)));
    if d.object_type == "custom_object_type" {
        set(&mut f, "custom_object_type_id", json!("cotype_1h5m6uHM9BZOpwVhyRJb4Y"));
    }
    (id, Value::Object(f))
}

/// Inserts or replaces `key` (keeps the template's key order for existing keys).
pub fn set(map: &mut Map<String, Value>, key: &str, value: Value) {
    map.insert(key.to_string(), value);
}
