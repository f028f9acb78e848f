//! How the coverage gate fails when it cannot do its job: one variant per cause, each with
//! the title and help people read (exit code 2, `result=error`).

use crate::runner::inputs::InputError;

use super::diff::DiffError;
use super::evaluate::EvalError;
use super::parse::ParseError;

/// The coverage gate could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input.
    #[error(transparent)]
    Input(#[from] InputError),
    /// No report matched.
    #[error("no coverage report found in {dir}: tried {patterns}")]
    NoReports {
        /// Directory searched.
        dir: String,
        /// The patterns, comma-separated.
        patterns: String,
    },
    /// A `files` entry names a directory.
    #[error(
        "input `files`: {pattern:?} is a directory, not a report (name the file, or a glob such as \"{pattern}/**/*.xml\")"
    )]
    Directory {
        /// The entry.
        pattern: String,
    },
    /// A glob is not valid.
    #[error("input `files`: {pattern:?} is not a valid glob")]
    Glob {
        /// The pattern.
        pattern: String,
        /// Why.
        #[source]
        source: globset::Error,
    },
    /// A report could not be read.
    #[error("{path}: cannot read")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A report resolves, through a symlink, to a file outside the workspace.
    #[error(
        "{path}: is a symlink that leads outside the workspace; refused (reports are read only inside the workspace, or from an absolute path written in `files`)"
    )]
    OutsideWorkspace {
        /// The report as the user or the default pattern named it.
        path: String,
    },
    /// The format could not be told from the content.
    #[error(
        "{path}: not a coverage report this gate reads (Cobertura, LCOV, JaCoCo, Clover, Go profile); set `format` if it is one"
    )]
    UnknownFormat {
        /// The file.
        path: String,
    },
    /// A report is malformed.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The reports lack data a threshold needs.
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// A diff is malformed.
    #[error(transparent)]
    Diff(#[from] DiffError),
    /// `diff-threshold` was asked for but changed lines are not available.
    #[error("diff-threshold is set but the changed lines are unknown: {0}")]
    DiffUnavailable(String),
    /// `from-run`: the run, its artifact or its pull request could not be had.
    #[error("from-run: {0}")]
    FromRun(String),
}

impl From<crate::reports::FindError> for Error {
    fn from(e: crate::reports::FindError) -> Self {
        use crate::reports::FindError as F;
        match e {
            F::NoReports { dir, patterns } => Error::NoReports { dir, patterns },
            F::Directory { pattern } => Error::Directory { pattern },
            F::Glob { pattern, source } => Error::Glob { pattern, source },
            F::Read { path, source } => Error::Read { path, source },
            F::OutsideWorkspace { path } => Error::OutsideWorkspace { path },
        }
    }
}

impl Error {
    /// What went wrong, in a few words (the check run's title).
    pub fn title(&self) -> &'static str {
        match self {
            Error::Input(_) => "Bad input",
            Error::NoReports { .. } => "No coverage report found",
            Error::Directory { .. } => "A `files` entry is a directory",
            Error::Glob { .. } => "A `files` glob is not valid",
            Error::Read { .. } => "A report could not be read",
            Error::OutsideWorkspace { .. } => "A report leads outside the workspace",
            Error::UnknownFormat { .. } => "Not a coverage report",
            Error::Parse(_) => "A coverage report is malformed",
            Error::Eval(_) => "The reports lack data a threshold needs",
            Error::Diff(_) => "The diff could not be read",
            Error::DiffUnavailable(_) => "The changed lines are unknown",
            Error::FromRun(_) => "The triggering run's reports could not be had",
        }
    }

    /// What the user can do about it, where there is something to say.
    pub fn help(&self) -> Option<&'static str> {
        Some(match self {
            Error::NoReports { .. } => {
                "Run this step after the one that writes the report, and name the report in `files` (globs such as `**/lcov.info` work)."
            }
            Error::OutsideWorkspace { .. } => {
                "Write the report inside the workspace, or name it by its absolute path in `files` (a path you write is trusted; a link the pull request commits is not)."
            }
            Error::UnknownFormat { .. } => {
                "Set `format` (cobertura, lcov, jacoco, clover, go) if the file is a coverage report."
            }
            Error::DiffUnavailable(_) => {
                "Check out with `fetch-depth: 0`, or give the job `pull-requests: read` so the changed files can be read from the API."
            }
            Error::FromRun(_) => {
                "The pull-request job must upload its reports with `actions/upload-artifact` under the name in `artifact`, and this job needs `actions: read`; see the README's fork workflow."
            }
            _ => return None,
        })
    }
}
