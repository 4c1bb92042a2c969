//! Deterministic trouble configured in [`SimConfig`]: faults on every n-th request of a group (a wrong status, a
//! 200 whose body is cut at half its length, a 200 of HTML from a proxy) and endpoints the plan lacks.

use axum::http::StatusCode;
use axum::response::Response;

use super::endpoint::API_PREFIX;
use super::respond::ApiError;
use super::routes::reply;
use crate::config::{FaultKind, SimConfig};

/// The body of a [`FaultKind::NotJson`] answer.
pub const PROXY_PAGE: &str = "<html><body>upstream error</body></html>";

/// The fault the `nth` request of `group` gets, if any (the first configured one that matches).
pub fn fault(config: &SimConfig, group: &str, nth: u64) -> Option<FaultKind> {
    let matches = |f: &&crate::config::Fault| f.group == group && f.every > 0 && nth.is_multiple_of(f.every);
    config.faults.iter().find(matches).map(|f| f.kind)
}

/// The faulty answer of kind `kind`; `real` computes the answer the request would have had (only a cut body
/// needs it).
pub fn faulty(kind: FaultKind, real: impl FnOnce() -> Result<String, ApiError>, rate_limit: &str) -> Response {
    match kind {
        FaultKind::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let error = ApiError::Message(status, status.canonical_reason().unwrap_or("Error").to_string());
            reply(status, "application/json", error.body(), rate_limit)
        }
        FaultKind::CutBody => {
            let body = real().unwrap_or_else(|e| e.body()).into_bytes();
            reply(StatusCode::OK, "application/json", body[..body.len() / 2].to_vec(), rate_limit)
        }
        FaultKind::NotJson => reply(StatusCode::OK, "text/html", PROXY_PAGE, rate_limit),
    }
}

/// The error a request to `path` gets when the configuration makes that endpoint unavailable.
pub fn unavailable(config: &SimConfig, path: &str) -> Option<ApiError> {
    let relative = path.strip_prefix(API_PREFIX)?.trim_matches('/');
    let entry = config.unavailable.iter().find(|u| u.path.trim_matches('/') == relative)?;
    let status = StatusCode::from_u16(entry.status).unwrap_or(StatusCode::NOT_FOUND);
    let message = match status.as_u16() {
        402 => "Your plan does not include this feature. Please upgrade your plan to use it.",
        403 => "You do not have permission to perform this action.",
        404 => "The requested URL was not found on the server.",
        _ => status.canonical_reason().unwrap_or("Error"),
    };
    Some(ApiError::Message(status, message.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Fault, Unavailable};

    #[test]
    fn faults_every_nth_of_their_group() {
        let config = SimConfig {
            faults: vec![
                Fault { group: "event".into(), every: 2, kind: FaultKind::Status(503) },
                Fault { group: "event".into(), every: 3, kind: FaultKind::CutBody },
            ],
            ..SimConfig::default()
        };
        let kinds: Vec<Option<FaultKind>> = (1..=6).map(|n| fault(&config, "event", n)).collect();
        use FaultKind::*;
        assert_eq!(kinds, [None, Some(Status(503)), Some(CutBody), Some(Status(503)), None, Some(Status(503))]);
        assert_eq!(fault(&config, "lead", 2), None);
    }

    #[test]
    fn unavailable_paths_match_with_or_without_slashes() {
        let entry = Unavailable { path: "/custom_field/custom_object_type".into(), status: 402 };
        let config = SimConfig { unavailable: vec![entry], ..SimConfig::default() };
        let e = unavailable(&config, "/api/v1/custom_field/custom_object_type/").expect("unavailable");
        assert_eq!(e.status(), StatusCode::PAYMENT_REQUIRED);
        assert!(e.body().starts_with(r#"{"error":"#));
        assert!(unavailable(&config, "/api/v1/custom_field/lead/").is_none());
    }
}
