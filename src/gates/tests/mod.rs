//! Tests gate: read test reports (JUnit XML from any producer, `go test -json`), fail on
//! failed tests, annotate each failure where it failed and each flaky test as a warning.
//! `run` is the gate's story: find the reports (`crate::reports`), parse them into one
//! bounded tally (`files`, `parse`), map locations (`crate::paths`, `locate`), decide
//! (`evaluate`), render (`render`). This file and `files` do the I/O; every other file is
//! pure.

pub mod config;
mod error;
pub mod evaluate;
mod files;
pub mod locate;
pub mod model;
pub mod parse;
pub mod render;

use crate::gates::Context;
use crate::outcome::Outcome;
use crate::paths::PathMapper;
use crate::runner::inputs::RawInputs;
use crate::spec::{InputSpec, OutputSpec};
use config::TestsConfig;

pub use error::Error;

/// Default report locations, tried when `files` is not given.
pub const DEFAULT_FILES: &[&str] = &["**/junit.xml", "**/TEST-*.xml", "**/test-results/**/*.xml"];

/// The tests gate's inputs.
pub const INPUTS: &[InputSpec] = &[
    InputSpec::new("files", "Test reports, one path or glob per line: JUnit XML (pytest, jest-junit, cargo-nextest, Maven Surefire, Ant, PHPUnit, ...) or `go test -json` output.")
        .default("**/junit.xml, **/TEST-*.xml, **/test-results/**/*.xml")
        .multiline(),
    InputSpec::new("format", "`auto` (from content), `junit` or `go-json`.").default("auto"),
    InputSpec::new("flaky", "What a flaky test (failed, then passed on a retry) does: `pass` (reported and annotated as a warning; the retry policy already accepted it) or `fail`.").default("pass"),
    InputSpec::new("path-prefix", "Prefix to add to report paths to make them repository-relative."),
    InputSpec::new("source-root", "Prefix to strip from report paths (the directory the tests ran in)."),
];

/// The tests gate's outputs.
pub const OUTPUTS: &[OutputSpec] = &[
    OutputSpec {
        name: "passed",
        description: "Tests that passed on their only run.",
    },
    OutputSpec {
        name: "failed",
        description: "Tests that failed or errored.",
    },
    OutputSpec {
        name: "flaky",
        description: "Tests that failed, then passed on a retry.",
    },
    OutputSpec {
        name: "skipped",
        description: "Tests skipped.",
    },
    OutputSpec {
        name: "total",
        description: "Tests in the reports (passed + failed + flaky + skipped).",
    },
    OutputSpec {
        name: "duration",
        description: "The tests' durations added up, in seconds (three decimals).",
    },
    OutputSpec {
        name: "failed-tests",
        description: "The failed tests as a JSON array of `{suite, name, status, file, line, message}` (the first 100).",
    },
];

/// Run the tests gate.
pub async fn run(raw: &RawInputs, ctx: &Context) -> Result<Outcome, Error> {
    let cfg = TestsConfig::try_from(raw)?;
    let ws = ctx.workspace.clone();
    let reports = crate::reports::find_reports(&ws, &cfg.files, cfg.default_files)?;
    let forced = cfg.format;
    let ws_for_names = ws.clone();
    let parsing =
        tokio::task::spawn_blocking(move || files::parse_all(&reports, forced, &ws_for_names));
    let (parsed, tracked) = tokio::join!(parsing, crate::reports::tracked_files(&ws));
    let (tally, read) = parsed.map_err(|e| Error::Read {
        path: "reports".into(),
        source: std::io::Error::other(e.to_string()),
    })??;
    if tally.total() == 0 {
        let names: Vec<&str> = read.iter().map(|r| r.shown.as_str()).collect();
        return Err(Error::NoTests(names.join(", ")));
    }
    let mapper = PathMapper::new(
        &ws.display().to_string(),
        tracked,
        cfg.path_prefix.clone(),
        cfg.source_root.clone(),
    );
    let ev = evaluate::evaluate(&tally, &mapper, &cfg);
    tracing::info!(
        "{} tests: {} passed, {} failed, {} errored, {} flaky, {} skipped",
        tally.total(),
        tally.passed,
        tally.failed,
        tally.errored,
        tally.flaky,
        tally.skipped
    );
    Ok(render::outcome(&ev, &tally, &read, &cfg, 60_000))
}
