//! The configuration listings: lead and opportunity statuses, pipelines, custom activity and custom object
//! types, email and SMS templates, sequences, smart views, roles and groups. Each answers exactly the query
//! parameters Close documents for it (none for most), pages only where `_limit`/`_skip` are documented, and
//! uses the envelope of the reference's example (`/pipeline/`, `/custom_activity/` and `/custom_object_type/`
//! send no `has_more`). `/saved_search/` lists only `lead` smart views unless `type` or `type__in` asks for
//! others, as Close does.

use serde_json::Value;

use super::params::Params;
use super::respond::{ApiError, Fields, offset_envelope, write_rows};
use crate::config::SimConfig;
use crate::store::{Row, Store};

/// One configuration listing.
#[derive(Debug, PartialEq)]
pub struct Listing {
    /// The close-lake table and the simulator's collection.
    pub table: &'static str,
    /// The path under `/api/v1/`, without slashes.
    pub path: &'static str,
    /// The query parameters Close documents.
    pub params: &'static [&'static str],
    /// Whether its envelope carries `has_more`.
    pub has_more: bool,
    /// The event log's `object_type` of its records.
    pub event_object_type: &'static str,
}

const PAGED: &[&str] = &["_limit", "_skip"];

pub const LISTINGS: [Listing; 11] = [
    listing("lead_statuses", "status/lead", &[], true, "status.lead"),
    listing("opportunity_statuses", "status/opportunity", &["_fields"], true, "status.opportunity"),
    listing("pipelines", "pipeline", &[], false, "pipeline"),
    listing("custom_activity_types", "custom_activity", &[], false, "custom_activity_type"),
    listing("custom_object_types", "custom_object_type", &[], false, "custom_object_type"),
    listing(
        "email_templates",
        "email_template",
        &["_limit", "_skip", "is_archived", "is_shared"],
        true,
        "email_template",
    ),
    listing("sms_templates", "sms_template", PAGED, true, "sms_template"),
    listing("sequences", "sequence", PAGED, true, "sequence"),
    listing("smart_views", "saved_search", &["_limit", "_skip", "type", "type__in"], true, "saved_search"),
    listing("roles", "role", &[], true, "role"),
    listing("groups", "group", &["_fields"], true, "group"),
];

const fn listing(
    table: &'static str,
    path: &'static str,
    params: &'static [&'static str],
    has_more: bool,
    event_object_type: &'static str,
) -> Listing {
    Listing { table, path, params, has_more, event_object_type }
}

const MAX_LIMIT: usize = 100;

pub fn by_path(path: &str) -> Option<&'static Listing> {
    LISTINGS.iter().find(|l| l.path == path)
}

pub fn listing_page(store: &Store, config: &SimConfig, params: &Params, listing: &Listing) -> Result<String, ApiError> {
    let rows = store.configuration(listing.table);
    let (archived, shared) = (flag(params, "is_archived")?, flag(params, "is_shared")?);
    let rows: Vec<&Row> = match listing.table {
        "smart_views" => {
            let types = params.list("type__in").or_else(|| params.get("type").map(|t| vec![t.to_string()]));
            let types = types.unwrap_or_else(|| vec!["lead".to_string()]);
            rows.iter().filter(|r| types.iter().any(|t| text(r, "type").as_deref() == Some(t))).collect()
        }
        _ => rows
            .iter()
            .filter(|r| archived.is_none_or(|want| boolean(r, "is_archived") == want))
            .filter(|r| shared.is_none_or(|want| boolean(r, "is_shared") == want))
            .collect(),
    };
    let fields = params.fields();
    if !listing.params.contains(&"_skip") {
        return Ok(whole(&rows, listing.has_more, &fields));
    }
    let (skip, limit) = params.paging(MAX_LIMIT, MAX_LIMIT, config.max_skip)?;
    let page: Vec<&Row> = rows.iter().skip(skip).take(limit).copied().collect();
    Ok(offset_envelope(&page, skip.saturating_add(page.len()) < rows.len(), &fields))
}

/// Every record in one answer.
fn whole(rows: &[&Row], has_more: bool, fields: &Fields) -> String {
    if has_more {
        return offset_envelope(rows, false, fields);
    }
    let mut out = String::from(r#"{"data": ["#);
    write_rows(rows.iter().copied(), fields, &mut out);
    out.push_str("]}");
    out
}

fn text(row: &Row, field: &str) -> Option<String> {
    row.value().get(field).and_then(Value::as_str).map(str::to_string)
}

fn boolean(row: &Row, field: &str) -> bool {
    row.value().get(field).and_then(Value::as_bool).unwrap_or(false)
}

/// A documented boolean filter: `true`/`false`, or a 400.
fn flag(params: &Params, name: &str) -> Result<Option<bool>, ApiError> {
    match params.get(name) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(ApiError::field(name, "Not a valid boolean.")),
    }
}
