//! Fuzz the tests gate's readers (JUnit XML and go test -json, chosen by content as the
//! gate does): no input may panic, hang or blow up memory, and the tally stays bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_ci_action::gates::tests::model::{MAX_KEPT, MAX_TEXT, Tally};
use rust_ci_action::gates::tests::parse;

fuzz_target!(|data: &[u8]| {
    let Some(format) = parse::detect(data) else {
        return;
    };
    let mut tally = Tally::default();
    if parse::parse(format, data, "fuzz", &mut tally).is_ok() {
        assert!(tally.failures.len() <= MAX_KEPT && tally.flakies.len() <= MAX_KEPT);
        for case in tally.failures.iter().chain(&tally.flakies) {
            assert!(case.details.text.len() <= MAX_TEXT && case.output.text.len() <= MAX_TEXT);
        }
    }
});
