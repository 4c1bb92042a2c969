//! What a run tells its user: logs, a progress bar per table on a terminal, counters, and the
//! summary every run ends with (rows, files, bytes, requests, retries, duration per table).

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::error::Error;
use crate::lake::LakeError;
use crate::tables::TableSpec;

/// Counters of one table run, shared by its windows and the HTTP client.
#[derive(Debug, Default)]
pub struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    rows: AtomicU64,
    coerced: AtomicU64,
    windows: AtomicU64,
    /// What the table's run is doing besides reading pages ("committing", ...), for its bar.
    phase: std::sync::Mutex<&'static str>,
}

impl Counters {
    pub fn set_phase(&self, phase: &'static str) {
        if let Ok(mut current) = self.phase.lock() {
            *current = phase;
        }
    }
    fn phase(&self) -> &'static str {
        self.phase.lock().map(|p| *p).unwrap_or_default()
    }
    pub fn add_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }
    pub fn add_retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }
    pub fn add_rows(&self, rows: u64, coerced: u64) {
        self.rows.fetch_add(rows, Ordering::Relaxed);
        self.coerced.fetch_add(coerced, Ordering::Relaxed);
    }
    /// One more key window read (a split adds windows read concurrently).
    pub fn add_window(&self) {
        self.windows.fetch_add(1, Ordering::Relaxed);
    }
    pub fn windows(&self) -> u64 {
        self.windows.load(Ordering::Relaxed)
    }
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }
    pub fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }
    pub fn coerced(&self) -> u64 {
        self.coerced.load(Ordering::Relaxed)
    }
}

/// Logs go to stderr: text by default, JSON with `CLOSE_LAKE_LOG_FORMAT=json`. On a terminal the
/// progress bars speak instead, and only warnings are logged unless `CLOSE_LAKE_LOG` says more; off
/// one, text carries no colour codes (`export 2> run.log` stays plain).
pub fn init_logging() {
    let default = if show_progress() { tracing::Level::WARN } else { tracing::Level::INFO };
    // `Targets` takes what users write (`debug`, `warn,close_lake=trace`) without EnvFilter's regex engine.
    let filter = std::env::var("CLOSE_LAKE_LOG")
        .ok()
        .and_then(|directives| directives.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(default));
    let layer =
        tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_target(false).with_ansi(show_progress());
    let json = std::env::var("CLOSE_LAKE_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = if json { registry.with(layer.json()).try_init() } else { registry.with(layer).try_init() };
}

fn show_progress() -> bool {
    std::io::stderr().is_terminal()
}

/// The progress bars of a run: one per table, shown only on a terminal.
pub struct Progress {
    bars: MultiProgress,
}

impl Default for Progress {
    fn default() -> Self {
        let target = if show_progress() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        Progress { bars: MultiProgress::with_draw_target(target) }
    }
}

impl Progress {
    /// A table's bar. It follows the table's counters on its own (the run only counts), until
    /// the run finishes it with its outcome.
    pub fn table(&self, name: &str, counters: Arc<Counters>) -> TableBar {
        let style = ProgressStyle::with_template("{spinner} {prefix:<21} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bar = self.bars.add(ProgressBar::new_spinner().with_style(style).with_prefix(name.to_string()));
        bar.enable_steady_tick(Duration::from_millis(120));
        bar.set_message("starting");
        let drawing = Arc::new(std::sync::Mutex::new(()));
        if !bar.is_hidden() {
            let (follower, drawing) = (bar.clone(), drawing.clone());
            tokio::spawn(async move {
                loop {
                    let Ok(guard) = drawing.lock() else { return };
                    if follower.is_finished() {
                        return;
                    }
                    follower.set_message(format!(
                        "{} rows, {} requests, {} retries{}",
                        counters.rows(),
                        counters.requests(),
                        counters.retries(),
                        match counters.phase() {
                            "" => String::new(),
                            phase => format!(", {phase}"),
                        }
                    ));
                    drop(guard);
                    tokio::time::sleep(Duration::from_millis(120)).await;
                }
            });
        }
        TableBar { bar, drawing }
    }
}

/// A table's progress bar, and the lock its follower draws under (so the outcome is the last word).
pub struct TableBar {
    bar: ProgressBar,
    drawing: Arc<std::sync::Mutex<()>>,
}

impl TableBar {
    pub fn finish(&self, outcome: String) {
        let _drawing = self.drawing.lock();
        self.bar.finish_with_message(outcome);
    }
}

/// The outcome of one table run, as the summary shows it.
#[derive(Debug, Clone)]
pub struct TableSummary {
    pub table: &'static str,
    pub rows: u64,
    pub files: u64,
    pub bytes: u64,
    pub requests: u64,
    pub retries: u64,
    pub coerced: u64,
    pub duration: Duration,
    pub outcome: String,
}

/// The end-of-run summary, one line per table.
pub fn summary(tables: &[TableSummary]) -> String {
    let mut out = format!(
        "{:<21} {:>10} {:>6} {:>12} {:>9} {:>8} {:>8} {:>9}  {}\n",
        "table", "rows", "files", "bytes", "requests", "retries", "coerced", "duration", "result"
    );
    for t in tables {
        out.push_str(&format!(
            "{:<21} {:>10} {:>6} {:>12} {:>9} {:>8} {:>8} {:>8.1}s  {}\n",
            t.table,
            t.rows,
            t.files,
            human_bytes(t.bytes),
            t.requests,
            t.retries,
            t.coerced,
            t.duration.as_secs_f64(),
            t.outcome
        ));
    }
    out
}

/// An error message on one line: stores and servers put XML bodies and newlines in theirs, and the
/// contract promises one line per failure.
pub fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

/// Runs a maintenance command (compact, vacuum, repair) over `tables` one at a time: `show` prints
/// a table's outcome, a failure is one `close-lake: <table>: ...` line, and the command fails if any
/// table did while the others still run.
pub async fn each_table<T>(
    tables: &[&'static TableSpec],
    work: impl AsyncFn(&'static TableSpec) -> Result<T, LakeError>,
    show: impl Fn(&'static TableSpec, T),
) -> Result<(), Error> {
    let mut failed = 0;
    for &spec in tables {
        match work(spec).await {
            Ok(outcome) => show(spec, outcome),
            Err(err) => {
                failed += 1;
                eprintln!("close-lake: {}: {}", spec.name, one_line(&err.to_string()));
            }
        }
    }
    if failed > 0 { Err(Error::TablesFailed { failed, total: tables.len() }) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_has_a_line_per_table() {
        let line = TableSummary {
            table: "leads",
            rows: 12,
            files: 1,
            bytes: 2048,
            requests: 3,
            retries: 1,
            coerced: 0,
            duration: Duration::from_millis(1500),
            outcome: "committed".into(),
        };
        let text = summary(&[line]);
        assert_eq!(text.lines().count(), 2);
        assert!(
            text.contains("leads") && text.contains("2.0 KiB") && text.contains("1.5s") && text.contains("committed")
        );
    }
}
