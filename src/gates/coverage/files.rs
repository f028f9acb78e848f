//! Finding and reading the reports: patterns resolved in the workspace (never through a
//! symlink out of it), the tracked files report paths are matched against, and parsing
//! every report in parallel. The file system and `git ls-files` are this file's I/O.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::Error;
use super::model::{Format, Report};
use super::parse;

pub(super) use crate::reports::tracked_files;

/// [`crate::reports::find_reports`] with the coverage gate's errors.
pub(super) fn find_reports(
    ws: &Path,
    patterns: &[String],
    defaults: bool,
) -> Result<Vec<PathBuf>, Error> {
    crate::reports::find_reports(ws, patterns, defaults).map_err(Error::from)
}

/// One report parsed: its name for messages and its contents, or why not.
type Parsed = Result<(String, Report), Error>;

/// Read, detect and parse every report: in parallel, one report per thread, up to the
/// machine's cores. The result keeps the order of `files`, and the error returned is the
/// first in that order, whichever thread finished first.
pub(super) fn parse_all(
    files: &[PathBuf],
    forced: Option<Format>,
    ws: &Path,
) -> Result<Vec<(String, Report)>, Error> {
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(files.len());
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let slots: Vec<OnceLock<Parsed>> = files.iter().map(|_| OnceLock::new()).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= files.len() || failed.load(Ordering::Relaxed) {
                        break;
                    }
                    let result = parse_one(&files[i], forced, ws);
                    failed.fetch_or(result.is_err(), Ordering::Relaxed);
                    let _ = slots[i].set(result);
                }
            });
        }
    });
    // Reports skipped after a failure leave empty slots; the failure itself is in a
    // slot, and every report before it in `files` order was parsed, so collecting in
    // order yields the first failing report's error.
    slots.into_iter().filter_map(OnceLock::into_inner).collect()
}

/// Read, detect and parse one report. Messages name it as the user wrote it: relative
/// to the workspace.
fn parse_one(path: &Path, forced: Option<Format>, ws: &Path) -> Parsed {
    let mut opened = crate::reports::open_report(path, ws)?;
    let format = match forced {
        Some(f) => f,
        None => {
            let head = opened.head()?;
            if head.is_empty() {
                // Let the parser produce its "empty file" error with position.
                Format::Cobertura
            } else {
                parse::detect(head).ok_or_else(|| Error::UnknownFormat {
                    path: opened.shown.clone(),
                })?
            }
        }
    };
    let crate::reports::Opened { shown, reader } = opened;
    // The fast path (big reports in chunks on every core), which reads the report again
    // with the full reader when it gives up: the reader already open serves first, then
    // the same report is opened again.
    let mut first = Some(reader);
    let open = || match first.take() {
        Some(r) => Ok(r),
        None => crate::reports::open_report(path, ws)
            .map(|o| o.reader)
            .map_err(std::io::Error::other),
    };
    let report = parse::parse_reopen(format, open, &shown)?;
    tracing::info!("{shown}: {format}, {} files", report.files.len());
    Ok((shown, report))
}
