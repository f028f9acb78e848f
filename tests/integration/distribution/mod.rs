//! Distribution: the action files, the README tables and the binary's inputs agree
//! (`generated`, `declared`); the launcher downloads, verifies, caches and runs the binary
//! (`launcher`, against the local release server of `release`); the container image runs a
//! gate the way the binary does (`container`, with the services).
//!
//! Shared here: where the action files and the README tables are, and the coverage run the
//! launcher and the container are compared with.

mod declared;
mod generated;
mod launcher;
mod release;

#[cfg(feature = "services")]
mod container;

use std::path::{Path, PathBuf};

use rust_ci_action::gates::GateKind;

use crate::common::{Harness, Run, repo_root};

/// The crate version, which names the release the launcher fetches.
const VERSION: &str = env!("CARGO_PKG_VERSION");

const TABLES_START: &str = "<!-- tables:start -->\n";
const TABLES_END: &str = "<!-- tables:end -->";

/// The root action (`None`) or a per-gate action.
fn action_path(gate: Option<GateKind>) -> PathBuf {
    match gate {
        None => repo_root().join("action.yml"),
        Some(g) => repo_root().join(g.name()).join("action.yml"),
    }
}

/// A workspace with an LCOV report: 3 of 4 lines covered.
fn coverage_workspace(dir: &Path) -> PathBuf {
    let ws = dir.join("ws");
    std::fs::create_dir_all(ws.join("src")).expect("mkdir");
    std::fs::write(
        ws.join("src/lib.rs"),
        "fn a() {}\nfn b() {}\nfn c() {}\nfn d() {}\n",
    )
    .expect("source");
    std::fs::write(
        ws.join("lcov.info"),
        "TN:\nSF:src/lib.rs\nDA:1,1\nDA:2,1\nDA:3,4\nDA:4,0\nLF:4\nLH:3\nend_of_record\n",
    )
    .expect("report");
    ws
}

/// The coverage gate on `ws` run directly through the harness: what the launcher and the
/// container must reproduce.
fn direct_coverage_run(ws: &Path, threshold: &str) -> Run {
    Harness::new()
        .cwd(ws)
        .env("GITHUB_WORKSPACE", ws.display().to_string())
        .input("gate", "coverage")
        .input("files", "lcov.info")
        .input("threshold", threshold)
        .run()
}

/// `run` (through the launcher or the container) ended like the binary run directly on
/// the same workspace: same exit code, same outputs.
#[track_caller]
fn assert_same_as_direct(run: &Run, ws: &Path, threshold: &str) {
    let direct = direct_coverage_run(ws, threshold);
    assert_eq!(
        run.code, direct.code,
        "threshold {threshold}\n{run}\n{direct}"
    );
    assert_eq!(
        run.outputs, direct.outputs,
        "threshold {threshold}: outputs differ from the binary's\n{run}\n{direct}"
    );
}
