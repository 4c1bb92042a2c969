//! The object store going away in the middle of a run: the run fails with a clear line, nothing of
//! it is visible to a Delta reader, and the rerun after the store returns is exact. moto keeps its
//! state in memory, so "stopped" is a loopback proxy in front of it that drops every connection.

mod common;

use std::time::Duration;

use close_sim::{Dataset, GenSpec, SimConfig};
use common::services::{Moto, Proxy, socket_of};
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_lost_mid_run_fails_clearly_and_the_rerun_is_exact() {
    let moto = Moto::shared_or_spawn().await;
    let proxy = Proxy::start(socket_of(&moto.endpoint)).await;
    let store = TestLake::on_moto(moto, &format!("http://{}", proxy.addr)).await;
    let dataset = Dataset::generate(&GenSpec { activities: 25_000, history_days: 2_000, ..GenSpec::default() });
    let mut h = Harness::start(dataset, SimConfig::default()).await;
    h.store = store;

    let mut command = h
        .command(&["export", "--dest", h.store.dest.as_str()], &[("CLOSE_LAKE_LAG", "0s"), ("CLOSE_LAKE_LOG", "warn")]);
    let mut run = command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while h.store.objects("_close_lake/staging/activities").await.is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the run never staged activities");
        assert!(run.try_wait().unwrap().is_none(), "the run ended before the store went away");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    proxy.cut().await;
    let output = tokio::time::timeout(Duration::from_secs(180), run.wait_with_output())
        .await
        .expect("the run gives up")
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let failed: Vec<String> =
        stderr(&output).lines().filter(|l| l.starts_with("close-lake: activities")).map(String::from).collect();
    assert_eq!(failed.len(), 1, "one line for the failed table:\n{}", stderr(&output));
    // A table cut off between moving its files and committing them leaves files no commit names
    // (a vacuum deletes them); no commit names a file that is not there.
    h.store.assert_commits_whole().await;

    proxy.restore();
    assert_success(&h.export(&[]).await);
    let expected = h.expected();
    for table in TABLES {
        h.store.assert_exact(table, &expected[table]).await;
    }
    h.vacuum_now().await;
    h.store.assert_clean().await;
}
