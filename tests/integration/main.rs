//! End-to-end tests of the built binary. Tests that need real services (Docker engine,
//! registry, AWS emulator, fake Kubernetes API, diff-cover, coverage producers) are
//! behind the `services` feature, which `scripts/test.sh` enables after starting them.
#![allow(clippy::unwrap_used)]
// Tests read the host's environment to set up processes (PATH, DOCKER, CARGO, service
// endpoints, UPDATE_ACTION_FILES); `clippy.toml` keeps the program itself to `src/runner/`.
#![allow(clippy::disallowed_methods)]

mod common;
mod coverage;
mod coverage_components;
mod coverage_fixtures;
mod coverage_from_run;
mod coverage_hostile;
#[cfg(feature = "services")]
mod coverage_live;
mod coverage_markdown;
mod coverage_producers;
mod coverage_review;
mod coverage_review_scale;
#[cfg(feature = "services")]
mod diff_cover;
mod distribution;
mod foundation;
mod github_mock;
mod github_world;
#[cfg(feature = "services")]
mod image;
mod msrv;
mod reporter;
#[cfg(feature = "services")]
mod rollout;
mod snapshots_coverage;
mod snapshots_tests;
mod tests_fail_on;
mod tests_gate;
