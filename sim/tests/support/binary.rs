//! Running one of close-sim's binaries in a test: start it on a free port, read the address it
//! announces, and kill it when the test ends, however it ends. Shared by the test crates through
//! `#[path]`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// A running binary; dropping it kills the process.
pub struct Running {
    child: std::process::Child,
    /// The URL from its `<name> listening on <url>` line.
    pub url: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `program` with `args` and waits for its announcement, which must start with `name`.
pub async fn start(program: &str, name: &str, args: &[&str]) -> Running {
    let mut child = Command::new(program).args(args).stdout(Stdio::piped()).spawn().expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .expect("joined")
    .expect("a line");
    let prefix = format!("{name} listening on ");
    let url = line.trim().strip_prefix(prefix.as_str()).expect("the announced URL").to_string();
    Running { child, url }
}
