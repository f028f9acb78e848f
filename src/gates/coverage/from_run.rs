//! `from-run`: report on another workflow run, the documented way to give a fork's pull
//! request a write token. The fork's `pull_request` job uploads its reports with
//! `actions/upload-artifact`; a `workflow_run` job runs this gate with the run's id. Here:
//! the run (head commit and repository), its artifact downloaded through the REST API and
//! unpacked into a private directory, and the pull request resolved from the head commit
//! (`workflow_run.pull_requests` is empty for forks, and a branch can have several pull
//! requests: the open one whose head is the run's commit, from the run's repository).
//!
//! The artifact is the pull request's: untrusted. Unpacking refuses paths out of the
//! directory, links, and more than [`MAX_ENTRIES`] entries or [`MAX_UNPACKED`] bytes.

use std::io::{Cursor, Read};
use std::path::Path;

use super::Error;
use crate::gates::Context;
use crate::github::{GitHub, actions, commits};
use crate::runner::event::PullRequest;

/// Largest zip downloaded.
pub(super) const MAX_ZIP: u64 = 512 << 20;
/// Most bytes unpacked in all.
pub(super) const MAX_UNPACKED: u64 = 2 << 30;
/// Most entries unpacked.
pub(super) const MAX_ENTRIES: usize = 10_000;

/// What `from-run` found.
#[derive(Debug)]
pub(super) struct FromRun {
    /// The unpacked artifact (removed on drop).
    pub dir: tempfile::TempDir,
    /// The pull request the run was for.
    pub pr: PullRequest,
}

fn err(what: impl std::fmt::Display) -> Error {
    Error::FromRun(what.to_string())
}

/// Fetch run `run_id`'s artifact `name` and resolve its pull request.
pub(super) async fn prepare(ctx: &Context, run_id: u64, name: &str) -> Result<FromRun, Error> {
    let gh = ctx
        .github
        .as_ref()
        .ok_or_else(|| err("needs a GitHub token and repository"))?;
    let api = |e: crate::github::ApiError| err(crate::error::error_chain(&e));
    let run = actions::run(gh, run_id).await.map_err(api)?;
    let pr = resolve(gh, ctx, &run).await?;
    let id = actions::artifact(gh, run_id, name)
        .await
        .map_err(api)?
        .ok_or_else(|| {
            err(format!(
                "run {run_id} has no unexpired artifact named {name:?}"
            ))
        })?;
    let zip = actions::download(gh, id, MAX_ZIP).await.map_err(api)?;
    let dir = tempfile::Builder::new()
        .prefix("rust-ci-action-artifact-")
        .tempdir()
        .map_err(|e| err(format!("cannot make a temp dir: {e}")))?;
    let n = unpack(&zip, dir.path()).map_err(|e| err(format!("artifact {name:?}: {e}")))?;
    tracing::info!(
        "from-run {run_id}: {n} files from artifact {name:?}, pull request #{}",
        pr.number
    );
    Ok(FromRun { dir, pr })
}

async fn resolve(
    gh: &GitHub,
    ctx: &Context,
    run: &actions::WorkflowRun,
) -> Result<PullRequest, Error> {
    let pulls = commits::pulls(gh, &run.head_sha)
        .await
        .map_err(|e| err(crate::error::error_chain(&e)))?;
    let ours = ctx.env.repository.clone().unwrap_or_default();
    let pick = pulls
        .iter()
        .filter(|p| p.state == "open" && p.head_sha == run.head_sha)
        .filter(|p| run.head_repo.is_empty() || p.head_repo == run.head_repo)
        .max_by_key(|p| p.number)
        .ok_or_else(|| {
            err(format!(
                "no open pull request has the run's head commit {} (pushed again since?)",
                run.head_sha
            ))
        })?;
    Ok(PullRequest {
        number: pick.number,
        head_sha: pick.head_sha.clone(),
        base_sha: pick.base_sha.clone(),
        base_ref: pick.base_ref.clone(),
        from_fork: pick.head_repo != ours,
    })
}

/// Unpack `zip` into `dest`; returns the number of files.
pub(super) fn unpack(zip: &[u8], dest: &Path) -> Result<usize, String> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(zip)).map_err(|e| format!("not a zip: {e}"))?;
    if archive.len() > MAX_ENTRIES {
        return Err(format!("more than {MAX_ENTRIES} entries"));
    }
    let mut written = 0u64;
    let mut files = 0;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| format!("entry {i}: {e}"))?;
        let shown = crate::untrusted::log_line(entry.name());
        if entry.is_dir() {
            continue;
        }
        if entry.is_symlink() {
            return Err(format!("{shown}: links are refused"));
        }
        let rel = entry
            .enclosed_name()
            .ok_or_else(|| format!("{shown}: a path out of the artifact is refused"))?;
        let path = dest.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{shown}: {e}"))?;
        }
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| format!("{shown}: {e}"))?;
        let left = MAX_UNPACKED - written;
        let n = std::io::copy(&mut (&mut entry).take(left + 1), &mut out)
            .map_err(|e| format!("{shown}: {e}"))?;
        if n > left {
            return Err(format!("more than {MAX_UNPACKED} bytes unpacked"));
        }
        written += n;
        files += 1;
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        for (name, data) in entries {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn unpacks_inside_and_refuses_escapes() {
        let dir = tempfile::tempdir().unwrap();
        let z = zip(&[("coverage.xml", b"<x/>"), ("sub/lcov.info", b"SF:a\n")]);
        assert_eq!(unpack(&z, dir.path()), Ok(2));
        assert_eq!(
            std::fs::read(dir.path().join("sub/lcov.info")).unwrap(),
            b"SF:a\n"
        );
        for bad in ["../evil.xml", "/etc/evil.xml"] {
            let d = tempfile::tempdir().unwrap();
            let e = unpack(&zip(&[(bad, b"x")]), d.path()).unwrap_err();
            assert!(e.contains("refused"), "{bad}: {e}");
        }
        assert!(
            unpack(b"not a zip", dir.path())
                .unwrap_err()
                .contains("not a zip")
        );
    }
}
