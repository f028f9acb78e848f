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
use super::{Ask, Started};

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
    running: bool,
    parsed: Option<diff::Parsed>,
}

impl Part {
    fn new(group: Group) -> Self {
        Self {
            group,
            begun: Arc::new(AtomicUsize::new(0)),
            limit: Arc::new(AtomicUsize::new(usize::MAX)),
            running: true,
            parsed: None,
        }
    }

    fn progress(&self) -> Progress {
        Progress {
            started: self.begun.load(Ordering::Relaxed),
            end: self
                .limit
                .load(Ordering::Relaxed)
                .min(self.group.paths.len()),
            splittable: self.group.splittable,
        }
    }
}

type Parts = JoinSet<(usize, Option<diff::Parsed>)>;

/// What the diff processes of a range read.
pub(super) struct Read {
    /// Each process's reading, in the order they started.
    pub parts: Vec<diff::Parsed>,
    /// How many processes took files over from a slower one.
    pub taken_over: usize,
}

impl Diff<'_> {
    /// The groups' patches, each group's process started, and its text read as it is
    /// written, by a task of its own; `started` is told once every first process runs.
    /// When a process ends while another still has files to begin, a new process takes
    /// the later half of those over ([`diff::split::take_over`]). `None` when a process
    /// fails, or a process that read to its end did not read a file per path (the
    /// listing and the diff disagree).
    pub(super) async fn parts(
        &self,
        groups: Vec<Group>,
        started: Option<&mut Started>,
    ) -> Option<Read> {
        let mut set = Parts::new();
        let mut parts: Vec<Part> = groups.into_iter().map(Part::new).collect();
        let (spawned, mut all_spawned) = tokio::sync::mpsc::channel(parts.len());
        for (id, part) in parts.iter().enumerate() {
            self.spawn(&mut set, id, part, Some(spawned.clone()));
        }
        drop(spawned);
        // The parser starts once every process has started.
        for _ in 0..parts.len() {
            if all_spawned.recv().await.is_none() {
                break;
            }
        }
        if let Some(started) = started {
            started.now();
        }
        let first = parts.len();
        while let Some(joined) = set.join_next().await {
            let (id, parsed) = match joined {
                Ok(done) => done,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(_) => return None,
            };
            let parsed = parsed?;
            let part = parts.get_mut(id)?;
            part.running = false;
            if part.group.splittable
                && !parsed.stopped()
                && parsed.files() != part.group.paths.len()
            {
                tracing::debug!(
                    "{}: {} files read for {} paths; diffed again as one",
                    self.origin,
                    parsed.files(),
                    part.group.paths.len()
                );
                return None;
            }
            part.parsed = Some(parsed);
            let running: Vec<usize> = (0..parts.len()).filter(|&k| parts[k].running).collect();
            let progress: Vec<Progress> = running.iter().map(|&k| parts[k].progress()).collect();
            if let Some((k, from)) = diff::split::take_over(&progress) {
                let victim = &parts[running[k]];
                let paths = victim.group.paths.get(from..progress[k].end)?.to_vec();
                victim.limit.store(from, Ordering::Relaxed);
                let taken = Part::new(Group {
                    paths,
                    splittable: true,
                });
                self.spawn(&mut set, parts.len(), &taken, None);
                parts.push(taken);
            }
        }
        Some(Read {
            taken_over: parts.len() - first,
            parts: parts.into_iter().map(|p| p.parsed).collect::<Option<_>>()?,
        })
    }

    /// Start `part`'s process as task `id` of `set`; `spawned` is told once it started.
    fn spawn(
        &self,
        set: &mut Parts,
        id: usize,
        part: &Part,
        spawned: Option<tokio::sync::mpsc::Sender<()>>,
    ) {
        let mut args: Vec<OsString> = self
            .ask
            .args(self.base, &self.range, &["-p", "-U0"])
            .into_iter()
            .map(OsString::from)
            .collect();
        args.extend(
            part.group
                .paths
                .iter()
                .map(|p| OsStr::from_bytes(p).to_owned()),
        );
        let (ws, origin) = (self.ws.to_owned(), self.origin.clone());
        let (begun, limit) = (part.begun.clone(), part.limit.clone());
        set.spawn(async move {
            let parsed = async {
                let run = crate::git::spawn(&ws, &args);
                if let Some(spawned) = spawned {
                    let _ = spawned.send(()).await;
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
