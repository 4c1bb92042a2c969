//! The API's endpoints: which path is which endpoint, its method, its rate-limit and request-count group, and
//! the query parameters Close documents for it (`docs/close-api.md`, "Documented parameters, per endpoint").
//! Any other parameter is refused with a 400 naming it, or ignored, as [`ParamPolicy`] says.

use axum::http::Method;

use super::configuration::{self, Listing};
use super::params::Params;
use super::respond::ApiError;
use super::small::CUSTOM_FIELD_TYPES;
use crate::config::ParamPolicy;
use crate::kinds::{ActivityKind, activity_by_endpoint};

pub const API_PREFIX: &str = "/api/v1/";

/// One API endpoint.
#[derive(Debug, Clone, PartialEq)]
pub enum Endpoint {
    Me,
    /// `/activity/` (`None`) or one type's `/activity/<type>/`.
    Activities(Option<&'static ActivityKind>),
    Tasks,
    Opportunities,
    Leads,
    Lead(String),
    Events,
    CustomFields(&'static str),
    Users,
    User(String),
    Organization(String),
    Search,
    Contacts,
    CustomObjects,
    /// A configuration listing (statuses, pipelines, templates, roles, ...).
    Configuration(&'static Listing),
}

const ACTIVITY_PARAMS: &[&str] = &[
    "_limit",
    "_skip",
    "_fields",
    "date_created__gt",
    "date_created__gte",
    "date_created__lt",
    "date_created__lte",
    "_order_by",
    "thread_emails",
    "lead_id",
    "user_id",
    "contact_id",
    "_type",
    "_type__in",
];

const TASK_PARAMS: &[&str] = &[
    "_limit",
    "_skip",
    "_fields",
    "id",
    "id__in",
    "_type",
    "_type__in",
    "lead_id",
    "is_complete",
    "assigned_to",
    "view",
    "date",
    "date__gt",
    "date__gte",
    "date__lt",
    "date__lte",
    "due_date",
    "due_date__gt",
    "due_date__gte",
    "due_date__lt",
    "due_date__lte",
    "date_created__gt",
    "date_created__gte",
    "date_created__lt",
    "date_created__lte",
    "date_updated__gt",
    "date_updated__gte",
    "date_updated__lt",
    "date_updated__lte",
    "_order_by",
];

const OPPORTUNITY_PARAMS: &[&str] = &[
    "_limit",
    "_skip",
    "_fields",
    "lead_id",
    "lead_id__in",
    "user_id",
    "user_id__in",
    "status_id",
    "status_id__in",
    "status_type",
    "status_type__in",
    "status_label",
    "status_label__in",
    "value_period",
    "value_period__in",
    "date_created__gt",
    "date_created__gte",
    "date_created__lt",
    "date_created__lte",
    "date_updated__gt",
    "date_updated__gte",
    "date_updated__lt",
    "date_updated__lte",
    "date_won",
    "date_won__gt",
    "date_won__gte",
    "date_won__lt",
    "date_won__lte",
    "_order_by",
];

const EVENT_PARAMS: &[&str] = &[
    "date_updated__gte",
    "date_updated__lte",
    "object_type",
    "object_id",
    "action",
    "lead_id",
    "user_id",
    "request_id",
    "_cursor",
    "_limit",
];

const CONTACT_PARAMS: &[&str] = &["_limit", "_skip", "_fields", "lead_id"];
const CUSTOM_OBJECT_PARAMS: &[&str] = &["lead_id", "custom_object_type_id"];
const LEAD_PARAMS: &[&str] = &["_limit", "_skip", "_fields", "query"];
const LISTING_PARAMS: &[&str] = &["_limit", "_skip", "_fields"];
const ONE_RECORD_PARAMS: &[&str] = &["_fields"];

impl Endpoint {
    /// The endpoint at `path` (trailing slash optional), or `None` for a 404.
    pub fn parse(path: &str) -> Option<Endpoint> {
        let rest = path.strip_prefix(API_PREFIX)?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let segments: Vec<&str> = rest.split('/').collect();
        Some(match segments.as_slice() {
            ["me"] => Endpoint::Me,
            ["activity"] => Endpoint::Activities(None),
            ["activity", kind @ ..] => Endpoint::Activities(Some(activity_by_endpoint(&kind.join("/"))?)),
            ["task"] => Endpoint::Tasks,
            ["opportunity"] => Endpoint::Opportunities,
            ["lead"] => Endpoint::Leads,
            ["lead", id] if id.starts_with("lead_") => Endpoint::Lead((*id).to_string()),
            ["event"] => Endpoint::Events,
            ["custom_field", t] => Endpoint::CustomFields(CUSTOM_FIELD_TYPES.iter().find(|k| **k == *t)?),
            ["user"] => Endpoint::Users,
            ["user", id] if !id.is_empty() => Endpoint::User((*id).to_string()),
            ["organization", id] if !id.is_empty() => Endpoint::Organization((*id).to_string()),
            ["data", "search"] => Endpoint::Search,
            ["contact"] => Endpoint::Contacts,
            ["custom_object"] => Endpoint::CustomObjects,
            _ => Endpoint::Configuration(configuration::by_path(rest)?),
        })
    }

    /// The rate-limit and request-count group.
    pub fn group(&self) -> &'static str {
        match self {
            Endpoint::Me => "me",
            Endpoint::Activities(_) => "activity",
            Endpoint::Tasks => "task",
            Endpoint::Opportunities => "opportunity",
            Endpoint::Leads | Endpoint::Lead(_) => "lead",
            Endpoint::Events => "event",
            Endpoint::CustomFields(_) => "custom_field",
            Endpoint::Users | Endpoint::User(_) => "user",
            Endpoint::Organization(_) => "organization",
            Endpoint::Search => "search",
            Endpoint::Contacts => "contact",
            Endpoint::CustomObjects => "custom_object",
            Endpoint::Configuration(listing) => listing.path,
        }
    }

    pub fn method(&self) -> Method {
        if *self == Endpoint::Search { Method::POST } else { Method::GET }
    }

    /// The query parameters Close documents for this endpoint (`/data/search/` takes its parameters in the body).
    pub fn documented(&self) -> &'static [&'static str] {
        match self {
            Endpoint::Activities(_) => ACTIVITY_PARAMS,
            Endpoint::Tasks => TASK_PARAMS,
            Endpoint::Opportunities => OPPORTUNITY_PARAMS,
            Endpoint::Leads => LEAD_PARAMS,
            Endpoint::Events => EVENT_PARAMS,
            Endpoint::CustomFields(_) | Endpoint::Users => LISTING_PARAMS,
            Endpoint::Me | Endpoint::Lead(_) | Endpoint::User(_) | Endpoint::Organization(_) => ONE_RECORD_PARAMS,
            Endpoint::Search => &[],
            Endpoint::Contacts => CONTACT_PARAMS,
            Endpoint::CustomObjects => CUSTOM_OBJECT_PARAMS,
            Endpoint::Configuration(listing) => listing.params,
        }
    }

    /// Under [`ParamPolicy::Refuse`], the 400 for the first parameter of `params` this endpoint does not
    /// document; `path` is the request path.
    pub fn check_params(&self, params: &Params, policy: ParamPolicy, path: &str) -> Result<(), ApiError> {
        if policy == ParamPolicy::Ignore {
            return Ok(());
        }
        let allowed = self.documented();
        match params.names().find(|name| !allowed.contains(name)) {
            None => Ok(()),
            Some(name) => Err(unknown_param(name, path, &allowed.join(", "))),
        }
    }
}

/// `path` as the errors name it: relative to the API root, with slashes on both ends (`/activity/call/`).
pub fn short_path(path: &str) -> String {
    let rest = path.strip_prefix(API_PREFIX).unwrap_or(path).trim_matches('/');
    format!("/{rest}/")
}

/// The 400 for a parameter `path` does not document; `documented` says what Close documents instead.
pub fn unknown_param(name: &str, path: &str, documented: &str) -> ApiError {
    let documented = if documented.is_empty() { "no query parameters" } else { documented };
    ApiError::bad_request(format!("Unknown parameter {name} for {}: Close documents {documented}", short_path(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_paths() {
        let p = |s: &str| Endpoint::parse(s);
        assert_eq!(p("/api/v1/activity/"), Some(Endpoint::Activities(None)));
        let lead_changes = p("/api/v1/activity/status_change/lead/");
        assert!(matches!(lead_changes, Some(Endpoint::Activities(Some(k))) if k.type_name == "LeadStatusChange"));
        assert_eq!(p("/api/v1/task"), Some(Endpoint::Tasks));
        assert_eq!(p("/api/v1/opportunity/"), Some(Endpoint::Opportunities));
        assert_eq!(p("/api/v1/custom_field/shared/"), Some(Endpoint::CustomFields("shared")));
        assert_eq!(p("/api/v1/lead/lead_x/"), Some(Endpoint::Lead("lead_x".into())));
        assert_eq!(p("/api/v1/user/user_x/").map(|e| e.group()), Some("user"));
        assert_eq!(p("/api/v1/organization/orga_x/"), Some(Endpoint::Organization("orga_x".into())));
        assert_eq!(p("/api/v1/data/search/").map(|e| e.group()), Some("search"));
        for missing in ["/api/v1/activity/fax/", "/api/v1/custom_field/deal/", "/api/v2/lead/", "/api/v1/"] {
            assert_eq!(p(missing), None, "{missing}");
        }
    }

    #[test]
    fn refuses_undocumented_parameters_by_name() {
        let params = Params::parse(Some("_limit=5&date_updated__gte=2024-01-01"));
        let err = Endpoint::Leads.check_params(&params, ParamPolicy::Refuse, "/api/v1/lead/").unwrap_err();
        assert_eq!(
            err.body(),
            r#"{"error":"Unknown parameter date_updated__gte for /lead/: Close documents _limit, _skip, _fields, query"}"#
        );
        assert_eq!(Endpoint::Leads.check_params(&params, ParamPolicy::Ignore, "/api/v1/lead/"), Ok(()));
        let ok = Params::parse(Some("_type=all&_order_by=date_created&date_updated__gt=2024-01-01"));
        assert_eq!(Endpoint::Tasks.check_params(&ok, ParamPolicy::Refuse, "/api/v1/task/"), Ok(()));
        let skip = Params::parse(Some("_skip=0"));
        assert!(Endpoint::Events.check_params(&skip, ParamPolicy::Refuse, "/api/v1/event/").is_err());
        assert_eq!(short_path("/api/v1/activity/call"), "/activity/call/");
    }
}
