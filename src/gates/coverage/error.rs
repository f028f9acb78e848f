//! How the coverage gate fails when it cannot do its job: one variant per cause, each with
//! the title and help people read (exit code 2, `result=error`).

use crate::reports::FindError;
use crate::runner::inputs::InputError;

use super::diff::DiffError;
use super::evaluate::MissingData;
use super::parse::ParseError;

/// The coverage gate could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input.
    #[error(transparent)]
    Input(#[from] InputError),
    /// No report matched, or one could not be reached or read.
    #[error("coverage reports: {0}")]
    Find(#[from] FindError),
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
    Eval(#[from] MissingData),
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

impl Error {
    /// What went wrong, in a few words (the check run's title).
    pub fn title(&self) -> &'static str {
        match self {
            Error::Input(_) => "Bad input",
            Error::Find(FindError::NoReports { .. }) => "No coverage report found",
            Error::Find(FindError::Directory { .. }) => "A `files` entry is a directory",
            Error::Find(FindError::Glob { .. }) => "A `files` glob is not valid",
            Error::Find(FindError::Read { .. }) => "A report could not be read",
            Error::Find(FindError::OutsideWorkspace { .. }) => {
                "A report leads outside the workspace"
            }
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
            Error::Find(FindError::NoReports { .. }) => {
                "Run this step after the one that writes the report, and name the report in `files` (globs such as `**/lcov.info` work)."
            }
            Error::Find(FindError::OutsideWorkspace { .. }) => {
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
