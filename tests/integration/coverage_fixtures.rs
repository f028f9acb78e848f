//! Every real-tool fixture in `tests/fixtures/coverage/<tool>/` parses, auto-detects as
//! its format, and gives exactly the totals the producing tool printed
//! (`expected.json`), in total and per file. Go profiles also give the statement
//! percentage `go tool cover -func` printed; gcovr's JaCoCo files say they have no
//! per-line hits.
//!
//! Report paths are matched to the fixture's repository-relative paths by suffix after
//! joining Cobertura `<source>`s and stripping the fixture's workspace: path mapping is
//! the gate's job, not the parser's, so this test only needs to find the file.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use rust_ci_action::gates::coverage::model::{Format, Report};
use rust_ci_action::gates::coverage::parse;

#[derive(Debug, serde::Deserialize)]
struct Expected {
    format: String,
    report: String,
    #[serde(default)]
    workspace: Option<String>,
    lines_covered: u64,
    lines_total: u64,
    branches_covered: Option<u64>,
    branches_total: Option<u64>,
    files: BTreeMap<String, FileExpected>,
    /// `false`: the report's lines carry no hit counts (gcovr JaCoCo).
    #[serde(default)]
    per_line_hits: Option<bool>,
    /// Go: what go printed.
    #[serde(default)]
    go_printed: Option<GoPrinted>,
    #[serde(default)]
    statements_covered: Option<u64>,
    #[serde(default)]
    statements_total: Option<u64>,
}

#[derive(Debug, serde::Deserialize)]
struct GoPrinted {
    /// `go tool cover -func`'s `total: (statements)`, as printed (one decimal).
    total_statements_percent: f64,
}

#[derive(Debug, serde::Deserialize)]
struct FileExpected {
    lines_covered: u64,
    lines_total: u64,
}

/// A fixture whose tool-printed branch totals cannot be derived from the report's line
/// records.
struct KnownDifference {
    fixture: &'static str,
    /// Our (covered, total), pinned.
    ours: (u64, u64),
    /// The tool's (covered, total), as in expected.json.
    tools: (u64, u64),
    /// Why they differ.
    #[allow(dead_code)]
    why: &'static str,
}

const KNOWN_BRANCH_DIFFERENCES: &[KnownDifference] = &[KnownDifference {
    fixture: "devel-cover-clover",
    ours: (7, 14),
    tools: (8, 17),
    why: "Devel::Cover's <metrics> conditionals add boolean-condition outcomes (1 of 3) that \
          no <line> carries; the 7 `if` lines give its branch outcomes exactly (7 of 14)",
}];

fn fixtures_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/coverage")
}

/// Which expected path a report path denotes, if any.
fn match_path<'e>(
    report: &Report,
    path: &str,
    workspace: Option<&str>,
    expected: &'e BTreeMap<String, FileExpected>,
) -> Option<&'e str> {
    let mut candidates = vec![path.to_owned()];
    for s in &report.sources {
        candidates.push(format!("{}/{}", s.trim_end_matches('/'), path));
    }
    for c in &mut candidates {
        if let Some(ws) = workspace
            && let Some(rest) = c.strip_prefix(&format!("{}/", ws.trim_end_matches('/')))
        {
            *c = rest.to_owned();
        }
    }
    for c in &candidates {
        if let Some((k, _)) = expected.get_key_value(c.as_str()) {
            return Some(k);
        }
    }
    // JaCoCo (package-relative) and Go (module-prefixed) paths: unique suffix match.
    let mut hits = expected.keys().filter(|k| {
        candidates
            .iter()
            .any(|c| k.ends_with(&format!("/{c}")) || c.ends_with(&format!("/{k}")))
    });
    match (hits.next(), hits.next()) {
        (Some(k), None) => Some(k),
        _ => None,
    }
}

fn check_fixture(dir: &Path) -> Result<String, String> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    check_report(&name, dir)
}

/// Check `<dir>/<report>` against `<dir>/expected.json` as fixture `name`.
pub(crate) fn check_report(name: &str, dir: &Path) -> Result<String, String> {
    let raw = std::fs::read_to_string(dir.join("expected.json"))
        .map_err(|e| format!("{name}: expected.json: {e}"))?;
    let exp: Expected =
        serde_json::from_str(&raw).map_err(|e| format!("{name}: expected.json: {e}"))?;
    let format: Format = exp.format.parse().map_err(|e| format!("{name}: {e}"))?;
    let report_path = dir.join(&exp.report);

    let mut head = vec![0u8; 8192];
    let n = File::open(&report_path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| format!("{name}: {}: {e}", report_path.display()))?;
    let mut problems = vec![];
    let detected = parse::detect(&head[..n]);
    if detected != Some(format) {
        problems.push(format!("detected {detected:?}, expected {format}"));
    }

    let file = File::open(&report_path).map_err(|e| format!("{name}: {e}"))?;
    let report = parse::parse(format, BufReader::new(file), &exp.report)
        .map_err(|e| format!("{name}: {e}"))?;
    if let Some(v) = parse::invariant_violation(&report) {
        problems.push(format!("invariant: {v}"));
    }
    let auto = parse::parse_auto(
        BufReader::new(File::open(&report_path).map_err(|e| e.to_string())?),
        &exp.report,
    )
    .map_err(|e| format!("{name}: auto: {e}"))?;
    if auto != report {
        problems.push("parse_auto differs from parse".to_owned());
    }

    let t = report.totals();
    let got = (t.lines_covered, t.lines_total);
    if got != (exp.lines_covered, exp.lines_total) {
        problems.push(format!(
            "lines {got:?}, expected {:?}",
            (exp.lines_covered, exp.lines_total)
        ));
    }
    let mut want_branches = (
        exp.branches_covered.unwrap_or(0),
        exp.branches_total.unwrap_or(0),
    );
    if let Some(known) = KNOWN_BRANCH_DIFFERENCES.iter().find(|k| k.fixture == name) {
        // Pinned: our number must stay exactly this, and the tool's must still be the
        // one explained there.
        if want_branches != known.tools {
            problems.push(format!(
                "expected branches changed to {want_branches:?}; revisit KNOWN_BRANCH_DIFFERENCES"
            ));
        }
        want_branches = known.ours;
    }
    if (t.branches_covered, t.branches_total) != want_branches {
        problems.push(format!(
            "branches {:?}, expected {want_branches:?}",
            (t.branches_covered, t.branches_total)
        ));
    }
    if report.has_branch_data != exp.branches_total.is_some_and(|b| b > 0) {
        problems.push(format!("has_branch_data = {}", report.has_branch_data));
    }

    if let Some(printed) = &exp.go_printed {
        let (c, t) = report.files.iter().fold((0, 0), |acc, f| {
            let s = report.counts(f).statements;
            (acc.0 + s.0, acc.1 + s.1)
        });
        if (Some(c), Some(t)) != (exp.statements_covered, exp.statements_total) {
            problems.push(format!(
                "statements {:?}, expected {:?}",
                (c, t),
                (exp.statements_covered, exp.statements_total)
            ));
        }
        // Go prints `%.1f` of the same float; Rust's `{:.1}` rounds the same way.
        let ours = format!("{:.1}", 100.0 * c as f64 / t.max(1) as f64);
        let theirs = format!("{:.1}", printed.total_statements_percent);
        if ours != theirs {
            problems.push(format!("statement coverage {ours}%, go printed {theirs}%"));
        }
    }
    if let Some(want) = exp.per_line_hits {
        for f in &report.files {
            if report.counts(f).per_line_hits != want {
                problems.push(format!("{}: per_line_hits is not {want}", f.path));
            }
        }
    }

    let mut seen = BTreeMap::new();
    for f in &report.files {
        let Some(key) = match_path(&report, &f.path, exp.workspace.as_deref(), &exp.files) else {
            problems.push(format!("report file {:?} matches no expected file", f.path));
            continue;
        };
        let ft = report.counts(f);
        if seen.insert(key, ()).is_some() {
            problems.push(format!("two report files map to {key}"));
        }
        let e = &exp.files[key];
        if ft.lines != (e.lines_covered, e.lines_total) {
            problems.push(format!(
                "{key}: lines {:?}, expected {:?}",
                ft.lines,
                (e.lines_covered, e.lines_total)
            ));
        }
    }
    for k in exp.files.keys() {
        if !seen.contains_key(k.as_str()) {
            problems.push(format!("expected file {k} not in the report"));
        }
    }
    if problems.is_empty() {
        Ok(format!(
            "{name}: ok ({format}, {}/{} lines)",
            t.lines_covered, t.lines_total
        ))
    } else {
        Err(format!("{name}: {}", problems.join("; ")))
    }
}

#[test]
fn every_fixture_matches_the_tools_own_totals() {
    let mut dirs: Vec<_> = std::fs::read_dir(fixtures_dir())
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.join("expected.json").is_file())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    assert!(
        !dirs.is_empty(),
        "no fixtures under {}",
        fixtures_dir().display()
    );
    let results: Vec<Result<String, String>> = dirs.iter().map(|d| check_fixture(d)).collect();
    let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} fixtures disagree:\n{}",
        failures.len(),
        results.len(),
        failures
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn truncated_fixtures_are_errors_not_partial_reports() {
    for dir in std::fs::read_dir(fixtures_dir())
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
    {
        let dir = dir.path();
        let Ok(raw) = std::fs::read_to_string(dir.join("expected.json")) else {
            continue;
        };
        let Ok(exp) = serde_json::from_str::<Expected>(&raw) else {
            continue;
        };
        let Ok(format) = exp.format.parse::<Format>() else {
            continue;
        };
        if format == Format::Go {
            // A profile cut at a line boundary is a valid shorter profile.
            continue;
        }
        let Ok(bytes) = std::fs::read(dir.join(&exp.report)) else {
            continue;
        };
        let body = bytes.trim_ascii_end();
        // Cut inside the last record / element.
        let cut = &body[..body
            .len()
            .saturating_sub(if format == Format::Lcov { 14 } else { 3 })];
        let res = parse::parse(format, cut, "cut");
        assert!(
            res.is_err(),
            "{}: truncated report parsed: {:?}",
            dir.display(),
            res.map(|r| r.totals())
        );
    }
}

/// Inputs under `fuzz/regressions/<target>/` (seeds and any input a fuzzer once broke
/// the parsers with) go through every parser: no panic, and accepted reports keep the
/// model's invariants.
#[test]
fn fuzz_regression_inputs_stay_fixed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut n = 0;
    for target in std::fs::read_dir(&root)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
    {
        for input in std::fs::read_dir(target.path())
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
        {
            let Ok(bytes) = std::fs::read(input.path()) else {
                continue;
            };
            n += 1;
            let _ = parse::detect(&bytes);
            let results = Format::ALL
                .into_iter()
                .map(|f| parse::parse(f, &bytes[..], "r"))
                .chain([parse::parse_auto(&bytes[..], "r")]);
            for report in results.flatten() {
                if let Some(v) = parse::invariant_violation(&report) {
                    panic!("{}: {v}", input.path().display());
                }
            }
        }
    }
    assert!(n > 0, "no inputs under {}", root.display());
}
