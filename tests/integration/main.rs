//! End-to-end tests of the built binary. Tests that need real services (Docker engine,
//! registry, AWS emulator, fake Kubernetes API, diff-cover) are behind the `services`
//! feature, which `scripts/test.sh` enables after starting them.

mod common;
mod foundation;
mod coverage;
mod coverage_fixtures;
#[cfg(feature = "services")]
mod diff_cover;
mod github_mock;
#[cfg(feature = "services")] mod image;
mod distribution;
#[cfg(feature = "services")] mod rollout;
