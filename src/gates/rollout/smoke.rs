//! The smoke command: `sh -c <command>` in the workspace once every workload is ready,
//! bounded by the timeout, its output kept for the report (last lines only).
//!
//! Runs one process; never prints its output (that is pull-request text: it reaches
//! people only through `render.rs`).

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::duration::format_duration;
use super::explain::{LOG_BYTES, LOG_LINES, tail_log};
use super::results::SmokeReport;

/// Run `command` with `sh -c` in `workspace`; `Err` only when it could not be started.
pub(super) async fn run(
    command: &str,
    workspace: &Path,
    timeout: Duration,
) -> Result<SmokeReport, std::io::Error> {
    let started = Instant::now();
    tracing::info!("running the smoke command: {command}");
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(workspace)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let (passed, detail, output) =
        match tokio::time::timeout(timeout, child.wait_with_output()).await {
            Err(_) => (
                false,
                format!("timed out after {}", format_duration(timeout)),
                String::new(),
            ),
            Ok(Err(e)) => (
                false,
                format!("could not be waited for: {e}"),
                String::new(),
            ),
            Ok(Ok(out)) => {
                let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
                text.push_str(&String::from_utf8_lossy(&out.stderr));
                let (passed, detail) = verdict(out.status);
                (passed, detail, text)
            }
        };
    Ok(SmokeReport {
        command: command.to_owned(),
        passed,
        detail,
        output_tail: tail_log(&output, LOG_LINES, LOG_BYTES),
        duration: started.elapsed(),
    })
}

/// Passed, and how it ended: `exited with 3`, `was killed by a signal`.
fn verdict(status: ExitStatus) -> (bool, String) {
    match status.code() {
        Some(0) => (true, "exited with 0".to_owned()),
        Some(c) => (false, format!("exited with {c}")),
        None => (false, "was killed by a signal".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn runs_in_the_workspace_and_keeps_the_output_tail() {
        let dir = tempfile::tempdir().unwrap();
        let r = block_on(run(
            "pwd; for i in $(seq 1 30); do echo line $i; done; echo oops >&2; exit 3",
            dir.path(),
            Duration::from_secs(30),
        ))
        .unwrap();
        assert!(!r.passed);
        assert_eq!(r.detail, "exited with 3");
        assert_eq!(r.output_tail.lines().count(), LOG_LINES);
        assert!(
            r.output_tail.ends_with("line 30\noops"),
            "{}",
            r.output_tail
        );

        let r = block_on(run("pwd", dir.path(), Duration::from_secs(30))).unwrap();
        assert!(r.passed && r.detail == "exited with 0");
        assert_eq!(
            Path::new(r.output_tail.trim()).canonicalize().unwrap(),
            dir.path().canonicalize().unwrap()
        );
    }

    #[test]
    fn a_signal_or_the_timeout_fails_it() {
        let dir = tempfile::tempdir().unwrap();
        let r = block_on(run("kill -9 $$", dir.path(), Duration::from_secs(30))).unwrap();
        assert_eq!(
            (r.passed, r.detail.as_str()),
            (false, "was killed by a signal")
        );
        let r = block_on(run("sleep 30", dir.path(), Duration::from_millis(200))).unwrap();
        assert_eq!(
            (r.passed, r.detail.as_str()),
            (false, "timed out after 200ms")
        );
    }

    #[test]
    fn a_missing_workspace_cannot_start_it() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        assert!(block_on(run("true", &gone, Duration::from_secs(5))).is_err());
    }
}
