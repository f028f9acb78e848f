//! Fuzz path mapping: report paths × workspace × tracked files × sources × `path-prefix`
//! / `source-root`. No input may panic, and a path mapped into the repository is always one
//! of the tracked files (`paths::check_fuzz_case` says how the input is split).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_ci_action::paths::check_fuzz_case;

fuzz_target!(|data: &[u8]| {
    check_fuzz_case(&String::from_utf8_lossy(data));
});
