//! A run killed at any moment, then a rerun, leaves the lake exact: nothing missing, nothing
//! doubled, no commit naming a missing file; what the killed run left behind stays (nothing is
//! deleted on a guess) until a vacuum deletes it. `tests/conformance.rs` kills runs at every store
//! call; this kills the real binary with a signal.

mod common;

use std::time::Duration;

use close_sim::GenSpec;
use common::*;

fn staged_files(lake: &std::path::Path) -> usize {
    all_files(&lake.join("_close_lake/staging")).len()
}

fn staged_activities(lake: &std::path::Path) -> usize {
    all_files(&lake.join("_close_lake/staging/activities")).len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_in_the_middle_of_a_run_then_a_rerun_is_exact() {
    let h = Harness::generated(GenSpec { activities: 25_000, history_days: 2_000, ..GenSpec::default() }).await;
    let lake = h.lake();
    let mut child = h
        .command(&["export", "--dest", lake.to_str().unwrap()], &[("CLOSE_LAKE_LAG", "0s")])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill once activities have staged files, before they commit.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while staged_activities(&lake) == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the run never staged a file");
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be killed");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    assert!(staged_activities(&lake) > 0, "the kill left staged files behind");
    assert!(
        h.store.commits().await.iter().all(|c| !c.as_ref().starts_with("activities/")),
        "killed before activities committed"
    );
    // A table killed between moving its files and committing them holds files no commit names
    // (Delta readers never see them; a vacuum deletes them); every commit is whole.
    h.store.assert_commits_whole().await;

    let output = h.export(&[]).await;
    assert_success(&output);
    let expected = h.expected();
    for table in TABLES {
        h.store.assert_exact(table, &expected[table]).await;
    }
    assert!(staged_files(&lake) > 0, "the rerun left the killed run's files to a vacuum");
    h.vacuum_now().await;
    h.store.assert_clean().await;
    assert_eq!(staged_files(&lake), 0, "the vacuum deleted the leftovers");
    for table in TABLES {
        h.store.assert_exact(table, &expected[table]).await;
    }
}
