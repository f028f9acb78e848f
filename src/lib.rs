//! rust-ci-action: coverage, image and rollout gates for GitHub Actions.
//!
//! `main` is a thin shell; [`app::run`] turns inputs into an outcome and reports it.
#![warn(clippy::print_stdout, clippy::print_stderr)]

/// A hash map with a fast, randomly seeded hash (foldhash) for the path-keyed maps of the
/// coverage pipeline: SipHash was a tenth of merging a 16,500-file report; the seed keeps
/// a hostile report from choosing collisions.
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A scoped thread's result; a panic in it goes on unwinding in the caller (where
/// `crash::catch` reports it), as if the work had run there.
pub(crate) fn joined<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
    h.join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

pub mod app;
pub(crate) mod base_commit;
pub(crate) mod baseline;
pub mod cli;
pub mod crash;
pub(crate) mod error;
pub mod gates;
pub(crate) mod git;
pub mod github;
pub mod logging;
pub(crate) mod oci;
pub mod outcome;
pub mod paths;
pub(crate) mod private_file;
pub mod report;
pub(crate) mod reports;
pub mod runner;
pub mod secret;
pub mod spec;
pub mod untrusted;
pub mod xml;
