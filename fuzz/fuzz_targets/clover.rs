//! Fuzz the clover parser: no input may panic, hang or blow up memory, and every report
//! it accepts must satisfy the model's invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_ci_action::gates::coverage::model::Format;
use rust_ci_action::gates::coverage::parse;

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = parse::parse(Format::Clover, data, "fuzz") {
        parse::check_invariants(&report);
    }
});
