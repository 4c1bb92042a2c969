//! Bad input (key, table, date, destination, API URL) exits with status 2 and one clear line,
//! before anything is written, and leaves a committed lake exactly as it was.

mod common;

use std::path::Path;

use close_sim::GenSpec;
use common::*;

/// Arguments, extra environment, and a phrase the error line must contain.
type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);

fn one_line(output: &std::process::Output) -> String {
    let text = stderr(output);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line on stderr, got:\n{text}");
    lines[0].to_string()
}

fn snapshot(lake: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    all_files(lake).into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_key_is_one_line_exit_2_and_writes_nothing() {
    let h = Harness::generated(GenSpec::default()).await;
    let lake = h.lake();
    let output =
        h.close_lake(&["export", "--dest", lake.to_str().unwrap()], &[("CLOSE_API_KEY", "not-the-key-4f9c2")]).await;
    assert_eq!(output.status.code(), Some(2));
    let line = one_line(&output);
    assert!(line.contains("API key") && line.contains("CLOSE_API_KEY"), "{line}");
    assert!(!line.contains("not-the-key-4f9c2"));
    assert!(!lake.exists(), "nothing is written for a bad key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_key_after_good_runs_moves_no_bookmark() {
    let h = Harness::generated(GenSpec::default()).await;
    assert_success(&h.export(&[]).await);
    let before = snapshot(&h.lake());
    let output = h
        .close_lake(
            &["export", "--dest", h.lake().to_str().unwrap()],
            &[("CLOSE_API_KEY", "wrong"), ("CLOSE_LAKE_LAG", "0s")],
        )
        .await;
    assert_eq!(output.status.code(), Some(2));
    one_line(&output);
    assert_eq!(snapshot(&h.lake()), before, "the lake is unchanged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_and_configuration_mistakes_are_one_line_and_exit_2() {
    let h = Harness::generated(GenSpec::default()).await;
    let blocker = h.dir.path().join("a-file");
    std::fs::write(&blocker, b"not a folder").unwrap();
    let under_file = blocker.join("lake");
    let lake = h.lake();
    let lake = lake.to_str().unwrap();
    let cases: Vec<Case> = vec![
        (vec!["export", "--dest", lake, "--tables", "leads,deals"], vec![], "unknown table `deals`"),
        (vec!["export", "--dest", lake, "--start-date", "2024-02-30"], vec![], "use YYYY-MM-DD"),
        (vec!["export", "--dest", lake], vec![("CLOSE_LAKE_START_DATE", "last week")], "CLOSE_LAKE_START_DATE"),
        (vec!["export", "--dest", under_file.to_str().unwrap()], vec![], "Fix: choose a --dest"),
        (vec!["export", "--dest", "ftp://host/lake"], vec![], "not a usable destination"),
        (vec!["export", "--dest", lake, "--api-url", "not a url"], vec![], "not a usable API URL"),
        (vec!["export", "--dest", lake], vec![("CLOSE_API_KEY", "")], "CLOSE_API_KEY is not set"),
        (vec!["export", "--dest", lake], vec![("CLOSE_LAKE_LAG", "soon")], "CLOSE_LAKE_LAG"),
        (vec!["export", "--dest", lake, "--api-url", "http://api.close.com/api/v1"], vec![], "unencrypted"),
        (vec!["export", "--no-such-flag"], vec![], "--no-such-flag"),
    ];
    for (args, env, needle) in cases {
        let output = h.close_lake(&args, &env).await;
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        let text = stderr(&output);
        assert!(text.contains(needle), "{args:?}: expected `{needle}` in:\n{text}");
        if !args.contains(&"--no-such-flag") {
            one_line(&output);
        }
    }
    assert!(!Path::new(lake).exists(), "no case wrote anything");
}

/// An API that cannot be reached may be an outage rather than a mistake: exit 1, so schedulers retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_api_is_one_line_and_exit_1() {
    let h = Harness::generated(GenSpec::default()).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/api/v1", closed.local_addr().unwrap());
    drop(closed);
    let output = h.close_lake(&["export", "--dest", h.lake().to_str().unwrap(), "--api-url", &url], &[]).await;
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.lines().filter(|l| l.starts_with("close-lake:")).count() == 1, "{text}");
    assert!(!h.lake().exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_never_appears_in_logs_or_files() {
    let h = Harness::generated(GenSpec::default()).await;
    let output = h.close_lake(&["export", "--dest", h.lake().to_str().unwrap()], &[("CLOSE_LAKE_LOG", "debug")]).await;
    assert_success(&output);
    assert!(!stderr(&output).contains(API_KEY));
    assert!(!String::from_utf8_lossy(&output.stdout).contains(API_KEY));
    for file in all_files(&h.lake()) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(!bytes.windows(API_KEY.len()).any(|w| w == API_KEY.as_bytes()), "key in {}", file.display());
    }
}
