//! `close-lake vacuum` and `close-lake repair`: files leave the store only through a vacuum, once
//! the retention has passed by the store's clock and no live run holds them; a table whose files
//! were deleted by hand is mended by one commit and a backfill.

mod common;

use close_sim::{GenSpec, Mutation};
use common::*;
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};

/// Three exports of leads, the last two adding a small file each to this month, then a compaction
/// of those: each input a removed file.
/// Returns every version of leads the exports saw.
async fn compacted(h: &Harness) -> std::collections::BTreeSet<(String, i64)> {
    assert_success(&h.export(&["--tables", "leads"]).await);
    let mut seen = h.expected()["leads"].clone();
    for round in 0..2 {
        let at = chrono::Utc::now() - chrono::Duration::seconds(150 - round);
        h.sim.mutate(&Mutation { update_leads: 3, at, ..Default::default() });
        assert_success(&h.export(&["--tables", "leads"]).await);
        seen.extend(h.expected()["leads"].clone());
    }
    assert_success(&h.close_lake(&["compact", "--dest", &h.store.dest, "--tables", "leads"], &[]).await);
    seen
}

fn vacuum_line(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).lines().find(|l| l.starts_with("leads")).unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vacuum_deletes_only_past_the_retention_and_never_a_live_runs_files() {
    let h = Harness::generated_on(Backend::S3, GenSpec::default()).await;
    let expected = compacted(&h).await;
    let retired = h.store.parquet_files("leads").await.len() - h.store.committed_files().await.len();
    assert!(retired >= 2, "the compaction's inputs are still there");

    // Within the default retention (7 days): nothing goes, and the version before the compaction
    // still reads whole.
    let kept = h.close_lake(&["vacuum", "--dest", &h.store.dest, "--tables", "leads"], &[]).await;
    assert_success(&kept);
    assert!(vacuum_line(&kept).contains("0 files deleted"), "{}", vacuum_line(&kept));
    assert_eq!(h.store.parquet_files("leads").await.len() - h.store.committed_files().await.len(), retired);

    // A run elsewhere holds a live lease and is publishing a file; another file no commit names
    // belongs to nobody.
    let store = h.store.store().unwrap();
    let lease = serde_json::json!({
        "run_id": "20261202T000000Z-livebackfill", "host": "elsewhere", "pid": 7,
        "process_space": "another-boot/pid:[1]", "process_start": 1, "since": "2026-12-02T00:00:00Z",
        "ttl_micros": 600_000_000i64,
    });
    let publishing = "leads/date_updated_month=2020-01/20261202T000000Z-livebackfill-00000.parquet";
    let orphan = "leads/date_updated_month=2020-01/20261201T000000Z-deadrun-00000.parquet";
    let staged = "_close_lake/staging/leads/20261202T000000Z-livebackfill/00001.parquet";
    let put = async |path: &str, body: String| store.put(&Path::from(path), PutPayload::from(body)).await.unwrap();
    put("_close_lake/leases/leads/backfill-2020-01-01_2020-02-01.json", lease.to_string()).await;
    put("_close_lake/staging/leads/20261202T000000Z-livebackfill/publishing.json", format!("[\"{publishing}\"]")).await;
    put(publishing, "PAR1".into()).await;
    put(staged, "PAR1".into()).await;
    put(orphan, "PAR1".into()).await;

    let now = h.close_lake(&["vacuum", "--dest", &h.store.dest, "--tables", "leads", "--retention", "0s"], &[]).await;
    assert_success(&now);
    assert!(vacuum_line(&now).contains(&format!("{} files deleted", retired + 1)), "{}", vacuum_line(&now));
    let left: Vec<String> = h.store.objects("").await.iter().map(|p| p.to_string()).collect();
    assert!(left.contains(&publishing.to_string()) && left.contains(&staged.to_string()), "a live run's files stay");
    assert!(!left.contains(&orphan.to_string()), "a file no commit and no live run names goes");
    h.store.assert_exact("leads", &expected).await;

    // Once that run is gone, its files go too.
    store.delete(&Path::from("_close_lake/leases/leads/backfill-2020-01-01_2020-02-01.json")).await.unwrap();
    h.vacuum_now().await;
    h.store.assert_clean().await;
    h.store.assert_exact("leads", &expected).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repair_mends_a_table_whose_files_were_deleted_by_hand() {
    let h = Harness::generated(GenSpec { leads: 80, ..GenSpec::default() }).await;
    assert_success(&h.export(&["--tables", "leads"]).await);
    let expected = h.expected()["leads"].clone();
    let lost = h.store.committed_files().await.into_iter().find(|p| p.starts_with("leads/")).unwrap();
    std::fs::remove_file(h.lake().join(&lost)).unwrap();

    let repaired = h.close_lake(&["repair", "--dest", &h.store.dest, "--tables", "leads"], &[]).await;
    assert_success(&repaired);
    let said = String::from_utf8_lossy(&repaired.stdout).to_string();
    assert!(said.contains("1 missing files"), "{said}");
    h.store.assert_commits_whole().await;
    let rows = h.store.rows("leads").await;
    assert!(rows.len() < expected.len(), "the lost rows are gone from the table, not named by it");

    // The printed backfill reads them again.
    let backfill = said.lines().find_map(|l| l.split("read them again with: close-lake ").nth(1)).unwrap();
    let mut args: Vec<&str> = backfill.split_whitespace().collect();
    args.extend(["--dest", h.store.dest.as_str()]);
    assert_success(&h.close_lake(&args, &[("CLOSE_LAKE_LAG", "0s")]).await);
    h.store.assert_exact("leads", &expected).await;

    let again = h.close_lake(&["repair", "--dest", &h.store.dest, "--tables", "leads"], &[]).await;
    assert!(String::from_utf8_lossy(&again.stdout).contains("every committed file is there"));
}
