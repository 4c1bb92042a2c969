//! Changes during a run: mutations applied just before the n-th request of a group.

use close_sim::Mutation;

use crate::common::{Api, all_pages, spec};

#[tokio::test]
async fn mutations_fire_once_before_the_nth_request_of_their_group() {
    let api = Api::start(&spec()).await;
    let leads = |n: usize| Mutation { new_leads: n, ..Mutation::default() };
    api.sim.mutate_before("lead", 2, leads(1));
    api.sim.mutate_before("lead", 2, leads(2));
    api.sim.mutate_before("task", 1, leads(5));
    let count = || async { api.get("/lead/", &[("_limit", "200")]).await.data().len() };
    assert_eq!(count().await, 40, "request 1");
    assert_eq!(count().await, 43, "both mutations ran before request 2");
    assert_eq!(count().await, 43, "once each");
    assert_eq!(api.sim.snapshot().leads.len(), 43);

    // Counting restarts with a reset; a request that fails still counts and still triggers.
    api.sim.reset_requests();
    api.sim.mutate_before("lead", 1, leads(1));
    assert_eq!(api.get("/lead/", &[("bogus", "1")]).await.status, 400);
    assert_eq!(count().await, 44);

    // The task mutation waits for the first task request.
    assert!(!all_pages(&api, "/task/", &[], 100).await.is_empty());
    assert_eq!(count().await, 49);
}
