//! `close-lake check`: probes everything an export needs and writes no data.
//!
//! One line per check, `ok`, `warn` or `fail`, each failure with its fix: the key and its role
//! (`/me/` and the organization), one small request per table endpoint with exactly the parameters
//! an export sends (only `_limit` made small), the `RateLimit` headers Close announced, and one write
//! and delete of a probe object at the destination. The exit status is `export`'s: 2 when the key or
//! the destination is unusable, 1 when an endpoint fails, 0 otherwise (warnings included).

use crate::close::pager::{PageRequest, Pager, Window};
use crate::close::{Account, ApiError, Client};
use crate::config::CheckPlan;
use crate::error::Error;
use crate::report::{self, Counters};
use crate::tables::{Source, TableSpec};
use crate::time::{self, MICROS_PER_DAY};

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    Ok,
    Warn,
    Fail,
}

fn line(verdict: Verdict, what: &str, detail: &str) {
    let tag = match verdict {
        Verdict::Ok => "ok",
        Verdict::Warn => "warn",
        Verdict::Fail => "fail",
    };
    println!("{tag:<5} {what:<22} {}", report::one_line(detail));
}

pub async fn run(plan: CheckPlan) -> Result<(), Error> {
    let counters = Counters::default();
    let client = Client::new(&plan.api).map_err(Error::Startup)?;
    let account = match Account::fetch(&client, &counters).await {
        Ok(account) => account,
        Err(err) => {
            line(Verdict::Fail, "key", &err.to_string());
            return Err(Error::ChecksFailed { failed: 1, code: Error::Startup(err).exit_code() });
        }
    };
    let role = account.role.as_deref().unwrap_or("unknown (the organization could not be read)");
    line(Verdict::Ok, "key", &format!("accepted: user {}, role {role}", account.user_id));
    if let Some(warning) = account.role_warning() {
        line(Verdict::Warn, "key role", &warning);
    }
    if !account.inactive_user_ids.is_empty() {
        let n = account.inactive_user_ids.len();
        line(Verdict::Ok, "deactivated users", &format!("{n} read one by one at /user/<id>/"));
    }

    let mut failed_endpoints = 0;
    let window = Window {
        lower: time::floor_to(account.server_now - MICROS_PER_DAY, time::MICROS_PER_MINUTE),
        upper: time::floor_to(account.server_now - plan.lag, time::MICROS_PER_MINUTE),
    };
    let mut groups = Vec::new();
    for spec in &plan.tables {
        for (request, optional) in probes(spec, window) {
            let what = format!("{} {}", spec.name, request.path);
            match client.page(&request, &counters).await {
                Ok(body) => {
                    let records = serde_json::from_slice::<serde_json::Value>(&body)
                        .ok()
                        .and_then(|page| page["data"].as_array().map(Vec::len))
                        .unwrap_or(0);
                    line(Verdict::Ok, &what, &format!("200, {records} record(s) for {}", query_text(&request)));
                }
                Err(err) if optional && err.is_unavailable() => {
                    line(
                        Verdict::Warn,
                        &what,
                        &format!("{err}: this plan lacks the endpoint; export reads it as empty"),
                    );
                }
                Err(err) => {
                    failed_endpoints += 1;
                    line(Verdict::Fail, &what, &format!("{err}. Fix: {}", fix(&err)));
                }
            }
            let group = request.path.split('/').next().unwrap_or_default();
            if !groups.contains(&group) {
                groups.push(group);
            }
        }
    }
    let limits: Vec<String> = groups
        .iter()
        .filter_map(|group| {
            let limit = client.rate_limit(group)?;
            let n = |v: Option<f64>| v.map_or("?".to_string(), |v| v.to_string());
            Some(format!("{group} limit={} remaining={} reset={}", n(limit.limit), n(limit.remaining), n(limit.reset)))
        })
        .collect();
    if limits.is_empty() {
        line(Verdict::Warn, "rate limits", "Close sent no RateLimit header: close-lake paces by 429s alone");
    } else {
        line(Verdict::Ok, "rate limits", &limits.join("; "));
    }

    let destination = match plan.dest.open() {
        Ok(lake) => crate::export::probe(&lake, &crate::export::new_run_id()).await,
        Err(err) => Err(err),
    };
    let destination_failed = match destination {
        Ok(()) => {
            line(Verdict::Ok, "destination", &format!("{}: wrote and deleted a probe object", plan.dest));
            false
        }
        Err(err) => {
            line(Verdict::Fail, "destination", &err.to_string());
            true
        }
    };
    let failed = failed_endpoints + usize::from(destination_failed);
    match (destination_failed, failed_endpoints) {
        (false, 0) => Ok(()),
        (true, _) => Err(Error::ChecksFailed { failed, code: 2 }),
        (false, _) => Err(Error::ChecksFailed { failed, code: 1 }),
    }
}

/// The first request an export of `spec` sends over `window` (a query's `_limit` made 1; a search
/// asks for the `id` alone), and whether its endpoint is optional.
fn probes(spec: &'static TableSpec, window: Window) -> Vec<(PageRequest, bool)> {
    let small = |mut request: PageRequest| {
        for (name, value) in &mut request.query {
            if name == "_limit" {
                *value = "1".to_string();
            }
        }
        request
    };
    let first = |pager: Pager| pager.request().map(small);
    match &spec.source {
        Source::Keyset { .. } => first(Pager::keyset(spec, window)).map(|r| (r, false)).into_iter().collect(),
        Source::Search { optional, .. } => {
            first(Pager::search(spec, window, std::sync::Arc::new(vec!["id".to_string()])))
                .map(|r| (r, *optional))
                .into_iter()
                .collect()
        }
        Source::Cursor { path, limit } => {
            first(Pager::cursor(path, spec.key, *limit, window)).map(|r| (r, false)).into_iter().collect()
        }
        Source::Full { endpoints, limit, .. } => endpoints
            .iter()
            .filter_map(|endpoint| {
                first(Pager::offset(endpoint.path, endpoint.params, *limit)).map(|r| (r, endpoint.optional))
            })
            .collect(),
    }
}

fn query_text(request: &PageRequest) -> String {
    if request.body.is_some() {
        return "a POST of a date_updated window".to_string();
    }
    let pairs: Vec<String> = request.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("?{}", pairs.join("&"))
}

/// What a user can do about a failed endpoint.
fn fix(err: &ApiError) -> &'static str {
    match err {
        ApiError::Refused { status: 400, .. } => {
            "this server refuses a parameter close-lake sends; run `close-lake export --record DIR` and attach DIR to a bug report"
        }
        ApiError::Refused { status: 402 | 403, .. } => {
            "give the key's user access to this object type, or leave the table out with --tables"
        }
        ApiError::Unauthorized { .. } => "check CLOSE_API_KEY",
        ApiError::Exhausted { .. } => "Close is unreachable or failing: try again later, or check CLOSE_API_URL",
        _ => "check CLOSE_API_URL points at Close's API (https://api.close.com/api/v1)",
    }
}
