//! Deployment rollouts judged by the real kubectl: `get`, `set image`, `rollout status`,
//! `rollout undo`, `rollout pause/resume`, `logs`, one scenario per test.
//!
//! One subject a file: `inspect` (get, scale, describe), `rolling` (successful rolling updates
//! and strategies), `undo_pause` (rollout undo, pause and resume), `failures` (pods that fail,
//! crash, stall or cannot be scheduled), `watch` (dropped and expired watches mid-rollout).

mod failures;
mod inspect;
mod rolling;
mod undo_pause;
mod watch;

const ROLLED_OUT: &str = "deployment \"api\" successfully rolled out";

/// The distinct lines of a 3-replica rolling update with maxSurge 1, maxUnavailable 0.
const SUCCESS_TRANSCRIPT: &[&str] = &[
    "Waiting for deployment spec update to be observed...",
    "Waiting for deployment \"api\" rollout to finish: 0 out of 3 new replicas have been updated...",
    "Waiting for deployment \"api\" rollout to finish: 1 out of 3 new replicas have been updated...",
    "Waiting for deployment \"api\" rollout to finish: 2 out of 3 new replicas have been updated...",
    "Waiting for deployment \"api\" rollout to finish: 1 old replicas are pending termination...",
    ROLLED_OUT,
];
