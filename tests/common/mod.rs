//! Shared harness of the integration tests: a Close simulator on loopback, the real `close-lake`
//! binary run as users run it, and readers of the lake it writes (Rust's parquet and DuckDB).
#![allow(dead_code)]

pub mod faulty;
pub mod lake;
pub mod services;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use clap::Parser;

use close_sim::{Dataset, GenSpec, SimConfig, SimHandle};
use serde_json::Value;

pub const API_KEY: &str = "sim-key";
/// Every table, as `close-lake` names them.
pub const TABLES: [&str; 20] = [
    "activities",
    "custom_fields",
    "event_log",
    "leads",
    "tasks",
    "users",
    "opportunities",
    "contacts",
    "custom_objects",
    "lead_statuses",
    "opportunity_statuses",
    "pipelines",
    "custom_activity_types",
    "custom_object_types",
    "email_templates",
    "sms_templates",
    "sequences",
    "smart_views",
    "roles",
    "groups",
];

/// The tables whose records carry no timestamps: versions are contents (`_close_lake_content_hash`).
pub const CONTENT_TABLES: [&str; 4] = ["lead_statuses", "opportunity_statuses", "roles", "groups"];

/// Each table's replication key and version column, as JSON for scripts run on the lake:
/// `{"leads": {"key": "date_updated", "version": "date_updated"}, ...}`.
pub fn table_columns() -> String {
    let columns: serde_json::Map<String, Value> = TABLES
        .iter()
        .map(|table| {
            let spec = close_lake::tables::by_name(table).expect("a table");
            (table.to_string(), serde_json::json!({"key": spec.key, "version": spec.version}))
        })
        .collect();
    Value::Object(columns).to_string()
}

/// The Python that reads [`table_columns`] from `sys.argv[n]`: `tables`, `key[t]`, and `version_sql[t]`, a
/// DuckDB expression of the version as an integer (microseconds, or the content hash).
pub fn python_columns(n: usize) -> String {
    format!(
        "columns = json.loads(sys.argv[{n}])\n\
         tables = list(columns)\n\
         key = {{t: c['key'] for t, c in columns.items()}}\n\
         version_sql = {{t: c['version'] if c['version'] == '_close_lake_content_hash' else f\"epoch_us({{c['version']}})\" for t, c in columns.items()}}\n"
    )
}

pub use lake::{Backend, TestLake};

/// Declares one test per destination, each running `body(backend)`:
/// `on_backends!(body: Local => local_test, S3 => s3_test);`
#[macro_export]
macro_rules! on_backends {
    ($body:ident: $($backend:ident => $name:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $body(Backend::$backend).await;
            }
        )+
    };
}

pub struct Harness {
    pub sim: SimHandle,
    pub dir: tempfile::TempDir,
    /// Where the lake lives: a local folder, S3 on moto, or GCS on the fake.
    pub store: TestLake,
}

impl Harness {
    pub async fn start(dataset: Dataset, config: SimConfig) -> Harness {
        Harness::start_on(Backend::Local, dataset, config).await
    }

    pub async fn start_on(backend: Backend, dataset: Dataset, config: SimConfig) -> Harness {
        let sim =
            SimHandle::start(dataset, SimConfig { api_key: API_KEY.into(), ..config }).await.expect("simulator starts");
        let dir = tempfile::tempdir().expect("temp dir");
        let store = TestLake::new(backend, dir.path()).await;
        Harness { sim, dir, store }
    }

    pub async fn generated(spec: GenSpec) -> Harness {
        Harness::start(Dataset::generate(&spec), SimConfig::default()).await
    }

    pub async fn generated_on(backend: Backend, spec: GenSpec) -> Harness {
        Harness::start_on(backend, Dataset::generate(&spec), SimConfig::default()).await
    }

    /// The folder of a local lake.
    pub fn lake(&self) -> PathBuf {
        self.store.path.clone().expect("a local lake")
    }

    /// Runs `close-lake export` against the simulator with a zero lag.
    pub async fn export(&self, extra: &[&str]) -> Output {
        let mut args = vec!["export", "--dest", self.store.dest.as_str()];
        args.extend_from_slice(extra);
        self.close_lake(&args, &[("CLOSE_LAKE_LAG", "0s")]).await
    }

    /// Runs the binary with the simulator's URL and key in its environment.
    pub async fn close_lake(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.command(args, env).output().await.expect("close-lake runs")
    }

    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_close-lake"));
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("CLOSE_API_KEY", API_KEY)
            .env("CLOSE_API_URL", self.sim.base_url())
            .env("CLOSE_LAKE_LOG_FORMAT", "json")
            .kill_on_drop(true);
        for (k, v) in &self.store.env {
            command.env(k, v);
        }
        for (k, v) in env {
            command.env(k, v);
        }
        command
    }

    /// Runs `close-lake vacuum --retention 0s`: deletes every file no commit holds, at once.
    pub async fn vacuum_now(&self) {
        assert_success(
            &self.close_lake(&["vacuum", "--dest", self.store.dest.as_str(), "--retention", "0s"], &[]).await,
        );
    }

    /// Runs a command line in this process on `lake`, through `store` (the lake's store, or one
    /// wrapping it), with the simulator's URL and key and a zero lag.
    pub async fn in_process(
        &self,
        lake: &TestLake,
        store: Arc<dyn object_store::ObjectStore>,
        args: &[&str],
    ) -> Result<(), close_lake::Error> {
        use close_lake::{cli, config};
        let mut argv = vec!["close-lake"];
        argv.extend_from_slice(args);
        argv.extend_from_slice(&["--dest", lake.dest.as_str()]);
        let command = cli::Cli::try_parse_from(argv).expect("a valid command line").command;
        let env = config::Env {
            api_key: Some(API_KEY.into()),
            api_url: Some(self.sim.base_url()),
            lag: Some("0s".into()),
            ..config::Env::default()
        };
        let dest = close_lake::lake::Destination::parse(&lake.dest).expect("a destination");
        let on = close_lake::lake::Lake::new(store, dest);
        match command {
            cli::Command::Export(args) => {
                close_lake::export::run_on(config::ExportPlan::from_args(&args, &env)?, Some(on)).await
            }
            cli::Command::Backfill(args) => {
                close_lake::export::run_on(config::ExportPlan::from_backfill_args(&args, &env)?, Some(on)).await
            }
            cli::Command::Compact(args) => {
                close_lake::compact::run_on(config::CompactPlan::from_args(&args, &env)?, on).await
            }
            cli::Command::Vacuum(args) => {
                close_lake::vacuum::run_on(config::MaintainPlan::from_vacuum_args(&args, &env)?, on).await
            }
            other => panic!("not run in process: {other:?}"),
        }
    }

    /// Every `(id, version)` the simulator shows now, per table.
    pub fn expected(&self) -> BTreeMap<&'static str, BTreeSet<(String, i64)>> {
        expected_versions(&self.sim.snapshot())
    }
}

pub fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "close-lake failed ({:?})\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `date_updated` of a Close record in microseconds (naive values are UTC).
pub fn micros(value: &Value) -> i64 {
    let text = value.as_str().expect("timestamp is a string");
    let parsed = chrono::DateTime::parse_from_rfc3339(text).map(|dt| dt.timestamp_micros()).or_else(|_| {
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").map(|dt| dt.and_utc().timestamp_micros())
    });
    parsed.unwrap_or_else(|_| panic!("unparseable timestamp {text}"))
}

pub fn versions<'a>(records: impl IntoIterator<Item = &'a Value>) -> BTreeSet<(String, i64)> {
    records.into_iter().map(|r| (r["id"].as_str().expect("id").to_string(), micros(&r["date_updated"]))).collect()
}

/// `(id, content hash)` of records without timestamps, hashed as close-lake does.
pub fn content_versions<'a>(records: impl IntoIterator<Item = &'a Value>) -> BTreeSet<(String, i64)> {
    records
        .into_iter()
        .map(|r| (r["id"].as_str().expect("id").to_string(), close_lake::convert::content_hash(r)))
        .collect()
}

pub fn expected_versions(data: &Dataset) -> BTreeMap<&'static str, BTreeSet<(String, i64)>> {
    let expected = BTreeMap::from([
        ("activities", versions(&data.activities)),
        ("custom_fields", versions(data.custom_fields.iter().map(|(_, r)| r))),
        ("event_log", versions(&data.events)),
        ("leads", versions(&data.leads)),
        ("tasks", versions(&data.tasks)),
        ("users", versions(&data.users)),
        ("opportunities", versions(&data.opportunities)),
        ("contacts", versions(&data.contacts)),
        ("custom_objects", versions(&data.custom_objects)),
    ]);
    // The rest are configuration tables, read from the simulator's listings.
    TABLES
        .into_iter()
        .map(|table| match expected.get(table) {
            Some(shown) => (table, shown.clone()),
            None => {
                let records = data.configuration.get(table).map(Vec::as_slice).unwrap_or_default();
                let shown = if CONTENT_TABLES.contains(&table) { content_versions(records) } else { versions(records) };
                (table, shown)
            }
        })
        .collect()
}

/// Every file under a folder, recursively.
pub fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            if entry.path().is_dir() {
                stack.push(entry.path());
            } else {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    out
}

/// The Python of the test venv (made by `make test`), with duckdb installed.
pub fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("CLOSE_LAKE_PYTHON") {
        return PathBuf::from(python);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(venv.exists(), "no test venv: run `make test` (it creates .venv with duckdb), or set CLOSE_LAKE_PYTHON");
    venv
}

/// Runs a Python script with the lake path as `sys.argv[1]` and returns its stdout parsed as JSON.
pub fn run_python(script: &str, lake: &Path) -> Value {
    run_python_args(script, &[lake.to_str().expect("utf-8 path")])
}

/// Runs before every script: DuckDB draws a progress bar on stdout for any query past two seconds (a
/// loaded machine gets there), which would garble the JSON a script prints.
const PYTHON_PRELUDE: &str = r#"
import duckdb as _duckdb
_duckdb.execute("SET enable_progress_bar = false")
_connect = _duckdb.connect
def _quiet_connect(*args, **kwargs):
    con = _connect(*args, **kwargs)
    con.execute("SET enable_progress_bar = false")
    return con
_duckdb.connect = _quiet_connect
"#;

/// Runs a Python script with arguments and returns its stdout parsed as JSON.
pub fn run_python_args(script: &str, args: &[&str]) -> Value {
    let script = format!("{PYTHON_PRELUDE}\n{script}");
    let output = std::process::Command::new(python()).arg("-c").arg(script).args(args).output().expect("python runs");
    assert!(output.status.success(), "python failed:\n{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("python prints JSON ({err}): {}", String::from_utf8_lossy(&output.stdout)))
}

/// What DuckDB sees of every table of the lake at `url` (a folder, or `s3://...` after `setup` SQL
/// for credentials and endpoint): row count, ids, and the types of `id`, the key and the partition.
pub fn duckdb_tables(url: &str, setup: &str) -> Value {
    run_python_args(
        &r#"
import duckdb, glob, json, os, sys
lake, setup = sys.argv[1], sys.argv[2]
COLUMNS
out = {}
extensions = glob.glob(os.path.join(sys.prefix, "lib", "python*", "site-packages", "duckdb_ext", "extensions"))
con = duckdb.connect(config={"extension_directory": extensions[0]} if extensions else {})
con.execute("LOAD delta")
if setup:
    con.execute(setup)
for table in tables:
    rel = f"delta_scan('{lake}/{table}')"
    types = dict(con.execute(f"select column_name, column_type from (describe select * from {rel})").fetchall())
    rows = con.execute(f"select count(*) from {rel}").fetchone()[0]
    ids = [r[0] for r in con.execute(f"select distinct id from {rel}").fetchall()]
    versions = con.execute(f"select count(*) from (select distinct id, {version_sql[table]} from {rel})").fetchone()[0]
    out[table] = {"rows": rows, "ids": sorted(ids), "versions": versions, "types": types,
                  "id_type": types["id"], "key_type": types[key[table]], "partition_type": types[key[table] + "_month"]}
print(json.dumps(out))
os._exit(0)
"#
        .replace("COLUMNS\n", &python_columns(3)),
        &[url, setup, &table_columns()],
    )
}
