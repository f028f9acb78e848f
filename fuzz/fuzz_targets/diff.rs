//! Fuzz the diff parsers: no input may panic or hang, every line a patch adds lies
//! inside its hunk's new range (`@@ -a,b +c,d @@`: `c <= line < c + d`), and git's
//! output read in pieces as a pipe gives them (cut where the input says, any bytes,
//! UTF-8 or not) reads as the whole text does, errors and their line numbers included.
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
