//! Panics. None should be reachable from input; if one happens anyway, the run still ends
//! the way the runner contract says: one `::error title=rust-ci-action crashed::...` line
//! (masked values scrubbed, escaped like every command), `result=error`, exit code 2.
//!
//! A panic inside a gate is caught ([`catch`]) rather than ending the process, so the
//! check run created `in_progress` is still completed (conclusion `failure`, the panic as
//! its one-line reason) instead of spinning on the pull request forever.
//!
//! The panic hook is process-global by nature, so the two pieces of state it shares with
//! [`catch`] are statics here and nowhere else.

use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::FutureExt;

use crate::runner::commands::Commands;
use crate::runner::env::RunnerEnv;

/// A gate is running under [`catch`]: the hook records the panic instead of exiting.
static CATCHING: AtomicBool = AtomicBool::new(false);
/// The last panic's message and place, for [`catch`] to report.
static LAST: Mutex<Option<String>> = Mutex::new(None);

/// The panic's message and where it happened.
fn describe(info: &std::panic::PanicHookInfo<'_>) -> String {
    let msg = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    let place = info
        .location()
        .map(|l| format!(" at {}:{}", l.file(), l.line()))
        .unwrap_or_default();
    format!("{msg}{place}")
}

/// Install the hook. Outside [`catch`] a panic prints one `::error` (through `commands`, so
/// masks apply and an open stop-commands block is paused), records `result=error` and exits 2.
pub fn install(env: RunnerEnv, commands: Commands) {
    std::panic::set_hook(Box::new(move |info| {
        let what = describe(info);
        if CATCHING.load(Ordering::SeqCst) {
            let mut last = match LAST.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            *last = Some(what);
            return;
        }
        commands.error("rust-ci-action crashed", &what);
        if let Some(path) = &env.output
            && let Ok(mut f) = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(path)
        {
            let _ =
                crate::runner::outputs::write_outputs(&mut f, &[("result".into(), "error".into())]);
        }
        std::process::exit(2);
    }));
}

/// Run a gate; a panic inside it becomes `Err` with the panic's message and place.
pub async fn catch<F: std::future::Future>(f: F) -> Result<F::Output, String> {
    CATCHING.store(true, Ordering::SeqCst);
    let result = AssertUnwindSafe(f).catch_unwind().await;
    CATCHING.store(false, Ordering::SeqCst);
    result.map_err(|_| {
        let mut last = match LAST.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        last.take().unwrap_or_else(|| "unknown panic".to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_gate_becomes_an_error_and_catching_ends() {
        let r = catch(async { panic!("boom") }).await;
        assert!(r.is_err());
        assert!(!CATCHING.load(Ordering::SeqCst));
        assert_eq!(catch(async { 7 }).await, Ok(7));
    }
}
