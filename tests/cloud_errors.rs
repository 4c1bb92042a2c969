//! Wrong credentials or a missing bucket: one clear line, a non-zero exit, nothing written.

mod common;

use close_sim::GenSpec;
use common::lake::{s3_env, unique_bucket};
use common::services::{Gcs, Moto};
use common::*;

fn one_error_line(output: &std::process::Output) -> String {
    let text = stderr(output);
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("close-lake:")).collect();
    assert_eq!(lines.len(), 1, "one error line:\n{text}");
    lines[0].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_s3_bucket_is_one_line() {
    let h = Harness::generated_on(Backend::S3, GenSpec::default()).await;
    let dest = format!("s3://{}/lake", unique_bucket());
    let output = h.close_lake(&["export", "--dest", &dest], &[]).await;
    assert_eq!(output.status.code(), Some(2));
    let line = one_error_line(&output);
    assert!(line.contains(&dest) && line.contains("bucket does not exist") && line.contains("Fix:"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_s3_credentials_are_one_line_and_write_nothing() {
    // A moto that checks signatures: the first request (creating the bucket) is let through.
    let moto = Moto::spawn(&[("INITIAL_NO_AUTH_ACTION_COUNT", "1")]).await;
    let endpoint = moto.endpoint.clone();
    let store = TestLake::on_moto(moto, &endpoint).await;
    let mut h = Harness::generated(GenSpec::default()).await;
    h.store = store;
    let mut env: Vec<(String, String)> = s3_env(&endpoint);
    env.retain(|(k, _)| k != "AWS_ACCESS_KEY_ID");
    env.push(("AWS_ACCESS_KEY_ID".into(), "AKIAWRONGWRONGWRONG1".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let output = h.close_lake(&["export", "--dest", h.store.dest.as_str()], &env).await;
    assert_eq!(output.status.code(), Some(2));
    let line = one_error_line(&output);
    assert!(line.contains(&h.store.dest) && line.contains("access denied") && line.contains("Fix:"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_gcs_bucket_is_one_line() {
    let gcs = Gcs::shared_or_start().await;
    let h = Harness::generated(GenSpec::default()).await;
    let dest = format!("gs://{}/lake", unique_bucket());
    let env = [
        ("GOOGLE_BASE_URL", gcs.base_url.as_str()),
        ("GOOGLE_SERVICE_ACCOUNT_KEY", close_sim::gcs::SERVICE_ACCOUNT_KEY),
    ];
    let output = h.close_lake(&["export", "--dest", &dest], &env).await;
    assert_eq!(output.status.code(), Some(2));
    let line = one_error_line(&output);
    assert!(line.contains(&dest) && line.contains("Fix:"), "{line}");
}
