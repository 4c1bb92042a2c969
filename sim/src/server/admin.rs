//! Unauthenticated control endpoints for out-of-process use (the `close-sim` binary, demos, benchmarks):
//! `POST /_sim/mutate` (a JSON [`Mutation`], every field optional, `at` defaulting to now; answers the
//! [`MutationReport`]), `GET /_sim/requests` (group -> count), `POST /_sim/reset_requests` and
//! `POST /_sim/flush_lead_index` (the lead search index catches up with delayed mutations).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Shared;
use crate::mutate::Mutation;

pub async fn mutate(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let mutation = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(Mutation::default())
    } else {
        serde_json::from_slice::<Mutation>(&body)
    };
    match mutation {
        Ok(m) => Json(shared.mutate(&m)).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({ "error": format!("Invalid mutation: {e}") }))).into_response(),
    }
}

pub async fn requests(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.counters().all()).into_response()
}

pub async fn reset_requests(State(shared): State<Arc<Shared>>) -> Response {
    shared.counters().reset();
    Json(json!({ "ok": true })).into_response()
}

pub async fn flush_lead_index(State(shared): State<Arc<Shared>>) -> Response {
    shared.flush_lead_index();
    Json(json!({ "ok": true })).into_response()
}
