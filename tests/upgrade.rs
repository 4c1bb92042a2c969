//! A lake written by close-lake 0.1 (its own manifests, no Delta log) becomes Delta tables in place
//! on the next run, nothing lost and nothing doubled, even with a run its old protocol left half
//! published.

mod common;

use close_sim::{GenSpec, Mutation};
use common::*;
use serde_json::{Value, json};

/// Rewrites a table's Delta version 0 as the manifest close-lake 0.1 would have written, and moves
/// one of its files back to staging (a run the old protocol committed but had not published).
fn downgrade(lake: &std::path::Path, table: &str, unpublish_one: bool) {
    let log = lake.join(table).join("_delta_log");
    let commit = std::fs::read_to_string(log.join("00000000000000000000.json")).expect("version 0");
    let mut state = Value::Null;
    let mut files = Vec::new();
    for line in commit.lines() {
        let action: Value = serde_json::from_str(line).unwrap();
        if let Some(add) = action.get("add") {
            let stats: Value = serde_json::from_str(add["stats"].as_str().unwrap()).unwrap();
            let key = if table == "activities" { "date_created" } else { "date_updated" };
            files.push(json!({
                "path": format!("{table}/{}", add["path"].as_str().unwrap()),
                "staged": format!("_close_lake/staging/{table}/old-run/{:05}.parquet", files.len()),
                "partition": add["partitionValues"].as_object().unwrap().values().next().unwrap(),
                "rows": stats["numRecords"],
                "bytes": add["size"],
                "min_key": stats["minValues"][key],
                "max_key": stats["maxValues"][key],
            }));
        }
        if let Some(info) = action.get("commitInfo") {
            state = info["closeLake"].clone();
        }
    }
    if unpublish_one {
        let file = &files[0];
        let staged = lake.join(file["staged"].as_str().unwrap());
        std::fs::create_dir_all(staged.parent().unwrap()).unwrap();
        std::fs::rename(lake.join(file["path"].as_str().unwrap()), &staged).unwrap();
    }
    let object = state.as_object_mut().unwrap();
    object.remove("key");
    object.remove("partition_column");
    object.insert("files".into(), Value::Array(files));
    let manifests = lake.join("_close_lake/manifests").join(table);
    std::fs::create_dir_all(&manifests).unwrap();
    std::fs::write(manifests.join("0000000001.json"), serde_json::to_vec(&state).unwrap()).unwrap();
    std::fs::create_dir_all(lake.join("_close_lake/bookmarks")).unwrap();
    std::fs::write(lake.join("_close_lake/bookmarks").join(format!("{table}.json")), b"{}").unwrap();
    std::fs::remove_dir_all(log).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lake_of_manifests_converts_in_place_and_the_next_run_is_exact() {
    let h = Harness::generated(GenSpec { activities: 600, ..GenSpec::default() }).await;
    assert_success(&h.export(&[]).await);
    let first = h.expected();
    let lake = h.lake();
    for table in TABLES {
        downgrade(&lake, table, table == "leads");
    }
    assert!(h.store.commits().await.is_empty(), "the lake is as close-lake 0.1 left it");

    h.sim.mutate(&Mutation {
        at: chrono::Utc::now() - chrono::Duration::minutes(2),
        update_leads: 3,
        new_activities: 2,
        ..Mutation::default()
    });
    assert_success(&h.export(&[]).await);
    let mut expected = first;
    for (table, now) in h.expected() {
        expected.get_mut(table).unwrap().extend(now);
    }
    for table in TABLES {
        h.store.assert_exact(table, &expected[table]).await;
    }
    h.store.assert_clean().await;
    h.store.assert_commits_whole().await;
    assert!(h.store.objects("_close_lake/manifests").await.is_empty(), "the old manifests are gone");
    assert!(h.store.objects("_close_lake/bookmarks").await.is_empty(), "the old bookmarks are gone");
    let leads_log = h.store.objects("leads/_delta_log").await;
    assert_eq!(leads_log.len(), 2, "version 0 converted, version 1 the new run: {leads_log:?}");
}
