//! Maps `/api/v1/...` paths to endpoints and their rate-limit groups, and runs one API request through the
//! gate (count, auth, throttle) and its handler into a JSON response carrying the `RateLimit` header.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use chrono::Utc;

use super::params::Params;
use super::respond::ApiError;
use super::{Shared, events, gate, leads, lists, search, small};
use crate::kinds::{ActivityKind, activity_by_endpoint};

const API_PREFIX: &str = "/api/v1/";

/// One API endpoint.
#[derive(Debug, Clone, PartialEq)]
pub enum Endpoint {
    Me,
    /// `/activity/` (`None`) or one type's `/activity/<type>/`.
    Activities(Option<&'static ActivityKind>),
    Tasks,
    Leads,
    Lead(String),
    Events,
    CustomFields(&'static str),
    Users,
    Search,
}

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
            ["lead"] => Endpoint::Leads,
            ["lead", id] if id.starts_with("lead_") => Endpoint::Lead((*id).to_string()),
            ["event"] => Endpoint::Events,
            ["custom_field", t] => Endpoint::CustomFields(small::CUSTOM_FIELD_TYPES.iter().find(|k| **k == *t)?),
            ["user"] => Endpoint::Users,
            ["data", "search"] => Endpoint::Search,
            _ => return None,
        })
    }

    /// The rate-limit and request-count group.
    pub fn group(&self) -> &'static str {
        match self {
            Endpoint::Me => "me",
            Endpoint::Activities(_) => "activity",
            Endpoint::Tasks => "task",
            Endpoint::Leads | Endpoint::Lead(_) => "lead",
            Endpoint::Events => "event",
            Endpoint::CustomFields(_) => "custom_field",
            Endpoint::Users => "user",
            Endpoint::Search => "search",
        }
    }

    fn method(&self) -> Method {
        if *self == Endpoint::Search { Method::POST } else { Method::GET }
    }
}

/// The fallback handler serving every `/api/v1/` request.
pub async fn dispatch(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let endpoint = Endpoint::parse(uri.path());
    let group = endpoint.as_ref().map_or("unknown", Endpoint::group);
    let hit = shared.counters().hit(group, Instant::now());
    let config = shared.config();
    let rate_limit = gate::rate_limit_header(hit.remaining, hit.reset_secs);
    if !gate::authorized(&headers, &config.api_key) {
        let message = "The server could not verify that you are authorized to access the URL requested.  You \
            either supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how \
            to supply the credentials required.";
        return respond(Err(ApiError::Message(StatusCode::UNAUTHORIZED, message.into())), &rate_limit);
    }
    if let Some(retry_after) = gate::throttled(&config, group, hit.nth) {
        let mut response = respond(
            Err(ApiError::Message(StatusCode::TOO_MANY_REQUESTS, "Too many requests".into())),
            &gate::rate_limit_header(0, retry_after),
        );
        if let Ok(v) = HeaderValue::from_str(&gate::secs(retry_after)) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return response;
    }
    let Some(endpoint) = endpoint else {
        return respond(Err(ApiError::not_found("The requested URL was not found on the server.")), &rate_limit);
    };
    if method != endpoint.method() {
        let error = ApiError::Message(
            StatusCode::METHOD_NOT_ALLOWED,
            "The method is not allowed for the requested URL.".into(),
        );
        return respond(Err(error), &rate_limit);
    }
    let params = Params::parse(uri.query());
    let store = shared.store();
    let result = match &endpoint {
        Endpoint::Me => small::me(&store),
        Endpoint::Activities(kind) => lists::activities(&store, &config, &params, *kind),
        Endpoint::Tasks => lists::tasks(&store, &config, &params),
        Endpoint::Leads => leads::leads(&store, &config, &params),
        Endpoint::Lead(id) => leads::lead(&store, &params, id),
        Endpoint::Events => events::events(&store, &config, &params, Utc::now()),
        Endpoint::CustomFields(t) => small::custom_fields(&store, &config, &params, t),
        Endpoint::Users => small::users(&store, &config, &params),
        Endpoint::Search => search::search(&store, &body),
    };
    drop(store);
    respond(result, &rate_limit)
}

/// A JSON response with the `RateLimit` header.
pub fn respond(result: Result<String, ApiError>, rate_limit: &str) -> Response {
    let (status, body) = match result {
        Ok(body) => (StatusCode::OK, body),
        Err(e) => (e.status(), e.body()),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(rate_limit) {
        h.insert("ratelimit", v);
    }
    response
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
        assert_eq!(p("/api/v1/custom_field/shared/"), Some(Endpoint::CustomFields("shared")));
        assert_eq!(p("/api/v1/lead/lead_x/"), Some(Endpoint::Lead("lead_x".into())));
        assert_eq!(p("/api/v1/data/search/").map(|e| e.group()), Some("search"));
        for missing in ["/api/v1/activity/fax/", "/api/v1/custom_field/deal/", "/api/v2/lead/", "/api/v1/"] {
            assert_eq!(p(missing), None, "{missing}");
        }
    }
}
