//! `--record DIR` captures every request and answer of a run with the key redacted, and the
//! simulator replays such a capture: the replayed run writes the same lake, so a capture attached to
//! a bug report becomes a regression test.

mod common;

use std::net::SocketAddr;

use close_sim::{GenSpec, SimConfig, SimHandle};
use common::*;

const DISTINCTIVE_KEY: &str = "api_7Qx9RecordedKeyMustNeverLeak";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_run_replays_into_the_same_lake() {
    let h = Harness::generated(GenSpec { activities: 900, leads: 200, tasks: 150, ..GenSpec::default() }).await;
    h.sim.set_config(SimConfig { api_key: DISTINCTIVE_KEY.into(), ..h.sim.config() });
    let capture = h.dir.path().join("capture");
    let output = h
        .close_lake(
            &["export", "--dest", h.store.dest.as_str(), "--record", capture.to_str().unwrap()],
            &[("CLOSE_API_KEY", DISTINCTIVE_KEY), ("CLOSE_LAKE_LAG", "0s")],
        )
        .await;
    assert_success(&output);
    let text = std::fs::read_to_string(capture.join("exchanges.jsonl")).expect("a capture");
    assert!(text.lines().count() >= 20, "every exchange recorded");
    assert!(!text.contains(DISTINCTIVE_KEY), "the key is redacted from the capture");
    assert!(!text.to_lowercase().contains("authorization"), "no request headers are recorded");

    let replay = SimHandle::start_replay(&capture, SocketAddr::from(([127, 0, 0, 1], 0))).await.expect("replay starts");
    let second = tempfile::tempdir().unwrap();
    let replayed_lake = TestLake::new(Backend::Local, second.path()).await;
    let mut command = h.command(&["export", "--dest", replayed_lake.dest.as_str()], &[("CLOSE_LAKE_LAG", "0s")]);
    command.env("CLOSE_API_URL", replay.base_url()).env("CLOSE_API_KEY", "any-key-the-capture-lacks");
    let replayed = command.output().await.expect("close-lake runs");
    assert_success(&replayed);
    for table in TABLES {
        let mut recorded = h.store.rows(table).await;
        let mut again = replayed_lake.rows(table).await;
        recorded.sort();
        again.sort();
        assert!(!recorded.is_empty(), "{table} has rows");
        assert_eq!(recorded, again, "{table}: the replay wrote the same rows");
    }
}
