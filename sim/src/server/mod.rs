//! The HTTP server: [`SimHandle`] starts it on a local port (serving a dataset, or replaying a capture),
//! exposes its state to tests (request counts, snapshots, mutations now or just before the n-th request of a
//! group, the lead search index, live config changes) and stops it.
//!
//! Requests flow `routes::dispatch` -> `gate` (count, auth, throttle) -> `faults` (configured faults and
//! unavailable endpoints) -> `endpoint` (paths, documented parameters) -> one handler module per endpoint family
//! (`activities`, `tasks`, `leads` + `lead_query`, `search`, `events`, `small`: custom fields, `users`: users,
//! me, organization) -> `respond` (envelopes). `replay` answers instead when replaying a capture. `admin`
//! serves the unauthenticated `/_sim/` control endpoints.

mod activities;
mod admin;
pub mod configuration;
mod cursor;
mod endpoint;
mod events;
mod faults;
mod gate;
mod lead_query;
mod leads;
mod opportunities;
mod params;
mod people;
mod replay;
mod respond;
mod routes;
mod search;
mod small;
mod tasks;
mod users;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

use axum::Router;
use axum::routing::{get, post};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::config::SimConfig;
use crate::dataset::Dataset;
use crate::generate::GenSpec;
use crate::mutate::{self, Mutation, MutationReport};
use crate::store::Store;

/// Seed of the RNG that draws the ids of records and events created by mutations.
const MUTATION_SEED: u64 = 0x00c1_05e5_1a4e;

/// A mutation to apply just before the `nth` request of `group`.
struct Scheduled {
    group: String,
    nth: u64,
    mutation: Mutation,
}

/// State shared by the handlers and the handle.
pub struct Shared {
    store: RwLock<Store>,
    config: RwLock<SimConfig>,
    counters: Mutex<gate::Counters>,
    rng: Mutex<StdRng>,
    scheduled: Mutex<Vec<Scheduled>>,
    /// The capture answered instead of the store, when replaying.
    replay: Option<replay::Replay>,
}

impl Shared {
    fn store(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(|e| e.into_inner())
    }

    fn config(&self) -> SimConfig {
        self.config.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn counters(&self) -> MutexGuard<'_, gate::Counters> {
        self.counters.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn mutate(&self, m: &Mutation) -> MutationReport {
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        let mut store = self.store.write().unwrap_or_else(|e| e.into_inner());
        mutate::apply(&mut store, &mut rng, m)
    }

    fn flush_lead_index(&self) {
        self.store.write().unwrap_or_else(|e| e.into_inner()).flush_lead_index();
    }

    /// Applies, in the order they were scheduled, the mutations due before the `nth` request of `group`.
    fn run_scheduled(&self, group: &str, nth: u64) {
        let due: Vec<Scheduled> = {
            let mut scheduled = self.scheduled.lock().unwrap_or_else(|e| e.into_inner());
            let (due, later) =
                std::mem::take(&mut *scheduled).into_iter().partition(|s| s.group == group && s.nth == nth);
            *scheduled = later;
            due
        };
        for s in due {
            self.mutate(&s.mutation);
        }
    }
}

/// A running simulator. Dropping it stops the server too; [`SimHandle::shutdown`] also waits for it.
pub struct SimHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: crate::serve::Server,
}

impl SimHandle {
    /// Serves `dataset` on `127.0.0.1` at a free port.
    pub async fn start(dataset: Dataset, config: SimConfig) -> std::io::Result<SimHandle> {
        SimHandle::start_on(dataset, config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Serves `dataset` on `addr` (port 0 picks a free one).
    pub async fn start_on(dataset: Dataset, config: SimConfig, addr: SocketAddr) -> std::io::Result<SimHandle> {
        SimHandle::serve(Store::load(dataset), config, None, addr).await
    }

    /// Serves the data `spec` generates (the same records as `Dataset::generate(spec)`) on `addr`, generating
    /// straight into the server's store: use this for large benchmark datasets, which would otherwise exist
    /// twice in memory.
    pub async fn start_generated(spec: &GenSpec, config: SimConfig, addr: SocketAddr) -> std::io::Result<SimHandle> {
        let spec = spec.clone();
        let store = tokio::task::spawn_blocking(move || Store::generate(&spec)).await.map_err(std::io::Error::other)?;
        SimHandle::serve(store, config, None, addr).await
    }

    /// Replays the capture in `dir` (`dir/exchanges.jsonl`, as close-lake records it) on `addr` instead of
    /// serving data: each request gets the answer recorded for it (see the `replay` module). The store is empty,
    /// so snapshots and mutations have no effect on what is served; request counts work as usual.
    pub async fn start_replay(dir: &Path, addr: SocketAddr) -> std::io::Result<SimHandle> {
        let replay = replay::Replay::load(dir)?;
        SimHandle::serve(Store::default(), SimConfig::default(), Some(replay), addr).await
    }

    async fn serve(
        store: Store,
        config: SimConfig,
        replay: Option<replay::Replay>,
        addr: SocketAddr,
    ) -> std::io::Result<SimHandle> {
        let shared = Arc::new(Shared {
            store: RwLock::new(store),
            config: RwLock::new(config),
            counters: Mutex::new(gate::Counters::default()),
            rng: Mutex::new(StdRng::seed_from_u64(MUTATION_SEED)),
            scheduled: Mutex::new(Vec::new()),
            replay,
        });
        let app = Router::new()
            .route("/_sim/mutate", post(admin::mutate))
            .route("/_sim/requests", get(admin::requests))
            .route("/_sim/reset_requests", post(admin::reset_requests))
            .route("/_sim/flush_lead_index", post(admin::flush_lead_index))
            .fallback(routes::dispatch)
            .with_state(shared.clone());
        let server = crate::serve::Server::start(app, addr, "close-sim").await?;
        Ok(SimHandle { shared, addr: server.addr, server })
    }

    /// `http://127.0.0.1:PORT/api/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/api/v1", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// API requests (any status) of one group since start or the last reset: `activity`, `task`, `lead`,
    /// `event`, `custom_field`, `user` (`/user/` and `/user/<id>/`), `me`, `organization`, `search`, or
    /// `unknown` for unrouted paths.
    pub fn requests(&self, group: &str) -> u64 {
        self.shared.counters().get(group)
    }

    /// Every group's request count.
    pub fn request_counts(&self) -> std::collections::BTreeMap<String, u64> {
        self.shared.counters().all()
    }

    /// Zeroes the request counts (and so restarts the throttle and fault periods and the count
    /// [`SimHandle::mutate_before`] waits for).
    pub fn reset_requests(&self) {
        self.shared.counters().reset();
    }

    /// The records as the server holds them now.
    pub fn snapshot(&self) -> Dataset {
        self.shared.store().snapshot()
    }

    /// Applies `m` (see [`Mutation`]).
    pub fn mutate(&self, m: &Mutation) -> MutationReport {
        self.shared.mutate(m)
    }

    /// Applies `m` just before the `nth` request of `group` (counted like [`SimHandle::requests`], from the last
    /// reset) is served, whatever that request's answer. Each scheduled mutation fires once; several may wait
    /// for the same request and then fire in the order they were scheduled.
    pub fn mutate_before(&self, group: &str, nth: u64, m: Mutation) {
        let mut scheduled = self.shared.scheduled.lock().unwrap_or_else(|e| e.into_inner());
        scheduled.push(Scheduled { group: group.to_string(), nth, mutation: m });
    }

    /// Lets the lead search index catch up: the lead versions written by `index_delayed` mutations become
    /// visible to `GET /lead/` and `POST /data/search/`.
    pub fn flush_lead_index(&self) {
        self.shared.flush_lead_index();
    }

    /// Replaces the configuration; takes effect with the next request.
    pub fn set_config(&self, config: SimConfig) {
        *self.shared.config.write().unwrap_or_else(|e| e.into_inner()) = config;
    }

    /// The configuration in force.
    pub fn config(&self) -> SimConfig {
        self.shared.config()
    }

    /// Stops accepting connections and waits (at most 2 s) for open ones to finish.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}
