//! The commit's time, from git in the workspace, for the `org.opencontainers.image.created`
//! label: the time of the commit rather than of the build, so building the same commit
//! again (a re-run) gives the same labels, and with a warm build cache the same image,
//! which [`super::rerun`] then finds already pushed. Only reads; `None` when git or the
//! commit is not there (the build time is used then).

use std::time::Duration;

/// The committer date of `revision` in `workspace`.
pub(super) async fn commit_time(
    workspace: &std::path::Path,
    revision: &str,
) -> Option<jiff::Timestamp> {
    if revision.is_empty() || !revision.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let args = ["show", "-s", "--format=%cI", revision, "--"];
    let out = tokio::time::timeout(Duration::from_secs(10), crate::git::bytes(workspace, &args))
        .await
        .ok()??;
    let text = String::from_utf8_lossy(&out);
    text.trim().parse().ok()
}
