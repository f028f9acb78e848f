//! Coverage parser benchmark: generates a large deterministic Cobertura report and
//! measures one parse of a report (wall time and peak RSS). Prints numbers; asserts
//! nothing. `scripts/bench-coverage.sh` drives it.
//!
//! ```text
//! parse_bench gen <out.xml> <scale> [--same-files]
//!     # scale 1 = 6,000 files, 2.4 M <line>s, ~100 MB; scale N = N times the files.
//!     # --same-files: N times the size but the same 6,000 files (and lines) repeated,
//!     # as several <class>es of one file; memory should not grow with it.
//! parse_bench parse <report> [format] # one parse; format detected when omitted
//! ```
//!
//! Run `parse` in its own process: peak RSS is the process's `VmHWM`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use rust_ci_action::gates::coverage::model::Format;
use rust_ci_action::gates::coverage::parse;

const FILES_PER_SCALE: u64 = 6_000;
const LINES_PER_FILE: u64 = 400;

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn generate(path: &str, scale: u64, same_files: bool) -> std::io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    writeln!(w, r#"<?xml version="1.0" ?>"#)?;
    writeln!(
        w,
        r#"<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">"#
    )?;
    writeln!(
        w,
        r#"<coverage version="7.6.1" timestamp="1700000000000" lines-valid="0" lines-covered="0" line-rate="0" branches-covered="0" branches-valid="0" branch-rate="0" complexity="0">"#
    )?;
    writeln!(
        w,
        "\t<sources>\n\t\t<source>/home/runner/work/big/big</source>\n\t</sources>\n\t<packages>"
    )?;
    let files = FILES_PER_SCALE * scale;
    let per_package = 50;
    for f in 0..files {
        if f % per_package == 0 {
            if f > 0 {
                writeln!(w, "\t\t\t</classes>\n\t\t</package>")?;
            }
            writeln!(
                w,
                "\t\t<package name=\"pkg{}\" line-rate=\"0.5\" branch-rate=\"0.5\" complexity=\"0\">\n\t\t\t<classes>",
                f / per_package
            )?;
        }
        // One deterministic stream per distinct file, so a repeated file repeats its lines.
        let id = if same_files { f % FILES_PER_SCALE } else { f };
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (id + 1).wrapping_mul(0xA24B_AED4_963E_E407));
        writeln!(
            w,
            "\t\t\t\t<class name=\"mod{id}.py\" filename=\"src/pkg{}/mod{id}.py\" complexity=\"0\" line-rate=\"0.5\" branch-rate=\"0.5\">\n\t\t\t\t\t<methods/>\n\t\t\t\t\t<lines>",
            id / per_package
        )?;
        let mut line = 1u64;
        for _ in 0..LINES_PER_FILE {
            line += 1 + rng.next() % 3;
            let r = rng.next();
            let hits = if r.is_multiple_of(4) { 0 } else { r % 1000 };
            if r % 10 == 1 {
                let total = 2 + 2 * (r >> 20) % 3;
                let covered = (r >> 30) % (total + 1);
                let pct = covered * 100 / total;
                writeln!(
                    w,
                    "\t\t\t\t\t\t<line number=\"{line}\" hits=\"{hits}\" branch=\"true\" condition-coverage=\"{pct}% ({covered}/{total})\"/>"
                )?;
            } else {
                writeln!(w, "\t\t\t\t\t\t<line number=\"{line}\" hits=\"{hits}\"/>")?;
            }
        }
        writeln!(w, "\t\t\t\t\t</lines>\n\t\t\t\t</class>")?;
    }
    writeln!(
        w,
        "\t\t\t</classes>\n\t\t</package>\n\t</packages>\n</coverage>"
    )?;
    w.flush()
}

/// Peak resident set size of this process in KiB (`VmHWM`), if readable.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn run_parse(path: &str, format: Option<&str>) -> Result<(), String> {
    let bytes = std::fs::metadata(path)
        .map_err(|e| format!("{path}: {e}"))?
        .len();
    let file = File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let reader = BufReader::with_capacity(64 * 1024, file);
    let start = Instant::now();
    let report = match format {
        Some(f) => {
            let f: Format = f.parse().map_err(|e| format!("{e}"))?;
            parse::parse(f, reader, path)
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

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["gen", path, scale, rest @ ..] if rest.is_empty() || rest == ["--same-files"] => {
            match scale.parse::<u64>() {
                Ok(s) if s > 0 => {
                    generate(path, s, !rest.is_empty()).map_err(|e| format!("{path}: {e}"))
                }
                _ => Err(format!("bad scale {scale:?}")),
            }
        }
        ["parse", path] => run_parse(path, None),
        ["parse", path, format] => run_parse(path, Some(format)),
        _ => Err(
            "usage: parse_bench gen <out.xml> <scale> | parse_bench parse <report> [format]"
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
