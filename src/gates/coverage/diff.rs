//! Changed lines from unified diffs: `git diff base...HEAD` output, or the `patch` field
//! of each file from the pull-request files API (used when a shallow clone lacks the base).
//! Pure: text in, `path → added line numbers` out. Only added lines count (the new side),
//! as diff-cover counts them.

use std::collections::{BTreeMap, BTreeSet};

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

/// Parse `@@ -a[,b] +c[,d] @@` into the new-side start line.
fn hunk_start(header: &str) -> Option<u32> {
    let rest = header.strip_prefix("@@ ")?;
    let plus = rest.split_whitespace().find(|p| p.starts_with('+'))?;
    let start = plus[1..].split(',').next()?;
    start.parse().ok()
}

/// Undo git's C-style quoting of unusual paths (`"a\tb.rs"`, octal escapes for UTF-8).
fn unquote(path: &str) -> String {
    let Some(inner) = path.strip_prefix('"').and_then(|p| p.strip_suffix('"')) else {
        return path.to_owned();
    };
    let mut bytes = Vec::new();
    let mut it = inner.bytes().peekable();
    while let Some(b) = it.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match it.next() {
            Some(b'n') => bytes.push(b'\n'),
            Some(b't') => bytes.push(b'\t'),
            Some(b'"') => bytes.push(b'"'),
            Some(b'\\') => bytes.push(b'\\'),
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

/// Added lines of one file's hunks (the API's `patch`, or a section of a git diff).
pub fn added_lines(patch: &str, origin: &str) -> Result<BTreeSet<u32>, DiffError> {
    let mut out = BTreeSet::new();
    let mut next: Option<u32> = None;
    for (i, line) in patch.lines().enumerate() {
        if line.starts_with("@@") {
            next = Some(hunk_start(line).ok_or_else(|| DiffError {
                origin: origin.to_owned(),
                line: i + 1,
                message: format!("expected a hunk header `@@ -a,b +c,d @@`, found {line:?}"),
            })?);
            continue;
        }
        let Some(n) = next.as_mut() else { continue };
        match line.as_bytes().first() {
            Some(b'+') => {
                out.insert(*n);
                *n += 1;
            }
            Some(b' ') => *n += 1,
            // An empty context line (some tools strip the leading space).
            None => *n += 1,
            _ => {}
        }
    }
    Ok(out)
}

/// Parse the output of `git diff -U0 base...HEAD` (any context size works).
pub fn parse_git_diff(text: &str, origin: &str) -> Result<ChangedLines, DiffError> {
    let mut out = ChangedLines::new();
    let mut current: Option<String> = None;
    let mut next: Option<u32> = None;
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("diff --git ") {
            current = None;
            next = None;
        } else if let Some(p) = line.strip_prefix("+++ ") {
            let p = unquote(p.trim_end_matches('\t'));
            current = if p == "/dev/null" {
                None
            } else {
                Some(p.strip_prefix("b/").map_or(p.clone(), str::to_owned))
            };
        } else if line.starts_with("@@") {
            next = Some(hunk_start(line).ok_or_else(|| DiffError {
                origin: origin.to_owned(),
                line: i + 1,
                message: format!("expected a hunk header `@@ -a,b +c,d @@`, found {line:?}"),
            })?);
        } else if let (Some(path), Some(n)) = (&current, next.as_mut()) {
            match line.as_bytes().first() {
                Some(b'+') => {
                    out.entry(path.clone()).or_default().insert(*n);
                    *n += 1;
                }
                Some(b' ') => *n += 1,
                _ => {}
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_diff_added_lines_with_renames_deletes_and_quoting() {
        let diff = "\
diff --git a/src/a.py b/src/a.py
index 1..2 100644
--- a/src/a.py
+++ b/src/a.py
@@ -3,0 +4,2 @@ def f():
+    x = 1
+    y = 2
@@ -10 +12 @@ def g():
-    old
+    new
diff --git a/old.py b/new.py
similarity index 90%
rename from old.py
rename to new.py
--- a/old.py
+++ b/new.py
@@ -1 +1 @@
-a
+b
diff --git a/gone.py b/gone.py
deleted file mode 100644
--- a/gone.py
+++ /dev/null
@@ -1,2 +0,0 @@
-x
-y
diff --git \"a/sp ace\\303\\251.py\" \"b/sp ace\\303\\251.py\"
new file mode 100644
--- /dev/null
+++ \"b/sp ace\\303\\251.py\"
@@ -0,0 +1,2 @@
+one
+two
\\ No newline at end of file
diff --git a/img.png b/img.png
Binary files a/img.png and b/img.png differ
";
        let c = parse_git_diff(diff, "git diff").unwrap();
        assert_eq!(c["src/a.py"], BTreeSet::from([4, 5, 12]));
        assert_eq!(c["new.py"], BTreeSet::from([1]));
        assert_eq!(c["sp aceé.py"], BTreeSet::from([1, 2]));
        assert!(!c.contains_key("gone.py") && !c.contains_key("img.png"));
    }

    #[test]
    fn api_patch_with_context() {
        let patch = "@@ -1,3 +1,4 @@\n a\n-b\n+B\n+C\n c\n@@ -20,2 +21,3 @@ fn x()\n q\n+r\n s";
        assert_eq!(
            added_lines(patch, "pulls/1/files: a.rs").unwrap(),
            BTreeSet::from([2, 3, 22])
        );
        let err = added_lines("@@ nonsense @@\n+a", "pulls/1/files: a.rs").unwrap_err();
        assert_eq!(
            err.to_string(),
            "pulls/1/files: a.rs: line 1: expected a hunk header `@@ -a,b +c,d @@`, found \"@@ nonsense @@\""
        );
    }
}
