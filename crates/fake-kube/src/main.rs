//! `fake-kube`: runs the fake API server until interrupted.
//!
//! The first stdout line is `listening on http://127.0.0.1:PORT`, so a script can start it with
//! `--port 0` and read the address. Logs go to stderr (`RUST_LOG`, default `info`).

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use fake_kube::{FakeKube, Scenario};

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(
    name = "fake-kube",
    about = "Fake Kubernetes API server with a test-controlled clock"
)]
struct Args {
    /// Scenario file (YAML): objects, forbidden rules, nodes, autoTick.
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Extra manifest files whose objects are created at start.
    #[arg(long = "manifest")]
    manifests: Vec<PathBuf>,
    /// Advance the clock by itself every N real milliseconds.
    #[arg(long)]
    auto_tick_ms: Option<u64>,
    /// Simulated seconds per automatic tick.
    #[arg(long, default_value_t = 1.0)]
    auto_tick_seconds: f64,
    /// Number of simulated nodes.
    #[arg(long)]
    nodes: Option<u32>,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut scenario = match &args.scenario {
        Some(path) => Scenario::from_yaml(&std::fs::read_to_string(path)?)?,
        None => Scenario::new(),
    };
    for path in &args.manifests {
        scenario = scenario.with_manifests(&std::fs::read_to_string(path)?)?;
    }
    if let Some(ms) = args.auto_tick_ms {
        scenario = scenario.with_auto_tick(ms, args.auto_tick_seconds);
    }
    if let Some(n) = args.nodes {
        scenario = scenario.with_nodes(n);
    }
    let handle =
        FakeKube::start_on(scenario, SocketAddr::from(([127, 0, 0, 1], args.port))).await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {}", handle.url())?;
    out.flush()?;
    drop(out);
    shutdown_signal().await;
    drop(handle);
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = ctrl_c.await;
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .without_time()
        .with_writer(std::io::stderr)
        .init();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut chain = e.to_string();
            let mut source = e.source();
            while let Some(s) = source {
                chain.push_str(&format!(": {s}"));
                source = s.source();
            }
            tracing::error!("{chain}");
            ExitCode::from(2)
        }
    }
}
