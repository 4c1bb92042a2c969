//! Deterministic synthetic Close data: [`Dataset::generate`] builds every table from a [`GenSpec`] and a seed.
//!
//! Records are cloned from the real-shaped templates in `fixtures/sim/` (see [`templates`]) with fresh ids,
//! names and dates. Dates are spread over `history_days` before `now - 1 hour` (nothing newer, so an exporter
//! lagging a few minutes behind now loses nothing), and the data deliberately contains what breaks naive
//! exporters: large groups of records sharing one exact timestamp, activities edited after creation, tasks of
//! several types, multi-choice and `lcf_` custom fields, a shared custom field, and deleted-object events.
//!
//! Some users are deactivated ([`GenSpec::deactivated_users`]), yet the generated records keep referring to them.
//!
//! Sub-modules build one table each, in dependency order: [`people`] (users, custom fields), [`leads`],
//! [`activities`], [`tasks`], [`events`].

pub mod activities;
pub mod events;
pub mod ids;
pub mod leads;
pub mod people;
pub mod tasks;
pub mod templates;

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::dataset::Dataset;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenSpec {
    /// RNG seed: the same spec always yields the same dataset.
    pub seed: u64,
    /// The simulated present; every record is at least one hour older.
    pub now: DateTime<Utc>,
    pub activities: usize,
    pub leads: usize,
    pub tasks: usize,
    pub events: usize,
    pub users: usize,
    /// How many of the users are deactivated: the last ones, never the first (who answers `/me/`), so at most
    /// `users - 1`.
    pub deactivated_users: usize,
    /// How far back `date_created` values reach.
    pub history_days: i64,
}

impl Default for GenSpec {
    fn default() -> Self {
        GenSpec {
            seed: 42,
            now: Utc::now(),
            activities: 300,
            leads: 40,
            tasks: 60,
            events: 50,
            users: 3,
            deactivated_users: 1,
            history_days: 400,
        }
    }
}

/// A user as other records reference it.
#[derive(Debug, Clone)]
pub struct UserRef {
    pub id: String,
    pub name: String,
}

/// A lead as activities, tasks and events reference it.
#[derive(Debug, Clone)]
pub struct LeadRef {
    pub id: String,
    pub name: String,
    /// `(id, name)` of its contacts.
    pub contacts: Vec<(String, String)>,
    pub opportunities: Vec<String>,
}

/// Shared state of one generation run: the RNG, the time range and what earlier tables produced.
pub struct Ctx {
    pub rng: StdRng,
    pub now: DateTime<Utc>,
    /// Oldest allowed timestamp.
    pub start: DateTime<Utc>,
    /// Newest allowed timestamp (exclusive): `now - 1h`.
    pub end: DateTime<Utc>,
    pub users: Vec<UserRef>,
    pub fields: people::FieldIds,
    pub leads: Vec<LeadRef>,
}

impl Ctx {
    fn new(spec: &GenSpec) -> Ctx {
        // Close stores milliseconds: start from a whole second so every generated instant has that precision.
        let now = spec.now - Duration::nanoseconds(i64::from(spec.now.timestamp_subsec_nanos()));
        let end = now - Duration::hours(1);
        Ctx {
            rng: StdRng::seed_from_u64(spec.seed),
            now: spec.now,
            start: end - Duration::days(spec.history_days.max(1)),
            end,
            users: Vec::new(),
            fields: people::FieldIds::default(),
            leads: Vec::new(),
        }
    }

    /// A random instant in `[from, to)` at millisecond precision; about one in ten falls on a whole second.
    pub fn time_between(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
        let span = (to - from).num_milliseconds();
        if span <= 1 {
            return from;
        }
        let t = from + Duration::milliseconds(self.rng.random_range(0..span));
        if self.rng.random_bool(0.1) { t - Duration::milliseconds(i64::from(t.timestamp_subsec_millis())) } else { t }
    }

    /// A random instant within the whole history range.
    pub fn any_time(&mut self) -> DateTime<Utc> {
        self.time_between(self.start, self.end)
    }

    /// A `date_updated` for a record created at `created`: equal with probability `1 - p_later`, otherwise a
    /// later instant (still before `end`).
    pub fn updated_after(&mut self, created: DateTime<Utc>, p_later: f64) -> DateTime<Utc> {
        if self.rng.random_bool(p_later) && created < self.end {
            let latest = (created + Duration::days(60)).min(self.end);
            self.time_between(created + Duration::milliseconds(1), latest)
        } else {
            created
        }
    }

    pub fn user(&mut self) -> UserRef {
        let i = self.rng.random_range(0..self.users.len().max(1));
        self.users.get(i).cloned().unwrap_or(UserRef { id: "user_none".into(), name: "Nobody".into() })
    }

    pub fn lead(&mut self) -> Option<LeadRef> {
        if self.leads.is_empty() {
            return None;
        }
        let i = self.rng.random_range(0..self.leads.len());
        Some(self.leads[i].clone())
    }

    /// Index into `weights` drawn with probability proportional to each weight.
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut pick = self.rng.random_range(0..total.max(1));
        for (i, w) in weights.iter().enumerate() {
            if pick < *w {
                return i;
            }
            pick -= w;
        }
        0
    }
}

/// One generated record and the table it belongs to.
#[derive(Debug)]
pub(crate) enum Generated {
    User(Value),
    /// The id of a deactivated user (generated after every user).
    Deactivated(String),
    CustomField(String, Value),
    Lead(Value),
    Opportunity(Value),
    Contact(Value),
    CustomObject(Value),
    /// A record of a configuration listing, by close-lake table.
    Configuration(String, Value),
    Activity(Value),
    Task(Value),
    Event(Value),
}

/// Generates the records of `spec` one at a time, so a large dataset never has to exist as JSON values all
/// at once (the server keeps records as text).
pub(crate) fn generate_each(spec: &GenSpec, out: &mut dyn FnMut(Generated)) {
    let mut ctx = Ctx::new(spec);
    let users = people::users(&mut ctx, spec.users.max(1));
    let deactivated = spec.deactivated_users.min(users.len() - 1);
    let deactivated_ids: Vec<String> = users[users.len() - deactivated..]
        .iter()
        .filter_map(|u| u.get("id").and_then(Value::as_str).map(str::to_string))
        .collect();
    for user in users {
        out(Generated::User(user));
    }
    for id in deactivated_ids {
        out(Generated::Deactivated(id));
    }
    for (object_type, field) in people::custom_fields(&mut ctx) {
        out(Generated::CustomField(object_type, field));
    }
    for (table, record) in templates::configuration() {
        out(Generated::Configuration(table.clone(), record.clone()));
    }
    leads::leads(&mut ctx, spec.leads, out);
    activities::activities(&mut ctx, spec.activities, &mut |v| out(Generated::Activity(v)));
    tasks::tasks(&mut ctx, spec.tasks, &mut |v| out(Generated::Task(v)));
    events::events(&mut ctx, spec.events, &mut |v| out(Generated::Event(v)));
}

impl Dataset {
    /// Generates a dataset; the same `spec` (seed and `now` included) always gives the same records.
    pub fn generate(spec: &GenSpec) -> Dataset {
        let mut d = Dataset::default();
        generate_each(spec, &mut |g| match g {
            Generated::User(v) => d.users.push(v),
            Generated::Deactivated(id) => d.deactivated_users.push(id),
            Generated::CustomField(t, v) => d.custom_fields.push((t, v)),
            Generated::Lead(v) => d.leads.push(v),
            Generated::Opportunity(v) => d.opportunities.push(v),
            Generated::Contact(v) => d.contacts.push(v),
            Generated::CustomObject(v) => d.custom_objects.push(v),
            Generated::Configuration(t, v) => d.configuration.entry(t).or_default().push(v),
            Generated::Activity(v) => d.activities.push(v),
            Generated::Task(v) => d.tasks.push(v),
            Generated::Event(v) => d.events.push(v),
        });
        d
    }
}

/// Size of the group of records sharing one timestamp: a quarter of the table, at least two.
pub fn tie_group(n: usize) -> usize {
    if n < 2 { 0 } else { (n / 4).max(2) }
}
