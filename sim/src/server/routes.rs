//! The fallback handler serving every `/api/v1/` request, in order: count it (and run the mutations scheduled
//! for it), answer from the capture when replaying, check the key (401), the throttle (429) and the configured
//! faults, find the endpoint (404, 405), refuse unavailable endpoints and undocumented parameters, then call the
//! endpoint's handler. Every answer carries `RateLimit` and `Date`.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use chrono::Utc;

use super::endpoint::Endpoint;
use super::params::Params;
use super::respond::ApiError;
use super::{
    Shared, activities, configuration, events, faults, gate, leads, opportunities, people, search, small, tasks, users,
};
use crate::config::SimConfig;
use crate::time::http_date;

pub async fn dispatch(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let endpoint = Endpoint::parse(uri.path());
    let group = endpoint.as_ref().map_or("unknown", Endpoint::group);
    let config = shared.config();
    let limit = config.rate_limit.unwrap_or(gate::RATE_LIMIT);
    let hit = shared.counters().hit(group, Instant::now(), limit);
    shared.run_scheduled(group, hit.nth);
    if !config.latency.is_zero() {
        tokio::time::sleep(config.latency).await;
    }
    if let Some(replay) = &shared.replay {
        let mut response = replay.answer(&method, &uri, &body);
        if !response.headers().contains_key(header::DATE) {
            stamp_date(&mut response);
        }
        return response;
    }
    let rate_limit = gate::rate_limit_header(limit, hit.remaining, hit.reset_secs);
    let over_limit = (config.rate_limit.is_some() && hit.over).then_some(hit.reset_secs);
    let request = Request { endpoint, method: &method, uri: &uri, body: &body };
    let mut response = if !gate::authorized(&headers, &config.api_key) {
        let message = "The server could not verify that you are authorized to access the URL requested.  You \
            either supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how \
            to supply the credentials required.";
        respond(Err(ApiError::Message(StatusCode::UNAUTHORIZED, message.into())), &rate_limit)
    } else if let Some(retry_after) = over_limit.or_else(|| gate::throttled(&config, group, hit.nth)) {
        let mut response = respond(
            Err(ApiError::Message(StatusCode::TOO_MANY_REQUESTS, "Too many requests".into())),
            &gate::rate_limit_header(limit, 0, retry_after),
        );
        if let Ok(v) = HeaderValue::from_str(&gate::secs(retry_after)) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    } else if let Some(kind) = faults::fault(&config, group, hit.nth) {
        faults::faulty(kind, || serve(&shared, &config, request), &rate_limit)
    } else {
        respond(serve(&shared, &config, request), &rate_limit)
    };
    stamp_date(&mut response);
    response
}

/// What a handler needs of the request.
struct Request<'r> {
    endpoint: Option<Endpoint>,
    method: &'r Method,
    uri: &'r Uri,
    body: &'r [u8],
}

/// The answer of an authorized request.
fn serve(shared: &Shared, config: &SimConfig, request: Request) -> Result<String, ApiError> {
    let endpoint =
        request.endpoint.ok_or_else(|| ApiError::not_found("The requested URL was not found on the server."))?;
    if *request.method != endpoint.method() {
        let message = "The method is not allowed for the requested URL.";
        return Err(ApiError::Message(StatusCode::METHOD_NOT_ALLOWED, message.into()));
    }
    let path = request.uri.path();
    if let Some(error) = faults::unavailable(config, path) {
        return Err(error);
    }
    let params = Params::parse(request.uri.query());
    endpoint.check_params(&params, config.unknown_params, path)?;
    let store = shared.store();
    match &endpoint {
        Endpoint::Me => users::me(&store, config, &params),
        Endpoint::Activities(kind) => activities::activities(&store, config, &params, *kind, path),
        Endpoint::Tasks => tasks::tasks(&store, config, &params),
        Endpoint::Opportunities => opportunities::opportunities(&store, config, &params),
        Endpoint::Leads => leads::leads(&store, config, &params),
        Endpoint::Lead(id) => leads::lead(&store, &params, id),
        Endpoint::Events => events::events(&store, config, &params, Utc::now()),
        Endpoint::CustomFields(t) => small::custom_fields(&store, config, &params, t),
        Endpoint::Users => users::users(&store, config, &params),
        Endpoint::User(id) => users::user(&store, &params, id),
        Endpoint::Organization(id) => users::organization(&store, config, &params, id),
        Endpoint::Search => search::search(&store, config, request.body),
        Endpoint::Contacts => people::contacts(&store, config, &params),
        Endpoint::CustomObjects => people::custom_objects(&store, &params),
        Endpoint::Configuration(listing) => configuration::listing_page(&store, config, &params, listing),
    }
}

/// A JSON response with the `RateLimit` header.
pub fn respond(result: Result<String, ApiError>, rate_limit: &str) -> Response {
    match result {
        Ok(body) => reply(StatusCode::OK, "application/json", body, rate_limit),
        Err(e) => reply(e.status(), "application/json", e.body(), rate_limit),
    }
}

/// A response of `status` with `body` of `content_type` and the `RateLimit` header.
pub fn reply(status: StatusCode, content_type: &'static str, body: impl Into<Body>, rate_limit: &str) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(rate_limit) {
        h.insert("ratelimit", v);
    }
    response
}

/// Sets the `Date` header from the server clock.
fn stamp_date(response: &mut Response) {
    if let Ok(v) = HeaderValue::from_str(&http_date(Utc::now())) {
        response.headers_mut().insert(header::DATE, v);
    }
}
