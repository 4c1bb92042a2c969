//! A lake under test on one backend (local folder, S3 on moto, GCS on the fake), and readers that
//! see it as users do: through the object store, with Rust's parquet reader, and with DuckDB.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::TABLES;
use super::services::{Gcs, Moto};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Local,
    S3,
    Gcs,
}

pub struct TestLake {
    pub backend: Backend,
    /// What `--dest` says.
    pub dest: String,
    /// What the binary needs in its environment to reach the store.
    pub env: Vec<(String, String)>,
    /// The local folder of a local lake.
    pub path: Option<PathBuf>,
    pub bucket: Option<String>,
    pub moto: Option<Moto>,
    pub gcs: Option<Gcs>,
}

/// A bucket name no other test uses.
pub fn unique_bucket() -> String {
    format!("lake-{}", uuid::Uuid::now_v7().simple())
}

impl TestLake {
    pub async fn new(backend: Backend, dir: &std::path::Path) -> TestLake {
        match backend {
            Backend::Local => {
                let path = dir.join("lake");
                TestLake {
                    backend,
                    dest: path.display().to_string(),
                    env: Vec::new(),
                    path: Some(path),
                    bucket: None,
                    moto: None,
                    gcs: None,
                }
            }
            Backend::S3 => {
                let moto = Moto::shared_or_spawn().await;
                let endpoint = moto.endpoint.clone();
                TestLake::on_moto(moto, &endpoint).await
            }
            Backend::Gcs => TestLake::on_gcs(Gcs::shared_or_start().await).await,
        }
    }

    /// A GCS lake on a given fake.
    pub async fn on_gcs(gcs: Gcs) -> TestLake {
        let bucket = unique_bucket();
        gcs.create_bucket(&bucket).await;
        let env = vec![
            ("GOOGLE_BASE_URL".to_string(), gcs.base_url.clone()),
            ("GOOGLE_SERVICE_ACCOUNT_KEY".to_string(), close_sim::gcs::SERVICE_ACCOUNT_KEY.to_string()),
        ];
        TestLake {
            backend: Backend::Gcs,
            dest: format!("gs://{bucket}/lake"),
            env,
            path: None,
            bucket: Some(bucket),
            moto: None,
            gcs: Some(gcs),
        }
    }

    /// An S3 lake on a given moto, reached at `endpoint` (moto's own, or a proxy in front of it).
    pub async fn on_moto(moto: Moto, endpoint: &str) -> TestLake {
        let bucket = unique_bucket();
        moto.create_bucket(&bucket).await;
        TestLake {
            backend: Backend::S3,
            dest: format!("s3://{bucket}/lake"),
            env: s3_env(endpoint),
            path: None,
            bucket: Some(bucket),
            moto: Some(moto),
            gcs: None,
        }
    }

    /// The store rooted at the lake, as the tests read it. `None` while a local lake does not exist.
    pub fn store(&self) -> Option<Arc<dyn ObjectStore>> {
        match self.backend {
            Backend::Local => {
                let path = self.path.as_ref()?;
                let local = LocalFileSystem::new_with_prefix(path).ok()?.with_automatic_cleanup(true);
                Some(Arc::new(local))
            }
            Backend::S3 => {
                let moto = self.moto.as_ref()?;
                let s3 = AmazonS3Builder::new()
                    .with_endpoint(&moto.endpoint)
                    .with_allow_http(true)
                    .with_bucket_name(self.bucket.as_ref()?)
                    .with_access_key_id("test")
                    .with_secret_access_key("test")
                    .with_region("us-east-1")
                    .build()
                    .ok()?;
                Some(Arc::new(PrefixStore::new(s3, "lake")))
            }
            Backend::Gcs => {
                let gcs = GoogleCloudStorageBuilder::new()
                    .with_base_url(&self.gcs.as_ref()?.base_url)
                    .with_service_account_key(close_sim::gcs::SERVICE_ACCOUNT_KEY)
                    .with_bucket_name(self.bucket.as_ref()?)
                    .build()
                    .ok()?;
                Some(Arc::new(PrefixStore::new(gcs, "lake")))
            }
        }
    }

    /// Copies every object of `other` into this lake (a fresh one): a lake state to start from again.
    pub async fn copy_from(&self, other: &TestLake) {
        if let Some(path) = &self.path {
            std::fs::create_dir_all(path).unwrap();
        }
        let (from, to) = (other.store().expect("a lake to copy"), self.store().expect("a lake to fill"));
        for path in other.objects("").await {
            let bytes = from.get(&path).await.expect("get").bytes().await.expect("bytes");
            to.put(&path, bytes.into()).await.expect("put");
        }
    }

    /// Every object under `prefix`, sorted.
    pub async fn objects(&self, prefix: &str) -> Vec<Path> {
        let Some(store) = self.store() else { return Vec::new() };
        let prefix = Path::from(prefix);
        let prefix = (!prefix.as_ref().is_empty()).then_some(prefix);
        let metas: Vec<_> = store.list(prefix.as_ref()).try_collect().await.unwrap_or_default();
        let mut paths: Vec<Path> = metas.into_iter().map(|m| m.location).collect();
        paths.sort();
        paths
    }

    /// The Parquet data files in a table folder, committed or not (what a glob reader sees).
    pub async fn parquet_files(&self, table: &str) -> Vec<Path> {
        let log = format!("{table}/_delta_log/");
        self.objects(table)
            .await
            .into_iter()
            .filter(|p| p.extension() == Some("parquet") && !p.as_ref().starts_with(&log))
            .collect()
    }

    /// The rows of the files the table's Delta log holds now, read with Rust's Parquet reader.
    pub async fn read_batches(&self, table: &str) -> Vec<RecordBatch> {
        let Some(store) = self.store() else { return Vec::new() };
        let mut batches = Vec::new();
        let prefix = format!("{table}/");
        for path in self.committed_files().await.into_iter().filter(|p| p.starts_with(&prefix)) {
            let path = Path::from(path.as_str());
            let bytes = store.get(&path).await.expect("get").bytes().await.expect("bytes");
            let reader = ParquetRecordBatchReaderBuilder::try_new(bytes).expect("parquet").build().expect("reader");
            batches.extend(reader.map(|b| b.expect("batch")));
        }
        batches
    }

    /// Every `(id, version)` row of a table (the version is `date_updated`, or the content hash of
    /// a table without timestamps), with repeats (a set would hide duplicates).
    pub async fn rows(&self, table: &str) -> Vec<(String, i64)> {
        let mut rows = Vec::new();
        for batch in self.read_batches(table).await {
            rows.extend(batch_versions(&batch, table));
        }
        rows.sort();
        rows
    }

    /// Asserts that a table holds exactly `expected`, each version once.
    pub async fn assert_exact(&self, table: &str, expected: &BTreeSet<(String, i64)>) {
        let rows = self.rows(table).await;
        let unique: BTreeSet<_> = rows.iter().cloned().collect();
        assert_eq!(rows.len(), unique.len(), "{table}: some (id, date_updated) appears twice");
        let missing: Vec<_> = expected.difference(&unique).take(5).collect();
        let extra: Vec<_> = unique.difference(expected).take(5).collect();
        assert!(missing.is_empty() && extra.is_empty(), "{table}: missing {missing:?}, unexpected {extra:?}");
    }

    /// Every Delta commit of every table, in order (checkpoints are not commits).
    pub async fn commits(&self) -> Vec<Path> {
        let mut out = Vec::new();
        for table in TABLES {
            let log = self.objects(&format!("{table}/_delta_log")).await;
            out.extend(log.into_iter().filter(|p| p.extension() == Some("json")));
        }
        out
    }

    /// Every file a commit adds (and no later commit removes) is there: what a Delta reader needs
    /// at every moment, a crash included.
    pub async fn assert_commits_whole(&self) {
        let Some(store) = self.store() else { return };
        for path in self.committed_files().await {
            assert!(store.head(&Path::from(path.as_str())).await.is_ok(), "a commit names {path}, which is not there");
        }
    }

    /// Every `(id, date_updated)` row of the files a table's log holds at `version`, sorted.
    pub async fn rows_at(&self, table: &str, version: u64) -> Vec<(String, i64)> {
        let last = format!("{table}/_delta_log/{version:020}.json");
        let files = self.committed_files_until(Some(&last)).await;
        let store = self.store().expect("a lake");
        let mut rows = Vec::new();
        for path in files.iter().filter(|p| p.starts_with(&format!("{table}/"))) {
            let bytes = store.get(&Path::from(path.as_str())).await.expect("get").bytes().await.expect("bytes");
            let reader = ParquetRecordBatchReaderBuilder::try_new(bytes).expect("parquet").build().expect("reader");
            for batch in reader.map(|b| b.expect("batch")) {
                rows.extend(batch_versions(&batch, table));
            }
        }
        rows.sort();
        rows
    }

    /// The data files the tables' Delta logs hold now.
    pub async fn committed_files(&self) -> BTreeSet<String> {
        self.committed_files_until(None).await
    }

    /// The data files the Delta logs hold after replaying every commit up to `last` (a commit path).
    async fn committed_files_until(&self, last: Option<&str>) -> BTreeSet<String> {
        let Some(store) = self.store() else { return BTreeSet::new() };
        let mut committed = BTreeSet::new();
        let table_of_last = last.and_then(|l| l.split('/').next());
        for commit in self.commits().await {
            if let (Some(last), Some(table)) = (last, table_of_last)
                && (!commit.as_ref().starts_with(&format!("{table}/")) || commit.as_ref() > last)
            {
                continue;
            }
            let table = commit.as_ref().split('/').next().unwrap_or_default().to_string();
            let bytes = store.get(&commit).await.expect("commit").bytes().await.expect("bytes");
            for line in String::from_utf8_lossy(&bytes).lines() {
                let action: serde_json::Value = serde_json::from_str(line).expect("a JSON action");
                if let Some(path) = action["add"]["path"].as_str() {
                    committed.insert(format!("{table}/{path}"));
                }
                if let Some(path) = action["remove"]["path"].as_str() {
                    committed.remove(&format!("{table}/{path}"));
                }
            }
        }
        committed
    }

    /// Nothing but the Delta log and committed Parquet inside table folders: every data file is added
    /// by a commit, and on local disk no other file (a temporary one of a killed write) sits there;
    /// nothing staged. After a crash or a compaction this holds once a vacuum has run.
    pub async fn assert_clean(&self) {
        if let Some(path) = &self.path {
            for table in TABLES {
                for file in super::all_files(&path.join(table)) {
                    let in_log = file.parent().is_some_and(|p| p.ends_with("_delta_log"));
                    let parquet = file.extension().is_some_and(|e| e == "parquet");
                    assert!(parquet || in_log, "stray file: {}", file.display());
                }
            }
        }
        let committed = self.committed_files().await;
        for table in TABLES {
            for object in self.objects(table).await {
                if object.as_ref().contains("/_delta_log/") {
                    continue;
                }
                assert!(committed.contains(object.as_ref()), "{object} is in a table folder but in no commit");
            }
        }
        let staged = self.objects("_close_lake/staging").await;
        assert!(staged.is_empty(), "staged files left: {staged:?}");
    }

    /// SQL DuckDB runs before reading this lake.
    pub fn duckdb_setup(&self) -> String {
        match (&self.backend, &self.moto) {
            (Backend::S3, Some(moto)) => format!(
                "LOAD httpfs; CREATE SECRET (TYPE s3, KEY_ID 'test', SECRET 'test', REGION 'us-east-1', \
                 ENDPOINT '{}', URL_STYLE 'path', USE_SSL false);",
                moto.endpoint.trim_start_matches("http://")
            ),
            _ => String::new(),
        }
    }
}

/// The standard AWS environment pointing at an S3-compatible endpoint.
pub fn s3_env(endpoint: &str) -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The `(id, version)` of every row of a batch of `table` (`i64::MIN` for a missing version).
fn batch_versions(batch: &RecordBatch, table: &str) -> Vec<(String, i64)> {
    let spec = close_lake::tables::by_name(table).expect("a table");
    let ids = batch.column_by_name("id").expect("id column").as_string::<i32>().clone();
    let version = batch.column_by_name(spec.version).expect("version column");
    let version = arrow::compute::cast(version, &arrow::datatypes::DataType::Int64).expect("an integer version");
    let version = version.as_primitive::<arrow::datatypes::Int64Type>();
    (0..batch.num_rows())
        .map(|i| (ids.value(i).to_string(), if version.is_null(i) { i64::MIN } else { version.value(i) }))
        .collect()
}
