//! `close-sim`: serves a simulated Close API until killed. Prints exactly one line,
//! `close-sim listening on http://127.0.0.1:PORT/api/v1`, once it accepts connections.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
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
    /// Days of generated history.
    #[arg(long, default_value_t = 400)]
    history_days: i64,
    /// Generator seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Serve recorded streams (real-records.jsonl) instead of generated data.
    #[arg(long)]
    real_records: Option<PathBuf>,
    /// Largest `_skip` accepted.
    #[arg(long, default_value_t = 250_000)]
    max_skip: usize,
    /// Endpoint group to throttle (activity, task, lead, event, custom_field, user, me, search).
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
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    let sim = match &args.real_records {
        Some(path) => SimHandle::start_on(Dataset::from_real_records(path)?, config, addr).await?,
        None => {
            let spec = GenSpec {
                seed: args.seed,
                activities: args.activities,
                leads: args.leads,
                tasks: args.tasks,
                events: args.events,
                users: args.users,
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
