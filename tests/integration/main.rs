//! End-to-end tests of the built binary. Tests that need real services (Docker engine,
//! registry, AWS emulator, fake Kubernetes API, diff-cover, coverage producers) are
//! behind the `services` feature, which `scripts/test.sh` enables after starting them.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;
mod coverage;
mod coverage_fixtures;
#[cfg(feature = "services")]
mod coverage_live;
mod coverage_markdown;
mod coverage_producers;
#[cfg(feature = "services")]
mod diff_cover;
mod distribution;
mod foundation;
mod github_mock;
#[cfg(feature = "services")]
mod image;
#[cfg(feature = "services")]
mod rollout;
