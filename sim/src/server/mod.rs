//! The HTTP server: [`SimHandle`] starts it on a local port, exposes its state to tests (request counts,
//! snapshots, mutations, live config changes) and stops it.
//!
//! Requests flow `routes::dispatch` -> `gate` (count, auth, throttle) -> one handler module per endpoint family
//! (`lists`: activities and tasks, `leads` + `lead_query`, `search`, `events`, `small`: custom fields, users,
//! me) -> `respond` (envelopes). `admin` serves the unauthenticated `/_sim/` control endpoints.

mod admin;
mod cursor;
mod events;
mod gate;
mod lead_query;
mod leads;
mod lists;
mod params;
mod respond;
mod routes;
mod search;
mod small;

use std::net::SocketAddr;
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

/// State shared by the handlers and the handle.
pub struct Shared {
    store: RwLock<Store>,
    config: RwLock<SimConfig>,
    counters: Mutex<gate::Counters>,
    rng: Mutex<StdRng>,
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
        SimHandle::serve(Store::load(dataset), config, addr).await
    }

    /// Serves the data `spec` generates (the same records as `Dataset::generate(spec)`) on `addr`, generating
    /// straight into the server's store: use this for large benchmark datasets, which would otherwise exist
    /// twice in memory.
    pub async fn start_generated(spec: &GenSpec, config: SimConfig, addr: SocketAddr) -> std::io::Result<SimHandle> {
        let spec = spec.clone();
        let store = tokio::task::spawn_blocking(move || Store::generate(&spec)).await.map_err(std::io::Error::other)?;
        SimHandle::serve(store, config, addr).await
    }

    async fn serve(store: Store, config: SimConfig, addr: SocketAddr) -> std::io::Result<SimHandle> {
        let shared = Arc::new(Shared {
            store: RwLock::new(store),
            config: RwLock::new(config),
            counters: Mutex::new(gate::Counters::default()),
            rng: Mutex::new(StdRng::seed_from_u64(MUTATION_SEED)),
        });
        let app = Router::new()
            .route("/_sim/mutate", post(admin::mutate))
            .route("/_sim/requests", get(admin::requests))
            .route("/_sim/reset_requests", post(admin::reset_requests))
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
    /// `event`, `custom_field`, `user`, `me`, `search`, or `unknown` for unrouted paths.
    pub fn requests(&self, group: &str) -> u64 {
        self.shared.counters().get(group)
    }

    /// Every group's request count.
    pub fn request_counts(&self) -> std::collections::BTreeMap<String, u64> {
        self.shared.counters().all()
    }

    /// Zeroes the request counts (and so restarts the throttle period).
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
