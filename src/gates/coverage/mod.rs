//! Coverage gate: read coverage reports, enforce total, branch, per-file and diff
//! thresholds, annotate uncovered changed lines. This file is the only part of the gate
//! that touches files, processes (git) or the network.

pub mod model;
pub mod parse;

use crate::gates::Context;
use crate::outcome::Outcome;
use crate::runner::inputs::RawInputs;
use crate::spec::{InputSpec, OutputSpec};

/// Default report locations, tried when `files` is not given.
pub const DEFAULT_FILES: &[&str] = &[
    "coverage.xml",
    "cobertura.xml",
    "**/cobertura-coverage.xml",
    "lcov.info",
    "coverage/lcov.info",
    "**/jacoco.xml",
    "clover.xml",
    "coverage.out",
];

/// The coverage gate's inputs.
pub const INPUTS: &[InputSpec] = &[
    InputSpec::new("files", "Coverage reports, one path or glob per line.")
        .default("coverage.xml, cobertura.xml, **/cobertura-coverage.xml, lcov.info, coverage/lcov.info, **/jacoco.xml, clover.xml, coverage.out")
        .multiline(),
    InputSpec::new("format", "`auto` (from content), `cobertura`, `lcov`, `jacoco`, `clover` or `go`.").default("auto"),
    InputSpec::new("threshold", "Minimum line coverage in percent (decimals allowed, e.g. `82.5`)."),
    InputSpec::new("branch-threshold", "Minimum branch coverage in percent."),
    InputSpec::new("file-threshold", "Minimum line coverage of every file, in percent."),
    InputSpec::new("diff-threshold", "Minimum coverage of the executable lines the change adds, in percent."),
    InputSpec::new("base-ref", "What diff coverage compares against (default: the pull request's base)."),
    InputSpec::new("annotate", "`changed` (uncovered lines the change touched), `all` or `none`.").default("changed"),
    InputSpec::new("path-prefix", "Prefix to add to report paths to make them repository-relative."),
    InputSpec::new("source-root", "Prefix to strip from report paths (the directory the report was made in)."),
];

/// The coverage gate's outputs.
pub const OUTPUTS: &[OutputSpec] = &[
    OutputSpec { name: "line-coverage", description: "Line coverage in percent, two decimals." },
    OutputSpec { name: "lines-covered", description: "Executable lines hit at least once." },
    OutputSpec { name: "lines-total", description: "Executable lines." },
    OutputSpec { name: "branch-coverage", description: "Branch coverage in percent; empty when the reports have no branch data." },
    OutputSpec { name: "branches-covered", description: "Branch outcomes taken; empty when not measured." },
    OutputSpec { name: "branches-total", description: "Branch outcomes; empty when not measured." },
    OutputSpec { name: "diff-coverage", description: "Coverage of the changed executable lines in percent; empty without a diff." },
    OutputSpec { name: "diff-lines-covered", description: "Changed executable lines covered; empty without a diff." },
    OutputSpec { name: "diff-lines-total", description: "Changed executable lines; empty without a diff." },
    OutputSpec { name: "files-below-threshold", description: "Files under `file-threshold`, one per line." },
];

/// The coverage gate could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not built yet.
    #[error("the coverage gate is not available in this build")]
    Unavailable,
}

/// Run the coverage gate.
pub async fn run(_raw: &RawInputs, _ctx: &Context) -> Result<Outcome, Error> {
    Err(Error::Unavailable)
}
