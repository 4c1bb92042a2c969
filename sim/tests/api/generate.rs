//! Dataset properties: determinism, types, ties, ids, time range.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use close_sim::{Dataset, GenSpec};
use serde_json::Value;

use crate::common::{now, spec, str_of};

fn ts(v: &Value, key: &str) -> DateTime<Utc> {
    let s = str_of(v, key);
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").map(|t| t.and_utc()))
        .unwrap_or_else(|e| panic!("{key} = {s:?}: {e}"))
}

#[test]
fn same_seed_same_data_other_seed_other_data() {
    let a = Dataset::generate(&spec());
    assert_eq!(a, Dataset::generate(&spec()));
    assert_ne!(a.leads, Dataset::generate(&GenSpec { seed: 7, ..spec() }).leads);
    assert_eq!([a.activities.len(), a.leads.len(), a.tasks.len(), a.events.len(), a.users.len()], [300, 40, 60, 50, 3]);
}

#[test]
fn ids_are_unique_and_close_like() {
    let d = Dataset::generate(&spec());
    let tables: [(&[Value], &[&str]); 5] = [
        (&d.activities, &["acti_"]),
        (&d.leads, &["lead_"]),
        (&d.tasks, &["task_", "noti_"]),
        (&d.users, &["user_"]),
        (&d.events, &["ev_"]),
    ];
    for (records, prefixes) in tables {
        let ids: BTreeSet<&str> = records.iter().map(|r| str_of(r, "id")).collect();
        assert_eq!(ids.len(), records.len());
        assert!(ids.iter().all(|id| prefixes.iter().any(|p| id.starts_with(p))), "{prefixes:?}");
    }
    let field_ids: BTreeSet<&str> = d.custom_fields.iter().map(|(_, f)| str_of(f, "id")).collect();
    assert_eq!(field_ids.len(), d.custom_fields.len());
    let types: BTreeSet<&str> = d.custom_fields.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(types.len(), 6, "{types:?}");
}

#[test]
fn dates_stay_in_range_and_events_are_recent() {
    let d = Dataset::generate(&spec());
    let end = now() - Duration::hours(1);
    let start = now() - Duration::days(401);
    for r in d.activities.iter().chain(&d.leads).chain(&d.tasks).chain(&d.users) {
        let (c, u) = (ts(r, "date_created"), ts(r, "date_updated"));
        assert!(start <= c && c <= u && u < end, "{c} {u}");
    }
    for e in &d.events {
        let u = ts(e, "date_updated");
        assert!(now() - Duration::days(25) <= u && u < end);
    }
    let no_fraction = d.activities.iter().filter(|a| !str_of(a, "date_created").contains('.')).count();
    assert!(no_fraction > 0, "some timestamps have no fractional seconds");
    let task_types: BTreeSet<&str> = d.tasks.iter().map(|t| str_of(t, "_type")).collect();
    assert!(task_types.len() >= 3);
    assert!(d.events.iter().any(|e| e["date_updated"] != e["date_created"]), "merged events");
}

#[test]
fn large_specs_cap_the_tie_group() {
    let d = Dataset::generate(&GenSpec { activities: 4_000, leads: 5, tasks: 5, events: 5, ..spec() });
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for a in &d.activities {
        *counts.entry(str_of(a, "date_created")).or_default() += 1;
    }
    assert_eq!(counts.values().max(), Some(&200));
}

#[tokio::test]
async fn generating_into_the_server_serves_the_same_records() {
    let spec = GenSpec { activities: 120, ..spec() };
    let loaded = close_sim::SimHandle::start(Dataset::generate(&spec), Default::default()).await.expect("starts");
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let streamed = close_sim::SimHandle::start_generated(&spec, Default::default(), addr).await.expect("starts");
    assert_eq!(loaded.snapshot(), streamed.snapshot());
    assert_eq!(loaded.snapshot().activities.len(), 120);
}

#[tokio::test]
async fn an_empty_dataset_still_serves_and_mutates_from_templates() {
    let sim = close_sim::SimHandle::start(Dataset::default(), Default::default()).await.expect("starts");
    let m = close_sim::Mutation {
        new_leads: 1,
        new_activities: 2,
        new_tasks: 1,
        new_custom_fields: 1,
        ..Default::default()
    };
    let report = sim.mutate(&m);
    let opportunities = report.changed_ids.get("opportunities").map_or(0, Vec::len);
    let contacts = report.changed_ids.get("contacts").map_or(0, Vec::len);
    assert_eq!(report.changed_ids["event_log"].len(), 5 + opportunities + contacts, "the template lead's too");
    let d = sim.snapshot();
    assert_eq!(d.opportunities.len(), opportunities);
    assert_eq!((d.leads.len(), d.activities.len(), d.tasks.len(), d.custom_fields.len()), (1, 2, 1, 1));
    let types: BTreeSet<&str> = d.activities.iter().map(|a| str_of(a, "_type")).collect();
    assert_eq!(types.len(), 2);
    sim.shutdown().await;
}
