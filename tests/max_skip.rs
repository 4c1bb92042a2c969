//! Close refuses `_skip` beyond a maximum. With the maximum at 1,000 and more than 5,000 activities
//! (including a group of 150+ sharing one timestamp), every activity is exported.

mod common;

use close_sim::{Dataset, GenSpec, SimConfig};
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_activity_is_exported_under_a_low_max_skip() {
    let dataset = Dataset::generate(&GenSpec { activities: 5_500, ..GenSpec::default() });
    let h = Harness::start(dataset, SimConfig { max_skip: 1_000, ..SimConfig::default() }).await;
    let output = h.export(&["--tables", "activities"]).await;
    assert_success(&output);
    let expected = h.expected();
    assert!(expected["activities"].len() > 5_000);
    h.store.assert_exact("activities", &expected["activities"]).await;
}
