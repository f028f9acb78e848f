//! One `git diff` on both cores: `git diff --raw -z -M` (trees only, a millisecond) lists
//! what changed; the paths are then split into groups that separate `git diff` processes
//! diff at once, each limited to its group's paths. Pure: the listing in, the groups out.
//!
//! The groups give, together, exactly the text one `git diff -M` of the whole range gives,
//! file for file: a modified file's diff does not depend on which other paths are asked
//! for, and every path rename detection can pair (each added, deleted, renamed or copied
//! path, and a copy's source) is in the first group, so that group's detection sees the
//! same candidates the whole run saw.
//!
//! A group of modified files only can also be cut while its process runs: git writes the
//! files' diffs in the listing's order, one `diff --git` header each, so a process told to
//! stop before its `n`-th file, and a new process for the paths from there on, together
//! give the group's text ([`take_over`] chooses where; `changes/parts.rs` does it).

/// Fewer changed files than this are diffed by one process (a second one costs more
/// than it saves).
pub(crate) const MIN_FILES: usize = 8;

/// More paths than this, or more bytes of them, are diffed by one process: git matches
/// every tree entry it visits against every pathspec, so a pathspec list far longer
/// would cost more than the second core gives, and command lines have a limit.
pub(crate) const MAX_PATHS: usize = 4_000;
const MAX_PATH_BYTES: usize = 256 << 10;

/// Fewest files a process must have left to start for another to take half of them (a
/// git's start costs about what four of the benchmark's files do).
pub(crate) const MIN_TAKEN: usize = 4;

/// Paths one process diffs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Group {
    /// The paths, in the listing's order, which is the order git writes their diffs in.
    pub paths: Vec<Vec<u8>>,
    /// Every path is a modified file (no rename or copy to pair): each diffs alike
    /// whichever others are asked for, so another process can take any of them over.
    pub splittable: bool,
}

/// The groups of paths to diff, one process each, or `None` for one `git diff` of the
/// whole range (too few or too many files, or a listing this reader does not know).
pub(crate) fn groups(raw: &[u8], n: usize) -> Option<Vec<Group>> {
    let entries = entries(raw)?;
    let count = entries.len();
    let bytes: usize = entries.iter().flat_map(|e| &e.paths).map(Vec::len).sum();
    if n < 2 || !(MIN_FILES..=MAX_PATHS).contains(&count) || bytes > MAX_PATH_BYTES {
        return None;
    }
    let mut out: Vec<Vec<Vec<u8>>> = vec![Vec::new(); n];
    // Everything rename detection pairs goes to the first group, and a modified file
    // that is also a copy's source goes with it (asked for once, diffed once).
    let mut first: std::collections::HashSet<&[u8]> = std::collections::HashSet::new();
    for e in entries.iter().filter(|e| e.status != b'M') {
        for p in &e.paths {
            if first.insert(p) {
                out[0].push(p.clone());
            }
        }
    }
    // Modified files are dealt round the groups; the first already has the rest.
    let mut next = usize::from(!out[0].is_empty());
    for e in entries.iter().filter(|e| e.status == b'M') {
        let p = &e.paths[0];
        if first.contains(p.as_slice()) {
            continue;
        }
        out[next % n].push(p.clone());
        next += 1;
    }
    let pairs = !first.is_empty();
    let out: Vec<Group> = out
        .into_iter()
        .enumerate()
        .filter(|(_, g)| !g.is_empty())
        .map(|(k, paths)| Group {
            paths,
            splittable: k > 0 || !pairs,
        })
        .collect();
    (out.len() > 1).then_some(out)
}

/// How far a running process is: it has begun its `started` first paths and stops
/// before path `end` (the paths from `end` on are another's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Progress {
    pub started: usize,
    pub end: usize,
    pub splittable: bool,
}

/// When a process has ended: which running one to take work from, and from which of
/// its paths on, or `None`. The one with the most paths left to start gives up the
/// later half of them, when it has [`MIN_TAKEN`] or more left: both cores stay busy to
/// the end instead of one finishing alone.
pub(crate) fn take_over(running: &[Progress]) -> Option<(usize, usize)> {
    let (k, p) = running
        .iter()
        .enumerate()
        .filter(|(_, p)| p.splittable)
        .max_by_key(|(_, p)| p.end.saturating_sub(p.started))?;
    let left = p.end.saturating_sub(p.started);
    (left >= MIN_TAKEN).then_some((k, p.started + left / 2))
}

/// One record of `git diff --raw -z`.
struct Entry {
    /// The status letter (`M`, `A`, `D`, `R`, `C`, `T`, ...).
    status: u8,
    /// The path; for `R` and `C` the source, then the destination.
    paths: Vec<Vec<u8>>,
}

/// The records of `git diff --raw -z` output: `:<mode> <mode> <oid> <oid> <status>\0`
/// then the path (two for `R` and `C`), each NUL-terminated. `None` for anything else.
fn entries(raw: &[u8]) -> Option<Vec<Entry>> {
    let mut out = Vec::new();
    let mut fields = raw.split(|&b| b == 0);
    while let Some(head) = fields.next() {
        if head.is_empty() {
            // The end: `split` yields one empty field after the last NUL.
            if fields.next().is_some() {
                return None;
            }
            break;
        }
        let head = head.strip_prefix(b":")?;
        let status = *head.rsplit(|&b| b == b' ').next()?.first()?;
        let names = if matches!(status, b'R' | b'C') { 2 } else { 1 };
        let mut paths = Vec::with_capacity(names);
        for _ in 0..names {
            let p = fields.next().filter(|p| !p.is_empty())?;
            paths.push(p.to_vec());
        }
        out.push(Entry { status, paths });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(records: &[(&str, &[&str])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (status, paths) in records {
            out.extend_from_slice(format!(":100644 100644 1111111 2222222 {status}\0").as_bytes());
            for p in *paths {
                out.extend_from_slice(p.as_bytes());
                out.push(0);
            }
        }
        out
    }

    fn names(groups: &[Group]) -> Vec<Vec<String>> {
        groups
            .iter()
            .map(|g| {
                g.paths
                    .iter()
                    .map(|p| String::from_utf8_lossy(p).into_owned())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn modified_files_are_dealt_round_and_pairable_ones_stay_together() {
        let mut recs: Vec<(&str, &[&str])> = vec![
            ("R087", &["old.py", "new.py"]),
            ("A", &["added.py"]),
            ("D", &["gone.py"]),
            ("C075", &["src.py", "copy.py"]),
            ("M", &["src.py"]),
        ];
        let ms = ["m0", "m1", "m2", "m3", "m4"];
        for m in &ms {
            recs.push(("M", std::slice::from_ref(m)));
        }
        let g = groups(&raw(&recs), 2).expect("split");
        assert_eq!(
            names(&g),
            vec![
                vec![
                    "old.py", "new.py", "added.py", "gone.py", "src.py", "copy.py", "m1", "m3"
                ],
                vec!["m0", "m2", "m4"],
            ]
        );
        // The pairable ones' group stays whole; the dealt one can be taken over.
        assert_eq!(
            g.iter().map(|g| g.splittable).collect::<Vec<_>>(),
            [false, true]
        );
    }

    #[test]
    fn the_one_with_most_left_gives_up_the_later_half() {
        let p = |started, end, splittable| Progress {
            started,
            end,
            splittable,
        };
        // The second has 40 paths left to start: it keeps 20, another takes 20 on.
        assert_eq!(
            take_over(&[p(90, 100, true), p(60, 100, true)]),
            Some((1, 80))
        );
        // An odd count: the running one keeps the smaller half (it is inside a file).
        assert_eq!(take_over(&[p(3, 8, true)]), Some((0, 5)));
        // Pairable paths stay with their process, however many are left.
        assert_eq!(
            take_over(&[p(0, 100, false), p(95, 100, true)]),
            Some((1, 97))
        );
        assert_eq!(take_over(&[p(0, 100, false)]), None);
        // Too few left to pay for a start, or past its end already (it saw the limit
        // late: it stops at its next file).
        assert_eq!(take_over(&[p(97, 100, true)]), None);
        assert_eq!(take_over(&[p(12, 10, true)]), None);
        assert_eq!(take_over(&[]), None);
    }

    #[test]
    fn every_path_is_asked_for_once() {
        let paths: Vec<String> = (0..40)
            .map(|i| format!("dir with space/f\t{i}.rs"))
            .collect();
        let recs: Vec<(&str, Vec<&str>)> = paths.iter().map(|p| ("M", vec![p.as_str()])).collect();
        let recs: Vec<(&str, &[&str])> = recs.iter().map(|(s, p)| (*s, p.as_slice())).collect();
        let g = groups(&raw(&recs), 2).expect("split");
        let mut all: Vec<String> = names(&g).concat();
        all.sort();
        let mut want = paths.clone();
        want.sort();
        assert_eq!(all, want);
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].paths.len(), 20);
        assert!(g.iter().all(|g| g.splittable), "modified files only");
    }

    #[test]
    fn small_large_or_unknown_listings_are_one_process() {
        let few: Vec<(&str, &[&str])> = vec![("M", &["a"]), ("M", &["b"])];
        assert!(groups(&raw(&few), 2).is_none());
        let many: Vec<String> = (0..=MAX_PATHS).map(|i| format!("f{i}")).collect();
        let recs: Vec<(&str, Vec<&str>)> = many.iter().map(|p| ("M", vec![p.as_str()])).collect();
        let recs: Vec<(&str, &[&str])> = recs.iter().map(|(s, p)| (*s, p.as_slice())).collect();
        assert!(groups(&raw(&recs), 2).is_none());
        // Not a raw listing: a patch, a record without its path, a truncated rename.
        let eight: Vec<String> = (0..8).map(|i| format!("f{i}")).collect();
        let recs: Vec<(&str, Vec<&str>)> = eight.iter().map(|p| ("M", vec![p.as_str()])).collect();
        let recs: Vec<(&str, &[&str])> = recs.iter().map(|(s, p)| (*s, p.as_slice())).collect();
        assert!(groups(&raw(&recs), 2).is_some());
        assert!(groups(b"diff --git a/x b/x\n", 2).is_none());
        assert!(groups(b":100644 100644 1 2 M\0", 2).is_none());
        assert!(groups(b":100644 100644 1 2 R100\0a\0", 2).is_none());
        // Only pairable files: nothing to deal round.
        let added: Vec<String> = (0..8).map(|i| format!("a{i}")).collect();
        let recs: Vec<(&str, Vec<&str>)> = added.iter().map(|p| ("A", vec![p.as_str()])).collect();
        let pairs: Vec<(&str, &[&str])> = recs.iter().map(|(s, p)| (*s, p.as_slice())).collect();
        assert!(groups(&raw(&pairs), 2).is_none());
    }
}
