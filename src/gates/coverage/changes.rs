//! The lines a change adds: `git diff base...HEAD` when the base is in the clone, else the
//! pull-request files API. Runs git and calls GitHub; the parsing is in `diff.rs`.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::gates::Context;
use crate::github::{self, ApiError, GitHub};

use super::Error;
use super::config::CoverageConfig;
use super::diff::{self, ChangedLines, DiffError};
use super::evaluate::{DiffSource, DiffState};

/// Told once the `git diff` processes run, or that none will: the gate parses the reports
/// from then on, so the few milliseconds of git before the diff proper do not wait for a
/// core the parser holds.
pub(super) struct Started(Option<tokio::sync::oneshot::Sender<()>>);

impl Started {
    pub(super) fn new(tx: tokio::sync::oneshot::Sender<()>) -> Self {
        Self(Some(tx))
    }

    fn now(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

/// The changed lines: `git diff base...HEAD` when the base is in the clone; otherwise (a
/// shallow clone, `fetch-depth: 1`) the pull-request files API.
pub(super) async fn changed_lines(
    ctx: &Context,
    cfg: &CoverageConfig,
    mut started: Started,
) -> Result<DiffState, Error> {
    let pr = ctx.event.pull_request.as_ref();
    let base = cfg
        .base_ref
        .clone()
        .or_else(|| pr.map(|p| p.base_sha.clone()))
        .or_else(|| {
            (ctx.event.name == "merge_group")
                .then(|| ctx.event.base_sha.clone())
                .flatten()
        });
    let Some(base) = base else {
        return Ok(DiffState::Off("no pull request and no base-ref".into()));
    };
    let ws = &ctx.workspace;
    let mut candidates = vec![base.clone()];
    if !base.starts_with("origin/") {
        candidates.push(format!("origin/{base}"));
    }
    // With `from-run` the clone is this repository's default branch, not the change: only
    // the API knows the change's lines.
    let candidates = if cfg.from_run.is_some() {
        Vec::new()
    } else {
        candidates
    };
    for c in &candidates {
        // A revision, never an option (no ref or object name starts with `-`).
        if c.starts_with('-') {
            continue;
        }
        if let Some(lines) = git_diff(ws, c, &mut started).await {
            let lines = lines?;
            return Ok(DiffState::Available {
                lines,
                source: DiffSource::Git {
                    range: format!("{c}...HEAD"),
                },
                unknown: vec![],
            });
        }
    }
    started.now();
    let why_git = if cfg.from_run.is_some() {
        "with from-run the change is not in this clone".to_owned()
    } else {
        format!(
            "the base {base} is not in this clone (shallow checkout? fetch-depth: 0 fetches it)"
        )
    };
    let unavailable = |why: String| {
        if cfg.diff_threshold.is_some() {
            Err(Error::DiffUnavailable(why))
        } else {
            Ok(DiffState::Off(why))
        }
    };
    let (Some(pr), Some(gh)) = (pr, ctx.github.as_ref()) else {
        return unavailable(format!(
            "{why_git}, and there is no pull request and token to ask the API"
        ));
    };
    match pull_request_files(gh, pr.number).await {
        Ok((lines, unknown)) => {
            tracing::info!("{why_git}: changed lines taken from the pull request files API");
            Ok(DiffState::Available {
                lines,
                source: DiffSource::PullRequestFiles { number: pr.number },
                unknown,
            })
        }
        Err(PrFilesError::Api(e)) => unavailable(format!(
            "{why_git}, and the pull request files API failed: {}",
            crate::error::error_chain(&e)
        )),
        Err(PrFilesError::Diff(e)) => Err(Error::Diff(e)),
    }
}

/// git's own options for every diff here, before the command: plain `a/` and `b/`
/// prefixes whatever the user's configuration, paths taken literally.
const GIT: [&str; 5] = [
    "-c",
    "diff.mnemonicprefix=no",
    "-c",
    "diff.noprefix=no",
    "--literal-pathspecs",
];

/// The options of every diff here, after the command: no colour, renames followed (as
/// the pull request shows them), and git's default diff of the files' own lines whatever
/// the runner's `diff.*` settings: no external diff, no textconv, the default algorithm
/// with the indent heuristic (plumbing reads none of these settings; porcelain, the
/// fallback, would).
const DIFF: [&str; 6] = [
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--diff-algorithm=myers",
    "--indent-heuristic",
    "-M",
];

/// How the range is asked for. `git diff-tree --merge-base <base> HEAD` (git 2.30+) is
/// `git diff <base>...HEAD` in plumbing: the same text, but it takes a new-side file
/// from the work tree when the index says it is that blob (no inflating it), and no
/// `diff.*` preference of the runner's configuration (algorithm, textconv) changes which
/// lines count as added. Porcelain `git diff` is the fallback for older git, and for a
/// base with several merge-bases, which plumbing refuses and porcelain takes the first of.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Ask {
    Plumbing,
    Porcelain,
}

impl Ask {
    /// `git <args>` for `base`'s range with `extra` options, before the `--`.
    fn args<'a>(self, base: &'a str, range: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = GIT.to_vec();
        match self {
            Ask::Plumbing => args.extend(["diff-tree", "--merge-base"]),
            Ask::Porcelain => args.push("diff"),
        }
        args.extend(DIFF);
        args.extend(extra);
        match self {
            Ask::Plumbing => args.extend([base, "HEAD", "--"]),
            Ask::Porcelain => args.extend([range, "--"]),
        }
        args
    }
}

/// `git diff -M -U0 <base>...HEAD`'s added lines; `None` when the range is not in the
/// clone. A change of many files is diffed on both cores: the raw listing names the
/// files, and one process per group of them ([`diff::split::groups`]) diffs at once; the
/// texts together are the one diff's.
async fn git_diff(
    ws: &Path,
    base: &str,
    started: &mut Started,
) -> Option<Result<ChangedLines, DiffError>> {
    let range = format!("{base}...HEAD");
    let list = |ask: Ask| {
        let args = ask.args(base, &range, &["-r", "--raw", "-z"]);
        async move { crate::git::bytes(ws, &args).await }
    };
    let (ask, raw) = match list(Ask::Plumbing).await {
        Some(raw) => (Ask::Plumbing, raw),
        None => (Ask::Porcelain, list(Ask::Porcelain).await?),
    };
    let origin = format!("git diff {range}");
    // The patch of `paths` (all of the range when empty), without context lines, started
    // and read as it is written by a task of its own; `spawned` is told once it started.
    let patch = |paths: &[Vec<u8>], spawned: tokio::sync::mpsc::Sender<()>| {
        let mut args: Vec<OsString> = ask
            .args(base, &range, &["-p", "-U0"])
            .into_iter()
            .map(OsString::from)
            .collect();
        args.extend(paths.iter().map(|p| OsStr::from_bytes(p).to_owned()));
        let (ws, origin) = (ws.to_owned(), origin.clone());
        crate::git::Task::spawn(async move {
            let run = crate::git::spawn(&ws, &args);
            let _ = spawned.send(()).await;
            drop(spawned);
            let mut reader = diff::GitDiffReader::new(&origin);
            run?.stream(|piece| reader.push(piece)).await?;
            Some(reader.finish())
        })
    };
    let groups = diff::split::groups(&raw, 2).unwrap_or_else(|| vec![Vec::new()]);
    let (spawned, mut all_spawned) = tokio::sync::mpsc::channel(groups.len());
    let runs: Vec<_> = groups.iter().map(|g| patch(g, spawned.clone())).collect();
    drop(spawned);
    // The parser starts once every process has started.
    for _ in 0..runs.len() {
        if all_spawned.recv().await.is_none() {
            break;
        }
    }
    started.now();
    let mut parts = Vec::with_capacity(runs.len());
    for run in runs {
        match run.join().await.flatten() {
            Some(part) => parts.push(part),
            // Not seen: the listing worked. Once more as one process, to be sure.
            None => {
                let (spawned, _) = tokio::sync::mpsc::channel(1);
                let whole = patch(&[], spawned).join().await.flatten()?;
                return Some(diff::join_parts(vec![whole]));
            }
        }
    }
    Some(diff::join_parts(parts))
}

enum PrFilesError {
    Api(ApiError),
    Diff(DiffError),
}

/// `GET /repos/{owner}/{repo}/pulls/{n}/files`, every page (the API lists at most 3,000
/// files), each `patch` parsed for added lines.
async fn pull_request_files(
    gh: &GitHub,
    number: u64,
) -> Result<(ChangedLines, Vec<String>), PrFilesError> {
    let items = github::pulls::files(gh, number)
        .await
        .map_err(PrFilesError::Api)?;
    let mut lines = ChangedLines::new();
    let mut unknown = Vec::new();
    for item in items {
        let Some(name) = item.get("filename").and_then(|v| v.as_str()) else {
            continue;
        };
        if item.get("status").and_then(|v| v.as_str()) == Some("removed") {
            continue;
        }
        match item.get("patch").and_then(|v| v.as_str()) {
            Some(patch) => {
                let added = diff::added_lines(patch, &format!("pulls/{number}/files: {name}"))
                    .map_err(PrFilesError::Diff)?;
                if !added.is_empty() {
                    lines.insert(name.to_owned(), added);
                }
            }
            None => {
                if item.get("additions").and_then(|v| v.as_u64()).unwrap_or(0) > 0 {
                    unknown.push(name.to_owned());
                }
            }
        }
    }
    Ok((lines, unknown))
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::Command;

    use super::*;

    fn git(dir: &Path, args: &[&str]) -> Vec<u8> {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    fn write(dir: &Path, name: &str, text: &str) {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    fn body(n: usize, salt: &str) -> String {
        (0..n).map(|i| format!("line {i} {salt}\n")).collect()
    }

    /// The split diff is the one diff, file for file, on a change with every kind of
    /// entry and names that would be pathspec magic or globs if not taken literally.
    #[tokio::test]
    async fn the_split_diff_is_the_whole_diff() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let ws = tmp.path();
        git(ws, &["init", "-q", "-b", "main"]);
        let names: Vec<String> = (0..24)
            .map(|i| match i % 6 {
                0 => format!("src/mod {i}.py"),
                1 => format!("src/tab\t{i}.py"),
                2 => format!("src/\"q\" {i}.py"),
                3 => format!("src/ünï {i}.py"),
                4 => format!("src/[{i}]*.py"),
                _ => format!(":(exclude)src/{i}.py"),
            })
            .collect();
        for (i, n) in names.iter().enumerate() {
            write(ws, n, &body(40 + i, "base"));
        }
        write(ws, "src/renamed.py", &body(60, "moving"));
        write(ws, "src/deleted.py", &body(10, "gone"));
        write(ws, "logo.bin", "\0\x01\x02binary");
        git(ws, &["add", "-A"]);
        git(ws, &["commit", "-qm", "base"]);
        git(ws, &["checkout", "-qb", "pr"]);
        for (i, n) in names.iter().enumerate().filter(|(i, _)| i % 4 != 3) {
            let mut text = body(40 + i, "base");
            text = text.replace(&format!("line {} base", i % 7), "changed");
            text.push_str("appended\n");
            write(ws, n, &text);
        }
        git(ws, &["mv", "src/renamed.py", "src/moved.py"]);
        write(ws, "src/moved.py", &(body(60, "moving") + "one more\n"));
        git(ws, &["rm", "-q", "src/deleted.py"]);
        write(ws, "src/added.py", &body(5, "new"));
        write(ws, "logo.bin", "\0\x01\x03binary");
        git(ws, &["add", "-A"]);
        git(ws, &["commit", "-qm", "change"]);
        // The base moves on after the branch: `...` leaves its change out.
        git(ws, &["checkout", "-q", "main"]);
        write(ws, "src/later.py", &body(3, "later"));
        write(ws, &names[3], &body(50, "moved on"));
        git(ws, &["add", "-A"]);
        git(ws, &["commit", "-qm", "later"]);
        git(ws, &["checkout", "-q", "pr"]);
        // An edit in the work tree is not the commit's: the work-tree file must not be
        // taken for the blob.
        write(ws, &names[0], "not committed\n");

        let range = "main...HEAD";
        let raw = git(ws, &["diff", "-M", "--raw", "-z", range, "--"]);
        let groups = diff::split::groups(&raw, 2).map(|g| g.len());
        assert_eq!(
            groups,
            Some(2),
            "a change of {} files is split",
            names.len()
        );
        let (tx, rx) = tokio::sync::oneshot::channel();
        let split = git_diff(ws, "main", &mut Started::new(tx))
            .await
            .expect("the diff")
            .expect("parts parse");
        assert!(rx.await.is_ok(), "told the parser to start");
        let whole = git(
            ws,
            &["diff", "--no-color", "--no-ext-diff", "-M", "-U0", range],
        );
        let whole = diff::parse_git_diff(&String::from_utf8_lossy(&whole), range).expect("parses");
        assert_eq!(split, whole);
        // What the comparison covers: the renamed file under its new name, the added
        // file, and each modified name taken literally (18 of the 24).
        assert!(split.contains_key("src/moved.py") && split.contains_key("src/added.py"));
        assert!(!split.contains_key("src/renamed.py") && !split.contains_key("src/deleted.py"));
        let modified = names
            .iter()
            .filter(|n| split.contains_key(n.as_str()))
            .count();
        assert_eq!(modified, 18);
        assert!(!split.contains_key("src/later.py"));
    }

    /// Branches merged into each other both ways have two merge-bases: plumbing refuses
    /// the range, and porcelain's diff (against the first) is taken instead.
    #[tokio::test]
    async fn several_merge_bases_fall_back_to_porcelain() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let ws = tmp.path();
        git(ws, &["init", "-q", "-b", "main"]);
        write(ws, "a.py", &body(20, "base"));
        // Myers and patience (or histogram) add different lines here.
        write(ws, "p.py", "b\ne\nd\nd\nf\nf\nc\nd\n");
        // The indent heuristic places this added block one line up.
        write(ws, "h.py", "{\n  foo\n}\n\n{\n  bar\n}\n");
        git(ws, &["add", "-A"]);
        git(ws, &["commit", "-qm", "base"]);
        git(ws, &["checkout", "-qb", "pr"]);
        write(ws, "b.py", &body(5, "pr"));
        git(ws, &["add", "-A"]);
        git(ws, &["commit", "-qm", "pr 1"]);
        git(ws, &["checkout", "-q", "main"]);
        write(ws, "c.py", &body(5, "main"));
        git(ws, &["add", "-A"]);
        git(ws, &["commit", "-qm", "main 1"]);
        git(ws, &["branch", "-q", "main-1"]);
        git(ws, &["merge", "-q", "--no-edit", "pr~0"]);
        git(ws, &["checkout", "-q", "pr"]);
        git(ws, &["merge", "-q", "--no-edit", "main-1"]);
        write(ws, "a.py", &(body(20, "base") + "added\n"));
        write(ws, "p.py", "c\nd\nd\nb\na\nd\n");
        write(ws, "h.py", "{\n  foo\n}\n\n{\n  baz\n}\n\n{\n  bar\n}\n");
        // The runner's settings must not change the lines: a textconv driver that
        // doubles every line, and another algorithm.
        write(ws, ".gitattributes", "*.py diff=twice\n");
        git(ws, &["config", "diff.twice.textconv", "sed p"]);
        git(ws, &["config", "diff.algorithm", "patience"]);
        git(ws, &["config", "diff.indentHeuristic", "false"]);
        git(ws, &["add", "-A"]);
        git(ws, &["commit", "-qm", "pr 2"]);
        let bases = git(ws, &["merge-base", "--all", "main", "HEAD"]);
        assert_eq!(
            bases
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .count(),
            2
        );
        let plumbing = Ask::Plumbing.args("main", "main...HEAD", &["-r", "--raw"]);
        let refused = Command::new("git")
            .arg("-C")
            .arg(ws)
            .args(&plumbing)
            .output();
        assert!(!refused.expect("git runs").status.success());

        let (tx, _rx) = tokio::sync::oneshot::channel();
        let lines = git_diff(ws, "main", &mut Started::new(tx))
            .await
            .expect("porcelain takes the range")
            .expect("parses");
        let whole = git(
            ws,
            &[
                "diff",
                "--no-textconv",
                "--diff-algorithm=myers",
                "--indent-heuristic",
                "-M",
                "-U0",
                "main...HEAD",
            ],
        );
        let whole = diff::parse_git_diff(&String::from_utf8_lossy(&whole), "r").expect("parses");
        assert_eq!(lines, whole);
        let added = |name: &str| {
            lines
                .get(name)
                .map(|s| s.iter().copied().collect::<Vec<_>>())
        };
        assert_eq!(added("a.py"), Some(vec![21]));
        assert_eq!(added("p.py"), Some(vec![1, 4, 5]));
        assert_eq!(added("h.py"), Some(vec![5, 6, 7, 8]));
    }
}
