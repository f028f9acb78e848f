//! Finding reports in the workspace, for every gate that reads reports: patterns
//! resolved in the workspace (never through a symlink out of it), and the files git
//! tracks (what report paths are matched against). The file system and `git ls-files`
//! are this file's I/O; it knows no report format.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use globset::GlobSetBuilder;

/// Reports could not be found or read. Each gate wraps this in its own error (which names
/// the kind of report and gives the title and help).
#[derive(Debug, thiserror::Error)]
pub enum FindError {
    /// No report matched.
    #[error("no report found in {dir}: tried {patterns}")]
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
}

fn has_glob_chars(p: &str) -> bool {
    p.contains(['*', '?', '[', '{'])
}

/// Resolve report patterns in `ws`. A user pattern that matches nothing is an error (a
/// typo would otherwise pass silently); of the defaults, at least one must match.
pub(crate) fn find_reports(
    ws: &Path,
    patterns: &[String],
    defaults: bool,
) -> Result<Vec<PathBuf>, FindError> {
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
            return Err(FindError::Directory { pattern: p.clone() });
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
                .map_err(|source| FindError::Glob {
                    pattern: (*g).to_owned(),
                    source,
                })?;
            b.add(glob);
        }
        let set = b.build().map_err(|source| FindError::Glob {
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
        return Err(FindError::NoReports {
            dir,
            patterns: tried.join(", "),
        });
    }
    Ok(found.into_iter().collect())
}

/// A report opened for reading.
#[derive(Debug)]
pub(crate) struct Opened {
    /// Its name as the user wrote it: relative to the workspace (what messages show).
    pub shown: String,
    /// Buffered (256 KiB), so the first bytes can be looked at without consuming them.
    pub reader: std::io::BufReader<std::fs::File>,
}

impl Opened {
    /// The first bytes (up to the buffer's size), for telling the format; empty for an
    /// empty file.
    pub(crate) fn head(&mut self) -> Result<&[u8], FindError> {
        use std::io::BufRead as _;
        let shown = &self.shown;
        self.reader.fill_buf().map_err(|source| FindError::Read {
            path: shown.clone(),
            source,
        })
    }
}

/// Open a report found by [`find_reports`].
pub(crate) fn open_report(path: &Path, ws: &Path) -> Result<Opened, FindError> {
    let shown = path.strip_prefix(ws).unwrap_or(path).display().to_string();
    match std::fs::File::open(path) {
        Ok(file) => Ok(Opened {
            shown,
            reader: std::io::BufReader::with_capacity(256 * 1024, file),
        }),
        Err(source) => Err(FindError::Read {
            path: shown,
            source,
        }),
    }
}

/// The real path of a report found under the workspace, refused when a symlink (of the
/// file or of a directory on its way) leads outside: a pull request can commit
/// `lcov.info -> ~/.netrc`, and a parse error would quote the target's first bytes into a
/// public check run. The error names only what the user wrote, nothing of the target.
fn inside_workspace(ws: &Path, path: &Path, shown: &str) -> Result<PathBuf, FindError> {
    let real_ws = std::fs::canonicalize(ws).map_err(|source| FindError::Read {
        path: ws.display().to_string(),
        source,
    })?;
    let real = std::fs::canonicalize(path).map_err(|source| FindError::Read {
        path: shown.to_owned(),
        source,
    })?;
    if real.starts_with(&real_ws) {
        Ok(real)
    } else {
        Err(FindError::OutsideWorkspace {
            path: shown.to_owned(),
        })
    }
}

/// Files git tracks in `ws` (the universe report paths are matched against); without
/// git, the files on disk.
pub(crate) async fn tracked_files(ws: &Path) -> Vec<String> {
    match crate::git::bytes(ws, &["ls-files", "-z"]).await {
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
