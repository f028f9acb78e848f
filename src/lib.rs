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

/// `work` over `items`, in order: over the whole slice on this thread when it holds fewer
/// than `from` items, else over each half on a core of its own (the second half on a
/// scoped thread). `work` must give, for a slice, what it gives for its halves joined.
pub(crate) fn in_halves<T: Sync, R: Send>(
    items: &[T],
    from: usize,
    work: impl Fn(&[T]) -> Vec<R> + Sync,
) -> Vec<R> {
    if items.len() < from.max(2) {
        return work(items);
    }
    let (first, second) = items.split_at(items.len() / 2);
    std::thread::scope(|s| {
        let later = s.spawn(|| work(second));
        let mut all = work(first);
        all.extend(joined(later));
        all
    })
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
