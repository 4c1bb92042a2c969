//! `close-lake backfill --from --to` re-reads a key range and adds the versions the lake lacks:
//! never removes one, never moves a bookmark, and running it twice leaves what running it once
//! leaves. Backfills of disjoint ranges, and a backfill beside the table's export, commit side by
//! side without losing or doubling a version.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use close_sim::{GenSpec, Mutation};
use common::*;

/// `[first day of the month of t, first day of the next month)`, as `YYYY-MM-DD`.
fn month_of(micros: i64) -> (String, String, i64, i64) {
    let day = chrono::DateTime::from_timestamp_micros(micros).unwrap().date_naive();
    let first = NaiveDate::from_ymd_opt(day.year(), day.month(), 1).unwrap();
    let next = if day.month() == 12 {
        NaiveDate::from_ymd_opt(day.year() + 1, 1, 1).unwrap()
    } else {
        NaiveDate::from_ymd_opt(day.year(), day.month() + 1, 1).unwrap()
    };
    let at = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_micros();
    (first.to_string(), next.to_string(), at(first), at(next))
}

async fn bookmarks(h: &Harness) -> BTreeMap<String, serde_json::Value> {
    let output = h.close_lake(&["status", "--dest", &h.store.dest, "--json"], &[]).await;
    assert_success(&output);
    let parsed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    parsed["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["table"].as_str().unwrap().to_string(), t["bookmark"].clone()))
        .collect()
}

fn activities_created_in(h: &Harness, from: i64, to: i64) -> BTreeSet<(String, i64)> {
    versions(h.sim.snapshot().activities.iter().filter(|a| (from..to).contains(&micros(&a["date_created"]))))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_adds_late_edits_keeps_history_and_runs_twice_as_once() {
    let h = Harness::generated(GenSpec { activities: 2_000, ..GenSpec::default() }).await;
    assert_success(&h.export(&[]).await);
    let first = h.expected();

    // Edits long after creation: the incremental export cannot see them.
    let report = h.sim.mutate(&Mutation {
        update_activities: 6,
        at: chrono::Utc::now() - chrono::Duration::seconds(2),
        ..Default::default()
    });
    let edited = &report.changed_ids["activities"];
    assert_success(&h.export(&[]).await);
    assert_eq!(
        h.store.rows("activities").await.len(),
        first["activities"].len(),
        "the export misses edits of old activities"
    );

    let oldest = h
        .sim
        .snapshot()
        .activities
        .iter()
        .find(|a| a["id"] == edited[0].as_str())
        .map(|a| micros(&a["date_created"]))
        .unwrap();
    let (from, to, from_us, to_us) = month_of(oldest);
    let before = bookmarks(&h).await;
    let backfill = ["backfill", "--from", &from, "--to", &to, "--tables", "activities", "--dest", &h.store.dest];
    let output = h.close_lake(&backfill, &[("CLOSE_LAKE_LAG", "0s")]).await;
    assert_success(&output);

    let mut expected = first["activities"].clone();
    expected.extend(activities_created_in(&h, from_us, to_us));
    assert!(expected.len() > first["activities"].len(), "the month holds edited activities");
    h.store.assert_exact("activities", &expected).await;
    assert_eq!(bookmarks(&h).await, before, "a backfill moves no bookmark");

    let manifests = h.store.objects("activities/_delta_log").await;
    assert_success(&h.close_lake(&backfill, &[("CLOSE_LAKE_LAG", "0s")]).await);
    h.store.assert_exact("activities", &expected).await;
    assert_eq!(h.store.objects("activities/_delta_log").await, manifests, "the second backfill adds nothing");

    // The next export does not add again what the backfill added.
    assert_success(&h.export(&[]).await);
    h.store.assert_exact("activities", &expected).await;
    h.store.assert_clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_backfills_of_disjoint_months_started_together_both_commit() {
    let h = Harness::generated(GenSpec { activities: 3_000, history_days: 200, ..GenSpec::default() }).await;
    let recent = (chrono::Utc::now() - chrono::Duration::days(20)).date_naive().to_string();
    assert_success(&h.export(&["--tables", "activities", "--start-date", &recent]).await);
    let before = h.store.rows("activities").await.len();

    let old = (chrono::Utc::now() - chrono::Duration::days(150)).timestamp_micros();
    let (a_from, a_to, a_from_us, a_to_us) = month_of(old);
    let (b_from, b_to, b_from_us, b_to_us) = month_of(a_to_us);
    let env = [("CLOSE_LAKE_LAG", "0s")];
    let a = ["backfill", "--from", &a_from, "--to", &a_to, "--tables", "activities", "--dest", &h.store.dest];
    let b = ["backfill", "--from", &b_from, "--to", &b_to, "--tables", "activities", "--dest", &h.store.dest];
    let (first, second) = tokio::join!(h.close_lake(&a, &env), h.close_lake(&b, &env));
    assert_success(&first);
    assert_success(&second);

    let months =
        activities_created_in(&h, a_from_us, a_to_us).len() + activities_created_in(&h, b_from_us, b_to_us).len();
    assert!(months > 0);
    assert_eq!(h.store.rows("activities").await.len(), before + months, "both months landed");
    let recent_us = micros(&serde_json::json!(format!("{recent}T00:00:00+00:00")));
    let mut expected = activities_created_in(&h, a_from_us, b_to_us);
    expected.extend(activities_created_in(&h, recent_us, i64::MAX));
    h.store.assert_exact("activities", &expected).await;
    assert_eq!(h.store.objects("activities/_delta_log").await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_during_an_export_of_the_same_table_both_commit_and_the_lake_is_exact() {
    let h = Harness::generated(GenSpec { activities: 20_000, history_days: 600, ..GenSpec::default() }).await;
    let data = h.sim.snapshot();
    let middle = micros(&data.activities[data.activities.len() / 2]["date_created"]);
    let (from, to, _, _) = month_of(middle);
    let backfill = ["backfill", "--from", &from, "--to", &to, "--tables", "activities", "--dest", &h.store.dest];
    let export = ["export", "--tables", "activities", "--dest", &h.store.dest];
    let env = [("CLOSE_LAKE_LAG", "0s")];
    let (exported, backfilled) = tokio::join!(h.close_lake(&export, &env), h.close_lake(&backfill, &env));
    assert_success(&exported);
    assert_success(&backfilled);
    h.store.assert_exact("activities", &h.expected()["activities"]).await;
    h.store.assert_clean().await;
    assert!(h.store.objects("_close_lake/staging").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_log_range_older_than_30_days_is_refused() {
    let h = Harness::generated(GenSpec::default()).await;
    let output =
        h.close_lake(&["backfill", "--from", "2024-01-01", "--to", "2024-02-01", "--dest", &h.store.dest], &[]).await;
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("30 days of event_log") && text.contains("--tables"), "{text}");
    let ok = h
        .close_lake(
            &["backfill", "--from", "2024-01-01", "--to", "2024-02-01", "--tables", "leads", "--dest", &h.store.dest],
            &[],
        )
        .await;
    assert_success(&ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_after_a_backfill_of_a_new_table_adds_nothing_twice() {
    let h = Harness::generated(GenSpec { activities: 600, ..GenSpec::default() }).await;
    let to = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive().to_string();
    let backfill = ["backfill", "--from", "2020-01-01", "--to", &to, "--tables", "activities", "--dest", &h.store.dest];
    assert_success(&h.close_lake(&backfill, &[("CLOSE_LAKE_LAG", "0s")]).await);
    let expected = h.expected();
    h.store.assert_exact("activities", &expected["activities"]).await;
    assert_success(&h.export(&["--tables", "activities"]).await);
    h.store.assert_exact("activities", &expected["activities"]).await;
}
