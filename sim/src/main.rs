//! `close-sim`: serves a simulated Close API (generated data, recorded streams, or a replayed capture) until
//! killed. Prints exactly one line, `close-sim listening on http://127.0.0.1:PORT/api/v1`, once it accepts
//! connections.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use close_sim::config::{CursorFilters, Fault, FaultKind, ParamPolicy, Precision, Unavailable};
use close_sim::{Dataset, GenSpec, SimConfig, SimHandle, Throttle};

/// A Close CRM REST API simulator for close-lake's tests, demo and benchmarks.
#[derive(Debug, Parser)]
#[command(name = "close-sim", version)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// API key accepted as the HTTP Basic user name.
    #[arg(long, default_value = "sim-key")]
    api_key: String,
    /// Generated activities.
    #[arg(long, default_value_t = 300)]
    activities: usize,
    /// Generated leads.
    #[arg(long, default_value_t = 40)]
    leads: usize,
    /// Generated tasks.
    #[arg(long, default_value_t = 60)]
    tasks: usize,
    /// Generated event-log records.
    #[arg(long, default_value_t = 50)]
    events: usize,
    /// Generated users.
    #[arg(long, default_value_t = 3)]
    users: usize,
    /// How many of the generated users are deactivated (at most users - 1).
    #[arg(long, default_value_t = 1)]
    deactivated_users: usize,
    /// Days of generated history.
    #[arg(long, default_value_t = 400)]
    history_days: i64,
    /// Generator seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Serve recorded streams (real-records.jsonl) instead of generated data.
    #[arg(long, conflicts_with = "replay")]
    real_records: Option<PathBuf>,
    /// Replay a capture recorded by close-lake (DIR/exchanges.jsonl) instead of serving data; no key is checked.
    #[arg(long, value_name = "DIR")]
    replay: Option<PathBuf>,
    /// Largest `_skip` accepted.
    #[arg(long, default_value_t = 250_000)]
    max_skip: usize,
    /// Endpoint group to throttle (activity, task, lead, event, custom_field, user, me, organization, search).
    #[arg(long, requires = "throttle_every")]
    throttle_group: Option<String>,
    /// Every Nth request of the throttled group answers 429.
    #[arg(long, requires = "throttle_group")]
    throttle_every: Option<u64>,
    /// Retry-After of the 429s, in seconds (may be fractional).
    #[arg(long, default_value_t = 1.0)]
    retry_after: f64,
    /// Only serve events at most this many days old.
    #[arg(long)]
    event_retention_days: Option<i64>,
    /// The key is not an admin's: /event/ hides data and previous_data of events more than an hour old.
    #[arg(long)]
    non_admin_key: bool,
    /// Ignore query parameters an endpoint does not document, instead of answering 400.
    #[arg(long)]
    lenient_params: bool,
    /// Compare /lead/?query= time bounds exactly instead of flooring them to the minute.
    #[arg(long)]
    exact_lead_query: bool,
    /// Apply /event/'s date_updated range to requests carrying _cursor too.
    #[arg(long)]
    event_cursor_filters: bool,
    /// An endpoint (path under /api/v1/) that answers STATUS, e.g. custom_field/custom_object_type/=402.
    #[arg(long, value_name = "PATH=STATUS", value_parser = parse_unavailable)]
    unavailable: Vec<Unavailable>,
    /// Every EVERY-th request of GROUP gets a fault: KIND is a status (e.g. 503), `cut` (a 200 whose body is cut
    /// at half) or `html` (a 200 of proxy HTML), e.g. activity:5:503.
    #[arg(long, value_name = "GROUP:EVERY:KIND", value_parser = parse_fault)]
    fault: Vec<Fault>,
    /// Milliseconds every answer takes.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Requests per endpoint group per second, enforced with 429s and Retry-After (default: 100, announced only).
    #[arg(long)]
    rate_limit: Option<u32>,
}

fn parse_unavailable(s: &str) -> Result<Unavailable, String> {
    let (path, status) = s.split_once('=').ok_or("expected PATH=STATUS")?;
    let status = status.parse().map_err(|_| format!("invalid status {status:?}"))?;
    Ok(Unavailable { path: path.to_string(), status })
}

fn parse_fault(s: &str) -> Result<Fault, String> {
    let mut parts = s.splitn(3, ':');
    let (Some(group), Some(every), Some(kind)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("expected GROUP:EVERY:KIND".into());
    };
    let every = every.parse().map_err(|_| format!("invalid period {every:?}"))?;
    let kind = match kind {
        "cut" => FaultKind::CutBody,
        "html" => FaultKind::NotJson,
        status => FaultKind::Status(status.parse().map_err(|_| format!("invalid fault kind {status:?}"))?),
    };
    Ok(Fault { group: group.to_string(), every, kind })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("close-sim: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> std::io::Result<()> {
    let throttle = match (args.throttle_group, args.throttle_every) {
        (Some(group), Some(every)) => Some(Throttle { group, every, retry_after_secs: args.retry_after }),
        _ => None,
    };
    let config = SimConfig {
        api_key: args.api_key,
        max_skip: args.max_skip,
        throttle,
        event_retention_days: args.event_retention_days,
        unknown_params: if args.lenient_params { ParamPolicy::Ignore } else { ParamPolicy::Refuse },
        lead_query_precision: if args.exact_lead_query { Precision::Exact } else { Precision::Minute },
        admin_key: !args.non_admin_key,
        event_cursor_filters: if args.event_cursor_filters { CursorFilters::Applied } else { CursorFilters::Ignored },
        unavailable: args.unavailable,
        faults: args.fault,
        latency: std::time::Duration::from_millis(args.latency_ms),
        rate_limit: args.rate_limit,
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    let sim = match (&args.replay, &args.real_records) {
        (Some(dir), _) => SimHandle::start_replay(dir, addr).await?,
        (None, Some(path)) => SimHandle::start_on(Dataset::from_real_records(path)?, config, addr).await?,
        (None, None) => {
            let spec = GenSpec {
                seed: args.seed,
                activities: args.activities,
                leads: args.leads,
                tasks: args.tasks,
                events: args.events,
                users: args.users,
                deactivated_users: args.deactivated_users,
                history_days: args.history_days,
                ..GenSpec::default()
            };
            SimHandle::start_generated(&spec, config, addr).await?
        }
    };
    close_sim::serve::announce("close-sim", &sim.base_url())?;
    close_sim::serve::wait_for_signal().await;
    sim.shutdown().await;
    Ok(())
}
