//! close-lake works on a real Close account: against a simulator that accepts only the parameters
//! Close documents, bounds the lead query by the minute, lists no `total_results`, hides deactivated
//! users from `/user/` and walks event cursors past their date filters, every table is exact; and
//! it stays exact under the other plausible behaviours where Close's is not documented.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use close_sim::{CursorFilters, Dataset, GenSpec, Mutation, ParamPolicy, Precision, SimConfig, Unavailable};
use common::*;

/// The `table done` log lines of a run (JSON logs), by table.
fn table_done(output: &std::process::Output) -> BTreeMap<String, serde_json::Value> {
    stderr(output)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|v| v["fields"]["message"] == "table done")
        .map(|v| (v["fields"]["table"].as_str().unwrap_or_default().to_string(), v["fields"].clone()))
        .collect()
}

/// A first export, a mutation of every table, and an incremental run: exact after each.
async fn exact_through_a_change(h: &Harness) {
    assert_success(&h.export(&[]).await);
    let first = h.expected();
    for table in TABLES {
        h.store.assert_exact(table, &first[table]).await;
    }
    let at = chrono::Utc::now() - chrono::Duration::minutes(2);
    h.sim.mutate(&Mutation {
        at,
        update_activities: 3,
        new_activities: 4,
        update_leads: 5,
        new_leads: 2,
        delete_leads: 1,
        update_tasks: 5,
        new_tasks: 2,
        update_users: 1,
        update_custom_fields: 1,
        new_custom_fields: 1,
        ..Mutation::default()
    });
    assert_success(&h.export(&[]).await);
    let now = h.expected();
    let day_before = (at - chrono::Duration::hours(30)).timestamp_micros();
    let recent_activities =
        versions(h.sim.snapshot().activities.iter().filter(|a| micros(&a["date_created"]) >= day_before));
    for table in TABLES {
        let mut expected = first[table].clone();
        expected.extend(if table == "activities" { recent_activities.clone() } else { now[table].clone() });
        h.store.assert_exact(table, &expected).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exact_where_close_ignores_unknown_parameters_bounds_leads_exactly_and_filters_cursors() {
    // Close's other plausible behaviours: the exporter sends only documented parameters, pages by
    // minutes that need not be minutes, and stops its event walk by itself, so it is exact here too.
    let config = SimConfig {
        unknown_params: ParamPolicy::Ignore,
        lead_query_precision: Precision::Exact,
        event_cursor_filters: CursorFilters::Applied,
        ..SimConfig::default()
    };
    let spec = GenSpec { activities: 1_500, leads: 600, tasks: 400, events: 300, ..GenSpec::default() };
    let h = Harness::start(Dataset::generate(&spec), config).await;
    exact_through_a_change(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exact_on_the_strictest_simulator_with_ties_and_a_change() {
    let spec = GenSpec { activities: 1_500, leads: 600, tasks: 400, events: 300, ..GenSpec::default() };
    let h = Harness::generated(spec).await;
    exact_through_a_change(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_that_change_during_the_run_are_neither_skipped_nor_doubled() {
    let h = Harness::generated(GenSpec { tasks: 1_500, ..GenSpec::default() }).await;
    let before = h.expected()["tasks"].clone();
    // While the run pages through tasks by creation, 40 of them move out of its window and 5 are new.
    h.sim.mutate_before("task", 4, Mutation { update_tasks: 40, new_tasks: 5, ..Mutation::default() });
    h.sim.mutate_before("task", 9, Mutation { update_tasks: 40, ..Mutation::default() });
    let output = h.export(&["--tables", "tasks"]).await;
    assert_success(&output);
    let after_run = h.expected()["tasks"].clone();
    let moved: BTreeSet<String> = before.difference(&after_run).map(|(id, _)| id.clone()).collect();
    assert!(moved.len() >= 40, "the mutations moved tasks ({})", moved.len());
    let rows = h.store.rows("tasks").await;
    let held: BTreeSet<(String, i64)> = rows.iter().cloned().collect();
    assert_eq!(rows.len(), held.len(), "no version twice");
    // Every task that did not move during the run landed as it was; a moved one may have landed in
    // its old version (read before it moved) and lands in its new one with the next run.
    for version in &before {
        assert!(held.contains(version) || moved.contains(&version.0), "skipped {version:?}");
    }
    assert!(held.is_subset(&before.union(&after_run).cloned().collect()));
    assert_success(&h.export(&["--tables", "tasks"]).await);
    let rows = h.store.rows("tasks").await;
    let held: BTreeSet<(String, i64)> = rows.iter().cloned().collect();
    assert_eq!(rows.len(), held.len(), "no version twice");
    assert!(after_run.is_subset(&held), "every current task version after the next run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_edit_of_2000_leads_in_one_minute_lands_once_in_bounded_requests() {
    let h = Harness::generated(GenSpec { leads: 2_500, ..GenSpec::default() }).await;
    assert_success(&h.export(&["--tables", "leads"]).await);
    let first = h.expected()["leads"].clone();
    h.sim.reset_requests();
    // Every edit at one instant: a tie far larger than any page, inside one minute of the query.
    let at = chrono::Utc::now() - chrono::Duration::minutes(2);
    h.sim.mutate(&Mutation { at, update_leads: 2_000, ..Mutation::default() });
    assert_success(&h.export(&["--tables", "leads"]).await);
    let mut expected = first;
    expected.extend(h.expected()["leads"].clone());
    h.store.assert_exact("leads", &expected).await;
    let requests = h.sim.requests("lead");
    eprintln!("lead requests after a bulk edit of 2,000: {requests}");
    assert!(requests <= 2_000 / 100 + 5, "{requests} requests: bounded by the edit, half-page steps");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_look_back_reads_leads_the_search_index_showed_late() {
    let h = Harness::generated(GenSpec { leads: 300, ..GenSpec::default() }).await;
    assert_success(&h.export(&["--tables", "leads"]).await);
    let first = h.expected()["leads"].clone();
    let now = chrono::Utc::now();
    let late = h.sim.mutate(&Mutation {
        at: now - chrono::Duration::minutes(30),
        update_leads: 3,
        index_delayed: true,
        ..Mutation::default()
    });
    h.sim.mutate(&Mutation { at: now - chrono::Duration::minutes(20), update_leads: 2, ..Mutation::default() });
    assert_success(&h.export(&["--tables", "leads"]).await);
    let late_ids: BTreeSet<String> = late.changed_ids["leads"].iter().cloned().collect();
    let shown = h.expected()["leads"].clone();
    let late_versions: BTreeSet<(String, i64)> =
        shown.iter().filter(|(id, _)| late_ids.contains(id)).filter(|&v| !first.contains(v)).cloned().collect();
    assert_eq!(late_versions.len(), 3);
    let held: BTreeSet<(String, i64)> = h.store.rows("leads").await.into_iter().collect();
    assert!(late_versions.is_disjoint(&held), "the index had not shown them yet");

    // The index catches up after the bookmark passed them: the hour of look-back reads them.
    h.sim.flush_lead_index();
    assert_success(&h.export(&["--tables", "leads"]).await);
    let mut expected = first;
    expected.extend(shown);
    h.store.assert_exact("leads", &expected).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_just_below_the_look_back_is_not_read_twice() {
    // The lead query's bounds are whole minutes, the look-back starts at the bookmark's second: the
    // part of that minute below the look-back is read again and must be dropped, not doubled.
    let now = chrono::Utc::now();
    let spec = GenSpec { leads: 200, now: now - chrono::Duration::hours(10), ..GenSpec::default() };
    let h = Harness::generated(spec).await;
    assert_success(&h.export(&["--tables", "leads"]).await);
    let first = h.expected()["leads"].clone();
    let three_hours_ago = (now - chrono::Duration::hours(3)).timestamp();
    let minute = chrono::DateTime::from_timestamp(three_hours_ago - three_hours_ago % 60, 0).unwrap();
    let early = minute + chrono::Duration::seconds(5);
    h.sim.mutate(&Mutation { at: early, update_leads: 1, ..Mutation::default() });
    let bookmark = early + chrono::Duration::hours(1) + chrono::Duration::seconds(10);
    h.sim.mutate(&Mutation { at: bookmark, update_leads: 1, ..Mutation::default() });
    assert_success(&h.export(&["--tables", "leads"]).await);
    assert_success(&h.export(&["--tables", "leads"]).await);
    let mut expected = first;
    expected.extend(h.expected()["leads"].clone());
    h.store.assert_exact("leads", &expected).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_first_export_fans_out_by_key_span_without_total_results() {
    let h = Harness::generated(GenSpec { activities: 20_000, ..GenSpec::default() }).await;
    let output = h.export(&["--tables", "activities"]).await;
    assert_success(&output);
    h.store.assert_exact("activities", &h.expected()["activities"]).await;
    let done = &table_done(&output)["activities"];
    let (windows, requests) = (done["windows"].as_u64().unwrap(), done["requests"].as_u64().unwrap());
    eprintln!("20,000 activities: {windows} windows, {requests} requests");
    assert!(windows >= 8, "the history was split into concurrent windows ({windows})");
    // No more requests than the records need: one page per 100, plus each window's last page.
    assert!(requests <= 20_000 / 100 + 2 * windows, "{requests} requests for 200 pages in {windows} windows");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_log_run_with_nothing_new_costs_a_handful_of_requests() {
    for filters in [CursorFilters::Ignored, CursorFilters::Applied] {
        let config = SimConfig { event_cursor_filters: filters, ..SimConfig::default() };
        let h = Harness::start(Dataset::generate(&GenSpec { events: 1_000, ..GenSpec::default() }), config).await;
        assert_success(&h.export(&["--tables", "event_log"]).await);
        h.store.assert_exact("event_log", &h.expected()["event_log"]).await;
        h.sim.reset_requests();
        assert_success(&h.export(&["--tables", "event_log"]).await);
        let requests = h.sim.requests("event");
        eprintln!("event requests of a run with nothing new ({filters:?}): {requests}");
        assert!(requests <= 3, "{requests} requests with nothing new ({filters:?})");
        h.store.assert_exact("event_log", &h.expected()["event_log"]).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivated_users_are_exported_from_the_organization_memberships() {
    let h = Harness::generated(GenSpec { users: 5, deactivated_users: 2, ..GenSpec::default() }).await;
    assert_success(&h.export(&["--tables", "users"]).await);
    let expected = h.expected()["users"].clone();
    assert_eq!(expected.len(), 5);
    h.store.assert_exact("users", &expected).await;
    assert_eq!(h.sim.requests("organization"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_user_close_will_not_show_is_skipped_with_a_warning() {
    let data = Dataset::generate(&GenSpec { users: 5, deactivated_users: 2, ..GenSpec::default() });
    let hidden = data.deactivated_users[0].clone();
    let unavailable = vec![Unavailable { path: format!("user/{hidden}/"), status: 404 }];
    let h = Harness::start(data, SimConfig { unavailable, ..SimConfig::default() }).await;
    let output = h.export(&["--tables", "users"]).await;
    assert_success(&output);
    let log = stderr(&output);
    assert_eq!(log.lines().filter(|l| l.contains("WARN") && l.contains(&hidden)).count(), 1, "{log}");
    let expected: BTreeSet<(String, i64)> =
        h.expected()["users"].iter().filter(|(id, _)| *id != hidden).cloned().collect();
    assert_eq!(expected.len(), 4);
    h.store.assert_exact("users", &expected).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_admin_key_is_warned_once_and_status_records_it() {
    let config = SimConfig { admin_key: false, ..SimConfig::default() };
    let h = Harness::start(Dataset::generate(&GenSpec::default()), config).await;
    let output = h.export(&[]).await;
    assert_success(&output);
    let log = stderr(&output);
    let warnings: Vec<&str> = log.lines().filter(|l| l.contains("not admin")).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let expected = h.expected();
    for table in TABLES {
        h.store.assert_exact(table, &expected[table]).await;
    }
    let status = h.close_lake(&["status", "--json", "--dest", h.store.dest.as_str()], &[]).await;
    assert_success(&status);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status --json is JSON");
    assert_eq!(status["api_key"]["event_data_limited"], true, "{status}");
    assert_eq!(status["api_key"]["role"], "user");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_with_nothing_new_costs_a_handful_of_requests_per_table() {
    let spec = GenSpec { activities: 3_000, leads: 1_000, tasks: 600, events: 500, ..GenSpec::default() };
    let h = Harness::generated(spec).await;
    assert_success(&h.export(&[]).await);
    let first = h.sim.request_counts();
    h.sim.reset_requests();
    assert_success(&h.export(&[]).await);
    let no_op = h.sim.request_counts();
    eprintln!(
        "requests per endpoint group on the strict simulator: first run {first:?}, run with nothing new {no_op:?}"
    );
    for (group, requests) in &no_op {
        let allowed = match group.as_str() {
            // Six kinds of custom field, one page each, and the two listings each search table reads
            // to name its custom fields (contacts: contact and shared; custom objects: their type's and
            // shared).
            "custom_field" => 10,
            _ => 3,
        };
        assert!(*requests <= allowed, "{group}: {requests} requests with nothing new");
    }
    let expected = h.expected();
    for table in TABLES {
        h.store.assert_exact(table, &expected[table]).await;
    }
}
