//! Components for monorepos: the `components` input (one per line, a name, path globs and
//! optionally its own threshold), each component's numbers, delta against the base and
//! verdict, and the `components` JSON output. Files in no component are `other`. Pure.
//!
//! The syntax needs no quoting in a YAML block scalar (`components: |`):
//!
//! ```text
//! api: services/api/** libs/shared/** threshold=80
//! web: web/**
//! ```
//!
//! A file belongs to the first component (in input order) with a matching glob, so the
//! components and `other` add up to the totals.

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde_json::{Value, json};

use super::config::{Percent, show_delta, show_percent};
use super::evaluate::{Check, Evaluation};
use crate::baseline::Record;

/// The name of the files in no component.
pub(crate) const OTHER: &str = "other";

/// One component as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Component {
    /// Name (letters, digits, `.`, `_`, `-`).
    pub name: String,
    /// Path globs (`**` crosses directories).
    pub globs: Vec<String>,
    /// Its own minimum line coverage.
    pub threshold: Option<Percent>,
}

/// Parse the `components` input, one component per non-empty line; the error says what
/// was expected (the caller names the input and line).
pub(crate) fn parse(lines: &[String]) -> Result<Vec<Component>, String> {
    let mut out: Vec<Component> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let at = |why: String| format!("entry {}: {why}", i + 1);
        let (name, rest) = line
            .split_once(':')
            .ok_or_else(|| at("expected `name: glob [glob...] [threshold=N]`".into()))?;
        let name = name.trim();
        let ok = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !ok {
            return Err(at(format!(
                "component name {name:?}: expected letters, digits, `.`, `_` or `-`"
            )));
        }
        if name == OTHER || out.iter().any(|c| c.name == name) {
            return Err(at(format!("component name `{name}` is taken")));
        }
        let mut c = Component {
            name: name.to_owned(),
            globs: Vec::new(),
            threshold: None,
        };
        for word in rest.split_whitespace() {
            if let Some(t) = word.strip_prefix("threshold=") {
                c.threshold = Some(
                    t.parse()
                        .map_err(|e| at(format!("threshold: expected {e}")))?,
                );
            } else {
                Glob::new(word).map_err(|e| at(format!("glob `{word}`: {e}")))?;
                c.globs.push(word.to_owned());
            }
        }
        if c.globs.is_empty() {
            return Err(at(format!("component `{name}` has no path glob")));
        }
        out.push(c);
    }
    Ok(out)
}

/// A component's numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    /// Name (`other` for files in none).
    pub name: String,
    /// Files.
    pub files: u64,
    /// Lines covered / total.
    pub lines: (u64, u64),
    /// Lines on the base, when a complete enough record was found.
    pub base: Option<(u64, u64)>,
    /// Its threshold.
    pub threshold: Option<Percent>,
    /// `Some(pass)` when it has a threshold.
    pub pass: Option<bool>,
}

fn matchers(components: &[Component]) -> Vec<GlobSet> {
    components
        .iter()
        .map(|c| {
            let mut b = GlobSetBuilder::new();
            for g in &c.globs {
                // Validated by `parse`.
                if let Ok(g) = Glob::new(g) {
                    b.add(g);
                }
            }
            b.build().unwrap_or_else(|_| GlobSet::empty())
        })
        .collect()
}

/// Which component (index, or `components.len()` for other) a path belongs to.
fn index(sets: &[GlobSet], path: &str) -> usize {
    sets.iter()
        .position(|s| s.is_match(path))
        .unwrap_or(sets.len())
}

/// Each component's row, then `other` when it has files. `base` fills in the base numbers
/// (only from a complete record: a partial one would make a component's base wrong).
pub(crate) fn rows(components: &[Component], ev: &Evaluation, base: Option<&Record>) -> Vec<Row> {
    if components.is_empty() {
        return Vec::new();
    }
    let sets = matchers(components);
    let mut rows: Vec<Row> = components
        .iter()
        .map(|c| Row {
            name: c.name.clone(),
            files: 0,
            lines: (0, 0),
            base: None,
            threshold: c.threshold,
            pass: None,
        })
        .chain(std::iter::once(Row {
            name: OTHER.into(),
            files: 0,
            lines: (0, 0),
            base: None,
            threshold: None,
            pass: None,
        }))
        .collect();
    for r in &ev.rows {
        let row = &mut rows[index(&sets, &r.path)];
        row.files += 1;
        row.lines.0 += r.covered;
        row.lines.1 += r.total;
    }
    if let Some(rec) = base.filter(|r| r.complete()) {
        for row in rows.iter_mut() {
            row.base = Some((0, 0));
        }
        for item in &rec.items {
            if let (Some(row), Some(l)) =
                (rows.get_mut(index(&sets, &item.name)), item.counts.first())
                && let Some(b) = row.base.as_mut()
            {
                b.0 += l.0;
                b.1 += l.1;
            }
        }
    }
    for row in rows.iter_mut() {
        row.pass = row
            .threshold
            .filter(|_| row.lines.1 > 0)
            .map(|t| t.met_by(row.lines.0, row.lines.1));
    }
    if rows
        .last()
        .is_some_and(|o| o.files == 0 && o.base.is_none_or(|b| b.1 == 0))
    {
        rows.pop();
    }
    rows
}

/// One check for every component with a threshold: fails when any is below.
pub(crate) fn check(rows: &[Row]) -> Option<Check> {
    let judged: Vec<&Row> = rows.iter().filter(|r| r.pass.is_some()).collect();
    if judged.is_empty() {
        return None;
    }
    let below: Vec<&str> = judged
        .iter()
        .filter(|r| r.pass == Some(false))
        .map(|r| r.name.as_str())
        .collect();
    Some(Check {
        name: "Components",
        measured: if below.is_empty() {
            format!("{} of {} at their threshold", judged.len(), judged.len())
        } else {
            format!("{} below: {}", below.len(), below.join(", "))
        },
        threshold: None,
        pass: Some(below.is_empty()),
    })
}

/// The components table (markdown; names are the workflow's own, checked by `parse`).
pub(crate) fn table(rows: &[Row]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut md = String::from(
        "| Component | Files | Lines | Line % | Δ vs base | Threshold | Result |\n|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        md.push_str(&format!(
            "| {} | {} | {}/{} | {} | {} | {} | {} |\n",
            r.name,
            r.files,
            r.lines.0,
            r.lines.1,
            if r.lines.1 == 0 {
                "—".into()
            } else {
                format!("{}%", show_percent(r.lines.0, r.lines.1))
            },
            r.base
                .map(|b| show_delta(b, r.lines))
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| "—".into()),
            r.threshold.map_or_else(|| "—".into(), |t| t.to_string()),
            match r.pass {
                Some(true) => "✅ pass",
                Some(false) => "❌ fail",
                None => "—",
            }
        ));
    }
    md
}

/// The `components` output: a JSON array, one object per row.
pub(crate) fn output(rows: &[Row]) -> String {
    let v: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "name": r.name,
                "files": r.files,
                "lines-covered": r.lines.0,
                "lines-total": r.lines.1,
                "line-coverage": show_percent(r.lines.0, r.lines.1),
                "base-line-coverage": r.base.map(|b| show_percent(b.0, b.1)).unwrap_or_default(),
                "line-coverage-delta": r.base.map(|b| show_delta(b, r.lines)).unwrap_or_default(),
                "threshold": r.threshold.map(|t| t.to_string().trim_end_matches('%').to_owned()),
                "result": match r.pass { Some(true) => "pass", Some(false) => "fail", None => "" },
            })
        })
        .collect();
    if v.is_empty() {
        String::new()
    } else {
        Value::Array(v).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gates::coverage::config::Metric;
    use crate::gates::coverage::delta;
    use crate::gates::coverage::evaluate::FileRow;

    fn ev(files: &[(&str, u64, u64)]) -> Evaluation {
        let rows: Vec<FileRow> = files
            .iter()
            .map(|(p, c, t)| FileRow {
                path: (*p).into(),
                covered: *c,
                total: *t,
                branches: (0, 0),
                statements: (0, 0),
                diff: None,
                below: false,
            })
            .collect();
        Evaluation {
            lines: rows
                .iter()
                .fold((0, 0), |a, r| (a.0 + r.covered, a.1 + r.total)),
            checks: vec![],
            rows,
            branches: None,
            statements: None,
            metric: Metric::Lines,
            no_per_line: vec![],
            diff: None,
            annotations: vec![],
        }
    }

    fn lines(s: &str) -> Vec<String> {
        s.lines().map(str::to_owned).collect()
    }

    #[test]
    fn syntax_and_errors() {
        let c = parse(&lines(
            "api: services/api/** libs/*.py threshold=80\nweb:web/**",
        ))
        .unwrap();
        assert_eq!(c[0].globs, ["services/api/**", "libs/*.py"]);
        assert_eq!(c[0].threshold, Some("80".parse().unwrap()));
        assert_eq!(c[1].name, "web");
        for (bad, want) in [
            ("api services/**", "expected `name: glob"),
            ("a b: x/**", "component name"),
            ("api:", "no path glob"),
            ("api: x/** threshold=101", "threshold: expected"),
            ("api: a/[", "glob `a/[`"),
            ("other: x/**", "taken"),
            ("a: x/**\na: y/**", "entry 2: component name `a` is taken"),
        ] {
            let e = parse(&lines(bad)).unwrap_err();
            assert!(e.contains(want), "{bad}: {e}");
        }
    }

    #[test]
    fn rows_deltas_verdicts_and_other() {
        let comps = parse(&lines(
            "api: services/api/** threshold=60\nweb: web/** threshold=50",
        ))
        .unwrap();
        let base = delta::record(
            &ev(&[
                ("services/api/a.rs", 8, 10),
                ("web/x.ts", 1, 2),
                ("tools/t.py", 1, 1),
            ]),
            "c",
        );
        let now = ev(&[
            ("services/api/a.rs", 5, 10),
            ("web/x.ts", 2, 2),
            ("tools/t.py", 0, 1),
        ]);
        let rows = rows(&comps, &now, Some(&base));
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["api", "web", "other"]);
        assert_eq!(rows[0].lines, (5, 10));
        assert_eq!(rows[0].base, Some((8, 10)));
        assert_eq!(rows[0].pass, Some(false));
        assert_eq!(rows[1].pass, Some(true));
        assert_eq!(rows[2].pass, None);
        let c = check(&rows).unwrap();
        assert_eq!((c.pass, c.measured.as_str()), (Some(false), "1 below: api"));
        let out: Value = serde_json::from_str(&output(&rows)).unwrap();
        assert_eq!(out[0]["line-coverage-delta"], "-30.00");
        assert_eq!(out[1]["result"], "pass");
        assert_eq!(out[2]["name"], "other");
        assert!(table(&rows).contains("| api | 1 | 5/10 | 50.00% | -30.00 | 60% | ❌ fail |"));
    }
}
