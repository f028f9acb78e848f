//! Report paths → repository-relative `/` paths. Pure: the set of tracked files is given.
//!
//! Order of attempts: `source-root`/`path-prefix` rewriting; Cobertura `<source>` +
//! filename; absolute paths under the workspace; the path as written; then the longest
//! suffix of the path that matches exactly one tracked file (JaCoCo's package paths, Go's
//! module paths, reports made on another machine). Windows separators are normalised.

use std::collections::{BTreeSet, HashMap};

/// The result of mapping one report path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapped {
    /// A tracked file.
    Repo(String),
    /// No tracked file matched (or several did); the normalised report path.
    Unmapped(String),
}

/// Normalise separators and `.`/`..` segments, lexically.
pub fn normalize(p: &str) -> String {
    let p = p.replace('\\', "/");
    let absolute = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

fn is_absolute(p: &str) -> bool {
    p.starts_with('/') || (p.len() >= 3 && p.as_bytes()[1] == b':' && p.as_bytes()[2] == b'/')
}

/// Maps paths against a workspace and its tracked files.
#[derive(Debug)]
pub struct PathMapper {
    workspace: String,
    tracked: BTreeSet<String>,
    by_name: HashMap<String, Vec<String>>,
    path_prefix: Option<String>,
    source_root: Option<String>,
}

impl PathMapper {
    /// A mapper for `workspace` (absolute) whose tracked files are `tracked` (relative).
    pub fn new(
        workspace: &str,
        tracked: impl IntoIterator<Item = String>,
        path_prefix: Option<String>,
        source_root: Option<String>,
    ) -> Self {
        let tracked: BTreeSet<String> = tracked.into_iter().map(|t| normalize(&t)).collect();
        let mut by_name: HashMap<String, Vec<String>> = HashMap::new();
        for t in &tracked {
            let name = t.rsplit('/').next().unwrap_or(t);
            by_name.entry(name.to_owned()).or_default().push(t.clone());
        }
        Self {
            workspace: normalize(workspace).trim_end_matches('/').to_owned(),
            tracked,
            by_name,
            path_prefix,
            source_root: source_root.map(|s| normalize(&s)),
        }
    }

    fn relative_to_workspace(&self, p: &str) -> Option<String> {
        let ws = &self.workspace;
        if ws.is_empty() {
            return None;
        }
        let rest = p.strip_prefix(ws.as_str()).or_else(|| {
            // Windows drive letters differ in case between tools.
            (p.len() >= ws.len() && p[..ws.len()].eq_ignore_ascii_case(ws)).then(|| &p[ws.len()..])
        })?;
        rest.strip_prefix('/').map(str::to_owned)
    }

    /// Map one report path; `sources` are the report's Cobertura `<source>` entries.
    pub fn map(&self, raw: &str, sources: &[String]) -> Mapped {
        let mut p = normalize(raw);
        if let Some(root) = &self.source_root
            && let Some(rest) = p.strip_prefix(root.as_str())
        {
            p = rest.trim_start_matches('/').to_owned();
        }
        if let Some(prefix) = &self.path_prefix {
            p = normalize(&format!("{prefix}/{p}"));
        }
        let mut candidates: Vec<String> = Vec::new();
        if !is_absolute(&p) {
            for s in sources {
                candidates.push(normalize(&format!("{}/{p}", s.replace('\\', "/"))));
            }
        }
        candidates.push(p.clone());
        for c in &candidates {
            let rel = if is_absolute(c) {
                self.relative_to_workspace(c)
            } else {
                Some(c.clone())
            };
            if let Some(rel) = rel
                && self.tracked.contains(&rel)
            {
                return Mapped::Repo(rel);
            }
        }
        if let Some(found) = self.unique_suffix(&p) {
            return Mapped::Repo(found);
        }
        // Nothing tracked matched: still give a workspace-relative path when possible.
        let shown = if is_absolute(&p) {
            self.relative_to_workspace(&p).unwrap_or(p)
        } else {
            p
        };
        Mapped::Unmapped(shown)
    }

    /// The one tracked file ending with the longest suffix of `p` that matches at all.
    fn unique_suffix(&self, p: &str) -> Option<String> {
        let parts: Vec<&str> = p
            .trim_start_matches('/')
            .split('/')
            .filter(|s| !s.is_empty() && *s != "..")
            .collect();
        let name = parts.last()?;
        let same_name = self.by_name.get(*name)?;
        for k in 0..parts.len() {
            let suffix = parts[k..].join("/");
            let hits: Vec<&String> = same_name
                .iter()
                .filter(|t| *t == &suffix || t.ends_with(&format!("/{suffix}")))
                .collect();
            match hits.len() {
                0 => continue,
                1 => return Some(hits[0].clone()),
                _ => return None,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapper(prefix: Option<&str>, root: Option<&str>) -> PathMapper {
        PathMapper::new(
            "/home/runner/work/app/app",
            [
                "src/app/main.py",
                "src/app/util.py",
                "lib/util.py",
                "src/main/java/com/acme/Foo.java",
                "pkg/server/http.go",
                "web/src/index.ts",
            ]
            .map(String::from),
            prefix.map(String::from),
            root.map(String::from),
        )
    }

    #[test]
    fn mapping_table() {
        let m = mapper(None, None);
        let cases: &[(&str, &[&str], Mapped)] = &[
            (
                "app/main.py",
                &["/home/runner/work/app/app/src"],
                Mapped::Repo("src/app/main.py".into()),
            ),
            (
                "src/app/main.py",
                &[],
                Mapped::Repo("src/app/main.py".into()),
            ),
            (
                "./src/app/../app/main.py",
                &[],
                Mapped::Repo("src/app/main.py".into()),
            ),
            (
                "/home/runner/work/app/app/lib/util.py",
                &[],
                Mapped::Repo("lib/util.py".into()),
            ),
            (
                "C:\\a\\app\\app\\web\\src\\index.ts",
                &[],
                Mapped::Repo("web/src/index.ts".into()),
            ),
            (
                "com/acme/Foo.java",
                &[],
                Mapped::Repo("src/main/java/com/acme/Foo.java".into()),
            ),
            (
                "github.com/acme/app/pkg/server/http.go",
                &[],
                Mapped::Repo("pkg/server/http.go".into()),
            ),
            (
                "/build/other/machine/src/app/util.py",
                &[],
                Mapped::Repo("src/app/util.py".into()),
            ),
            ("util.py", &[], Mapped::Unmapped("util.py".into())),
            (
                "/home/runner/work/app/app/gen/x.py",
                &[],
                Mapped::Unmapped("gen/x.py".into()),
            ),
        ];
        for (raw, sources, want) in cases {
            let sources: Vec<String> = sources.iter().map(|s| (*s).to_owned()).collect();
            assert_eq!(&m.map(raw, &sources), want, "{raw}");
        }
    }

    #[test]
    fn prefix_and_source_root() {
        assert_eq!(
            mapper(Some("src"), None).map("app/util.py", &[]),
            Mapped::Repo("src/app/util.py".into())
        );
        assert_eq!(
            mapper(None, Some("/ci/build")).map("/ci/build/lib/util.py", &[]),
            Mapped::Repo("lib/util.py".into())
        );
    }

    #[test]
    fn normalize_cases() {
        assert_eq!(normalize("a\\b\\..\\c"), "a/c");
        assert_eq!(normalize("/x/./y//z/"), "/x/y/z");
        assert_eq!(normalize("../a"), "../a");
    }
}
