//! Generated leads: nested contacts, opportunities (date-only `date_won`) and addresses, custom field values
//! both as flat `custom.<field id>` keys (a multi-choice list, an `lcf_` id) and in the deprecated `custom`
//! object keyed by field name. A quarter of the leads share one exact `date_updated` (a bulk edit).

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::{Map, Value, json};

use super::ids::object_id;
use super::people::{INDUSTRIES, REGIONS, TAGS, set};
use super::templates::{configuration, template};
use super::{Ctx, Generated, LeadRef, tie_group};
use crate::time::{close_ts, date_only};

const ADJECTIVES: &[&str] = &["Blue", "Acme", "Bright", "Northern", "Rapid", "Quiet", "Golden", "Prime"];
const NOUNS: &[&str] = &["Harbor", "Widgets", "Logistics", "Analytics", "Foods", "Robotics", "Studios", "Labs"];
const FIRST: &[&str] = &["Gob", "Lucille", "Bruce", "Diana", "Steli", "Ada", "Grace", "Alan", "Linus"];
const LAST: &[&str] = &["Bluth", "Wayne", "Prince", "Efti", "Lovelace", "Hopper", "Turing", "Torvalds"];
const CITIES: &[(&str, &str)] = &[("Los Angeles", "CA"), ("Austin", "TX"), ("Boston", "MA"), ("Denver", "CO")];
const STATUSES: &[(&str, &str)] = &[
    ("Potential", "stat_HrZ1aYkkxRORQSxdBcNPT31HkqxkK2w2uWGiK6yjkmK"),
    ("Interested", "stat_nzPGZ5qJXdpP2GSFqzbPdyHgZWXkRfx6BjQih76ss0q"),
    ("Qualified", "stat_Qa1lf1edLeadStatusSimulatorXyZ0123456789ab"),
    ("Bad Fit", "stat_BadF1tLeadStatusSimulatorXyZ0123456789abcd"),
];

/// `n` leads, handed to `out` one at a time after the opportunities and contacts they embed (as their
/// own listings show them) and a custom object of each; fills `ctx.leads` for the tables generated after them.
pub(crate) fn leads(ctx: &mut Ctx, n: usize, out: &mut dyn FnMut(Generated)) {
    let ties = tie_group(n);
    let midpoint = ctx.start + (ctx.end - ctx.start) / 2;
    let tie_time = ctx.time_between(midpoint, ctx.end);
    for i in 0..n {
        let (created, updated) = if i < ties {
            (ctx.time_between(ctx.start, tie_time), tie_time)
        } else {
            let created = ctx.any_time();
            (created, ctx.updated_after(created, 0.7))
        };
        let lead = lead(ctx, i, created, updated);
        let embedded = |field: &str| lead.get(field).and_then(Value::as_array).cloned().unwrap_or_default();
        embedded("opportunities").into_iter().for_each(|o| out(Generated::Opportunity(o)));
        embedded("contacts").into_iter().for_each(|c| out(Generated::Contact(c)));
        out(Generated::CustomObject(custom_object(ctx, &lead)));
        out(Generated::Lead(lead));
    }
}

/// A custom object instance of the lead `lead` (its type is the configuration's first custom object type),
/// shaped like the reference's example.
pub fn custom_object(ctx: &mut Ctx, lead: &Value) -> Value {
    let text = |field: &str| lead.get(field).cloned().unwrap_or(Value::Null);
    let lead_id = str_of(lead, "id");
    let type_id = configuration()
        .iter()
        .find(|(table, _)| table == "custom_object_types")
        .and_then(|(_, t)| t.get("id").cloned())
        .unwrap_or(Value::Null);
    let mut o = Map::new();
    set(&mut o, "id", json!(object_id(&mut ctx.rng, "custobj_")));
    set(&mut o, "name", json!(format!("Resource of {}", str_of(lead, "name"))));
    set(&mut o, "custom_object_type_id", type_id);
    set(&mut o, "lead_id", json!(lead_id));
    set(&mut o, "organization_id", text("organization_id"));
    set(&mut o, "created_by", text("created_by"));
    set(&mut o, "updated_by", text("updated_by"));
    set(&mut o, "date_created", text("date_created"));
    set(&mut o, "date_updated", text("date_created"));
    o.insert(format!("custom.{}", ctx.fields.serial), json!(format!("SN-{}", ctx.rng.random_range(10_000..99_999))));
    Value::Object(o)
}

/// One lead created at `created` and last updated at `updated`.
pub fn lead(ctx: &mut Ctx, i: usize, created: DateTime<Utc>, updated: DateTime<Utc>) -> Value {
    let mut l = template("lead.json");
    l.retain(|k, _| !k.starts_with("custom."));
    let id = object_id(&mut ctx.rng, "lead_");
    let name = format!("{} {} {i}", pick(ctx, ADJECTIVES), pick(ctx, NOUNS));
    let user = ctx.user();
    let (status, status_id) = *STATUSES.choose(&mut ctx.rng).unwrap_or(&STATUSES[0]);
    let (city, state) = *CITIES.choose(&mut ctx.rng).unwrap_or(&CITIES[0]);
    let n_contacts = ctx.rng.random_range(1..=3);
    let contacts: Vec<Value> = (0..n_contacts).map(|_| contact(ctx, &id, created)).collect();
    let n_opps = ctx.rng.random_range(0..=2);
    let opportunities: Vec<Value> = (0..n_opps).map(|_| opportunity(ctx, &id, &name, created, updated)).collect();
    set(&mut l, "id", json!(id));
    set(&mut l, "name", json!(name));
    set(&mut l, "display_name", json!(name));
    set(&mut l, "html_url", json!(format!("https://app.close.com/lead/{id}/")));
    set(&mut l, "status_id", json!(status_id));
    set(&mut l, "status_label", json!(status));
    for key in ["created_by", "updated_by"] {
        set(&mut l, key, json!(user.id));
    }
    for key in ["created_by_name", "updated_by_name"] {
        set(&mut l, key, json!(user.name));
    }
    set(&mut l, "date_created", json!(close_ts(created)));
    set(&mut l, "date_updated", json!(close_ts(updated)));
    let address = json!({"label": "business", "address_1": format!("{} Main Street", 100 + i), "address_2": null,
        "city": city, "state": state, "zipcode": "90210", "country": "US"});
    set(&mut l, "addresses", json!([address]));
    set(
        &mut l,
        "integration_links",
        json!([{"name": "Google Search",
        "url": format!("https://google.com/search?q={}", name.replace(' ', "%20"))}]),
    );
    ctx.leads.push(LeadRef {
        id: id.clone(),
        name: name.clone(),
        contacts: contacts.iter().map(|c| (str_of(c, "id"), str_of(c, "name"))).collect(),
        opportunities: opportunities.iter().map(|o| str_of(o, "id")).collect(),
    });
    set(&mut l, "contacts", Value::Array(contacts));
    set(&mut l, "opportunities", Value::Array(opportunities));
    set(&mut l, "tasks", json!([]));
    lead_custom_values(ctx, &mut l, &user.id, created);
    Value::Object(l)
}

/// Fills the flat `custom.<id>` keys and the deprecated `custom` object; unset fields are absent.
fn lead_custom_values(ctx: &mut Ctx, l: &mut Map<String, Value>, owner: &str, created: DateTime<Utc>) {
    let f = ctx.fields.clone();
    let mut by_name = Map::new();
    let mut put = |l: &mut Map<String, Value>, id: &str, name: &str, v: Value| {
        l.insert(format!("custom.{id}"), v.clone());
        by_name.insert(name.to_string(), v);
    };
    put(l, &f.industry, "Industry", json!(pick(ctx, INDUSTRIES)));
    put(l, &f.owner, "Lead Owner", json!(owner));
    if ctx.rng.random_bool(0.7) {
        let n = ctx.rng.random_range(1..=3);
        let tags: Vec<&str> = TAGS.choose_multiple(&mut ctx.rng, n).copied().collect();
        put(l, &f.tags, "Tags", json!(tags));
    }
    if ctx.rng.random_bool(0.8) {
        put(l, &f.score, "Score", json!(ctx.rng.random_range(0..100)));
    }
    if ctx.rng.random_bool(0.5) {
        let renewal = created + Duration::days(ctx.rng.random_range(30..400));
        put(l, &f.renewal, "Renewal Date", json!(date_only(renewal)));
    }
    put(l, &f.region, "Region", json!(pick(ctx, REGIONS)));
    l.insert("custom".to_string(), Value::Object(by_name));
}

fn contact(ctx: &mut Ctx, lead_id: &str, created: DateTime<Utc>) -> Value {
    let lead = template("lead.json");
    let mut c = match lead.get("contacts").and_then(|c| c.get(0)) {
        Some(Value::Object(c)) => c.clone(),
        _ => Map::new(),
    };
    c.retain(|k, _| !k.starts_with("custom."));
    let name = format!("{} {}", pick(ctx, FIRST), pick(ctx, LAST));
    let user = ctx.user();
    let phone = format!("+1202555{:04}", ctx.rng.random_range(0..10_000));
    let email = format!("{}@example.com", name.to_lowercase().replace(' ', "."));
    set(&mut c, "id", json!(object_id(&mut ctx.rng, "cont_")));
    set(&mut c, "lead_id", json!(lead_id));
    set(&mut c, "name", json!(name));
    set(&mut c, "display_name", json!(name));
    set(&mut c, "title", json!(pick(ctx, &["CEO", "CTO", "Buyer", "Magician"])));
    set(&mut c, "phones", json!([{"phone": phone, "phone_formatted": phone, "type": "office", "country": "US"}]));
    set(&mut c, "emails", json!([{"email": email, "type": "office"}]));
    set(&mut c, "created_by", json!(user.id));
    set(&mut c, "updated_by", json!(user.id));
    set(&mut c, "date_created", json!(close_ts(created)));
    set(&mut c, "date_updated", json!(close_ts(created)));
    let birthday = created - Duration::days(ctx.rng.random_range(8_000..20_000));
    c.insert(format!("custom.{}", ctx.fields.birthday), json!(date_only(birthday)));
    c.insert(format!("custom.{}", ctx.fields.region), json!(pick(ctx, REGIONS)));
    Value::Object(c)
}

fn opportunity(ctx: &mut Ctx, lead_id: &str, lead_name: &str, created: DateTime<Utc>, updated: DateTime<Utc>) -> Value {
    let lead = template("lead.json");
    let mut o = match lead.get("opportunities").and_then(|o| o.get(0)) {
        Some(Value::Object(o)) => o.clone(),
        _ => Map::new(),
    };
    let user = ctx.user();
    let value = ctx.rng.random_range(1..500) * 1000;
    let won = ctx.rng.random_bool(0.5);
    set(&mut o, "id", json!(object_id(&mut ctx.rng, "oppo_")));
    set(&mut o, "lead_id", json!(lead_id));
    set(&mut o, "lead_name", json!(lead_name));
    set(&mut o, "value", json!(value));
    set(&mut o, "annualized_value", json!(value));
    set(&mut o, "value_formatted", json!(format!("${}", value / 100)));
    // A status of the configuration's pipelines, so reports can join opportunities to them.
    let statuses: Vec<&Value> = configuration()
        .iter()
        .filter(|(table, s)| table == "opportunity_statuses" && s["type"] == if won { "won" } else { "active" })
        .map(|(_, s)| s)
        .collect();
    let status = statuses.choose(&mut ctx.rng).map_or(Value::Null, |s| (*s).clone());
    let pipeline_id = status["pipeline_id"].clone();
    let pipeline_name = configuration()
        .iter()
        .find(|(table, p)| table == "pipelines" && p["id"] == pipeline_id)
        .map_or(Value::Null, |(_, p)| p["name"].clone());
    set(&mut o, "status_id", status["id"].clone());
    set(&mut o, "status_type", status["type"].clone());
    set(&mut o, "status_label", status["label"].clone());
    set(&mut o, "status_display_name", status["label"].clone());
    set(&mut o, "pipeline_id", pipeline_id);
    set(&mut o, "pipeline_name", pipeline_name);
    set(&mut o, "date_won", if won { json!(date_only(updated)) } else { Value::Null });
    set(&mut o, "user_id", json!(user.id));
    set(&mut o, "user_name", json!(user.name));
    set(&mut o, "date_created", json!(close_ts(created)));
    set(&mut o, "date_updated", json!(close_ts(updated)));
    o.insert(format!("custom.{}", ctx.fields.contract), json!("https://example.com/contract.pdf"));
    Value::Object(o)
}

fn pick(ctx: &mut Ctx, items: &[&'static str]) -> &'static str {
    items.choose(&mut ctx.rng).copied().unwrap_or("")
}

fn str_of(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
}
