//! Test helpers: a simulator on a free port with a fixed-`now` dataset, an authenticated client, and a reader of
//! every page of an offset listing.

use chrono::{DateTime, TimeZone, Utc};
use close_sim::{Dataset, GenSpec, SimConfig, SimHandle};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

pub const KEY: &str = "sim-key";

/// The `now` of the default test dataset.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).single().expect("valid date")
}

pub fn spec() -> GenSpec {
    GenSpec { now: now(), ..GenSpec::default() }
}

pub struct Api {
    pub sim: SimHandle,
    pub client: reqwest::Client,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn data(&self) -> &Vec<Value> {
        self.body["data"].as_array().expect("a data array")
    }

    pub fn ids(&self) -> Vec<String> {
        self.data().iter().map(|r| r["id"].as_str().expect("an id").to_string()).collect()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }
}

impl Api {
    pub async fn start(spec: &GenSpec) -> Api {
        Api::with(Dataset::generate(spec), SimConfig::default()).await
    }

    pub async fn with(dataset: Dataset, config: SimConfig) -> Api {
        let sim = SimHandle::start(dataset, config).await.expect("the simulator starts");
        Api { sim, client: reqwest::Client::new() }
    }

    /// GET `path` (relative to the API base) with the test key.
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Reply {
        let req = self.client.get(format!("{}{path}", self.sim.base_url())).query(query);
        send(req.basic_auth(KEY, Some(""))).await
    }

    /// GET `path` with the test key, the body as bytes (for answers that are not JSON).
    pub async fn get_raw(&self, path: &str, query: &[(&str, &str)]) -> (StatusCode, HeaderMap, Vec<u8>) {
        let req = self.client.get(format!("{}{path}", self.sim.base_url())).query(query);
        let resp = req.basic_auth(KEY, Some("")).send().await.expect("the request is answered");
        let (status, headers) = (resp.status(), resp.headers().clone());
        (status, headers, resp.bytes().await.expect("a body").to_vec())
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        let req = self.client.post(format!("{}{path}", self.sim.base_url())).json(body);
        send(req.basic_auth(KEY, Some(""))).await
    }
}

pub async fn send(req: reqwest::RequestBuilder) -> Reply {
    let resp = req.send().await.expect("the request is answered");
    let (status, headers) = (resp.status(), resp.headers().clone());
    let body = resp.json().await.expect("a JSON body");
    Reply { status, headers, body }
}

pub fn str_of<'v>(v: &'v Value, key: &str) -> &'v str {
    v[key].as_str().unwrap_or_default()
}

/// Every page of an offset listing, `limit` at a time; every page must be a 200 without `total_results`.
pub async fn all_pages(api: &Api, path: &str, query: &[(&str, &str)], limit: usize) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let (skip, limit_s) = (out.len().to_string(), limit.to_string());
        let mut q = query.to_vec();
        q.extend([("_skip", skip.as_str()), ("_limit", limit_s.as_str())]);
        let r = api.get(path, &q).await;
        assert_eq!(r.status, 200, "{path} {q:?}: {}", r.body);
        assert!(r.body.get("total_results").is_none(), "{path}: no total_results");
        out.extend(r.data().iter().cloned());
        if r.body["has_more"] != true {
            return out;
        }
    }
}

/// `records` sorted by id.
pub fn ids_of<'v>(records: impl IntoIterator<Item = &'v Value>) -> Vec<String> {
    let mut ids: Vec<String> = records.into_iter().map(|r| str_of(r, "id").to_string()).collect();
    ids.sort();
    ids
}
