//! Finding and reading the reports: patterns resolved in the workspace (never through a
//! symlink out of it), the tracked files report paths are matched against, and parsing
//! every report in parallel. The file system and `git ls-files` are this file's I/O.

use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use globset::GlobSetBuilder;

use super::Error;
use super::changes::git_bytes;
use super::model::{Format, Report};
use super::parse;

fn has_glob_chars(p: &str) -> bool {
    p.contains(['*', '?', '[', '{'])
}

/// Resolve report patterns in `ws`. A user pattern that matches nothing is an error (a
/// typo would otherwise pass silently); of the defaults, at least one must match.
pub(super) fn find_reports(
    ws: &Path,
    patterns: &[String],
    defaults: bool,
) -> Result<Vec<PathBuf>, Error> {
    let mut found: BTreeSet<PathBuf> = BTreeSet::new();
    let mut unmatched: Vec<&str> = Vec::new();
    let mut globs: Vec<(usize, &str)> = Vec::new();
    for (i, p) in patterns.iter().enumerate() {
        if has_glob_chars(p) {
            globs.push((i, p));
            continue;
        }
        let path = ws.join(p);
        if path.is_file() {
            // A path the workflow author wrote as absolute is theirs to choose; anything
            // relative must stay inside the workspace after symlinks are resolved.
            let inside = if Path::new(p).is_absolute() {
                path
            } else {
                inside_workspace(ws, &path, p)?
            };
            found.insert(inside);
        } else if !defaults && path.is_dir() {
            return Err(Error::Directory { pattern: p.clone() });
        } else {
            unmatched.push(p);
        }
    }
    if !globs.is_empty() {
        let mut b = GlobSetBuilder::new();
        let ws_str = ws.display().to_string().replace('\\', "/");
        for (_, g) in &globs {
            let rel = g
                .strip_prefix(&format!("{ws_str}/"))
                .unwrap_or(g)
                .trim_start_matches("./");
            let glob = globset::GlobBuilder::new(rel)
                .literal_separator(true)
                .build()
                .map_err(|source| Error::Glob {
                    pattern: (*g).to_owned(),
                    source,
                })?;
            b.add(glob);
        }
        let set = b.build().map_err(|source| Error::Glob {
            pattern: String::new(),
            source,
        })?;
        let mut hit = vec![false; globs.len()];
        let walker = walkdir::WalkDir::new(ws)
            .follow_links(false)
            .into_iter()
            .filter_entry(|e| {
                let n = e.file_name().to_string_lossy();
                !(e.file_type().is_dir() && (n == ".git" || n == "node_modules"))
            });
        for entry in walker.filter_map(Result::ok).filter(|e| {
            e.file_type().is_file() || (e.file_type().is_symlink() && e.path().is_file())
        }) {
            let Ok(rel) = entry.path().strip_prefix(ws) else {
                continue;
            };
            let rel = rel.to_string_lossy().replace('\\', "/");
            let matches = set.matches(&rel);
            for m in &matches {
                hit[*m] = true;
            }
            if !matches.is_empty() {
                let path = if entry.path_is_symlink() {
                    inside_workspace(ws, entry.path(), &rel)?
                } else {
                    entry.path().to_path_buf()
                };
                found.insert(path);
            }
        }
        unmatched.extend(
            globs
                .iter()
                .zip(&hit)
                .filter(|(_, h)| !**h)
                .map(|((_, g), _)| *g),
        );
    }
    let dir = ws.display().to_string();
    if found.is_empty() || (!defaults && !unmatched.is_empty()) {
        let tried: Vec<&str> = if defaults || found.is_empty() {
            patterns.iter().map(String::as_str).collect()
        } else {
            unmatched
        };
        return Err(Error::NoReports {
            dir,
            patterns: tried.join(", "),
        });
    }
    Ok(found.into_iter().collect())
}

/// The real path of a report found under the workspace, refused when a symlink (of the
/// file or of a directory on its way) leads outside: a pull request can commit
/// `lcov.info -> ~/.netrc`, and a parse error would quote the target's first bytes into a
/// public check run. The error names only what the user wrote, nothing of the target.
fn inside_workspace(ws: &Path, path: &Path, shown: &str) -> Result<PathBuf, Error> {
    let real_ws = std::fs::canonicalize(ws).map_err(|source| Error::Read {
        path: ws.display().to_string(),
        source,
    })?;
    let real = std::fs::canonicalize(path).map_err(|source| Error::Read {
        path: shown.to_owned(),
        source,
    })?;
    if real.starts_with(&real_ws) {
        Ok(real)
    } else {
        Err(Error::OutsideWorkspace {
            path: shown.to_owned(),
        })
    }
}

/// Files git tracks in `ws` (the universe report paths are matched against); without
/// git, the files on disk.
pub(super) async fn tracked_files(ws: &Path) -> Vec<String> {
    match git_bytes(ws, &["ls-files", "-z"]).await {
        Some(out) => out
            .split(|b| *b == 0)
            .filter(|s| !s.is_empty())
            .filter_map(|s| std::str::from_utf8(s).ok().map(str::to_owned))
            .collect(),
        None => {
            tracing::debug!("not a git checkout: matching report paths against files on disk");
            walkdir::WalkDir::new(ws)
                .into_iter()
                .filter_entry(|e| {
                    !(e.file_type().is_dir()
                        && matches!(
                            e.file_name().to_str(),
                            Some(".git" | "node_modules" | "target")
                        ))
                })
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
                .filter_map(|e| {
                    e.path()
                        .strip_prefix(ws)
                        .ok()
                        .and_then(|p| p.to_str())
                        .map(|p| p.replace('\\', "/"))
                })
                .take(200_000)
                .collect()
        }
    }
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
    let shown = path.strip_prefix(ws).unwrap_or(path).display().to_string();
    let read_err = |source| Error::Read {
        path: shown.clone(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut reader = std::io::BufReader::with_capacity(256 * 1024, file);
    let format = match forced {
        Some(f) => f,
        None => {
            let head = reader.fill_buf().map_err(read_err)?;
            if head.is_empty() {
                // Let the parser produce its "empty file" error with position.
                Format::Cobertura
            } else {
                parse::detect(head).ok_or_else(|| Error::UnknownFormat {
                    path: shown.clone(),
                })?
            }
        }
    };
    // The full reader: the fast path (`parse::parse_reopen`) is not yet a win for the
    // gate (see scripts/bench-coverage.sh: CPU within 10 %, and more memory on 1 GB).
    let report = parse::parse(format, reader, &shown)?;
    tracing::info!("{shown}: {format}, {} files", report.files.len());
    Ok((shown, report))
}
