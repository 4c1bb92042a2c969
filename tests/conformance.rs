//! The lake's commit protocol, one suite on local disk, S3 (moto) and GCS (the fake), driven by a
//! store that stops or fails at the Nth call (`common::faulty`):
//!
//! - an export, a backfill, a compaction and a vacuum, each killed at every store call it makes
//!   (and, on local disk, each failing at every store call): at that moment a Delta reader sees the table exactly as
//!   before the run or exactly as after it, no commit names a missing file, and a rerun leaves the
//!   table exact; a vacuum then leaves nothing but committed files;
//! - a commit that loses its version to another run commits what is left on top of it;
//! - opening a table reads a bounded number of objects, however long its history.
//!
//! Runs go in process (the store wrapper sits under them). A killed run's lease would be taken over
//! once it expired (`tests/concurrent_runs.rs` shows that); here the test deletes it instead of
//! waiting, as the exit of a failed process would let the next run in this process space do.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use close_sim::{GenSpec, Mutation};
use common::faulty::{Fault, FaultyStore, Plan};
use common::*;
use object_store::ObjectStoreExt;

type Versions = BTreeSet<(String, i64)>;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Operation {
    Export,
    Backfill,
    Compact,
    Vacuum,
}

impl Operation {
    fn args(self, today: &str, tomorrow: &str) -> Vec<String> {
        let args: Vec<&str> = match self {
            Operation::Export => vec!["export", "--tables", "leads"],
            Operation::Backfill => vec!["backfill", "--tables", "leads", "--from", today, "--to", tomorrow],
            Operation::Compact => vec!["compact", "--tables", "leads"],
            Operation::Vacuum => vec!["vacuum", "--tables", "leads", "--retention", "0s"],
        };
        args.into_iter().map(str::to_string).collect()
    }
}

/// A lake state to start each attempt from, and what the table holds before and after the operation.
struct Start {
    template: TestLake,
    before: Versions,
    after: Versions,
}

struct Suite {
    h: Harness,
    today: String,
    tomorrow: String,
}

impl Suite {
    async fn new(backend: Backend) -> Suite {
        let spec = GenSpec { activities: 20, leads: 12, tasks: 5, events: 5, history_days: 30, ..GenSpec::default() };
        let h = Harness::generated_on(backend, spec).await;
        let now = chrono::Utc::now();
        let day = |d: chrono::DateTime<chrono::Utc>| d.format("%Y-%m-%d").to_string();
        Suite { h, today: day(now - chrono::Duration::minutes(3)), tomorrow: day(now + chrono::Duration::days(1)) }
    }

    fn leads(&self) -> Versions {
        self.h.expected()["leads"].clone()
    }

    async fn run(&self, lake: &TestLake, args: &[String]) {
        if let Some(path) = &lake.path {
            std::fs::create_dir_all(path).unwrap();
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        if let Err(err) = self.h.in_process(lake, lake.store().unwrap(), &args).await {
            panic!("{args:?} failed: {err}");
        }
    }

    /// Two exports of leads, a second leads change in between: two small files in one partition.
    async fn two_exports(&self) -> Versions {
        let export = Operation::Export.args(&self.today, &self.tomorrow);
        self.run(&self.h.store, &export).await;
        let mut held = self.leads();
        self.h.sim.mutate(&Mutation {
            update_leads: 3,
            at: chrono::Utc::now() - chrono::Duration::seconds(150),
            ..Default::default()
        });
        self.run(&self.h.store, &export).await;
        held.extend(self.leads());
        held
    }

    async fn fresh_lake(&self, from: &TestLake) -> TestLake {
        let dir = tempfile::tempdir_in(self.h.dir.path()).unwrap().keep();
        let lake = TestLake::new(self.h.store.backend, &dir).await;
        lake.copy_from(from).await;
        lake
    }

    /// Reads the table as a Delta reader would now.
    async fn held(lake: &TestLake) -> Versions {
        let rows = lake.rows("leads").await;
        let unique: Versions = rows.iter().cloned().collect();
        assert_eq!(rows.len(), unique.len(), "a Delta reader sees a version twice");
        unique
    }

    /// Runs `operation` from `start` with `fault` at store call `nth`; `false` once `nth` is past
    /// the run's last call (it finished untouched).
    async fn attempt(&self, operation: Operation, start: &Start, nth: usize, fault: Fault) -> bool {
        let lake = self.fresh_lake(&start.template).await;
        let faulty = FaultyStore::new(lake.store().unwrap(), Some(Plan { kind: None, nth, fault: fault.clone() }));
        let args = operation.args(&self.today, &self.tomorrow);
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let tripped = faulty.tripped.clone();
        let run = self.h.in_process(&lake, faulty.clone(), &argv);
        let outcome = tokio::select! {
            outcome = run => Some(outcome),
            _ = async { tripped.notified().await; tokio::time::sleep(Duration::from_millis(100)).await } => None,
        };
        if !faulty.has_tripped() {
            assert!(outcome.as_ref().is_some_and(Result::is_ok), "{operation:?} failed untouched: {outcome:?}");
            return false;
        }
        let what = format!(
            "{operation:?} with {} at store call {nth}",
            if matches!(fault, Fault::Abort) { "a kill" } else { "a failure" }
        );
        lake.assert_commits_whole().await;
        let seen = Suite::held(&lake).await;
        assert!(seen == start.before || seen == start.after, "{what}: a Delta reader saw a part of the run");
        // The dead run's lease, as its process's exit would leave it to the next run.
        for lease in lake.objects("_close_lake/leases").await {
            lake.store().unwrap().delete(&lease).await.unwrap();
        }
        self.run(&lake, &args).await;
        assert_eq!(Suite::held(&lake).await, start.after, "{what}, then a rerun");
        self.run(&lake, &Operation::Vacuum.args("", "")).await;
        lake.assert_commits_whole().await;
        lake.assert_clean().await;
        assert_eq!(Suite::held(&lake).await, start.after, "{what}, a rerun and a vacuum");
        true
    }

    /// Every store call of `operation`, killed; and failed too on local disk (a failure takes the
    /// same paths on every backend, and moto and the fake GCS cost CPU the suite has little of).
    async fn every_call(&self, operation: Operation, start: &Start) -> usize {
        let mut calls = 0;
        let faults = match self.h.store.backend {
            Backend::Local => vec![Fault::Abort, Fault::Fail],
            Backend::S3 | Backend::Gcs => vec![Fault::Abort],
        };
        for fault in faults {
            let mut nth = 1;
            while self.attempt(operation, start, nth, fault.clone()).await {
                nth += 1;
            }
            calls = calls.max(nth - 1);
        }
        assert!(calls > 5, "{operation:?} made only {calls} store calls");
        calls
    }
}

async fn crash_at_every_store_call(backend: Backend) {
    let suite = Suite::new(backend).await;
    let held = suite.two_exports().await;
    let mut covered = BTreeMap::new();

    // Compaction, then a vacuum of what it removed, from the two small files.
    let compacting =
        Start { template: suite.fresh_lake(&suite.h.store).await, before: held.clone(), after: held.clone() };
    covered.insert("compact", suite.every_call(Operation::Compact, &compacting).await);
    let compacted = suite.fresh_lake(&suite.h.store).await;
    suite.run(&compacted, &Operation::Compact.args("", "")).await;
    let vacuuming = Start { template: compacted, before: held.clone(), after: held.clone() };
    covered.insert("vacuum", suite.every_call(Operation::Vacuum, &vacuuming).await);

    // An export and a backfill of a change the lake lacks.
    suite.h.sim.mutate(&Mutation {
        update_leads: 2,
        at: chrono::Utc::now() - chrono::Duration::seconds(130),
        ..Default::default()
    });
    let mut after = held.clone();
    after.extend(suite.leads());
    let changed = Start { template: suite.fresh_lake(&suite.h.store).await, before: held, after };
    covered.insert("export", suite.every_call(Operation::Export, &changed).await);
    covered.insert("backfill", suite.every_call(Operation::Backfill, &changed).await);
    eprintln!("{backend:?}: store calls faulted, one by one: {covered:?}");
}

on_backends!(crash_at_every_store_call:
    Local => crash_at_every_store_call_on_local_disk,
    S3 => crash_at_every_store_call_on_s3,
    Gcs => crash_at_every_store_call_on_gcs,
);

async fn a_lost_race(backend: Backend) {
    let suite = Suite::new(backend).await;
    let mut expected = suite.two_exports().await;
    suite.h.sim.mutate(&Mutation {
        update_leads: 2,
        at: chrono::Utc::now() - chrono::Duration::seconds(130),
        ..Default::default()
    });
    expected.extend(suite.leads());
    let lake = &suite.h.store;
    if let Some(path) = &lake.path {
        std::fs::create_dir_all(path).unwrap();
    }

    // The export pauses at its commit (its second create: the first is its lease) while a backfill
    // of the same change commits the version it meant to create.
    let (paused, resume) = (Arc::new(tokio::sync::Notify::new()), Arc::new(tokio::sync::Notify::new()));
    let plan =
        Plan { kind: Some(common::faulty::Op::Create), nth: 2, fault: Fault::Pause(paused.clone(), resume.clone()) };
    let faulty = FaultyStore::new(lake.store().unwrap(), Some(plan));
    let export = suite.h.in_process(lake, faulty, &["export", "--tables", "leads"]);
    let commits_before = lake.commits().await.len();
    let backfill = async {
        paused.notified().await;
        suite.run(lake, &Operation::Backfill.args(&suite.today, &suite.tomorrow)).await;
        resume.notify_one();
    };
    let (exported, ()) = tokio::join!(export, backfill);
    exported.expect("the export commits after losing its version");
    assert_eq!(lake.commits().await.len(), commits_before + 1, "the backfill committed; the export had nothing left");
    assert_eq!(Suite::held(lake).await, expected);
    lake.assert_clean().await;
}

on_backends!(a_lost_race:
    Local => a_commit_that_loses_its_version_commits_what_is_left_on_local_disk,
    S3 => a_commit_that_loses_its_version_commits_what_is_left_on_s3,
    Gcs => a_commit_that_loses_its_version_commits_what_is_left_on_gcs,
);

/// A table of `commits` commits (one file each), written through the same calls a run makes.
async fn table_of(commits: u64) -> (tempfile::TempDir, Arc<dyn object_store::ObjectStore>) {
    use close_lake::lake::manifest::{self, FileEntry, Manifest, RunKind, RunStats, Totals};
    use close_lake::lake::snapshot::Snapshot;
    let dir = tempfile::tempdir().unwrap();
    let dest = close_lake::lake::Destination::Local(dir.path().to_path_buf());
    let lake = dest.open().unwrap();
    let meta = close_lake::tables::by_name("leads").unwrap().lake_meta();
    let mut snapshot = Snapshot::load(&lake, "leads", &meta).await.unwrap();
    for number in 1..=commits {
        let file = FileEntry {
            path: format!("leads/date_updated_month=2024-01/run{number}-00000.parquet"),
            staged: String::new(),
            partition: "2024-01".into(),
            rows: 1,
            bytes: 100,
            min_key: Some("2024-01-01T00:00:00.000000Z".into()),
            max_key: Some("2024-01-01T00:00:00.000000Z".into()),
        };
        let commit = Manifest {
            format: 1,
            table: "leads".into(),
            number,
            kind: RunKind::Export,
            run_id: format!("run{number}"),
            started_at: "2024-01-02T00:00:00Z".into(),
            committed_at: "2024-01-02T00:00:00Z".into(),
            window: ["2024-01-01T00:00:00Z".into(), "2024-01-02T00:00:00Z".into()],
            files: vec![file],
            removed: Vec::new(),
            bookmark: Some("2024-01-01T00:00:00.000000Z".into()),
            bookmark_micros: Some(1_704_067_200_000_000),
            tail: Vec::new(),
            totals: Totals { rows: number, files: number, bytes: 100 * number },
            stats: RunStats::default(),
            key: "date_updated".into(),
            partition_column: "date_updated_month".into(),
        };
        let now = close_lake::time::now();
        manifest::create(&lake, &commit, &meta, None, now).await.unwrap();
        snapshot.committed(&commit, None, now);
        snapshot.checkpoint_if_due(&lake, i64::MAX).await.unwrap();
    }
    let store = lake.store().clone();
    (dir, store)
}

/// The store calls of opening the table, and what it found.
async fn open_counting(store: Arc<dyn object_store::ObjectStore>, dir: &std::path::Path) -> (usize, usize, u64) {
    let faulty = FaultyStore::new(store, None);
    let lake = close_lake::lake::Lake::new(faulty.clone(), close_lake::lake::Destination::Local(dir.to_path_buf()));
    let meta = close_lake::tables::by_name("leads").unwrap().lake_meta();
    let snapshot = close_lake::lake::snapshot::Snapshot::load(&lake, "leads", &meta).await.unwrap();
    (faulty.total(), snapshot.files().count(), snapshot.head().unwrap().number)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_a_table_reads_a_bounded_number_of_objects() {
    let mut calls = BTreeMap::new();
    for commits in [20, 2_000] {
        let (dir, store) = table_of(commits).await;
        let (requests, files, head) = open_counting(store.clone(), dir.path()).await;
        assert_eq!((files as u64, head), (commits, commits), "the snapshot holds every commit's file");
        calls.insert(commits, requests);
        if commits == 2_000 {
            // Without its checkpoints the same table is read commit by commit.
            let log = object_store::path::Path::from("leads/_delta_log");
            let checkpoints: Vec<_> =
                futures::TryStreamExt::try_collect::<Vec<_>>(store.list(Some(&log))).await.unwrap();
            for meta in checkpoints.iter().filter(|m| !m.location.as_ref().ends_with(".json")) {
                store.delete(&meta.location).await.unwrap();
            }
            let (requests, files, _) = open_counting(store, dir.path()).await;
            assert_eq!(files, 2_000);
            eprintln!("2000 commits without checkpoints: {requests} store calls to open");
            assert!(requests > 2_000);
        }
    }
    eprintln!("store calls to open a table, by its number of commits: {calls:?}");
    // `_last_checkpoint`, the checkpoint, one listing, and at most the nine commits after it.
    assert!(calls[&2_000] <= 12 && calls[&20] <= 12, "{calls:?}");
}
