//! On a terminal every table gets a progress bar; elsewhere the run logs instead. Either way the run
//! ends with a summary of rows, files, bytes, requests, retries and duration per table. Piped
//! text logs carry no colour codes, and JSON logs are one object per line.

mod common;

use close_sim::GenSpec;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_shows_a_bar_per_table_and_a_pipe_gets_logs() {
    let h = Harness::generated(GenSpec::default()).await;
    let lake = h.lake();
    let export = format!("{} export --dest {}", env!("CARGO_BIN_EXE_close-lake"), lake.display());
    // `script` runs the command on a pseudo-terminal and copies what it draws to stdout.
    let output = tokio::process::Command::new("script")
        .args(["-q", "-e", "-c", &export, "/dev/null"])
        .env("CLOSE_API_KEY", API_KEY)
        .env("CLOSE_API_URL", h.sim.base_url())
        .env("CLOSE_LAKE_LAG", "0s")
        .env_remove("CLOSE_LAKE_LOG")
        .output()
        .await
        .expect("script runs");
    assert_success(&output);
    let screen = String::from_utf8_lossy(&output.stdout);
    for table in TABLES {
        let bar = screen.lines().any(|l| l.contains(table) && l.contains("rows)"));
        assert!(bar, "no progress bar for {table}:\n{screen}");
    }
    assert!(screen.contains("requests") && screen.contains("duration"), "the summary follows the bars");

    let piped = h.export(&[]).await;
    assert_success(&piped);
    let logs = stderr(&piped);
    assert!(!logs.contains("rows)"), "no bars without a terminal");
    assert!(logs.lines().any(|l| l.contains("\"table done\"")), "structured logs instead:\n{logs}");
    // The harness asks for JSON logs: one object per line.
    for line in logs.lines().filter(|l| !l.trim().is_empty()) {
        let value: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {line}"));
        assert!(value.is_object(), "{line}");
    }

    // `export 2> run.log` with text logs: plain text, no colour codes off a terminal.
    let text =
        h.close_lake(&["export", "--dest", &lake.display().to_string()], &[("CLOSE_LAKE_LOG_FORMAT", "text")]).await;
    assert_success(&text);
    let logs = stderr(&text);
    assert!(logs.contains("INFO"), "the run logs:\n{logs}");
    assert!(!logs.contains('\u{1b}'), "escape codes in piped logs:\n{logs}");
}
