//! Fuzz path mapping: report paths × workspace × tracked files × sources × `path-prefix`
//! / `source-root`. No input may panic, and a path mapped into the repository is always one
//! of the tracked files.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_ci_action::gates::coverage::paths::{Mapped, PathMapper, normalize};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Fields separated by NUL: workspace, prefix, root, then `t:`tracked, `s:`source, or
    // report paths.
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
            assert!(normalized.contains(&r), "{r:?} is not tracked");
        }
    }
});
