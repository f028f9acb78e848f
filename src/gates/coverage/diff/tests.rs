//! Diff parser tests: a real `git diff` of every awkward shape, API patches, and the
//! inputs that once fooled a line-prefix parser.

use super::*;

fn set(v: &[u32]) -> BTreeSet<u32> {
    v.iter().copied().collect()
}

#[test]
fn real_git_diff_of_every_shape() {
    // Made by tests/fixtures/diff/make_edge_cases.sh with the command the gate runs.
    let text = include_str!("../../../../tests/fixtures/diff/edge-cases.diff");
    let c = parse_git_diff(text, "git diff").unwrap();
    let want: ChangedLines = [
        ("sp ace.c", set(&[2, 3])),
        ("tab\there.c", set(&[2])),
        ("quo\"te.c", set(&[2])),
        ("é.c", set(&[2])),
        ("new.c", set(&[11])),
        ("nonl.c", set(&[1, 2])),
        // Added lines that look like `---`/`+++`/`@@` headers are still added lines.
        ("code.c", set(&[1, 2, 3])),
    ]
    .into_iter()
    .map(|(p, l)| (p.to_owned(), l))
    .collect();
    assert_eq!(c, want);
}

#[test]
fn header_lookalikes_in_hunks_are_content() {
    // `++ counter;` and `-- y;` added, and `--- a` removed: a prefix parser took them for
    // file headers and lost the change (diff coverage 0/0, a pass).
    let diff = "\
diff --git a/a.c b/a.c
--- a/a.c
+++ b/a.c
@@ -1,2 +1,4 @@
---- a
+++ counter;
+-- y;
+++ b/other.c
 int x;
";
    let c = parse_git_diff(diff, "git diff").unwrap();
    assert_eq!(c, ChangedLines::from([("a.c".into(), set(&[1, 2, 3]))]));
    let patch = "@@ -1 +1,2 @@\n-- y;\n+++ counter;\n+-- z;";
    assert_eq!(
        added_lines(patch, "pulls/1/files: a.c").unwrap(),
        set(&[1, 2])
    );
}

#[test]
fn api_patch_with_context_and_no_newline() {
    let patch = "@@ -1,3 +1,4 @@\n a\n-b\n+B\n+C\n c\n@@ -20,2 +21,3 @@ fn x()\n q\n+r\n s\n\\ No newline at end of file";
    assert_eq!(added_lines(patch, "p").unwrap(), set(&[2, 3, 22]));
    // An empty context line (a stripped leading space) still counts.
    assert_eq!(
        added_lines("@@ -1,2 +1,3 @@\n\n+x\n ", "p").unwrap(),
        set(&[2])
    );
}

#[test]
fn counts_that_do_not_add_up_are_errors() {
    let cases: &[(&str, &str)] = &[
        (
            "@@ nonsense @@\n+a",
            "line 1: expected a hunk header `@@ -a,b +c,d @@`, found \"@@ nonsense @@\"",
        ),
        ("@@ -1 +1 @@\n+a\n+b", "line 3: expected a hunk line"),
        (
            "@@ -1,2 +1,2 @@\n a",
            "line 2: the diff ends inside a hunk (1 old and 1 new lines missing)",
        ),
        ("@@ -1 +1 @@\n-a\n+b\n+c", "line 4: expected a hunk header"),
        ("@@ -1 +1 @@\n?a\n+b", "line 2: expected a hunk line"),
        (
            "@@ -1 +4294967295,2 @@\n+a\n+b",
            "line 1: expected a hunk header",
        ),
        ("@@ -x +1 @@\n+a", "line 1: expected a hunk header"),
        ("@@@ -1 -1 +1 @@@\n+a", "line 1: expected a hunk header"),
        ("junk\n@@ -0,0 +1 @@\n+a", "line 1: expected a hunk header"),
    ];
    for (patch, want) in cases {
        let e = added_lines(patch, "pulls/1/files: a.rs")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!("pulls/1/files: a.rs: {want}")),
            "{patch:?}: {e}"
        );
    }
    let e = parse_git_diff("+++ b/a.c\n@@ -0,0 +1 @@\n+x\n", "git diff").unwrap_err();
    assert_eq!(e.line, 1, "{e}");
    let e = parse_git_diff(
        "diff --git a/a b/a\n+++ b/a\n@@ -0,0 +1 @@\n+x\n+y\n",
        "git diff",
    )
    .unwrap_err();
    assert_eq!(e.line, 5, "{e}");
}

#[test]
fn hunk_headers() {
    let h = |s| hunk_header(s).map(|h| (h.old_count, h.new_start, h.new_count));
    assert_eq!(h("@@ -3,0 +4,2 @@ def f():"), Some((0, 4, 2)));
    assert_eq!(h("@@ -10 +12 @@"), Some((1, 12, 1)));
    assert_eq!(h("@@ -1,0 +0,0 @@"), Some((0, 0, 0)));
    assert_eq!(h("@@ -1 +1,x @@"), None);
    assert_eq!(h("@@ -1 +1"), None);
    assert_eq!(h("@@ -1 + 1 @@"), None);
    // Numbers: leading zeros read, the largest u32 read, one past it refused.
    assert_eq!(
        h("@@ -00000000000007 +4294967295,0 @@"),
        Some((1, 4294967295, 0))
    );
    assert_eq!(h("@@ -4294967296 +1 @@"), None);
    assert_eq!(h("@@ -1 +99999999999999999999999 @@"), None);
    assert_eq!(h("@@ - +1 @@"), None);
}

/// Lines end as `str::lines` ends them: a `\r` before a `\n` is dropped, a bare `\r`
/// stays, and a last line without `\n` is kept as it is.
#[test]
fn line_ends_as_str_lines() {
    let text = "diff --git a/a b/a\r\n+++ b/a\r\n@@ -0,0 +1,3 @@\r\n+x\r\n+\ry\n+z\r";
    let c = parse_git_diff(text, "git diff").unwrap();
    assert_eq!(c, ChangedLines::from([("a".into(), set(&[1, 2, 3]))]));
    // A last line without its `\n`, here a header, is read as it is (and adds nothing).
    let c = parse_git_diff("diff --git a/a b/a\n+++ b/a\r", "git diff").unwrap();
    assert!(c.is_empty());
    let bare = parse_git_diff("diff --git a/a b/a\n+++ b/a\rb\n@@ -0,0 +1 @@\n+x\n", "d");
    assert_eq!(
        bare.unwrap(),
        ChangedLines::from([("a\rb".into(), set(&[1]))])
    );
}

/// A xorshift generator from `seed` (not 0): the same numbers on every run.
fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

/// The git-diff reader splits lines as the API-patch reader (`str::lines`) does: random
/// patches of `\r`, `\n` and `\r\n` ends, read both ways, give the same lines or the
/// same error on the same line.
#[test]
fn git_reader_lines_are_str_lines() {
    let mut next = xorshift(0x9e37_79b9_u64);
    let pieces = [
        "@@ -1,2 +1,2 @@",
        "+a",
        "-b",
        " c",
        "",
        "\\ x",
        "@@ -0,0 +3 @@",
        "+",
    ];
    let ends = ["\n", "\r\n", "\r", "\r\r\n", "\n\r"];
    for _ in 0..4000 {
        // From a hunk header on: before one, the git reader reads extended headers.
        let mut patch = String::from("@@ -1,2 +1,2 @@\n");
        for _ in 0..next() % 12 {
            patch.push_str(pieces[(next() % pieces.len() as u64) as usize]);
            patch.push_str(ends[(next() % ends.len() as u64) as usize]);
        }
        let header = "diff --git a/f b/f\n+++ b/f\n";
        let git = parse_git_diff(&format!("{header}{patch}"), "o");
        let api = added_lines(&patch, "o");
        match (git, api) {
            (Ok(g), Ok(a)) => assert_eq!(g.get("f").cloned().unwrap_or_default(), a, "{patch:?}"),
            (Err(g), Err(a)) => assert_eq!(g.line, a.line + 2, "{patch:?}"),
            (g, a) => panic!("{patch:?}: git reader {g:?}, patch reader {a:?}"),
        }
    }
}

#[test]
fn quoted_paths() {
    assert_eq!(unquote("\"a\\303\\251\\t\\\"b\\\\\""), "aé\t\"b\\");
    assert_eq!(unquote("plain name"), "plain name");
}

/// The fuzz target's invariant, on a few thousand generated diffs: every added line lies
/// inside its hunk's new range, and parsing never panics.
#[test]
fn added_lines_stay_in_their_hunks() {
    let mut next = xorshift(0x2545_f491_u64);
    for _ in 0..3000 {
        let mut patch = String::new();
        let mut ranges = Vec::new();
        let mut start = 1 + (next() % 50) as u32;
        for _ in 0..1 + next() % 3 {
            let (old, new) = ((next() % 4) as u32, (next() % 4) as u32);
            patch.push_str(&format!("@@ -{start},{old} +{start},{new} @@\n"));
            let (mut o, mut n) = (old, new);
            while o > 0 || n > 0 {
                match next() % 4 {
                    0 if o > 0 && n > 0 => {
                        patch.push_str(" ctx\n");
                        o -= 1;
                        n -= 1;
                    }
                    1 if o > 0 => {
                        patch.push_str("--- x\n");
                        o -= 1;
                    }
                    2 if n > 0 => {
                        patch.push_str("+++ y\n");
                        n -= 1;
                    }
                    3 => patch.push_str("\\ No newline at end of file\n"),
                    _ => {}
                }
            }
            ranges.push(start..start + new);
            start += new.max(old) + 1 + (next() % 5) as u32;
        }
        let added = added_lines(&patch, "gen").unwrap();
        for n in added {
            assert!(
                ranges.iter().any(|r| r.contains(&n)),
                "{n} outside {ranges:?}\n{patch}"
            );
        }
    }
}

/// Inputs under `fuzz/regressions/diff/` (seeds and anything a fuzzer once broke the
/// parsers with) keep the fuzz target's invariant.
#[test]
fn fuzz_regression_inputs_stay_fixed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/diff");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        n += 1;
        for (h, added) in hunks(&text, "r").unwrap_or_default() {
            assert!(
                added
                    .iter()
                    .all(|l| (h.new_start..h.new_start + h.new_count).contains(l))
            );
        }
        let _ = parse_git_diff(&text, "r");
    }
    assert!(n >= 2, "regression inputs missing in {}", dir.display());
}

/// The reader fed in pieces of every size from 1 byte up.
fn read_in_pieces(text: &[u8], size: usize) -> Result<ChangedLines, DiffError> {
    let mut r = GitDiffReader::new("git diff");
    for piece in text.chunks(size) {
        r.push(piece);
    }
    join_parts(vec![r.finish()])
}

/// Pieces cut anywhere (inside a line, a `\r\n`, a multi-byte character, a bad byte
/// sequence) read as the whole text reads, errors and their line numbers included.
#[test]
fn pieces_read_as_the_whole_text() {
    let fixture = include_str!("../../../../tests/fixtures/diff/edge-cases.diff");
    let crlf = fixture.replace('\n', "\r\n");
    let mut bad = fixture.as_bytes().to_vec();
    // A lone continuation byte and a cut-off 3-byte sequence in an added line's text.
    let at = fixture.find("\n+-- y;").unwrap() + 2;
    bad.splice(at..at, *b"\x80\xe2\x82");
    let broken = fixture.replacen("@@ -", "@@ -x", 2);
    // Ends inside its last hunk: the error comes at the end of the text.
    let short = &fixture[..=fixture.rfind("\n+").unwrap()];
    // The last line without its `\n`, and a bad sequence just before a `\r\n`.
    let unended = fixture.trim_end_matches('\n');
    let mut bad_crlf = crlf.as_bytes().to_vec();
    let at = crlf.find("\r\n+-- y;").unwrap() + 7;
    bad_crlf.splice(at..at, *b"\xe2\x82");
    let texts: [&[u8]; 7] = [
        fixture.as_bytes(),
        crlf.as_bytes(),
        &bad,
        &bad_crlf,
        broken.as_bytes(),
        short.as_bytes(),
        unended.as_bytes(),
    ];
    for text in texts {
        let whole = parse_git_diff(&String::from_utf8_lossy(text), "git diff");
        for size in 1..=text.len().min(700) {
            let pieces = read_in_pieces(text, size);
            match (&whole, &pieces) {
                (Ok(w), Ok(p)) => assert_eq!(w, p, "pieces of {size}"),
                (Err(w), Err(p)) => {
                    assert_eq!(
                        (w.line, &w.message),
                        (p.line, &p.message),
                        "pieces of {size}"
                    );
                }
                _ => panic!("pieces of {size}: {pieces:?} against {whole:?}"),
            }
        }
    }
    assert!(parse_git_diff(&String::from_utf8_lossy(&bad), "git diff").is_ok());
    assert!(parse_git_diff(&broken, "git diff").is_err());
    assert!(parse_git_diff(short, "git diff").is_err());
    assert_eq!(
        parse_git_diff(unended, "git diff").unwrap()["é.c"],
        set(&[2]),
        "the last line read without its newline"
    );
}

/// A diff cut at every file boundary into two and three parts joins to the whole text's
/// lines, and an error in a later part is numbered as in the whole text.
#[test]
fn parts_join_as_the_whole_text() {
    let text = include_str!("../../../../tests/fixtures/diff/edge-cases.diff");
    let whole = parse_git_diff(text, "git diff").unwrap();
    let cuts: Vec<usize> = text.match_indices("diff --git ").map(|(i, _)| i).collect();
    assert!(cuts.len() >= 7, "the fixture has every shape");
    let read = |pieces: &[String]| {
        let parts = pieces
            .iter()
            .map(|p| {
                let mut r = GitDiffReader::new("git diff");
                r.push(p.as_bytes());
                r.finish()
            })
            .collect();
        join_parts(parts)
    };
    for (a, &i) in cuts.iter().enumerate().skip(1) {
        for &j in &cuts[a..] {
            let mut pieces: Vec<String> = [&text[..i], &text[i..j], &text[j..]]
                .iter()
                .filter(|p| !p.is_empty())
                .map(|p| (*p).to_owned())
                .collect();
            assert_eq!(read(&pieces).unwrap(), whole, "cut at {i} and {j}");

            // The last part broken: a hunk header with a count that cannot be.
            let last = pieces.last_mut().unwrap();
            *last = last.replacen("@@ -", "@@ -x", 1);
            let want = parse_git_diff(&pieces.concat(), "git diff").unwrap_err();
            let got = read(&pieces).unwrap_err();
            assert_eq!((got.line, got.message), (want.line, want.message));
        }
    }
}

/// A reader limited to its first `m` files, the limit arriving before any text or only
/// after some (it is then past it, or not), with the files from `m` on read by another:
/// the two join to the whole text's lines. In time, it stops at file `m + 1`'s header.
#[test]
fn a_reader_stops_where_its_later_files_were_taken_over() {
    let text = include_str!("../../../../tests/fixtures/diff/edge-cases.diff");
    let whole = parse_git_diff(text, "git diff").unwrap();
    let starts: Vec<usize> = text.match_indices("diff --git ").map(|(i, _)| i).collect();
    let n = starts.len();
    for m in 0..=n {
        let rest = starts.get(m).map_or("", |&i| &text[i..]);
        for size in [7, 64, 300, text.len()] {
            for late in 0..=text.len() / size {
                let mut taken = GitDiffReader::new("git diff");
                taken.push(rest.as_bytes());
                let mut r = GitDiffReader::new("git diff");
                for (k, piece) in text.as_bytes().chunks(size).enumerate() {
                    if k == late {
                        r.limit_files(m);
                    }
                    r.push(piece);
                    if r.stopped() {
                        break;
                    }
                }
                let (stopped, files) = (r.stopped(), r.files());
                assert!(files >= m || !stopped, "m {m}, size {size}, late {late}");
                if late == 0 {
                    assert_eq!((stopped, files), (m < n, m), "m {m}, size {size}");
                }
                let read = r.finish();
                assert_eq!((read.stopped(), read.files()), (stopped, files));
                let joined = join_parts(vec![read, taken.finish()]).unwrap();
                assert_eq!(joined, whole, "m {m}, size {size}, late {late}");
            }
        }
    }
}
