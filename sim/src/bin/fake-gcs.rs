//! `fake-gcs`: serves a fake Google Cloud Storage (XML API) until killed. Prints exactly one line,
//! `fake-gcs listening on http://127.0.0.1:PORT`, once it accepts connections.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use close_sim::gcs::FakeGcs;

/// A fake Google Cloud Storage speaking the XML API calls of object_store's GCS client.
#[derive(Debug, Parser)]
#[command(name = "fake-gcs", version)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// A bucket to create at start (repeatable); more can be made with `PUT /<bucket>`.
    #[arg(long = "bucket")]
    buckets: Vec<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fake-gcs: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> std::io::Result<()> {
    let gcs = FakeGcs::start_on(SocketAddr::from(([127, 0, 0, 1], args.port))).await?;
    for bucket in &args.buckets {
        gcs.create_bucket(bucket);
    }
    close_sim::serve::announce("fake-gcs", &gcs.base_url())?;
    close_sim::serve::wait_for_signal().await;
    gcs.shutdown().await;
    Ok(())
}
