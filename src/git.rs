//! Running `git` in the workspace, read-only, for every part that asks the clone something
//! (changed lines, the merge-base, a commit's time). Failures are `None` with git's own
//! message at debug level: the callers each have a fallback (the REST API, or doing
//! without), so a missing git or a shallow clone is never an error here.

use std::ffi::OsStr;
use std::ops::ControlFlow;
use std::path::Path;
use std::process::Stdio;

/// A started `git`; [`Running::stream`] reads it to the end. Killed if dropped unawaited.
pub(crate) struct Running {
    child: tokio::process::Child,
    /// The command, for the debug message when it fails.
    what: String,
}

/// Start `git -C <ws> <args>`; `None` when git cannot be started.
pub(crate) fn spawn<S: AsRef<OsStr>>(ws: &Path, args: &[S]) -> Option<Running> {
    // The command, not a pathspec list thousands of paths long.
    let what = args
        .iter()
        .take(16)
        .map(|a| a.as_ref().to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let child = tokio::process::Command::new("git")
        .arg("-C")
        .arg(ws)
        .args(args)
        .env(KEEP_HEAP.0, KEEP_HEAP.1)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    match child {
        Ok(child) => Some(Running { child, what }),
        Err(e) => {
            tracing::debug!("git {what}: {e}");
            None
        }
    }
}

/// glibc's allocator hands freed memory back to the kernel whenever the top of the heap
/// is free, and faults it in again at the next allocation: in `git diff` that was nine
/// in ten of its page faults and a sixth of its time (65 -> 58 ms on the benchmark's
/// diff). A 128 MiB trim threshold keeps the heap until git exits; its peak is the same.
/// Other C libraries ignore the variable. It is set for git alone, replacing any of the
/// user's: glibc's tunables only ever tune, never change what git prints.
const KEEP_HEAP: (&str, &str) = ("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=134217728");

/// How reading a git's stdout ended.
#[derive(PartialEq, Eq)]
enum Read {
    /// At its end.
    Ended,
    /// The reader had what it wanted.
    Enough,
    /// The pipe failed.
    Failed,
}

impl Running {
    /// Its stdout handed to `eat` piece by piece as the pipe gives it (nothing of it held
    /// here); `Some` when it exits 0, or when `eat` says it has read enough (git is then
    /// killed: its work is not wanted).
    pub(crate) async fn stream(
        mut self,
        mut eat: impl FnMut(&[u8]) -> ControlFlow<()>,
    ) -> Option<()> {
        use tokio::io::AsyncReadExt;
        let (Some(mut stdout), Some(mut stderr)) =
            (self.child.stdout.take(), self.child.stderr.take())
        else {
            return None;
        };
        let read_out = async {
            let mut buf = vec![0u8; 64 << 10];
            loop {
                match stdout.read(&mut buf).await {
                    Ok(0) => return Read::Ended,
                    Ok(n) => {
                        if eat(&buf[..n]).is_break() {
                            return Read::Enough;
                        }
                    }
                    Err(_) => return Read::Failed,
                }
            }
        };
        let mut err = Vec::new();
        let read = async {
            let read = read_out.await;
            if read == Read::Enough {
                // Its stderr ends with it.
                let _ = self.child.start_kill();
            }
            read
        };
        let (read, _) = tokio::join!(read, stderr.read_to_end(&mut err));
        let status = self.child.wait().await.ok()?;
        if read == Read::Enough {
            return Some(());
        }
        let out_ok = read == Read::Ended;
        if out_ok && status.success() {
            Some(())
        } else {
            tracing::debug!(
                "git {}: {}",
                self.what,
                String::from_utf8_lossy(&err).trim()
            );
            None
        }
    }
}

/// A task that starts and reads a git, apart from the thread that drives the gate:
/// starting a process holds the starting thread until the child runs (milliseconds when
/// the cores are busy), and a git whose output waits for its reader stops. Aborted, and
/// its git killed, when dropped unfinished.
pub(crate) struct Task<T>(tokio::task::JoinHandle<T>);

impl<T: Send + 'static> Task<T> {
    pub(crate) fn spawn(work: impl Future<Output = T> + Send + 'static) -> Self {
        Self(tokio::spawn(work))
    }

    /// Its result (`None` only if aborted, which nothing does while it is joined); a
    /// panic in it goes on in the caller.
    pub(crate) async fn join(mut self) -> Option<T> {
        match (&mut self.0).await {
            Ok(v) => Some(v),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => None,
        }
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `git -C <ws> <args>`'s stdout when it exits 0. The child is killed if the future is
/// dropped (a caller's timeout).
pub(crate) async fn bytes<S: AsRef<OsStr>>(ws: &Path, args: &[S]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    spawn(ws, args)?
        .stream(|piece| {
            out.extend_from_slice(piece);
            ControlFlow::Continue(())
        })
        .await?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::Task;

    /// Dropped unfinished, the task stops: what it holds (here a sender; in the gate, a
    /// git killed on drop) is dropped with it, at once rather than in a minute.
    #[tokio::test]
    async fn a_dropped_task_stops() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = Task::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            let _ = tx.send(());
        });
        drop(task);
        let ended = tokio::time::timeout(std::time::Duration::from_secs(30), rx).await;
        assert!(
            matches!(ended, Ok(Err(_))),
            "the sender is dropped, nothing sent"
        );
    }

    /// A panic in the task is the caller's, not a silent `None`.
    #[tokio::test]
    #[should_panic(expected = "inside the task")]
    async fn a_panic_in_the_task_is_the_callers() {
        let _ = Task::spawn(async { panic!("inside the task") })
            .join()
            .await;
    }

    /// The tunable reaches the git process (through an alias that prints its environment).
    #[tokio::test]
    async fn git_keeps_its_heap() {
        let ws = std::env::temp_dir();
        let out = super::bytes(
            &ws,
            &["-c", "alias.tunables=!printenv GLIBC_TUNABLES", "tunables"],
        )
        .await
        .expect("git runs the alias");
        assert_eq!(
            String::from_utf8_lossy(&out).trim(),
            "glibc.malloc.trim_threshold=134217728"
        );
    }
}
