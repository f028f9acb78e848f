//! Report paths → repository-relative `/` paths, shared by every gate that names files from a
//! report (coverage files, test failures). Pure: the set of tracked files is given.
//!
//! Order of attempts: `source-root`/`path-prefix` rewriting; Cobertura `<source>` +
//! filename; absolute paths under the workspace; the path as written; then the longest
//! suffix of the path that matches exactly one tracked file (JaCoCo's package paths, Go's
//! module paths, reports made on another machine). Windows separators are normalised.

use std::collections::HashMap;

/// The result of mapping one report path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapped {
    /// A tracked file.
    Repo(String),
    /// No tracked file matched (or several did); the normalised report path.
    Unmapped(String),
}

/// [`normalize`], without copying a path that is already normal (the common case).
pub fn normalized(p: &str) -> std::borrow::Cow<'_, str> {
    let body = p.strip_prefix('/').unwrap_or(p);
    let normal = !p.contains('\\')
        && (body.is_empty() || body.split('/').all(|s| !matches!(s, "" | "." | "..")));
    if normal {
        std::borrow::Cow::Borrowed(p)
    } else {
        std::borrow::Cow::Owned(normalize(p))
    }
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

/// Tracked files, indexed so every lookup costs time linear in the path looked up (a
/// report path of 100,000 segments, or thousands of files sharing a name, stay cheap).
#[derive(Debug, Default)]
struct Tracked {
    /// Normalised relative paths, sorted and unique (exact lookups by binary search).
    paths: Vec<String>,
    /// Per path, the byte ranges of its segments, last segment first.
    rsegs: Vec<Vec<(u32, u32)>>,
    /// Indices into `paths`, sorted by reversed segments: the files ending with a given
    /// suffix form one contiguous run.
    by_suffix: Vec<u32>,
}

impl Tracked {
    fn new(tracked: impl IntoIterator<Item = String>) -> Self {
        let mut paths: Vec<String> = tracked.into_iter().map(|t| normalize(&t)).collect();
        paths.sort_unstable();
        paths.dedup();
        let rsegs: Vec<Vec<(u32, u32)>> = paths
            .iter()
            .map(|p| {
                let mut v = Vec::new();
                let mut start = 0usize;
                for seg in p.split('/') {
                    let end = start + seg.len();
                    v.push((start as u32, end as u32));
                    start = end + 1;
                }
                v.reverse();
                v
            })
            .collect();
        let mut t = Tracked {
            paths,
            rsegs,
            by_suffix: Vec::new(),
        };
        let mut order: Vec<u32> = (0..t.paths.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| {
            let (a, b) = (a as usize, b as usize);
            let n = t.rsegs[a].len().min(t.rsegs[b].len());
            (0..n)
                .map(|k| t.seg(a, k).cmp(&t.seg(b, k)))
                .find(|o| o.is_ne())
                .unwrap_or_else(|| t.rsegs[a].len().cmp(&t.rsegs[b].len()))
        });
        t.by_suffix = order;
        t
    }

    fn contains(&self, p: &str) -> bool {
        self.paths.binary_search_by(|t| t.as_str().cmp(p)).is_ok()
    }

    /// Segment `k` of path `i`, counted from the end (0 is the file name).
    fn seg(&self, i: usize, k: usize) -> Option<&str> {
        let (s, e) = *self.rsegs[i].get(k)?;
        self.paths[i].get(s as usize..e as usize)
    }

    /// Within `range` of `by_suffix` (whose entries agree on segments `0..k`), the entries
    /// whose segment `k` is `seg`.
    fn narrow(&self, range: std::ops::Range<usize>, k: usize, seg: &str) -> std::ops::Range<usize> {
        let run = &self.by_suffix[range.clone()];
        let key = |i: &u32| self.seg(*i as usize, k);
        let lo = run.partition_point(|i| key(i) < Some(seg));
        let hi = run.partition_point(|i| key(i) <= Some(seg));
        range.start + lo..range.start + hi
    }

    /// The run of files that end with `segs` (whole segments), and how many trailing
    /// segments of `segs` matched when not all did.
    fn suffix_run(&self, segs: &[&str]) -> (std::ops::Range<usize>, usize) {
        let mut range = 0..self.by_suffix.len();
        for (k, seg) in segs.iter().rev().enumerate() {
            let next = self.narrow(range.clone(), k, seg);
            if next.is_empty() {
                return (range, k);
            }
            range = next;
        }
        (range, segs.len())
    }
}

/// Maps paths against a workspace and its tracked files.
#[derive(Debug)]
pub struct PathMapper {
    workspace: String,
    tracked: Tracked,
    path_prefix: Option<String>,
    source_root: Option<String>,
}

/// A [`PathMapper`] for one report: its `<source>` entries looked up, not looped over, and
/// each distinct path mapped once.
#[derive(Debug)]
pub struct ReportMapper<'a> {
    mapper: &'a PathMapper,
    /// Workspace-relative source directories, first occurrence's position kept.
    sources: Vec<(String, usize)>,
    /// The same, for `..` levels above each source (built when a path starts with `..`).
    lifted: std::collections::HashMap<usize, HashMap<String, usize>>,
    memo: crate::FastMap<String, Mapped>,
}

impl PathMapper {
    /// A mapper for `workspace` (absolute) whose tracked files are `tracked` (relative).
    pub fn new(
        workspace: &str,
        tracked: impl IntoIterator<Item = String>,
        path_prefix: Option<String>,
        source_root: Option<String>,
    ) -> Self {
        Self {
            workspace: normalize(workspace).trim_end_matches('/').to_owned(),
            tracked: Tracked::new(tracked),
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
            // Windows drive letters differ in case between tools. Byte-wise: a path that
            // shares the workspace's bytes only up to a multi-byte character is no match.
            let head = p.as_bytes().get(..ws.len())?;
            head.eq_ignore_ascii_case(ws.as_bytes())
                .then(|| p.get(ws.len()..))
                .flatten()
        })?;
        rest.strip_prefix('/').map(str::to_owned)
    }

    /// A mapper for one report with these Cobertura `<source>` entries.
    pub fn for_report(&self, sources: &[String]) -> ReportMapper<'_> {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, s) in sources.iter().enumerate() {
            let s = normalize(s);
            let rel = if is_absolute(&s) {
                match self.relative_to_workspace(&s) {
                    Some(r) => r,
                    None if s == self.workspace => String::new(),
                    None => continue,
                }
            } else {
                s
            };
            seen.entry(rel).or_insert(i);
        }
        let mut sources: Vec<(String, usize)> = seen.into_iter().collect();
        sources.sort_by_key(|(_, i)| *i);
        ReportMapper {
            mapper: self,
            sources,
            lifted: std::collections::HashMap::new(),
            memo: crate::FastMap::default(),
        }
    }

    /// Map one report path; `sources` are the report's Cobertura `<source>` entries.
    pub fn map(&self, raw: &str, sources: &[String]) -> Mapped {
        self.for_report(sources).map(raw)
    }

    /// The one tracked file ending with the longest suffix of `p` that matches at all.
    fn unique_suffix(&self, p: &str) -> Option<String> {
        let parts: Vec<&str> = p
            .trim_start_matches('/')
            .split('/')
            .filter(|s| !s.is_empty() && *s != "..")
            .collect();
        let (run, matched) = self.tracked.suffix_run(&parts);
        if matched == 0 || run.len() != 1 {
            return None;
        }
        Some(self.tracked.paths[self.tracked.by_suffix[run.start] as usize].clone())
    }
}

impl ReportMapper<'_> {
    /// Map one report path.
    pub fn map(&mut self, raw: &str) -> Mapped {
        if let Some(m) = self.memo.get(raw) {
            return m.clone();
        }
        let m = self.map_uncached(raw);
        self.memo.insert(raw.to_owned(), m.clone());
        m
    }

    fn map_uncached(&mut self, raw: &str) -> Mapped {
        let pm = self.mapper;
        let mut p = normalized(raw).into_owned();
        if let Some(root) = &pm.source_root
            && let Some(rest) = p.strip_prefix(root.as_str())
        {
            p = rest.trim_start_matches('/').to_owned();
        }
        if let Some(prefix) = &pm.path_prefix {
            p = normalize(&format!("{prefix}/{p}"));
        }
        if !is_absolute(&p)
            && let Some(found) = self.under_a_source(&p)
        {
            return Mapped::Repo(found);
        }
        let rel = if is_absolute(&p) {
            pm.relative_to_workspace(&p)
        } else {
            Some(p.clone())
        };
        if let Some(rel) = rel
            && pm.tracked.contains(&rel)
        {
            return Mapped::Repo(rel);
        }
        if let Some(found) = pm.unique_suffix(&p) {
            return Mapped::Repo(found);
        }
        // Nothing tracked matched: still give a workspace-relative path when possible.
        let shown = if is_absolute(&p) {
            pm.relative_to_workspace(&p).unwrap_or(p)
        } else {
            p
        };
        Mapped::Unmapped(shown)
    }

    /// The tracked file `source/p` for the first source (in report order) that has one.
    /// Walks the tracked files ending with `p` and looks their directory up among the
    /// sources, so the cost is that run's length, never sources × files.
    fn under_a_source(&mut self, p: &str) -> Option<String> {
        if self.sources.is_empty() {
            return None;
        }
        let mut segs: Vec<&str> = p.split('/').collect();
        let ups = segs.iter().take_while(|s| **s == "..").count();
        segs.drain(..ups);
        if segs.is_empty() {
            return None;
        }
        let sources = self.lifted.entry(ups).or_insert_with(|| {
            let mut m = HashMap::new();
            for (s, i) in &self.sources {
                let mut parts: Vec<&str> = s.split('/').filter(|x| !x.is_empty()).collect();
                if parts.len() < ups || parts.contains(&"..") {
                    continue;
                }
                parts.truncate(parts.len() - ups);
                m.entry(parts.join("/")).or_insert(*i);
            }
            m
        });
        let tracked = &self.mapper.tracked;
        let (run, matched) = tracked.suffix_run(&segs);
        if matched < segs.len() {
            return None;
        }
        let rest_len = segs.iter().map(|s| s.len() + 1).sum::<usize>() - 1;
        let mut best: Option<(usize, usize)> = None;
        for &i in &tracked.by_suffix[run] {
            let t = &tracked.paths[i as usize];
            let dir = t
                .get(..t.len() - rest_len)
                .map(|d| d.strip_suffix('/').unwrap_or(d))
                .unwrap_or_default();
            if let Some(&order) = sources.get(dir)
                && best.is_none_or(|(o, _)| order < o)
            {
                best = Some((order, i as usize));
            }
        }
        best.map(|(_, i)| tracked.paths[i].clone())
    }
}

/// One fuzz case for path mapping (the `paths` fuzz target and its regression test):
/// NUL-separated fields (workspace, `path-prefix`, `source-root`, then `t:`tracked files,
/// `s:`sources, or report paths). Panics if a mapped path is not a tracked file.
#[doc(hidden)]
pub fn check_fuzz_case(text: &str) {
    let mut fields = text.split('\0');
    let ws = fields.next().unwrap_or_default();
    let prefix = fields.next().filter(|s| !s.is_empty()).map(str::to_owned);
    let root = fields.next().filter(|s| !s.is_empty()).map(str::to_owned);
    let (mut tracked, mut sources, mut paths) = (Vec::new(), Vec::new(), Vec::new());
    for f in fields {
        if let Some(t) = f.strip_prefix("t:") {
            tracked.push(t.to_owned());
        } else if let Some(s) = f.strip_prefix("s:") {
            sources.push(s.to_owned());
        } else {
            paths.push(f);
        }
    }
    let normalized: Vec<String> = tracked.iter().map(|t| normalize(t)).collect();
    let mapper = PathMapper::new(ws, tracked, prefix, root);
    let mut report = mapper.for_report(&sources);
    for p in paths {
        if let Mapped::Repo(r) = report.map(p) {
            assert!(normalized.contains(&r), "{r:?} is not a tracked file");
        }
    }
}

#[cfg(test)]
mod tests;
