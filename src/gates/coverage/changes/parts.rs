//! The diff processes of one range: one per group of paths, each started and read by a
//! task of its own, and, when one ends while another still has many files to begin, a
//! new one taking the later half of those over. Runs git; the reading is `diff.rs`'s and
//! the choices (groups, what to take over) are `diff/split.rs`'s.

use std::ffi::{OsStr, OsString};
use std::ops::ControlFlow;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::task::JoinSet;

use super::super::diff;
use super::super::diff::split::{Group, Progress};
use super::Ask;

/// The diff processes of one range.
pub(super) struct Diff<'a> {
    pub ws: &'a Path,
    pub ask: Ask,
    pub base: &'a str,
    pub range: String,
    pub origin: String,
}

/// One diff process's paths, and how far it is (shared with the task reading it).
struct Part {
    group: Group,
    /// Files its reader has begun.
    begun: Arc<AtomicUsize>,
    /// Files it may begin: the paths from there on were taken over by another.
    limit: Arc<AtomicUsize>,
    /// What it read, once it has ended.
    parsed: Option<diff::Parsed>,
}

impl Part {
    fn new(group: Group) -> Self {
        Self {
            group,
            begun: Arc::new(AtomicUsize::new(0)),
            limit: Arc::new(AtomicUsize::new(usize::MAX)),
            parsed: None,
        }
    }

    fn progress(&self) -> Progress {
        let len = self.group.paths.len();
        Progress {
            started: self.begun.load(Ordering::Relaxed),
            end: self.limit.load(Ordering::Relaxed).min(len),
            cut_from: self.group.cut_from.min(len),
        }
    }
}

/// What the diff processes of a range read.
pub(super) struct Read {
    /// Each process's reading, in the order they started.
    pub parts: Vec<diff::Parsed>,
    /// How many processes took files over from a slower one.
    pub taken_over: usize,
}

/// The running diff processes of a range, each started, and its text read as it is
/// written, by a task of its own. Dropped, it kills them.
pub(super) struct Runs<'a> {
    diff: &'a Diff<'a>,
    set: JoinSet<(usize, Option<diff::Parsed>)>,
    parts: Vec<Part>,
    /// Told by each process first started, once it has.
    spawned: tokio::sync::mpsc::UnboundedSender<()>,
    all_spawned: tokio::sync::mpsc::UnboundedReceiver<()>,
    first: usize,
}

impl<'a> Runs<'a> {
    pub(super) fn new(diff: &'a Diff<'a>) -> Self {
        let (spawned, all_spawned) = tokio::sync::mpsc::unbounded_channel();
        Self {
            diff,
            set: JoinSet::new(),
            parts: Vec::new(),
            spawned,
            all_spawned,
            first: 0,
        }
    }

    /// Start a process for `group`, from a task of its own.
    pub(super) fn start(&mut self, group: Group) {
        let part = Part::new(group);
        self.diff.spawn(
            &mut self.set,
            self.parts.len(),
            &part,
            Some(self.spawned.clone()),
        );
        self.parts.push(part);
        self.first += 1;
    }

    /// Start a process for `group` on this thread, now, before anything else is
    /// started: the whole range's diff, the longest process of the run, does not wait
    /// for a worker thread while the listing and the report's parser start.
    pub(super) fn start_now(&mut self, group: Group) {
        let part = Part::new(group);
        let run = crate::git::spawn(self.diff.ws, &self.diff.args(&part));
        self.diff
            .read(&mut self.set, self.parts.len(), &part, move || run, None);
        self.parts.push(part);
    }

    /// What the whole range's process (started first, alone) diffs, now that the
    /// listing says.
    pub(super) fn listed(&mut self, paths: Vec<Vec<u8>>, cut_from: usize) {
        if let Some(part) = self.parts.first_mut().filter(|p| p.group.whole) {
            part.group.paths = paths;
            part.group.cut_from = cut_from;
        }
    }

    /// Once every process started so far has started; then, when one of them has
    /// files to give up ([`diff::split::take_over`]), a new process takes them over.
    pub(super) async fn started(&mut self) {
        for _ in 0..self.first {
            if self.all_spawned.recv().await.is_none() {
                break;
            }
        }
        self.take_over();
    }

    /// A new process for the files a running one gives up, if one does.
    fn take_over(&mut self) -> Option<()> {
        let running: Vec<usize> = (0..self.parts.len())
            .filter(|&k| self.parts[k].parsed.is_none())
            .collect();
        let progress: Vec<Progress> = running.iter().map(|&k| self.parts[k].progress()).collect();
        let (k, from) = diff::split::take_over(&progress)?;
        let victim = self.parts.get(running[k])?;
        let paths = victim.group.paths.get(from..progress[k].end)?.to_vec();
        victim.limit.store(from, Ordering::Relaxed);
        let taken = Part::new(Group {
            paths,
            cut_from: 0,
            whole: false,
        });
        self.diff
            .spawn(&mut self.set, self.parts.len(), &taken, None);
        self.parts.push(taken);
        Some(())
    }

    /// Every process read to its end; when one ends while another still has files to
    /// begin, a new process takes the later half of those over. `None` when a process
    /// fails, or one that read to its end did not read a file per path (the listing and
    /// the diff disagree).
    pub(super) async fn finish(mut self) -> Option<Read> {
        while let Some(joined) = self.set.join_next().await {
            let (id, parsed) = match joined {
                Ok(done) => done,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(_) => return None,
            };
            let parsed = parsed?;
            let part = self.parts.get_mut(id)?;
            if part.group.one_file_per_path()
                && !parsed.stopped()
                && parsed.files() != part.group.paths.len()
            {
                tracing::debug!(
                    "{}: {} files read for {} paths; diffed again as one",
                    self.diff.origin,
                    parsed.files(),
                    part.group.paths.len()
                );
                return None;
            }
            part.parsed = Some(parsed);
            self.take_over();
        }
        Some(Read {
            taken_over: self.parts.len() - self.first,
            parts: self
                .parts
                .into_iter()
                .map(|p| p.parsed)
                .collect::<Option<_>>()?,
        })
    }
}

impl Diff<'_> {
    /// The arguments of `part`'s process.
    fn args(&self, part: &Part) -> Vec<OsString> {
        let mut args: Vec<OsString> = self
            .ask
            .args(self.base, &self.range, &["-p", "-U0"])
            .into_iter()
            .map(OsString::from)
            .collect();
        if !part.group.whole {
            args.extend(
                part.group
                    .paths
                    .iter()
                    .map(|p| OsStr::from_bytes(p).to_owned()),
            );
        }
        args
    }

    /// Start `part`'s process as task `id` of `set`; `spawned` is told once it started.
    fn spawn(
        &self,
        set: &mut JoinSet<(usize, Option<diff::Parsed>)>,
        id: usize,
        part: &Part,
        spawned: Option<tokio::sync::mpsc::UnboundedSender<()>>,
    ) {
        let (ws, args) = (self.ws.to_owned(), self.args(part));
        self.read(
            set,
            id,
            part,
            move || crate::git::spawn(&ws, &args),
            spawned,
        );
    }

    /// Read, as task `id` of `set`, the process `start` starts for `part` (there, or
    /// already); `spawned` is told once it started.
    fn read(
        &self,
        set: &mut JoinSet<(usize, Option<diff::Parsed>)>,
        id: usize,
        part: &Part,
        start: impl FnOnce() -> Option<crate::git::Running> + Send + 'static,
        spawned: Option<tokio::sync::mpsc::UnboundedSender<()>>,
    ) {
        let origin = self.origin.clone();
        let (begun, limit) = (part.begun.clone(), part.limit.clone());
        set.spawn(async move {
            let parsed = async {
                let run = start();
                if let Some(spawned) = spawned {
                    let _ = spawned.send(());
                }
                let mut reader = diff::GitDiffReader::new(&origin);
                run?.stream(|piece| {
                    reader.limit_files(limit.load(Ordering::Relaxed));
                    reader.push(piece);
                    begun.store(reader.files(), Ordering::Relaxed);
                    if reader.stopped() {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                })
                .await?;
                Some(reader.finish())
            };
            (id, parsed.await)
        });
    }
}
