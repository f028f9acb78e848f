//! Changed lines from unified diffs: `git diff base...HEAD` output, or the `patch` field
//! of each file from the pull-request files API (used when a shallow clone lacks the base).
//! Pure: text in, `path → added line numbers` out. Only added lines count (the new side),
//! as diff-cover counts them.
//!
//! Hunk bodies are read by count, as `git apply` reads them: after `@@ -a,b +c,d @@`
//! exactly `b` old-side and `d` new-side lines follow, whatever they contain. Content is
//! never taken for a header, so a hunk line `++ counter;` (an added `+ counter;`) or
//! `-- y;` stays a hunk line, and a diff whose counts do not add up is an error, not a
//! silently shorter change. The same hunk reader serves both sources.

use std::collections::{BTreeMap, BTreeSet, btree_map};

pub(crate) mod split;

/// Added lines per repository-relative path (new side of renames).
pub type ChangedLines = BTreeMap<String, BTreeSet<u32>>;

/// A diff that could not be understood.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{origin}: line {line}: {message}")]
pub struct DiffError {
    /// Where the diff came from (`git diff main...HEAD`, `pulls/7/files: src/a.rs`).
    pub origin: String,
    /// 1-based line in the diff text.
    pub line: usize,
    /// What was expected.
    pub message: String,
}

/// The numbers of a hunk header `@@ -a[,b] +c[,d] @@`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HunkHeader {
    /// Lines on the old side.
    pub old_count: u32,
    /// First line on the new side.
    pub new_start: u32,
    /// Lines on the new side.
    pub new_count: u32,
}

/// Parse `@@ -a[,b] +c[,d] @@[ context]` strictly (a count left out is 1).
pub fn hunk_header(line: &str) -> Option<HunkHeader> {
    let b = line.as_bytes().strip_prefix(b"@@ -")?;
    let (_, old_count, b) = range(b)?;
    let b = b.strip_prefix(b" +")?;
    let (new_start, new_count, b) = range(b)?;
    b.strip_prefix(b" @@")?;
    // The last new line must be representable.
    new_start.checked_add(new_count)?;
    Some(HunkHeader {
        old_count,
        new_start,
        new_count,
    })
}

/// `start[,count]` at the front of `b` (a count left out is 1), and what follows.
fn range(b: &[u8]) -> Option<(u32, u32, &[u8])> {
    let (start, b) = number(b)?;
    match b.strip_prefix(b",") {
        Some(b) => {
            let (count, b) = number(b)?;
            Some((start, count, b))
        }
        None => Some((start, 1, b)),
    }
}

/// The decimal number at the front of `b` (at least one digit; `None` past `u32`).
fn number(b: &[u8]) -> Option<(u32, &[u8])> {
    // In u64, one pass: past `u32` it is `None`, however many digits follow.
    let mut v: u64 = 0;
    let mut n = 0;
    while let Some(&c) = b.get(n).filter(|c| c.is_ascii_digit()) {
        v = v * 10 + u64::from(c - b'0');
        if v > u64::from(u32::MAX) {
            return None;
        }
        n += 1;
    }
    if n == 0 {
        return None;
    }
    Some((u32::try_from(v).ok()?, &b[n..]))
}

/// Reads hunk bodies by count; shared by the git-diff and the API-patch parsers.
#[derive(Debug, Default)]
struct Hunk {
    old_left: u32,
    new_left: u32,
    next_new: u32,
}

impl Hunk {
    fn open(&self) -> bool {
        self.old_left > 0 || self.new_left > 0
    }

    /// Start a hunk from its header line.
    fn start(&mut self, line: &str) -> Result<(), String> {
        let h = hunk_header(line)
            .ok_or_else(|| format!("expected a hunk header `@@ -a,b +c,d @@`, found {line:?}"))?;
        *self = Hunk {
            old_left: h.old_count,
            new_left: h.new_count,
            next_new: h.new_start,
        };
        Ok(())
    }

    /// One line inside an open hunk; returns the new-side line number when it is added.
    fn body_line(&mut self, line: &str) -> Result<Option<u32>, String> {
        let expected = || {
            format!(
                "expected a hunk line (` `, `-`, `+` or `\\`) with {} old and {} new lines left, found {line:?}",
                self.old_left, self.new_left
            )
        };
        match line.as_bytes().first() {
            // Context; an empty line is context whose leading space a tool stripped.
            Some(b' ') | None => {
                if self.old_left == 0 || self.new_left == 0 {
                    return Err(expected());
                }
                self.old_left -= 1;
                self.new_left -= 1;
                self.next_new += 1;
                Ok(None)
            }
            Some(b'-') => {
                if self.old_left == 0 {
                    return Err(expected());
                }
                self.old_left -= 1;
                Ok(None)
            }
            Some(b'+') => {
                if self.new_left == 0 {
                    return Err(expected());
                }
                self.new_left -= 1;
                self.next_new += 1;
                Ok(Some(self.next_new - 1))
            }
            // `\ No newline at end of file` belongs to the line before it.
            Some(b'\\') => Ok(None),
            _ => Err(expected()),
        }
    }
}

/// Added lines of one file's hunks (the API's `patch`, or a section of a git diff).
pub fn added_lines(patch: &str, origin: &str) -> Result<BTreeSet<u32>, DiffError> {
    Ok(hunks(patch, origin)?
        .into_iter()
        .flat_map(|(_, added)| added)
        .collect())
}

/// Each hunk of one file's patch with the new-side numbers of the lines it adds.
pub fn hunks(patch: &str, origin: &str) -> Result<Vec<(HunkHeader, Vec<u32>)>, DiffError> {
    let err = |line: usize, message: String| DiffError {
        origin: origin.to_owned(),
        line,
        message,
    };
    let mut out: Vec<(HunkHeader, Vec<u32>)> = Vec::new();
    let mut hunk = Hunk::default();
    for (i, line) in patch.lines().enumerate() {
        if hunk.open() {
            if let Some(n) = hunk.body_line(line).map_err(|m| err(i + 1, m))?
                && let Some((_, added)) = out.last_mut()
            {
                added.push(n);
            }
        } else if line.starts_with("@@") {
            hunk.start(line).map_err(|m| err(i + 1, m))?;
            if let Some(h) = hunk_header(line) {
                out.push((h, Vec::new()));
            }
        } else if line.starts_with('\\') {
            // `\ No newline at end of file` after the hunk's last line.
        } else {
            return Err(err(
                i + 1,
                format!("expected a hunk header `@@ -a,b +c,d @@`, found {line:?}"),
            ));
        }
    }
    if hunk.open() {
        return Err(err(
            patch.lines().count(),
            format!(
                "the diff ends inside a hunk ({} old and {} new lines missing)",
                hunk.old_left, hunk.new_left
            ),
        ));
    }
    Ok(out)
}

/// Undo git's C-style quoting of unusual paths (`"a\tb.rs"`, octal escapes for UTF-8).
pub fn unquote(path: &str) -> String {
    let Some(inner) = path.strip_prefix('"').and_then(|p| p.strip_suffix('"')) else {
        return path.to_owned();
    };
    let mut bytes = Vec::with_capacity(inner.len());
    let mut it = inner.bytes().peekable();
    while let Some(b) = it.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match it.next() {
            Some(b'n') => bytes.push(b'\n'),
            Some(b't') => bytes.push(b'\t'),
            Some(b'a') => bytes.push(0x07),
            Some(b'b') => bytes.push(0x08),
            Some(b'f') => bytes.push(0x0c),
            Some(b'r') => bytes.push(b'\r'),
            Some(b'v') => bytes.push(0x0b),
            Some(d @ b'0'..=b'7') => {
                let mut v = u32::from(d - b'0');
                for _ in 0..2 {
                    if let Some(&n @ b'0'..=b'7') = it.peek() {
                        v = v * 8 + u32::from(n - b'0');
                        it.next();
                    }
                }
                bytes.push(u8::try_from(v).unwrap_or(b'?'));
            }
            Some(other) => bytes.push(other),
            None => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The path of a `+++ b/path` or `rename to path` header: quoting undone, git's trailing
/// tab (written after names with spaces) removed, the `b/` prefix dropped when asked.
fn header_path(raw: &str, prefix: Option<&str>) -> Option<String> {
    let raw = raw.strip_suffix('\t').unwrap_or(raw);
    let p = unquote(raw);
    if p == "/dev/null" {
        return None;
    }
    Some(match prefix {
        Some(pre) => p.strip_prefix(pre).map_or(p.clone(), str::to_owned),
        None => p,
    })
}

/// Parse the output of `git diff -U0 base...HEAD` (any context size works). Files without
/// hunks (binary, mode-only, pure renames and copies, submodule pointers without a
/// `--submodule=diff`) add no lines.
pub fn parse_git_diff(text: &str, origin: &str) -> Result<ChangedLines, DiffError> {
    let mut reader = GitDiffReader::new(origin);
    reader.push_str(text);
    join_parts(vec![reader.finish()])
}

/// [`parse_git_diff`] fed as the text arrives, in pieces cut anywhere (a process's output
/// as the pipe gives it): only a piece's last, unfinished line is held back. Lines are
/// as [`str::lines`] gives them from the whole text, and text that is not UTF-8 is read
/// as [`String::from_utf8_lossy`] reads the whole (a `\n` ends every bad sequence).
pub struct GitDiffReader {
    origin: String,
    out: ChangedLines,
    /// The new-side path of the current file; `None` when deleted or not yet known.
    current: Option<String>,
    /// Inside a file's extended headers (before its first hunk)?
    in_headers: bool,
    /// A submodule's "lines" are `Subproject commit <sha>`, not source.
    submodule: bool,
    hunk: Hunk,
    /// The current file's added lines, in order.
    added: Vec<u32>,
    /// Lines read so far.
    lines: usize,
    /// The start of a line whose end has not arrived.
    partial: Vec<u8>,
    /// The first error; what follows it is not read.
    error: Option<DiffError>,
    /// Files begun (`diff --git` lines read).
    files: usize,
    /// Files it may begin: at a file past these it stops, and reads nothing more.
    limit: usize,
    /// Stopped at the limit.
    stopped: bool,
}

/// A finished [`GitDiffReader`]: its lines, and how many lines of text it read (to number
/// an error in a later part of the same diff).
pub struct Parsed {
    lines: Result<ChangedLines, DiffError>,
    count: usize,
    files: usize,
    stopped: bool,
}

impl Parsed {
    /// The files it read (begun, when it stopped).
    pub fn files(&self) -> usize {
        self.files
    }

    /// Whether it stopped at its limit ([`GitDiffReader::limit_files`]).
    pub fn stopped(&self) -> bool {
        self.stopped
    }
}

impl GitDiffReader {
    pub fn new(origin: &str) -> Self {
        Self {
            origin: origin.to_owned(),
            out: ChangedLines::new(),
            current: None,
            in_headers: false,
            submodule: false,
            hunk: Hunk::default(),
            added: Vec::new(),
            lines: 0,
            partial: Vec::new(),
            error: None,
            files: 0,
            limit: usize::MAX,
            stopped: false,
        }
    }

    /// Read the first `n` files of the text only: at the `diff --git` line of file `n + 1`
    /// it stops (what came before is whole: a file ends where the next begins) and reads
    /// nothing more. A limit it is already past stops it at the next file.
    pub fn limit_files(&mut self, n: usize) {
        self.limit = n;
    }

    /// The files begun so far (the one being read included).
    pub fn files(&self) -> usize {
        self.files
    }

    /// Whether it stopped at its limit.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// The next piece of the text, cut anywhere.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.stopped {
            return;
        }
        let Some(last) = memchr::memrchr(b'\n', bytes) else {
            self.partial.extend_from_slice(bytes);
            return;
        };
        let (done, rest) = bytes.split_at(last + 1);
        if self.partial.is_empty() {
            self.push_lines(done);
        } else {
            let mut joined = std::mem::take(&mut self.partial);
            joined.extend_from_slice(done);
            self.push_lines(&joined);
            joined.clear();
            self.partial = joined;
        }
        self.partial.extend_from_slice(rest);
    }

    /// Whole lines, the last ending in `\n`.
    fn push_lines(&mut self, bytes: &[u8]) {
        match std::str::from_utf8(bytes) {
            Ok(text) => self.push_str(text),
            Err(_) => self.push_str(&String::from_utf8_lossy(bytes)),
        }
    }

    /// Text that ends where a line ends (or where the whole text ends).
    fn push_str(&mut self, text: &str) {
        // The lines `str::lines` gives (a `\r` before a `\n` dropped), found with the
        // memchr crate's vector search: `str::lines` calls `memcmp` for each `\n` it finds,
        // and its search was 30 % of this reader's time on a big diff's short lines.
        let mut rest = text;
        while !rest.is_empty() {
            if self.error.is_some() || self.stopped {
                return;
            }
            let line = match memchr::memchr(b'\n', rest.as_bytes()) {
                Some(end) => {
                    let line = &rest[..end];
                    rest = &rest[end + 1..];
                    line.strip_suffix('\r').unwrap_or(line)
                }
                None => std::mem::take(&mut rest),
            };
            self.lines += 1;
            if let Err(e) = self.line(line) {
                self.error = Some(e);
            }
        }
    }

    fn err(&self, message: String) -> DiffError {
        DiffError {
            origin: self.origin.clone(),
            line: self.lines,
            message,
        }
    }

    /// One line, the `self.lines`-th.
    fn line(&mut self, line: &str) -> Result<(), DiffError> {
        if self.hunk.open() {
            if let Some(n) = self.hunk.body_line(line).map_err(|m| self.err(m))?
                && !self.submodule
            {
                if self.current.is_none() {
                    return Err(self.err(
                        "an added line in a file without a new-side path (`+++` header)".into(),
                    ));
                }
                self.added.push(n);
            }
            return Ok(());
        }
        // The first byte picks the one prefix that can match (`line` checks them in turn
        // for every header and hunk header: a diff of short hunks has one per 3 lines).
        let first = line.as_bytes().first().copied();
        if first == Some(b'd') && line.starts_with("diff --git ") {
            if self.files >= self.limit {
                self.stopped = true;
                return Ok(());
            }
            self.files += 1;
            flush(&mut self.out, self.current.take(), &mut self.added);
            self.in_headers = true;
            self.submodule = false;
        } else if first == Some(b'@') && line.starts_with("@@") {
            if !self.in_headers && self.current.is_none() {
                return Err(self.err("a hunk before any `diff --git` file header".into()));
            }
            self.in_headers = false;
            self.hunk.start(line).map_err(|m| self.err(m))?;
        } else if first == Some(b'\\') {
            // `\ No newline at end of file` after a hunk's last line.
        } else if self.in_headers {
            if line.ends_with(" 160000") && (line.starts_with("index ") || line.contains(" mode "))
            {
                self.submodule = true;
            } else if let Some(p) = line.strip_prefix("+++ ") {
                self.current = header_path(p, Some("b/"));
            } else if let Some(p) = line
                .strip_prefix("rename to ")
                .or_else(|| line.strip_prefix("copy to "))
            {
                self.current = header_path(p, None);
            }
            // Every other extended header (`index`, modes, `---`, similarity, `Binary
            // files ... differ`) says nothing about added lines.
        } else {
            return Err(self.err(format!(
                "expected `diff --git` or a hunk header, found {line:?}"
            )));
        }
        Ok(())
    }

    /// The end of the text: its last line, if it had no `\n`, is read now.
    pub fn finish(mut self) -> Parsed {
        let partial = std::mem::take(&mut self.partial);
        if !partial.is_empty() && !self.stopped {
            self.push_lines(&partial);
        }
        if self.error.is_none() && self.hunk.open() {
            let (old, new) = (self.hunk.old_left, self.hunk.new_left);
            self.error = Some(self.err(format!(
                "the diff ends inside a hunk ({old} old and {new} new lines missing)"
            )));
        }
        let lines = match self.error {
            Some(e) => Err(e),
            None => {
                flush(&mut self.out, self.current, &mut self.added);
                Ok(self.out)
            }
        };
        Parsed {
            lines,
            count: self.lines,
            files: self.files,
            stopped: self.stopped,
        }
    }
}

/// The lines of a diff read in parts (whole files each), in order; an error's line
/// counts from the start of the first part.
pub fn join_parts(parts: Vec<Parsed>) -> Result<ChangedLines, DiffError> {
    let mut out = ChangedLines::new();
    let mut before = 0;
    for part in parts {
        match part.lines {
            Ok(lines) if out.is_empty() => out = lines,
            Ok(lines) => {
                for (path, added) in lines {
                    // A file is in one part, or whole in two (a process that saw late that
                    // its later files were taken over): the union is its lines.
                    match out.entry(path) {
                        btree_map::Entry::Vacant(v) => {
                            v.insert(added);
                        }
                        btree_map::Entry::Occupied(mut o) => o.get_mut().extend(added),
                    }
                }
            }
            Err(mut e) => {
                e.line += before;
                return Err(e);
            }
        }
        before += part.count;
    }
    Ok(out)
}

/// One file's added lines (collected in a list, not a set per line) into `out`.
fn flush(out: &mut ChangedLines, path: Option<String>, added: &mut Vec<u32>) {
    if let Some(path) = path
        && !added.is_empty()
    {
        match out.entry(path) {
            // Built from the list in one go (it is in order).
            btree_map::Entry::Vacant(v) => {
                v.insert(added.drain(..).collect());
            }
            btree_map::Entry::Occupied(mut o) => o.get_mut().extend(added.drain(..)),
        }
    }
    added.clear();
}

#[cfg(test)]
mod tests;
