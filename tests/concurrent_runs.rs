//! Two exports of one table started together against one S3 lake: one commits, the other stops at
//! once naming the holder of the lease and since when; a lease left by a killed run elsewhere is
//! taken over once it expires, judged by the store's clock whatever the local clock says.

mod common;

use std::time::Duration;

use close_sim::GenSpec;
use common::*;
use object_store::{ObjectStoreExt, PutPayload};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_exports_of_one_table_one_commits_the_other_names_the_holder() {
    let h = Harness::generated_on(Backend::S3, GenSpec { activities: 6_000, ..GenSpec::default() }).await;
    let args = ["export", "--dest", h.store.dest.as_str(), "--tables", "activities"];
    let env = [("CLOSE_LAKE_LAG", "0s")];
    let (first, second) = tokio::join!(h.close_lake(&args, &env), h.close_lake(&args, &env));
    let (winner, loser) = if first.status.success() { (first, second) } else { (second, first) };
    assert_success(&winner);
    assert_eq!(loser.status.code(), Some(1), "the second run fails: {}", stderr(&loser));
    let line = stderr(&loser).lines().find(|l| l.starts_with("close-lake: activities")).unwrap_or_default().to_string();
    assert!(line.contains("locked by") && line.contains("pid") && line.contains("since"), "{line}");

    h.store.assert_exact("activities", &h.expected()["activities"]).await;
    h.store.assert_clean().await;
    assert_eq!(h.store.objects("activities/_delta_log").await.len(), 1);
    assert!(h.store.objects("_close_lake/leases").await.is_empty(), "the winner released its lease");
}

/// A lease as another machine's run writes it: its TTL counts from when the store stamps it.
async fn lease_elsewhere(h: &Harness, ttl: Duration) {
    let lease = serde_json::json!({
        "run_id": "20260101T000000Z-elsewhere", "host": "another-host", "pid": 4242,
        "process_space": "another-boot/pid:[4026531836]", "process_start": 1,
        "since": "2026-01-01T00:00:00Z", "ttl_micros": ttl.as_micros() as i64,
    });
    let path = object_store::path::Path::from("_close_lake/leases/leads.json");
    h.store.store().unwrap().put(&path, PutPayload::from(lease.to_string())).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_left_by_a_killed_run_elsewhere_is_taken_over_after_it_expires() {
    let h = Harness::generated_on(Backend::S3, GenSpec::default()).await;
    lease_elsewhere(&h, Duration::from_secs(4)).await;

    let blocked = h.export(&["--tables", "leads"]).await;
    assert_eq!(blocked.status.code(), Some(1));
    assert!(stderr(&blocked).contains("another-host pid 4242"), "{}", stderr(&blocked));
    assert!(h.store.rows("leads").await.is_empty());

    tokio::time::sleep_until(tokio::time::Instant::now() + Duration::from_secs(5)).await;
    assert_success(&h.export(&["--tables", "leads"]).await);
    h.store.assert_exact("leads", &h.expected()["leads"]).await;
}

/// `libfaketime`, which shifts the clock of the process it is preloaded into (`make test` installs it).
fn faketime() -> String {
    let found = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .map(|arch| arch.path().join("faketime/libfaketime.so.1"))
        .find(|lib| lib.exists());
    let lib = found.expect("libfaketime is missing: install the Debian package faketime (make test does)");
    lib.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_skewed_clock_neither_takes_a_live_lease_nor_keeps_a_dead_one() {
    let h = Harness::generated_on(Backend::S3, GenSpec::default()).await;
    let lib = faketime();
    let skewed = |offset: &'static str| {
        [
            ("LD_PRELOAD", lib.as_str()),
            ("FAKETIME", offset),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
            ("CLOSE_LAKE_LAG", "0s"),
        ]
    };
    let args = ["export", "--dest", h.store.dest.as_str(), "--tables", "leads"];

    // Ten minutes fast: a lease with five minutes to live is still alive.
    lease_elsewhere(&h, Duration::from_secs(300)).await;
    let fast = h.close_lake(&args, &skewed("+10m")).await;
    assert_eq!(fast.status.code(), Some(1), "{}", stderr(&fast));
    assert!(stderr(&fast).contains("another-host pid 4242"), "{}", stderr(&fast));

    // Ten minutes slow: a lease whose three seconds have passed is dead.
    lease_elsewhere(&h, Duration::from_secs(3)).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let slow = h.close_lake(&args, &skewed("-10m")).await;
    assert_success(&slow);
    assert!(stderr(&slow).contains("taking over a dead lease"), "{}", stderr(&slow));
    h.store.assert_exact("leads", &h.expected()["leads"]).await;
}
