//! Incremental runs export exactly the new and changed versions, with requests proportional to the
//! change, and never the same version twice, on every destination.

mod common;

use std::collections::BTreeSet;

use close_sim::{GenSpec, Mutation};
use common::*;

async fn a_second_run_exports_only_what_changed(backend: Backend) {
    let spec = GenSpec { activities: 3_000, leads: 1_000, tasks: 600, ..GenSpec::default() };
    let h = Harness::generated_on(backend, spec).await;
    assert_success(&h.export(&[]).await);
    let first = h.expected();
    let first_requests = h.sim.request_counts();

    h.sim.reset_requests();
    // Two minutes back: the lead query's bounds are whole minutes, so a lead edited in the current
    // minute waits for the next run.
    let at = chrono::Utc::now() - chrono::Duration::minutes(2);
    let report = h.sim.mutate(&Mutation {
        at,
        update_activities: 5,
        new_activities: 7,
        update_leads: 4,
        new_leads: 3,
        delete_leads: 1,
        update_tasks: 4,
        new_tasks: 2,
        update_opportunities: 3,
        delete_opportunities: 1,
        update_contacts: 3,
        delete_contacts: 1,
        update_custom_objects: 2,
        delete_custom_objects: 1,
        update_configuration: 1,
        delete_configuration: 1,
        update_users: 1,
        update_custom_fields: 1,
        new_custom_fields: 1,
        ..Mutation::default()
    });
    assert!(!report.changed_ids.is_empty());
    let output = h.export(&[]).await;
    assert_success(&output);

    // Every table holds what the first run saw plus every version the API shows now, except new
    // versions of activities created more than 24 h before the bookmark (only a backfill finds those).
    let now = h.sim.snapshot();
    let day_before = at - chrono::Duration::hours(30);
    let mut expected = first.clone();
    for (table, shown) in expected_versions(&now) {
        let entry = expected.get_mut(table).unwrap();
        if table == "activities" {
            let recent: BTreeSet<(String, i64)> =
                versions(now.activities.iter().filter(|a| micros(&a["date_created"]) >= day_before.timestamp_micros()));
            entry.extend(recent);
        } else {
            entry.extend(shown);
        }
    }
    for table in TABLES {
        h.store.assert_exact(table, &expected[table]).await;
    }
    h.store.assert_clean().await;
    let added: usize = TABLES.iter().map(|t| expected[t].len() - first[t].len()).sum();
    assert!(added >= 7 + 4 + 3 + 4 + 2, "the mutation added versions ({added})");

    // Requests follow the change, not the size of the account.
    let second = h.sim.request_counts();
    eprintln!("requests per group, first run {first_requests:?}, second run {second:?}");
    for group in ["activity", "lead", "opportunity", "task", "event", "search"] {
        let (before, after) =
            (first_requests.get(group).copied().unwrap_or(0), second.get(group).copied().unwrap_or(0));
        assert!(after <= 3, "{group}: {after} requests for a handful of changes (first run: {before})");
        assert!(before >= 3 * after.max(1) || group == "event", "{group}: first run {before}, second {after}");
    }

    // Every table the mutation touched gained a version, the new ones included.
    for table in TABLES.iter().skip(6) {
        assert!(expected[table].len() > first[table].len(), "{table}: the mutation's edits landed");
    }

    // A third run with nothing new adds nothing and still succeeds.
    let commits = h.store.commits().await;
    h.sim.reset_requests();
    let output = h.export(&[]).await;
    assert_success(&output);
    eprintln!("a run with nothing new:\n{}", String::from_utf8_lossy(&output.stdout));
    assert_eq!(h.store.commits().await, commits, "nothing new, nothing committed");
    let summary = String::from_utf8_lossy(&output.stdout);
    for table in TABLES {
        let line = summary.lines().find(|l| l.split_whitespace().next() == Some(table)).expect("a summary line");
        // table, rows, files, bytes (a number and a unit), requests
        let requests: u64 = line.split_whitespace().nth(5).and_then(|n| n.parse().ok()).expect("requests");
        assert!(requests <= 6, "{table}: a handful of requests when nothing is new: {line}");
    }
    for table in TABLES {
        h.store.assert_exact(table, &expected[table]).await;
    }
}

on_backends!(a_second_run_exports_only_what_changed:
    Local => a_second_run_to_a_local_folder_exports_only_what_changed,
    S3 => a_second_run_to_s3_exports_only_what_changed,
    Gcs => a_second_run_to_gcs_exports_only_what_changed,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_date_bounds_the_first_run_only() {
    let h = Harness::generated(GenSpec { activities: 800, ..GenSpec::default() }).await;
    let start = (chrono::Utc::now() - chrono::Duration::days(60)).date_naive();
    let start_text = start.format("%Y-%m-%d").to_string();
    assert_success(&h.export(&["--tables", "activities,tasks", "--start-date", &start_text]).await);
    let start_micros = start.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_micros();
    let data = h.sim.snapshot();
    let recent = versions(data.activities.iter().filter(|a| micros(&a["date_created"]) >= start_micros));
    assert!(!recent.is_empty() && recent.len() < data.activities.len());
    h.store.assert_exact("activities", &recent).await;
    let tasks = versions(data.tasks.iter().filter(|t| micros(&t["date_updated"]) >= start_micros));
    h.store.assert_exact("tasks", &tasks).await;
}
