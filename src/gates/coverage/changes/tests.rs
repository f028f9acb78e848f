//! The changed lines from git: split diffs, files taken over, several merge-bases and the
//! runner's settings, each against one porcelain `git diff` of the range.

use std::path::Path;
use std::process::Command;

use super::parts::{Diff, Runs};
use super::*;
use crate::gates::coverage::diff::split::Group;

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

/// Porcelain `git diff <options> main...HEAD`, read: what the gate's diff must equal.
fn porcelain(ws: &Path, options: &[&str]) -> ChangedLines {
    let mut args = vec!["diff"];
    args.extend(options);
    args.push("main...HEAD");
    let text = git(ws, &args);
    diff::parse_git_diff(&String::from_utf8_lossy(&text), "r").expect("parses")
}

/// The gate's own diff of the range from `main`.
async fn ours(ws: &Path) -> ChangedLines {
    let (tx, _rx) = tokio::sync::watch::channel(false);
    git_diff(ws, "main", &mut Started::new(tx))
        .await
        .expect("the diff")
        .expect("parses")
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
    // Added and renamed files late in the listing: groups, not the whole range's process.
    let plan = diff::split::plan(&raw, 2);
    assert!(
        matches!(&plan, diff::split::Plan::Groups(g) if g.len() == 2),
        "a change of {} files is split: {plan:?}",
        names.len()
    );
    let (tx, rx) = tokio::sync::watch::channel(false);
    let split = git_diff(ws, "main", &mut Started::new(tx))
        .await
        .expect("the diff")
        .expect("parts parse");
    assert!(*rx.borrow(), "told the parser to start");
    let whole = porcelain(ws, &["--no-color", "--no-ext-diff", "-M", "-U0"]);
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

    // Porcelain takes the range.
    let lines = ours(ws).await;
    let whole = porcelain(
        ws,
        &[
            "--no-textconv",
            "--diff-algorithm=myers",
            "--indent-heuristic",
            "-M",
            "-U0",
        ],
    );
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

/// A repository whose branch `pr` changes every third line of each of `names` (3,000
/// lines each: a diff of tens of milliseconds); `beside` adds to the base commit
/// (`false`) and to the change (`true`).
fn every_third_changed(ws: &Path, names: &[String], mut beside: impl FnMut(&Path, bool)) {
    git(ws, &["init", "-q", "-b", "main"]);
    for n in names {
        write(ws, n, &body(3000, "base"));
    }
    beside(ws, false);
    git(ws, &["add", "-A"]);
    git(ws, &["commit", "-qm", "base"]);
    git(ws, &["checkout", "-qb", "pr"]);
    let changed: String = body(3000, "base")
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i % 3 == 0 {
                format!("{l} changed\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    for n in names {
        write(ws, n, &changed);
    }
    beside(ws, true);
    git(ws, &["add", "-A"]);
    git(ws, &["commit", "-qm", "change"]);
}

/// A process with many files left when another ends gives the later half of them to
/// a new one, and the parts still read as the one diff. (Whether it happens depends
/// on timing, so the test tries until it has; every try must read the whole diff.)
#[tokio::test]
async fn files_taken_over_read_as_the_one_diff() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ws = tmp.path();
    let names: Vec<String> = (0..60).map(|i| format!("src/m{i:02}.py")).collect();
    every_third_changed(ws, &names, |ws, changed| {
        let added = if changed { "added\n" } else { "" };
        write(ws, "a.py", &(body(5, "base") + added));
    });
    let whole = porcelain(ws, &["--no-color", "-M", "-U0"]);
    assert_eq!(whole.len(), 61);

    let diff = Diff {
        ws,
        ask: Ask::Plumbing,
        base: "main",
        range: "main...HEAD".into(),
        origin: "git diff main...HEAD".into(),
    };
    let group = |paths: &[String]| Group {
        paths: paths.iter().map(|p| p.as_bytes().to_vec()).collect(),
        cut_from: 0,
        whole: false,
    };
    let mut taken = 0;
    for _ in 0..20 {
        let mut runs = Runs::new(&diff);
        runs.start(group(&["a.py".to_owned()]));
        runs.start(group(&names));
        let read = runs.finish().await.expect("the diff");
        taken += read.taken_over;
        assert_eq!(diff::join_parts(read.parts).expect("parses"), whole);
        if taken > 0 {
            break;
        }
    }
    assert!(taken > 0, "a process took files over");

    // The gate's own way: every file modified, so the whole range's process, started
    // beside the listing, gives the later half of its files to a second at once.
    let raw = git(ws, &["diff-tree", "-r", "--raw", "-z", "main", "HEAD"]);
    assert!(matches!(
        diff::split::plan(&raw, 2),
        diff::split::Plan::Whole { cut_from: 0, .. }
    ));
    assert_eq!(ours(ws).await, whole);
}

/// A file become a link is two `diff --git` headers for one listing entry: the change
/// is diffed in groups, and still reads as the one diff.
#[tokio::test]
async fn a_type_change_reads_as_the_one_diff() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ws = tmp.path();
    let names: Vec<String> = (0..20).map(|i| format!("m{i:02}.py")).collect();
    every_third_changed(ws, &names, |ws, changed| {
        if changed {
            std::fs::remove_file(ws.join("a-link")).expect("rm");
            std::os::unix::fs::symlink("m00.py", ws.join("a-link")).expect("symlink");
        } else {
            write(ws, "a-link", "a file\n");
        }
    });
    let raw = git(ws, &["diff-tree", "-r", "--raw", "-z", "main", "HEAD"]);
    assert!(raw.windows(3).any(|w| w == b" T\0"), "a type change");
    assert!(matches!(
        diff::split::plan(&raw, 2),
        diff::split::Plan::Groups(_)
    ));
    let whole = porcelain(ws, &["--no-color", "-M", "-U0"]);
    let lines = ours(ws).await;
    assert_eq!(lines, whole);
    assert!(lines.contains_key("a-link") && lines.len() == 21);
}
