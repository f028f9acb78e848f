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

/// Fewest files a process must have left to start for another to take half of them. A
/// new git is 1.5 ms from its start to its first file (1.2 ms of CPU), and one of the
/// benchmark's files takes it 0.23 ms: a process given `g` files ends `1.5 + 0.23 g` ms
/// on, where the one it relieves would have ended `0.23 g` ms later than now, so the
/// new process pays only from about 7 files given (and each start costs a core 1.2 ms
/// beside the others' work). Measured, 150 interleaved runs each: 4 -> 12 or 24 took the
/// diff run 57.9 -> 56.6 / 56.1 ms and 101 -> 98.5 / 97.0 ms of CPU.
pub(crate) const MIN_TAKEN: usize = 16;

/// What one process diffs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Group {
    /// The paths, in the listing's order, which is the order git writes their diffs in:
    /// one `diff --git` header each. For the whole range, one per listing entry (a
    /// rename's destination), or none when the listing is not known.
    pub paths: Vec<Vec<u8>>,
    /// From this path on every path is a modified file (no rename or copy to pair),
    /// which diffs alike whichever others are asked for: another process can take any
    /// of them over. `paths.len()` when none can be.
    pub cut_from: usize,
    /// The whole range, no paths asked for.
    pub whole: bool,
}

impl Group {
    /// Whether a process that reads to its end must have read one file per path (the
    /// listing and the diff agree), as it must when the paths are known and none pairs.
    pub(crate) fn one_file_per_path(&self) -> bool {
        !self.paths.is_empty() && (self.whole || self.cut_from == 0)
    }

    /// The whole range, its files not known (yet).
    pub(crate) fn whole() -> Self {
        Self {
            paths: Vec::new(),
            cut_from: 0,
            whole: true,
        }
    }
}

/// How the range is diffed, once its listing is known, given a process already diffing
/// the whole of it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// That process alone (too few or too many files, or a listing this reader does not
    /// know); another takes files over only from `cut_from` on.
    Whole {
        paths: Vec<Vec<u8>>,
        cut_from: usize,
    },
    /// In groups, one process each, that one stopped: renamed, added or deleted files
    /// come late in the listing, where the whole range's process cannot give them up.
    Groups(Vec<Group>),
}

/// How to diff the range of `raw`, its listing, on `n` cores (see [`Plan`]). The whole
/// range's process keeps its work when the files it may give up (the modified files
/// after the last other entry) are half of them or more.
pub(crate) fn plan(raw: &[u8], n: usize) -> Plan {
    let alone = Plan::Whole {
        paths: Vec::new(),
        cut_from: 0,
    };
    let Some(entries) = to_split(raw, n) else {
        return alone;
    };
    let count = entries.len();
    let modified_tail = entries
        .iter()
        .rev()
        .take_while(|e| e.status == b'M')
        .count();
    let cut_from = count - modified_tail;
    // One `diff --git` header per entry, or the headers do not say which entry git is
    // at: a type change (a file become a link) is written as a deletion and a creation.
    let one_header_each = entries
        .iter()
        .all(|e| matches!(e.status, b'M' | b'A' | b'D' | b'R' | b'C'));
    if one_header_each && cut_from <= count / 2 {
        let paths = entries
            .into_iter()
            .map(|mut e| e.paths.pop().unwrap_or_default())
            .collect();
        return Plan::Whole { paths, cut_from };
    }
    deal(&entries, n).map_or(alone, Plan::Groups)
}

/// The listing's entries, when it is one this reader knows and worth splitting on `n`
/// cores (neither too few files nor too many).
fn to_split(raw: &[u8], n: usize) -> Option<Vec<Entry>> {
    let entries = entries(raw)?;
    let count = entries.len();
    let bytes: usize = entries.iter().flat_map(|e| &e.paths).map(Vec::len).sum();
    (n >= 2 && (MIN_FILES..=MAX_PATHS).contains(&count) && bytes <= MAX_PATH_BYTES)
        .then_some(entries)
}

/// The listing's groups of paths, one process each, or `None` for one `git diff` of the
/// whole range (too few or too many files, or a listing this reader does not know).
#[cfg(test)]
fn groups(raw: &[u8], n: usize) -> Option<Vec<Group>> {
    deal(&to_split(raw, n)?, n)
}

/// `entries` dealt into `n` groups; `None` when they make only one.
fn deal(entries: &[Entry], n: usize) -> Option<Vec<Group>> {
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
            cut_from: if k > 0 || !pairs { 0 } else { paths.len() },
            paths,
            whole: false,
        })
        .collect();
    (out.len() > 1).then_some(out)
}

/// How far a running process is: it has begun its `started` first paths and stops
/// before path `end` (the paths from `end` on are another's); from path `cut_from` on,
/// another may take its paths over ([`Group::cut_from`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Progress {
    pub started: usize,
    pub end: usize,
    pub cut_from: usize,
}

impl Progress {
    /// Where to cut it, and how many paths the cut gives away: half of what it has left
    /// to start, or less where it may not cut.
    fn cut(&self) -> (usize, usize) {
        let left = self.end.saturating_sub(self.started);
        let at = (self.started + left / 2).max(self.cut_from);
        (at, self.end.saturating_sub(at))
    }
}

/// When a process has started or ended: which running one to take work from, and from
/// which of its paths on, or `None`. The one that would give the most gives up the later
/// half of what it has left to start, when that half is [`MIN_TAKEN`]` / 2` paths or
/// more: both cores stay busy to the end instead of one finishing alone.
pub(crate) fn take_over(running: &[Progress]) -> Option<(usize, usize)> {
    let (k, p) = running.iter().enumerate().max_by_key(|(_, p)| p.cut().1)?;
    let (at, given) = p.cut();
    (given >= MIN_TAKEN / 2 && p.end.saturating_sub(p.started) >= MIN_TAKEN).then_some((k, at))
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
        assert_eq!(g.iter().map(|g| g.cut_from).collect::<Vec<_>>(), [8, 0]);
    }

    #[test]
    fn the_whole_range_keeps_its_process_when_half_its_files_can_be_given_up() {
        let names: Vec<String> = (0..10).map(|i| format!("f{i}")).collect();
        let with = |statuses: &[&'static str]| {
            let recs: Vec<(&str, Vec<&str>)> = names
                .iter()
                .zip(statuses)
                .map(|(n, s)| (*s, vec![n.as_str()]))
                .collect();
            let recs: Vec<(&str, &[&str])> = recs.iter().map(|(s, p)| (*s, p.as_slice())).collect();
            plan(&raw(&recs), 2)
        };
        let all: Vec<Vec<u8>> = names.iter().map(|n| n.as_bytes().to_vec()).collect();
        let m = ["M"; 10];
        assert_eq!(
            with(&m),
            Plan::Whole {
                paths: all.clone(),
                cut_from: 0
            }
        );
        let mut early = m;
        early[..5].copy_from_slice(&["A", "D", "M", "A", "M"]);
        assert_eq!(
            with(&early),
            Plan::Whole {
                paths: all.clone(),
                cut_from: 4
            }
        );
        // A rename's header names its destination.
        let renamed = plan(
            &raw(&[
                ("R090", &["old", "new"]),
                ("M", &["a"]),
                ("M", &["b"]),
                ("M", &["c"]),
                ("M", &["d"]),
                ("M", &["e"]),
                ("M", &["f"]),
                ("M", &["g"]),
            ]),
            2,
        );
        let Plan::Whole { paths, cut_from: 1 } = renamed else {
            panic!("{renamed:?}")
        };
        assert_eq!(paths[0], b"new");
        // A type change early: two headers for one entry, so the groups instead.
        let mut typechange = m;
        typechange[0] = "T";
        assert!(matches!(with(&typechange), Plan::Groups(_)));
        // Added late: the groups instead.
        let mut late = m;
        late[9] = "A";
        assert!(matches!(with(&late), Plan::Groups(g) if g.len() == 2));
        // Too few, or not a listing: the whole range's process alone.
        let alone = Plan::Whole {
            paths: Vec::new(),
            cut_from: 0,
        };
        assert_eq!(with(&m[..7]), alone);
        assert_eq!(plan(b"diff --git a/x b/x\n", 2), alone);
    }

    #[test]
    fn the_one_with_most_left_gives_up_the_later_half() {
        let p = |started, end, cut_from| Progress {
            started,
            end,
            cut_from,
        };
        // The second has 40 paths left to start: it keeps 20, another takes 20 on.
        assert_eq!(take_over(&[p(90, 100, 0), p(60, 100, 0)]), Some((1, 80)));
        // An odd count: the running one keeps the smaller half (it is inside a file).
        assert_eq!(take_over(&[p(3, 40, 0)]), Some((0, 21)));
        // Pairable paths stay with their process, however many are left.
        assert_eq!(take_over(&[p(0, 100, 100), p(60, 100, 0)]), Some((1, 80)));
        assert_eq!(take_over(&[p(0, 100, 100)]), None);
        // The whole range's process gives up only its modified files at the end.
        assert_eq!(take_over(&[p(0, 100, 70)]), Some((0, 70)));
        assert_eq!(take_over(&[p(0, 100, 99)]), None);
        // Too few left to pay for a start (MIN_TAKEN), or past its end already (it saw
        // the limit late: it stops at its next file).
        assert_eq!(take_over(&[p(84, 100, 0)]), Some((0, 92)));
        assert_eq!(take_over(&[p(85, 100, 0)]), None);
        assert_eq!(take_over(&[p(97, 100, 0)]), None);
        assert_eq!(take_over(&[p(12, 10, 0)]), None);
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
        assert!(g.iter().all(|g| g.cut_from == 0), "modified files only");
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
