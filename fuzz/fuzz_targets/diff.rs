//! Fuzz the diff parsers: no input may panic or hang, every line a patch adds lies
//! inside its hunk's new range (`@@ -a,b +c,d @@`: `c <= line < c + d`), and git's
//! output read in pieces as a pipe gives them (cut where the input says, any bytes,
//! UTF-8 or not) reads as the whole text does, errors and their line numbers included;
//! and a reader told to stop before its `m`-th file (at once or only after some pieces),
//! with the text from that file on read by another, joins to the whole text's lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_ci_action::gates::coverage::diff;

fuzz_target!(|data: &[u8]| {
    // The first two bytes choose the pieces' sizes; the rest is the text.
    let (sizes, bytes) = data.split_at(data.len().min(2));
    let whole = diff::parse_git_diff(&String::from_utf8_lossy(bytes), "fuzz");
    let mut reader = diff::GitDiffReader::new("fuzz");
    let mut rest = bytes;
    let mut k = 0;
    while !rest.is_empty() {
        let size = 1 + usize::from(sizes.get(k % 2).copied().unwrap_or(7)) % 97;
        let (piece, after) = rest.split_at(size.min(rest.len()));
        reader.push(piece);
        rest = after;
        k += 1;
    }
    let pieces = diff::join_parts(vec![reader.finish()]);
    match (&whole, &pieces) {
        (Ok(w), Ok(p)) => assert_eq!(w, p),
        (Err(w), Err(p)) => assert_eq!((w.line, &w.message), (p.line, &p.message)),
        _ => panic!("pieces {pieces:?} against the whole {whole:?}"),
    }
    if let Ok(w) = &whole {
        taken_over(sizes, bytes, w);
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Ok(hunks) = diff::hunks(text, "fuzz") {
        for (h, added) in hunks {
            for n in added {
                assert!(
                    n >= h.new_start && n < h.new_start + h.new_count,
                    "line {n} outside {h:?}"
                );
            }
        }
    }
});

/// The take-over of `changes/parts.rs`: a reader limited to `m` files, and a reader of
/// the text from file `m` on, join to `whole`.
fn taken_over(sizes: &[u8], bytes: &[u8], whole: &diff::ChangedLines) {
    let starts: Vec<usize> = (0..bytes.len())
        .filter(|&i| (i == 0 || bytes[i - 1] == b'\n') && bytes[i..].starts_with(b"diff --git "))
        .collect();
    let pick = usize::from(sizes.first().copied().unwrap_or(0));
    let m = pick % (starts.len() + 1);
    let late = usize::from(sizes.get(1).copied().unwrap_or(0)) % 4;
    let mut limited = diff::GitDiffReader::new("fuzz");
    for (k, piece) in bytes.chunks(1 + pick % 61).enumerate() {
        if k == late {
            limited.limit_files(m);
        }
        limited.push(piece);
        if limited.stopped() {
            break;
        }
    }
    let mut rest = diff::GitDiffReader::new("fuzz");
    rest.push(starts.get(m).map_or(&[][..], |&i| &bytes[i..]));
    let joined = diff::join_parts(vec![limited.finish(), rest.finish()]);
    assert_eq!(joined.as_ref().ok(), Some(whole), "m {m}, late {late}");
}
