//! One integration binary: the fake judged by the real kubectl and by kube-rs.
//!
//! Every test starts its own fake on an ephemeral port and drives the simulated clock itself;
//! kubectl's own `--timeout` is the only wall-clock limit, used where the scenario is about a
//! timeout. Tests that need kubectl fail (never skip) when it is missing.

// Tests look up kubectl on the host's PATH; `clippy.toml`'s environment rule is for the
// rust-ci-action program.
#![allow(clippy::disallowed_methods)]

mod binary;
mod common;
mod deployment;
mod kube_rs;
mod wire;
mod workloads;
