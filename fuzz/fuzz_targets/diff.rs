//! Fuzz the diff parsers: no input may panic or hang, and every line a patch adds lies
//! inside its hunk's new range (`@@ -a,b +c,d @@`: `c <= line < c + d`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_ci_action::gates::coverage::diff;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
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
    let _ = diff::parse_git_diff(text, "fuzz");
});
