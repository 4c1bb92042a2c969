//! The simulator's in-memory state: one indexed [`Table`] per date-filtered resource (activities by
//! `date_created`; tasks, leads and events by `date_updated`) plus the small listings (custom fields, users and
//! which of them are deactivated) kept in insertion order, and the lagging lead search index (`lead_index`).
//! Built from a [`Dataset`], turned back into one by [`Store::snapshot`], changed in place by mutations.

mod lead_index;
pub mod table;

use std::collections::BTreeMap;

use serde_json::Value;

pub use table::{Row, Selection, Table};

use crate::dataset::Dataset;
use crate::generate::{GenSpec, Generated, generate_each};

/// A custom field definition and the endpoints that list it.
#[derive(Debug, Clone)]
pub struct CustomFieldRow {
    /// The endpoint it was defined under (`lead`, ..., `shared`).
    pub object_type: String,
    pub is_shared: bool,
    /// `associations[].object_type` of a shared field.
    pub associations: Vec<String>,
    pub row: Row,
}

impl CustomFieldRow {
    pub fn new(object_type: String, record: &Value) -> CustomFieldRow {
        let associations = record
            .get("associations")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|x| x.get("object_type")?.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        CustomFieldRow {
            is_shared: object_type == "shared" || record.get("is_shared") == Some(&Value::Bool(true)),
            object_type,
            associations,
            row: Row::new(record, "date_updated", ""),
        }
    }

    /// Whether `GET /custom_field/<endpoint>/` lists this field: its own endpoint, `shared/` for any shared
    /// field, and each object type a shared field is associated with.
    pub fn listed_under(&self, endpoint: &str) -> bool {
        self.object_type == endpoint
            || (endpoint == "shared" && self.is_shared)
            || (self.object_type == "shared" && self.associations.iter().any(|a| a == endpoint))
    }
}

/// Collects rows table by table, then sorts and indexes them once.
#[derive(Default)]
struct Builder {
    activities: Vec<Row>,
    tasks: Vec<Row>,
    opportunities: Vec<Row>,
    contacts: Vec<Row>,
    custom_objects: Vec<Row>,
    configuration: BTreeMap<String, Vec<Row>>,
    leads: Vec<Row>,
    events: Vec<Row>,
    custom_fields: Vec<CustomFieldRow>,
    users: Vec<Row>,
    deactivated_users: Vec<String>,
}

impl Builder {
    fn add(&mut self, g: Generated) {
        match g {
            Generated::User(v) => self.users.push(Row::new(&v, "date_updated", "")),
            Generated::Deactivated(id) => self.deactivated_users.push(id),
            Generated::CustomField(t, v) => self.custom_fields.push(CustomFieldRow::new(t, &v)),
            Generated::Lead(v) => self.leads.push(Row::new(&v, "date_updated", "")),
            Generated::Opportunity(v) => self.opportunities.push(Row::new(&v, "date_updated", "")),
            Generated::Contact(v) => self.contacts.push(Row::new(&v, "date_updated", "")),
            Generated::CustomObject(v) => {
                self.custom_objects.push(Row::new(&v, "date_updated", "custom_object_type_id"))
            }
            Generated::Configuration(t, v) => {
                self.configuration.entry(t).or_default().push(Row::new(&v, "date_updated", ""))
            }
            Generated::Activity(v) => self.activities.push(Row::new(&v, "date_created", "_type")),
            Generated::Task(v) => self.tasks.push(Row::new(&v, "date_updated", "_type")),
            Generated::Event(v) => self.events.push(Row::new(&v, "date_updated", "object_type")),
        }
    }

    fn build(self) -> Store {
        Store {
            activities: Table::new(self.activities),
            tasks: Table::new(self.tasks),
            opportunities: Table::new(self.opportunities),
            contacts: Table::new(self.contacts),
            custom_objects: Table::new(self.custom_objects),
            configuration: self.configuration,
            leads: Table::new(self.leads),
            events: Table::new(self.events),
            custom_fields: self.custom_fields,
            users: self.users,
            deactivated_users: self.deactivated_users,
            lead_index: None,
        }
    }
}

/// Every record the server answers from.
#[derive(Debug, Default)]
pub struct Store {
    pub activities: Table,
    pub tasks: Table,
    /// Opportunities as `/opportunity/` lists them (leads embed copies that may be older).
    pub opportunities: Table,
    /// Contacts as `/contact/` and search list them (leads embed copies that may be older).
    pub contacts: Table,
    pub custom_objects: Table,
    /// The configuration listings by close-lake table, in listing order.
    pub configuration: BTreeMap<String, Vec<Row>>,
    pub leads: Table,
    pub events: Table,
    pub custom_fields: Vec<CustomFieldRow>,
    /// Every user, active or deactivated.
    pub users: Vec<Row>,
    /// Ids of the deactivated users.
    pub deactivated_users: Vec<String>,
    /// The leads as the search index shows them while it lags behind `leads` (see `lead_index.rs`); `None`
    /// when it is up to date.
    lead_index: Option<Table>,
}

impl Store {
    /// Indexes `dataset`, dropping each JSON value once it is stored as text.
    pub fn load(dataset: Dataset) -> Store {
        let mut b = Builder::default();
        dataset.users.into_iter().for_each(|v| b.add(Generated::User(v)));
        dataset.deactivated_users.into_iter().for_each(|id| b.add(Generated::Deactivated(id)));
        dataset.custom_fields.into_iter().for_each(|(t, v)| b.add(Generated::CustomField(t, v)));
        dataset.leads.into_iter().for_each(|v| b.add(Generated::Lead(v)));
        dataset.opportunities.into_iter().for_each(|v| b.add(Generated::Opportunity(v)));
        dataset.contacts.into_iter().for_each(|v| b.add(Generated::Contact(v)));
        dataset.custom_objects.into_iter().for_each(|v| b.add(Generated::CustomObject(v)));
        for (table, records) in dataset.configuration {
            records.into_iter().for_each(|v| b.add(Generated::Configuration(table.clone(), v)));
        }
        dataset.activities.into_iter().for_each(|v| b.add(Generated::Activity(v)));
        dataset.tasks.into_iter().for_each(|v| b.add(Generated::Task(v)));
        dataset.events.into_iter().for_each(|v| b.add(Generated::Event(v)));
        b.build()
    }

    /// Generates `spec` straight into a store, without holding the whole dataset as JSON values.
    pub fn generate(spec: &GenSpec) -> Store {
        let mut b = Builder::default();
        generate_each(spec, &mut |g| b.add(g));
        b.build()
    }

    /// The current records; tables in (key, id) order, custom fields and users in insertion order.
    pub fn snapshot(&self) -> Dataset {
        let values = |t: &Table| t.rows.iter().map(Row::value).collect();
        Dataset {
            activities: values(&self.activities),
            custom_fields: self.custom_fields.iter().map(|f| (f.object_type.clone(), f.row.value())).collect(),
            events: values(&self.events),
            leads: values(&self.leads),
            opportunities: values(&self.opportunities),
            contacts: values(&self.contacts),
            custom_objects: values(&self.custom_objects),
            configuration: self
                .configuration
                .iter()
                .map(|(table, rows)| (table.clone(), rows.iter().map(Row::value).collect()))
                .collect(),
            tasks: values(&self.tasks),
            users: self.users.iter().map(Row::value).collect(),
            deactivated_users: self.deactivated_users.clone(),
        }
    }

    /// Whether the user `id` is deactivated.
    pub fn is_deactivated(&self, id: &str) -> bool {
        self.deactivated_users.iter().any(|d| d == id)
    }

    /// The records of a configuration listing, in listing order.
    pub fn configuration(&self, table: &str) -> &[Row] {
        self.configuration.get(table).map_or(&[], Vec::as_slice)
    }

    /// The custom fields `GET /custom_field/<endpoint>/` lists, each id once.
    pub fn custom_fields_for(&self, endpoint: &str) -> Vec<&Row> {
        let mut seen = std::collections::HashSet::new();
        self.custom_fields
            .iter()
            .filter(|f| f.listed_under(endpoint) && seen.insert(&*f.row.id))
            .map(|f| &f.row)
            .collect()
    }
}
