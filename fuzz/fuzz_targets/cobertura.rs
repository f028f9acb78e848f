//! Fuzz the cobertura parser: no input may panic, hang or blow up memory, every report it
//! accepts must satisfy the model's invariants, and the fast path (one chunk, or for
//! every fourth input chunks cut a few bytes apart, joined by worker threads) must give
//! exactly what the full reader gives: the same report or the same error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_ci_action::gates::coverage::model::Format;
use rust_ci_action::gates::coverage::parse;

fuzz_target!(|data: &[u8]| {
    let full = parse::parse(Format::Cobertura, data, "fuzz");
    if let Ok(report) = &full {
        parse::check_invariants(report);
    }
    let fast = if data.len() % 4 == 0 {
        parse::parse_chunked(Format::Cobertura, || Ok(data), "fuzz", 1 + data.len() % 61)
    } else {
        parse::parse_slice(Format::Cobertura, data, "fuzz")
    };
    assert_eq!(
        fast.map_err(|e| e.to_string()),
        full.map_err(|e| e.to_string())
    );
});
