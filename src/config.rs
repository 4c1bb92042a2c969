//! Validation of the command line and environment into a plan, before any network or storage call.
//!
//! Everything a user can get wrong (key, table names, dates, URLs, durations) is checked here and
//! reported as one [`ConfigError`] line that names the problem and the fix. The plan that comes out
//! holds only valid values; clients and stores are built from it later.

use std::fmt;
use std::path::PathBuf;

use url::Url;

use crate::cli::{BackfillArgs, CheckArgs, CompactArgs, ExportArgs, RepairArgs, SqlArgs, StatusArgs, VacuumArgs};
use crate::lake::Destination;
use crate::tables::{self, TableSpec};
use crate::time::{self, Micros};

pub const DEFAULT_API_URL: &str = "https://api.close.com/api/v1";
pub const DEFAULT_DEST: &str = "./lake";
const DEFAULT_LAG: &str = "5m";
const DEFAULT_LEASE_TTL: &str = "2m";
/// Delta's own default for how long removed files stay (`deletedFileRetentionDuration`).
const DEFAULT_RETENTION: &str = "7d";
const MIN_LEASE_TTL: Micros = 10 * time::MICROS_PER_SECOND;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "CLOSE_API_KEY is not set: export your Close API key (Close > Settings > Developer > API Keys) as CLOSE_API_KEY"
    )]
    MissingApiKey,
    #[error("unknown table `{name}` in --tables: choose from {}", tables::names().join(", "))]
    UnknownTable { name: String },
    #[error("--tables is empty: name at least one of {}", tables::names().join(", "))]
    NoTables,
    #[error("{source_name} `{value}` is not a date: use YYYY-MM-DD, e.g. 2024-01-31")]
    BadDate { source_name: &'static str, value: String },
    #[error("{source_name} `{value}` is not a usable API URL ({reason}): use e.g. {DEFAULT_API_URL}")]
    BadApiUrl { source_name: &'static str, value: String, reason: String },
    #[error(
        "{source_name} `{value}` is not a usable destination ({reason}): use a local path, file:///abs/path, s3://bucket/prefix or gs://bucket/prefix"
    )]
    BadDestination { source_name: &'static str, value: String, reason: String },
    #[error("{var} `{value}` is not a duration: use e.g. 0s, 30s, 5m, 1h")]
    BadDuration { var: &'static str, value: String },
    #[error("CLOSE_LAKE_LEASE_TTL `{value}` is too short for a heartbeat to keep a lease alive: use at least 10s")]
    LeaseTooShort { value: String },
    #[error(
        "{source_name} `{value}` sends the API key unencrypted: use https (plain http is only for servers on this machine)"
    )]
    PlainHttp { source_name: &'static str, value: String },
    #[error("--partitions `{value}` is not a month partition: use YYYY-MM, e.g. 2024-01")]
    BadPartition { value: String },
    #[error("--from {from} is not before --to {to}: the range is [from, to), so --to must be a later day")]
    EmptyRange { from: String, to: String },
    #[error(
        "Close keeps only about 30 days of event_log; --from {from} is older. Backfill event_log from {oldest} or later, \
         or leave it out with --tables"
    )]
    EventLogTooOld { from: String, oldest: String },
}

/// The environment variables close-lake reads, captured once so validation is a pure function.
#[derive(Debug, Default, Clone)]
pub struct Env {
    pub api_key: Option<String>,
    pub api_url: Option<String>,
    pub dest: Option<String>,
    pub start_date: Option<String>,
    pub lag: Option<String>,
    pub lease_ttl: Option<String>,
    pub retention: Option<String>,
    pub record: Option<String>,
}

impl Env {
    pub fn from_process() -> Env {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Env {
            api_key: var("CLOSE_API_KEY"),
            api_url: var("CLOSE_API_URL"),
            dest: var("CLOSE_LAKE_DEST"),
            start_date: var("CLOSE_LAKE_START_DATE"),
            lag: var("CLOSE_LAKE_LAG"),
            lease_ttl: var("CLOSE_LAKE_LEASE_TTL"),
            retention: var("CLOSE_LAKE_RETENTION"),
            record: var("CLOSE_LAKE_RECORD"),
        }
    }
}

/// A Close API key. Its `Debug` and `Display` never show it, so it cannot leak into logs or errors.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Base URL with a trailing slash, so endpoint paths join under it.
    pub base_url: Url,
    pub key: ApiKey,
    /// Where to record every request and answer (`--record`), if anywhere.
    pub record: Option<PathBuf>,
}

/// What a run reads: new data since the bookmarks, or a range again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Export,
    /// `[from, to)` of the replication key, as midnights UTC, with the days as given.
    Backfill {
        from: Micros,
        to: Micros,
        from_day: String,
        to_day: String,
    },
}

/// A validated `export` or `backfill` command.
#[derive(Debug, Clone)]
pub struct ExportPlan {
    pub mode: Mode,
    pub tables: Vec<&'static TableSpec>,
    pub dest: Destination,
    /// Lower bound of a table's first run; `None` reads all history.
    pub start: Option<Micros>,
    pub api: ApiSettings,
    /// Every upper bound stays this far behind now (the API's list index lags its writes).
    pub lag: Micros,
    pub lease_ttl: Micros,
    /// How long removed and unnamed files stay before a vacuum deletes them.
    pub retention: Micros,
}

/// A validated `compact` command.
#[derive(Debug, Clone)]
pub struct CompactPlan {
    pub dest: Destination,
    pub tables: Vec<&'static TableSpec>,
    /// Partition values (`YYYY-MM`) to compact; `None` for all.
    pub partitions: Option<Vec<String>>,
    pub lease_ttl: Micros,
    pub retention: Micros,
}

/// A validated `vacuum` or `repair` command.
#[derive(Debug, Clone)]
pub struct MaintainPlan {
    pub dest: Destination,
    pub tables: Vec<&'static TableSpec>,
    pub lease_ttl: Micros,
    pub retention: Micros,
}

impl MaintainPlan {
    pub fn from_vacuum_args(args: &VacuumArgs, env: &Env) -> Result<MaintainPlan, ConfigError> {
        let retention = match &args.retention {
            Some(flag) => time::parse_duration(flag)
                .ok_or_else(|| ConfigError::BadDuration { var: "--retention", value: flag.clone() })?,
            None => parse_retention(env)?,
        };
        Ok(MaintainPlan {
            dest: parse_dest(args.dest.as_deref(), env)?,
            tables: parse_tables(args.tables.as_deref())?,
            lease_ttl: parse_lease_ttl(env)?,
            retention,
        })
    }

    pub fn from_repair_args(args: &RepairArgs, env: &Env) -> Result<MaintainPlan, ConfigError> {
        Ok(MaintainPlan {
            dest: parse_dest(args.dest.as_deref(), env)?,
            tables: parse_tables(args.tables.as_deref())?,
            lease_ttl: parse_lease_ttl(env)?,
            retention: parse_retention(env)?,
        })
    }
}

impl CompactPlan {
    pub fn from_args(args: &CompactArgs, env: &Env) -> Result<CompactPlan, ConfigError> {
        let partitions = match &args.partitions {
            None => None,
            Some(list) => {
                let mut months = Vec::new();
                for month in list.split(',').map(str::trim).filter(|m| !m.is_empty()) {
                    if time::parse_date(&format!("{month}-01")).is_none() || month.len() != 7 {
                        return Err(ConfigError::BadPartition { value: month.to_string() });
                    }
                    months.push(month.to_string());
                }
                Some(months)
            }
        };
        Ok(CompactPlan {
            dest: parse_dest(args.dest.as_deref(), env)?,
            tables: parse_tables(args.tables.as_deref())?,
            partitions,
            lease_ttl: parse_lease_ttl(env)?,
            retention: parse_retention(env)?,
        })
    }
}

/// A validated `check` command.
#[derive(Debug, Clone)]
pub struct CheckPlan {
    pub dest: Destination,
    pub api: ApiSettings,
    pub tables: Vec<&'static TableSpec>,
    pub lag: Micros,
}

impl CheckPlan {
    pub fn from_args(args: &CheckArgs, env: &Env) -> Result<CheckPlan, ConfigError> {
        let export = ExportArgs {
            dest: args.dest.clone(),
            tables: None,
            start_date: None,
            api_url: args.api_url.clone(),
            record: None,
        };
        let plan = ExportPlan::from_args(&export, &Env { start_date: None, record: None, ..env.clone() })?;
        Ok(CheckPlan { dest: plan.dest, api: plan.api, tables: plan.tables, lag: plan.lag })
    }
}

/// A validated `sql` command.
#[derive(Debug, Clone)]
pub struct SqlPlan {
    pub dest: Destination,
}

impl SqlPlan {
    pub fn from_args(args: &SqlArgs, env: &Env) -> Result<SqlPlan, ConfigError> {
        Ok(SqlPlan { dest: parse_dest(args.dest.as_deref(), env)? })
    }
}

/// A validated `status` command.
#[derive(Debug, Clone)]
pub struct StatusPlan {
    pub dest: Destination,
    pub json: bool,
}

impl ExportPlan {
    pub fn from_args(args: &ExportArgs, env: &Env) -> Result<ExportPlan, ConfigError> {
        let tables = parse_tables(args.tables.as_deref())?;
        let dest = parse_dest(args.dest.as_deref(), env)?;
        let start = match (&args.start_date, &env.start_date) {
            (Some(flag), _) => Some(parse_day("--start-date", flag)?),
            (None, Some(var)) => Some(parse_day("CLOSE_LAKE_START_DATE", var)?),
            (None, None) => None,
        };
        let api_url = parse_api_url(args.api_url.as_deref(), env)?;
        let lag = parse_duration_var("CLOSE_LAKE_LAG", env.lag.as_deref(), DEFAULT_LAG)?;
        let lease_ttl = parse_lease_ttl(env)?;
        let retention = parse_retention(env)?;
        let record = args.record.as_deref().or(env.record.as_deref()).map(PathBuf::from);
        // The key is checked last so that a run without one still reports every other mistake first.
        let key = env.api_key.clone().ok_or(ConfigError::MissingApiKey)?;
        Ok(ExportPlan {
            mode: Mode::Export,
            tables,
            dest,
            start,
            api: ApiSettings { base_url: api_url, key: ApiKey(key), record },
            lag,
            lease_ttl,
            retention,
        })
    }
}

impl ExportPlan {
    pub fn from_backfill_args(args: &BackfillArgs, env: &Env) -> Result<ExportPlan, ConfigError> {
        let from = parse_day("--from", &args.from)?;
        let to = parse_day("--to", &args.to)?;
        if from >= to {
            return Err(ConfigError::EmptyRange { from: args.from.clone(), to: args.to.clone() });
        }
        let export = ExportArgs {
            dest: args.dest.clone(),
            tables: args.tables.clone(),
            start_date: None,
            api_url: args.api_url.clone(),
            record: args.record.clone(),
        };
        let plan = ExportPlan::from_args(&export, &Env { start_date: None, ..env.clone() })?;
        for spec in &plan.tables {
            if let Some(days) = spec.retention_days {
                let oldest = time::now() - days * time::MICROS_PER_DAY;
                if from < oldest {
                    let oldest = time::to_datetime(oldest + time::MICROS_PER_DAY).format("%Y-%m-%d").to_string();
                    return Err(ConfigError::EventLogTooOld { from: args.from.clone(), oldest });
                }
            }
        }
        let mode =
            Mode::Backfill { from, to, from_day: args.from.trim().to_string(), to_day: args.to.trim().to_string() };
        Ok(ExportPlan { mode, ..plan })
    }
}

impl StatusPlan {
    pub fn from_args(args: &StatusArgs, env: &Env) -> Result<StatusPlan, ConfigError> {
        Ok(StatusPlan { dest: parse_dest(args.dest.as_deref(), env)?, json: args.json })
    }
}

fn parse_tables(list: Option<&str>) -> Result<Vec<&'static TableSpec>, ConfigError> {
    let Some(list) = list else {
        return Ok(tables::all().iter().collect());
    };
    let mut chosen: Vec<&'static TableSpec> = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let spec = tables::by_name(name).ok_or_else(|| ConfigError::UnknownTable { name: name.to_string() })?;
        if !chosen.iter().any(|c| c.name == spec.name) {
            chosen.push(spec);
        }
    }
    if chosen.is_empty() {
        return Err(ConfigError::NoTables);
    }
    Ok(chosen)
}

fn parse_dest(flag: Option<&str>, env: &Env) -> Result<Destination, ConfigError> {
    let (source_name, value) = match (flag, &env.dest) {
        (Some(flag), _) => ("--dest", flag.to_string()),
        (None, Some(var)) => ("CLOSE_LAKE_DEST", var.clone()),
        (None, None) => ("--dest", DEFAULT_DEST.to_string()),
    };
    Destination::parse(&value).map_err(|reason| ConfigError::BadDestination { source_name, value, reason })
}

fn parse_api_url(flag: Option<&str>, env: &Env) -> Result<Url, ConfigError> {
    let (source_name, value) = match (flag, &env.api_url) {
        (Some(flag), _) => ("--api-url", flag.to_string()),
        (None, Some(var)) => ("CLOSE_API_URL", var.clone()),
        (None, None) => ("--api-url", DEFAULT_API_URL.to_string()),
    };
    let bad = |reason: String| ConfigError::BadApiUrl { source_name, value: value.clone(), reason };
    let mut url = Url::parse(&value).map_err(|e| bad(e.to_string()))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(bad(format!("scheme `{}` is not http or https", url.scheme())));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host".to_string()));
    }
    let loopback = matches!(url.host(), Some(url::Host::Domain("localhost")))
        || matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
    if url.scheme() == "http" && !loopback {
        return Err(ConfigError::PlainHttp { source_name, value });
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("credentials belong in CLOSE_API_KEY, not in the URL".to_string()));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

fn parse_day(source_name: &'static str, value: &str) -> Result<Micros, ConfigError> {
    time::parse_date(value.trim())
        .map(time::date_start)
        .ok_or_else(|| ConfigError::BadDate { source_name, value: value.to_string() })
}

fn parse_lease_ttl(env: &Env) -> Result<Micros, ConfigError> {
    let ttl = parse_duration_var("CLOSE_LAKE_LEASE_TTL", env.lease_ttl.as_deref(), DEFAULT_LEASE_TTL)?;
    if ttl < MIN_LEASE_TTL {
        return Err(ConfigError::LeaseTooShort { value: env.lease_ttl.clone().unwrap_or_default() });
    }
    Ok(ttl)
}

fn parse_retention(env: &Env) -> Result<Micros, ConfigError> {
    parse_duration_var("CLOSE_LAKE_RETENTION", env.retention.as_deref(), DEFAULT_RETENTION)
}

fn parse_duration_var(var: &'static str, value: Option<&str>, default: &str) -> Result<Micros, ConfigError> {
    let value = value.unwrap_or(default);
    time::parse_duration(value).ok_or_else(|| ConfigError::BadDuration { var, value: value.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> ExportArgs {
        ExportArgs { dest: None, tables: None, start_date: None, api_url: None, record: None }
    }

    fn env() -> Env {
        Env { api_key: Some("secret-key".into()), ..Env::default() }
    }

    #[test]
    fn defaults_cover_all_tables() {
        let plan = ExportPlan::from_args(&args(), &env()).unwrap();
        assert_eq!(plan.tables.len(), tables::all().len());
        assert_eq!(plan.api.base_url.as_str(), "https://api.close.com/api/v1/");
        assert_eq!(plan.lag, 300 * time::MICROS_PER_SECOND);
        assert!(plan.start.is_none());
    }

    #[test]
    fn a_flag_beats_the_environment() {
        let env = Env { start_date: Some("2020-01-01".into()), api_url: Some("https://env/api".into()), ..env() };
        let plan = ExportPlan::from_args(
            &ExportArgs {
                start_date: Some("2024-02-29".into()),
                api_url: Some("http://127.0.0.1:9/api/v1".into()),
                ..args()
            },
            &env,
        )
        .unwrap();
        assert_eq!(plan.start, time::parse_timestamp("2024-02-29T00:00:00Z"));
        assert_eq!(plan.api.base_url.as_str(), "http://127.0.0.1:9/api/v1/");
    }

    #[test]
    fn mistakes_name_the_problem_and_the_fix() {
        let unknown = ExportPlan::from_args(&ExportArgs { tables: Some("leads,deals".into()), ..args() }, &env());
        assert!(unknown.unwrap_err().to_string().contains("unknown table `deals`"));
        let date = ExportPlan::from_args(&ExportArgs { start_date: Some("2024-13-01".into()), ..args() }, &env());
        assert!(date.unwrap_err().to_string().contains("use YYYY-MM-DD"));
        let url = ExportPlan::from_args(&ExportArgs { api_url: Some("ftp://x".into()), ..args() }, &env());
        assert!(url.unwrap_err().to_string().contains("not http or https"));
        let http = ExportPlan::from_args(
            &ExportArgs { api_url: Some("http://api.close.com/api/v1".into()), ..args() },
            &env(),
        );
        assert!(http.unwrap_err().to_string().contains("unencrypted"));
        let ttl = ExportPlan::from_args(&args(), &Env { lease_ttl: Some("1s".into()), ..env() });
        assert!(ttl.unwrap_err().to_string().contains("at least 10s"));
        let dest = ExportPlan::from_args(&ExportArgs { dest: Some("hdfs://x/y".into()), ..args() }, &env());
        assert!(dest.unwrap_err().to_string().contains("s3://bucket/prefix"));
        let key = ExportPlan::from_args(&args(), &Env::default());
        assert!(matches!(key, Err(ConfigError::MissingApiKey)));
    }

    #[test]
    fn backfill_ranges_are_checked() {
        let backfill = |from: &str, to: &str, tables: Option<&str>| {
            let args = BackfillArgs {
                from: from.into(),
                to: to.into(),
                tables: tables.map(String::from),
                dest: None,
                api_url: None,
                record: None,
            };
            ExportPlan::from_backfill_args(&args, &env())
        };
        let plan = backfill("2024-01-01", "2024-02-01", Some("leads")).unwrap();
        assert!(matches!(plan.mode, Mode::Backfill { from_day, .. } if from_day == "2024-01-01"));
        assert!(matches!(backfill("2024-02-01", "2024-02-01", None), Err(ConfigError::EmptyRange { .. })));
        let old = backfill("2024-01-01", "2024-02-01", None).unwrap_err().to_string();
        assert!(old.contains("30 days of event_log") && old.contains("--tables"), "{old}");
    }

    #[test]
    fn the_key_never_prints() {
        let plan = ExportPlan::from_args(&args(), &env()).unwrap();
        assert!(!format!("{plan:?}").contains("secret-key"));
    }
}
