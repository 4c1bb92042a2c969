//! `/event/`: newest first, cursor paging (the date range ignored on cursor pages unless configured), the 50
//! cap, filters, naive timestamps, retention, and what a non-admin key sees.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use close_sim::config::CursorFilters;
use close_sim::{Dataset, GenSpec, Mutation, SimConfig};

use crate::common::{Api, spec, str_of};

#[tokio::test]
async fn cursor_pages_cover_every_event_once_newest_first() {
    let api = Api::start(&GenSpec { events: 120, ..spec() }).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut q = vec![("_limit", "13")];
        if let Some(c) = &cursor {
            q.push(("_cursor", c.as_str()));
        }
        let r = api.get("/event/", &q).await;
        assert_eq!(r.status, 200);
        assert!(r.body["cursor_previous"].is_null());
        assert!(r.data().len() <= 13);
        seen.extend(r.data().iter().map(|e| (str_of(e, "date_updated").to_string(), str_of(e, "id").to_string())));
        pages += 1;
        match r.body["cursor_next"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 120_usize.div_ceil(13));
    assert_eq!(seen.iter().map(|(_, id)| id).collect::<BTreeSet<_>>().len(), 120);
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "date_updated desc, then id desc");
    let (ts, _) = &seen[0];
    assert_eq!(ts.len(), "2023-04-07T10:01:14.670000".len(), "naive timestamps: {ts}");
    assert!(!ts.contains('+') && !ts.ends_with('Z'));

    let capped = api.get("/event/", &[("_limit", "500")]).await;
    assert_eq!(capped.data().len(), 50);
    assert!(capped.body["cursor_next"].is_string());
    assert_eq!(api.get("/event/", &[("_cursor", "bogus")]).await.status, 400);
}

#[tokio::test]
async fn filters_apply_and_persist_across_pages() {
    let api = Api::start(&GenSpec { events: 200, ..spec() }).await;
    let d = api.sim.snapshot();
    let deleted: Vec<_> = d.events.iter().filter(|e| e["action"] == "deleted").collect();
    assert!(!deleted.is_empty() && deleted.iter().all(|e| e["data"].is_null() && e["previous_data"].is_object()));
    let r = api.get("/event/", &[("action", "deleted"), ("_limit", "50")]).await;
    assert_eq!(r.data().len(), deleted.len().min(50));
    let leads_updated = d.events.iter().filter(|e| e["object_type"] == "lead" && e["action"] == "updated").count();
    let mut q = vec![("object_type", "lead"), ("action", "updated"), ("_limit", "10")];
    let first = api.get("/event/", &q).await;
    let cursor = first.body["cursor_next"].as_str().expect("more pages").to_string();
    q.push(("_cursor", &cursor));
    let second = api.get("/event/", &q).await;
    assert!(second.data().iter().all(|e| e["object_type"] == "lead" && e["action"] == "updated"));
    assert_eq!(leads_updated.min(20), first.data().len() + second.data().len());

    assert_eq!(api.get("/event/", &[("date_updated__gt", "2024-01-01")]).await.status, 400, "undocumented");
    assert_eq!(api.get("/event/", &[("_skip", "10")]).await.status, 400, "no offset paging");

    // Other documented filters, read from the records.
    let e = d.events.iter().find(|e| e["user_id"].is_string() && e["object_id"].is_string()).expect("an event");
    for key in ["object_id", "user_id", "request_id"] {
        let r = api.get("/event/", &[(key, str_of(e, key))]).await;
        let expected = d.events.iter().filter(|x| x[key] == e[key]).count();
        assert_eq!(r.data().len(), expected.min(50), "{key}");
        assert!(r.data().iter().all(|x| x[key] == e[key]), "{key}");
    }
}

/// Every event a cursor walk from the window `[lo, hi]` returns, the filters resent on every page.
async fn walk(api: &Api, lo: &str, hi: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor = None::<String>;
    loop {
        let mut q = vec![("date_updated__gte", lo), ("date_updated__lte", hi), ("_limit", "10")];
        if let Some(c) = &cursor {
            q.push(("_cursor", c));
        }
        let r = api.get("/event/", &q).await;
        assert_eq!(r.status, 200, "{}", r.body);
        seen.extend(r.data().iter().map(|e| str_of(e, "date_updated").to_string()));
        let Some(c) = r.body["cursor_next"].as_str() else { break };
        cursor = Some(c.to_string());
    }
    seen
}

#[tokio::test]
async fn cursor_pages_ignore_the_date_range_unless_configured() {
    let api = Api::start(&GenSpec { events: 200, ..spec() }).await;
    let d = api.sim.snapshot();
    let mut stamps: Vec<&str> = d.events.iter().map(|e| str_of(e, "date_updated")).collect();
    stamps.sort();
    let (lo, hi) = (stamps[20], stamps[120]);

    // Default: only the first page is bounded; the walk runs on into older history, newest first.
    let seen = walk(&api, lo, hi).await;
    assert_eq!(seen.len(), stamps.iter().filter(|s| **s <= hi).count());
    assert!(seen[..10].iter().all(|s| (lo..=hi).contains(&s.as_str())));
    assert!(seen.iter().any(|s| s.as_str() < lo), "pages past the window");
    assert!(seen.windows(2).all(|w| w[0] >= w[1]));

    api.sim.set_config(SimConfig { event_cursor_filters: CursorFilters::Applied, ..SimConfig::default() });
    let seen = walk(&api, lo, hi).await;
    assert_eq!(seen.len(), stamps.iter().filter(|s| (lo..=hi).contains(*s)).count(), "inclusive bounds");
}

#[tokio::test]
async fn a_non_admin_key_sees_data_of_recent_events_only() {
    let now = Utc::now();
    let api = Api::with(Dataset::generate(&GenSpec { now, events: 30, ..spec() }), SimConfig::default()).await;
    api.sim.mutate(&Mutation { at: now - Duration::minutes(10), update_leads: 1, ..Mutation::default() });
    let admin = api.get("/event/", &[]).await;
    let updated = |r: &crate::common::Reply| -> Vec<(bool, bool)> {
        let events = r.data().iter().filter(|e| e["action"] == "updated");
        events.map(|e| (e["data"].is_null(), e["previous_data"].is_null())).collect()
    };
    assert_eq!(updated(&admin).iter().filter(|(d, p)| *d || *p).count(), 0, "an admin sees every event's data");

    api.sim.set_config(SimConfig { admin_key: false, ..SimConfig::default() });
    let r = api.get("/event/", &[]).await;
    assert_eq!(r.data().len(), 31);
    let recent = &r.data()[0];
    assert!(recent["data"].is_object() && recent["previous_data"].is_object(), "10 minutes old: {recent}");
    assert!(r.data()[1..].iter().all(|e| e["data"].is_null() && e["previous_data"].is_null()));
    assert_eq!(str_of(&r.data()[1], "id"), str_of(&admin.data()[1], "id"), "the events themselves are there");
}

#[tokio::test]
async fn retention_hides_old_events() {
    let now = Utc::now();
    let config = SimConfig { event_retention_days: Some(30), ..SimConfig::default() };
    let api = Api::with(Dataset::generate(&GenSpec { now, events: 30, ..spec() }), config).await;
    let old = api.sim.mutate(&Mutation { at: now - Duration::days(40), update_leads: 2, ..Mutation::default() });
    assert_eq!(old.changed_ids["event_log"].len(), 2);
    let r = api.get("/event/", &[]).await;
    assert_eq!(r.data().len(), 30, "the generated events are recent, the 40-day-old ones are gone");
    api.sim.set_config(SimConfig::default());
    assert_eq!(api.get("/event/", &[]).await.data().len(), 32);
}
