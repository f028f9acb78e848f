//! How the tests gate fails when it cannot do its job: one variant per cause, each with
//! the title and help people read (exit code 2, `result=error`).

use crate::reports::FindError;
use crate::runner::inputs::InputError;

use super::parse::ParseError;

/// The tests gate could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input.
    #[error(transparent)]
    Input(#[from] InputError),
    /// No report matched, or one could not be reached or read.
    #[error("test reports: {0}")]
    Find(#[from] FindError),
    /// The format could not be told from the content.
    #[error(
        "{path}: not a test report this gate reads (JUnit XML, go test -json); set `format` if it is one"
    )]
    UnknownFormat {
        /// The file.
        path: String,
    },
    /// A report is malformed.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The reports were read but hold no test.
    #[error("the reports hold no test ({0})")]
    NoTests(String),
}

impl Error {
    /// What went wrong, in a few words (the check run's title).
    pub fn title(&self) -> &'static str {
        match self {
            Error::Input(_) => "Bad input",
            Error::Find(FindError::NoReports { .. }) => "No test report found",
            Error::Find(FindError::OutsideWorkspace { .. }) => {
                "A report leads outside the workspace"
            }
            Error::Find(FindError::Directory { .. }) => "A `files` entry is a directory",
            Error::Find(FindError::Glob { .. }) => "A `files` glob is not valid",
            Error::Find(FindError::Read { .. }) => "A report could not be read",
            Error::UnknownFormat { .. } => "Not a test report",
            Error::Parse(_) => "A test report is malformed",
            Error::NoTests(_) => "No tests in the reports",
        }
    }

    /// What the user can do about it, where there is something to say.
    pub fn help(&self) -> Option<&'static str> {
        Some(match self {
            Error::Find(FindError::NoReports { .. }) => {
                "Run this step after the tests (with `if: always()` or `!cancelled()`, so it runs when they fail), and name the report in `files`."
            }
            Error::Find(FindError::OutsideWorkspace { .. }) => {
                "Write the report inside the workspace, or name it by its absolute path in `files`."
            }
            Error::UnknownFormat { .. } => {
                "Set `format` (junit, go-json) if the file is a test report."
            }
            Error::NoTests(_) => {
                "Check that the test step ran and wrote its report (an empty report usually means no test was selected)."
            }
            _ => return None,
        })
    }
}
