//! Where a test failed: source locations read out of failure text (stack traces and
//! assertion lines of every language the gate reads), and the choice of the one location
//! an annotation goes to. Pure: report paths are mapped with [`crate::paths`] against the
//! tracked files given; a location that does not map to a tracked file is dropped, so an
//! annotation is on the failing line, on the test file, or nowhere, never elsewhere.
//!
//! Forms read (one pass over each line):
//! - Python tracebacks `File "tests/test_a.py", line 12, in test_x` and pytest's
//!   `tests/test_a.py:12: AssertionError` (outermost frame first: read backwards);
//! - Node stacks `at fn (/abs/src/a.test.js:10:5)`, `at /abs/a.js:3:1`, `file://` URLs;
//! - Rust `panicked at src/x.rs:10:5` and backtrace lines `at ./src/x.rs:10:5`;
//! - Go `    x_test.go:12: message` (relative to the test's package);
//! - Java/Kotlin `at pkg.Class.method(Class.java:42)` (the package gives the directory);
//! - PHPUnit `tests/CalcTest.php:20`; any other `path.ext:line`.

use crate::paths::{Mapped, ReportMapper};

use super::model::Case;

/// A location found in failure text, as written there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    /// The path (for Java, the package directory joined with the file name).
    pub path: String,
    /// 1-based line.
    pub line: u32,
    /// The path must end with this many leading directories too (Java packages).
    pub package: bool,
}

/// Directories that hold no code of the project: frames there are never annotated.
const FOREIGN: &[&str] = &[
    "node_modules/",
    "site-packages/",
    "dist-packages/",
    "/rustc/",
    "/.cargo/registry/",
    "/usr/lib/",
    "/usr/share/",
    "<",
];

/// Locations in `text`, innermost (where it failed) first. Go's bare file names are
/// joined to `package` (the Go import path: the mapper matches its suffix).
pub(crate) fn frames(text: &str, go_package: Option<&str>) -> Vec<Frame> {
    let mut python = Vec::new();
    let mut other = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(f) = python_file_line(t) {
            python.push(f);
            continue;
        }
        if let Some(f) = java_frame(t) {
            other.push(f);
            continue;
        }
        for f in path_line_pairs(t) {
            if f.path.ends_with(".py") {
                python.push(f);
            } else if f.path.ends_with(".go") && !f.path.contains('/') {
                let path = match go_package {
                    Some(p) if !p.is_empty() => format!("{p}/{}", f.path),
                    _ => f.path,
                };
                other.push(Frame { path, ..f });
            } else {
                other.push(f);
            }
        }
    }
    python.reverse();
    // A Python failure's text is Python frames; a mix keeps each kind's order.
    let mut all = python;
    all.extend(other);
    all.retain(|f| f.line > 0 && !FOREIGN.iter().any(|d| f.path.contains(d)));
    all
}

/// `File "path", line N` (a Python traceback frame).
fn python_file_line(t: &str) -> Option<Frame> {
    let rest = t.strip_prefix("File \"")?;
    let (path, rest) = rest.split_once('"')?;
    let rest = rest.strip_prefix(", line ")?;
    let digits: &str = &rest[..rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len())];
    Some(Frame {
        path: path.to_owned(),
        line: digits.parse().ok()?,
        package: false,
    })
}

/// `at pkg.Class.method(Class.java:42)` (also `.kt`, `.scala`, `.groovy`, and
/// `java.base/` module prefixes): the package becomes the directory.
fn java_frame(t: &str) -> Option<Frame> {
    let rest = t.strip_prefix("at ")?;
    let (qualified, rest) = rest.split_once('(')?;
    let (file, rest) = rest.split_once(':')?;
    let digits = rest.strip_suffix(')')?;
    if !["java", "kt", "scala", "groovy"]
        .iter()
        .any(|e| file.rsplit_once('.').is_some_and(|(_, x)| x == *e))
        || file.contains('/')
    {
        return None;
    }
    let qualified = qualified.rsplit_once('/').map_or(qualified, |(_, q)| q);
    // pkg.Class.method: drop the method and the class.
    let mut parts: Vec<&str> = qualified.split('.').collect();
    parts.truncate(parts.len().saturating_sub(2));
    let dir = parts.join("/");
    Some(Frame {
        path: if dir.is_empty() {
            file.to_owned()
        } else {
            format!("{dir}/{file}")
        },
        line: digits.parse().ok()?,
        package: !dir.is_empty(),
    })
}

/// Every `path.ext:LINE` in a line (Node, Rust, Go, PHP, pytest's short form): the path
/// is the run of characters before the colon that holds no space, quote or bracket, and
/// its last segment has an extension. Linear: one pass, each byte of a path copied once
/// (the path starts after the previous delimiter or the previous match).
fn path_line_pairs(t: &str) -> Vec<Frame> {
    let b = t.as_bytes();
    let mut out = Vec::new();
    let mut token_start = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if matches!(c, b' ' | b'(' | b'"' | b'\'' | b'[' | b'\t' | b'<' | b'=') {
            token_start = i + 1;
            i += 1;
            continue;
        }
        if c != b':' {
            i += 1;
            continue;
        }
        let colon = i;
        i += 1;
        let digits = b[colon + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        // `.ext` right before the colon: 1 to 6 alphanumerics after a dot that follows
        // a file name character.
        let ext = b[token_start..colon]
            .iter()
            .rev()
            .take(7)
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        let dot = colon.checked_sub(ext + 1);
        let has_ext = (1..=6).contains(&ext)
            && dot.is_some_and(|d| d > token_start && b[d] == b'.' && b[d - 1] != b'/');
        if digits == 0 || digits > 9 || !has_ext {
            continue;
        }
        let mut path = &t[token_start..colon];
        if let Some(p) = path.strip_prefix("file://") {
            path = p;
        }
        if !path.contains("://")
            && let Ok(line) = t[colon + 1..colon + 1 + digits].parse::<u32>()
        {
            out.push(Frame {
                path: path.to_owned(),
                line,
                package: false,
            });
        }
        i = colon + 1 + digits;
        token_start = i;
    }
    out
}

/// A repository location: path and line (`None`: the file, line unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Located {
    /// Repository-relative path.
    pub path: String,
    /// 1-based line, when known.
    pub line: Option<u32>,
}

/// A report path mapped to a tracked file, or `None`.
fn tracked(mapper: &mut ReportMapper<'_>, frame: &Frame) -> Option<String> {
    let Mapped::Repo(p) = mapper.map(&frame.path) else {
        return None;
    };
    let norm = crate::paths::normalize(&frame.path);
    let name = norm.rsplit('/').next().unwrap_or(&norm);
    let same_name = p.rsplit('/').next() == Some(name);
    // A Java frame names its package: a file of that name elsewhere is another class.
    let same_package = !frame.package || p.ends_with(&norm);
    (same_name && same_package).then_some(p)
}

/// Whether `path` is the file of JUnit class `class` (`tests.test_calc` →
/// `tests/test_calc.py`, `com.example.CalcTest` → `.../CalcTest.java`).
fn is_class_file(path: &str, class: &str) -> bool {
    if class.is_empty() || class.contains(' ') {
        return false;
    }
    let stem = path.rsplit_once('.').map_or(path, |(s, _)| s);
    let as_path = class.replace('.', "/");
    let last = class.rsplit('.').next().unwrap_or(class);
    stem.ends_with(&as_path) || stem.rsplit('/').next() == Some(last)
}

/// Where to annotate a failed test: a frame of its trace in its own test file (the
/// failing line there), else the report's `file`/`line`, else the innermost frame in a
/// tracked file, else the test file without a line, else nowhere.
pub(crate) fn locate(case: &Case, mapper: &mut ReportMapper<'_>) -> Option<Located> {
    let go_package = case.file.is_none().then_some(case.suite.as_str());
    let mut text = String::with_capacity(case.details.text.len() + case.message.text.len());
    text.push_str(&case.details.text);
    text.push('\n');
    text.push_str(&case.message.text);
    let found: Vec<(String, u32)> = frames(&text, go_package)
        .iter()
        .filter_map(|f| tracked(mapper, f).map(|p| (p, f.line)))
        .collect();
    let test_file = case.file.as_ref().and_then(|f| {
        tracked(
            mapper,
            &Frame {
                path: f.clone(),
                line: 1,
                package: false,
            },
        )
    });
    let in_test_file = found.iter().find(|(p, _)| match &test_file {
        Some(t) => p == t,
        None => is_class_file(p, &case.class),
    });
    if let Some((p, l)) = in_test_file {
        return Some(Located {
            path: p.clone(),
            line: Some(*l),
        });
    }
    if let (Some(p), Some(l)) = (&test_file, case.line) {
        return Some(Located {
            path: p.clone(),
            line: Some(l),
        });
    }
    if let Some((p, l)) = found.first() {
        return Some(Located {
            path: p.clone(),
            line: Some(*l),
        });
    }
    test_file.map(|path| Located { path, line: None })
}

#[cfg(test)]
mod tests;
