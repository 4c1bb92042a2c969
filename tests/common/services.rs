//! The object stores the tests write to: moto for S3 (the Makefile's, or one started here), the fake
//! GCS of close-sim, and a loopback proxy that can cut a store off in the middle of a run.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::task::JoinSet;

/// A moto S3 server: the one `make test` started (`CLOSE_LAKE_TEST_S3_ENDPOINT`), or a child of this test.
pub struct Moto {
    pub endpoint: String,
    _child: Option<Child>,
}

impl Moto {
    pub async fn shared_or_spawn() -> Moto {
        match std::env::var("CLOSE_LAKE_TEST_S3_ENDPOINT") {
            Ok(endpoint) if !endpoint.is_empty() => Moto { endpoint, _child: None },
            _ => Moto::spawn(&[]).await,
        }
    }

    /// Starts a moto server of its own, with extra environment (e.g. to enforce authentication).
    pub async fn spawn(env: &[(&str, &str)]) -> Moto {
        let server = super::python().with_file_name("moto_server");
        assert!(server.exists(), "moto is not installed: run `make test` (it installs moto[server] in .venv)");
        let mut command = Command::new(server);
        command.args(["-H", "127.0.0.1", "-p", "0"]).stderr(std::process::Stdio::piped()).kill_on_drop(true);
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("moto starts");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let endpoint = tokio::time::timeout(Duration::from_secs(60), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(at) = line.find("http://") {
                    return line[at..].split_whitespace().next().map(str::to_string);
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .expect("moto prints its address");
        // Keep draining moto's log so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Moto { endpoint, _child: Some(child) }
    }

    pub async fn create_bucket(&self, bucket: &str) {
        create_bucket(&self.endpoint, bucket).await;
    }
}

/// The fake GCS: the one `make test` started (`CLOSE_LAKE_TEST_GCS_URL`), or one in this process.
pub struct Gcs {
    pub base_url: String,
    /// The fake itself, when it runs in this process.
    pub fake: Option<close_sim::gcs::FakeGcs>,
}

impl Gcs {
    pub async fn shared_or_start() -> Gcs {
        match std::env::var("CLOSE_LAKE_TEST_GCS_URL") {
            Ok(base_url) if !base_url.is_empty() => Gcs { base_url, fake: None },
            _ => Gcs::start_own().await,
        }
    }

    /// A fake GCS in this process, for tests that look inside it.
    pub async fn start_own() -> Gcs {
        let fake = close_sim::gcs::FakeGcs::start().await.expect("fake GCS starts");
        Gcs { base_url: fake.base_url(), fake: Some(fake) }
    }

    pub async fn create_bucket(&self, bucket: &str) {
        create_bucket(&self.base_url, bucket).await;
    }
}

/// `PUT /<bucket>`: how both S3 and GCS's XML API create a bucket.
async fn create_bucket(endpoint: &str, bucket: &str) {
    let response = reqwest::Client::new().put(format!("{endpoint}/{bucket}")).send().await.expect("the store answers");
    assert!(response.status().is_success(), "creating bucket {bucket} at {endpoint}: {}", response.status());
}

/// A TCP proxy on loopback in front of a store. `cut` drops every connection and refuses new ones,
/// as a stopped server would; `restore` lets traffic through again. The store keeps its state.
pub struct Proxy {
    pub addr: SocketAddr,
    open: Arc<AtomicBool>,
    connections: Arc<tokio::sync::Mutex<JoinSet<()>>>,
    _accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy binds");
        let addr = listener.local_addr().expect("proxy address");
        let open = Arc::new(AtomicBool::new(true));
        let connections = Arc::new(tokio::sync::Mutex::new(JoinSet::new()));
        let accept = {
            let (open, connections) = (open.clone(), connections.clone());
            tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if !open.load(Ordering::SeqCst) {
                        drop(inbound);
                        continue;
                    }
                    connections.lock().await.spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                }
            })
        };
        Proxy { addr, open, connections, _accept: accept }
    }

    pub async fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        self.connections.lock().await.abort_all();
    }

    pub fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

/// The socket address of an `http://host:port` endpoint.
pub fn socket_of(endpoint: &str) -> SocketAddr {
    let host_port = endpoint.trim_start_matches("http://").trim_end_matches('/');
    host_port.parse().expect("endpoint is host:port")
}
