//! Reading the reports: each file opened (found by [`crate::reports`]), its format
//! detected and parsed into one tally. The file system is this file's I/O.

use std::path::{Path, PathBuf};

use super::Error;
use super::model::Tally;
use super::parse::{self, Format};

/// One report read: its name for messages, its format and its tests.
#[derive(Debug, Clone)]
pub(crate) struct Read {
    /// As the user would write it: relative to the workspace.
    pub shown: String,
    /// Its format.
    pub format: Format,
    /// Tests in it.
    pub tests: u64,
}

/// Read every report into one tally, in order.
pub(super) fn parse_all(
    files: &[PathBuf],
    forced: Option<Format>,
    ws: &Path,
) -> Result<(Tally, Vec<Read>), Error> {
    let mut tally = Tally::default();
    let mut read = Vec::with_capacity(files.len());
    for path in files {
        let mut opened = crate::reports::open_report(path, ws)?;
        let format = match forced {
            Some(f) => f,
            None => {
                let head = opened.head()?;
                parse::detect(head).ok_or_else(|| Error::UnknownFormat {
                    path: opened.shown.clone(),
                })?
            }
        };
        let crate::reports::Opened { shown, reader } = opened;
        let before = tally.total();
        parse::parse(format, reader, &shown, &mut tally)?;
        let tests = tally.total() - before;
        tracing::info!("{shown}: {format}, {tests} tests");
        read.push(Read {
            shown,
            format,
            tests,
        });
    }
    Ok((tally, read))
}
