//! Running `git` in the workspace, read-only, for every part that asks the clone something
//! (changed lines, the merge-base, a commit's time). Failures are `None` with git's own
//! message at debug level: the callers each have a fallback (the REST API, or doing
//! without), so a missing git or a shallow clone is never an error here.

use std::path::Path;
use std::process::Stdio;

/// `git -C <ws> <args>`'s stdout when it exits 0. The child is killed if the future is
/// dropped (a caller's timeout).
pub(crate) async fn bytes(ws: &Path, args: &[&str]) -> Option<Vec<u8>> {
    let out = tokio::process::Command::new("git")
        .arg("-C")
        .arg(ws)
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .ok()?;
    if out.status.success() {
        Some(out.stdout)
    } else {
        tracing::debug!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        None
    }
}
