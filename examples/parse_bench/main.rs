//! Coverage parser benchmark: generates large deterministic reports and measures one
//! parse of a report (wall time and peak RSS). Prints numbers; asserts nothing.
//! `scripts/bench-coverage.sh` drives it.
//!
//! ```text
//! parse_bench gen <format> <out> <MB> [--same-files]
//!     # cobertura | lcov | jacoco | clover; files of ~400 lines until the report has
//!     # <MB> megabytes (Cobertura: 100 MB = 6,000 files, 2.4 M <line>s).
//!     # --same-files: the same 6,000 files (and lines) repeated, as several sections
//!     # of one file; memory should not grow with it.
//! parse_bench parse <report> [format]       # one parse (the gate's fast path)
//! parse_bench parse-full <report> [format]  # one parse with the full reader only
//! ```
//!
//! Run `parse` in its own process: peak RSS is the process's `VmHWM`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::process::ExitCode;
use std::time::Instant;

use rust_ci_action::gates::coverage::model::Format;
use rust_ci_action::gates::coverage::parse;

mod synth;

/// Peak resident set size of this process in KiB (`VmHWM`), if readable.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn run_parse(path: &str, format: Option<&str>, full: bool) -> Result<(), String> {
    let bytes = std::fs::metadata(path)
        .map_err(|e| format!("{path}: {e}"))?
        .len();
    let open = || File::open(path).map(|f| BufReader::with_capacity(256 * 1024, f));
    let reader = open().map_err(|e| format!("{path}: {e}"))?;
    let start = Instant::now();
    let report = match format {
        Some(f) => {
            let f: Format = f.parse().map_err(|e| format!("{e}"))?;
            if full {
                parse::parse(f, reader, path)
            } else {
                parse::parse_reopen(f, open, path)
            }
        }
        None => parse::parse_auto(reader, path),
    }
    .map_err(|e| e.to_string())?;
    let wall = start.elapsed();
    let t = report.totals();
    let rss =
        peak_rss_kib().map_or_else(|| "?".to_owned(), |k| format!("{:.1}", k as f64 / 1024.0));
    let model_bytes: usize = report.files.iter().map(|f| f.lines.heap_bytes()).sum();
    let model_mb = model_bytes as f64 / (1024.0 * 1024.0);
    println!(
        "format={} bytes={} wall_ms={} mb_per_s={:.0} peak_rss_mb={} lines={} files={} lines_covered={} branches={}/{} model_lines_mb={:.1}",
        report.format,
        bytes,
        wall.as_millis(),
        bytes as f64 / 1e6 / wall.as_secs_f64(),
        rss,
        t.lines_total,
        report.files.len(),
        t.lines_covered,
        t.branches_covered,
        t.branches_total,
        model_mb,
    );
    Ok(())
}

/// Read a `git diff -U0` text as the gate reads a git's output (64 KiB pieces), 25
/// times: the reader's own time, min / median / max.
fn run_diff(path: &str) -> Result<(), String> {
    use rust_ci_action::gates::coverage::diff::{GitDiffReader, join_parts};
    let text = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let mut times = Vec::new();
    let mut files = 0;
    for _ in 0..25 {
        let start = Instant::now();
        let mut reader = GitDiffReader::new(path);
        for piece in text.chunks(64 << 10) {
            reader.push(piece);
        }
        let lines = join_parts(vec![reader.finish()]).map_err(|e| e.to_string())?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
        files = lines.len();
    }
    times.sort_by(f64::total_cmp);
    println!(
        "diff: {} bytes, {files} files: {:.2} / {:.2} / {:.2} ms",
        text.len(),
        times[0],
        times[times.len() / 2],
        times[times.len() - 1]
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["gen", format, path, mb, rest @ ..] if rest.is_empty() || rest == ["--same-files"] => {
            match mb.parse::<u64>() {
                Ok(mb) if mb > 0 => File::create(path)
                    .and_then(|f| {
                        let w = BufWriter::with_capacity(1 << 20, f);
                        synth::generate(format, w, mb * 1_000_000, !rest.is_empty())
                    })
                    .map_err(|e| format!("{path}: {e}")),
                _ => Err(format!("bad size {mb:?}")),
            }
        }
        ["diff", path] => run_diff(path),
        ["parse", path] => run_parse(path, None, false),
        ["parse", path, format] => run_parse(path, Some(format), false),
        ["parse-full", path, format] => run_parse(path, Some(format), true),
        ["fast-taken", path, format] => match format.parse::<Format>() {
            Ok(f) => std::fs::read(path).map_err(|e| e.to_string()).map(|bytes| {
                let taken = parse::fast_only(f, &bytes, 1 << 20).is_some();
                println!("fast path taken: {taken}");
            }),
            Err(e) => Err(e.to_string()),
        },
        _ => Err(
            "usage: parse_bench gen <format> <out> <MB> [--same-files] | \
                  parse_bench parse[-full] <report> [format] | parse_bench diff <git diff -U0 text>"
                .to_owned(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("parse_bench: {e}");
            ExitCode::FAILURE
        }
    }
}
