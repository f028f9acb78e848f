//! Fuzz format detection, then the parser it picks (what `parse_auto` does).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_ci_action::gates::coverage::parse;

fuzz_target!(|data: &[u8]| {
    let _ = parse::detect(data);
    if let Ok(report) = parse::parse_auto(data, "fuzz") {
        parse::check_invariants(&report);
    }
});
