//! Tests of what people read: the whole summary and table for ordinary names (as the
//! gate wrote them before rendering had its own file), the table budget, and hostile
//! names judged by a CommonMark + GFM parser's structure.

use std::collections::BTreeSet;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::*;
use crate::gates::coverage::diff::ChangedLines;
use crate::gates::coverage::evaluate::{DiffSource, evaluate};
use crate::gates::coverage::extras::{Block, FileExtras, StatedLines};
use crate::gates::coverage::merge::Merger;
use crate::gates::coverage::model::{FileReport, LineRecord, Lines};
use crate::runner::inputs::RawInputs;

fn lines(recs: &[(u32, u32, u16, u16)]) -> Lines {
    recs.iter()
        .map(
            |&(line, hits, branches_covered, branches_total)| LineRecord {
                line,
                hits,
                branches_covered,
                branches_total,
            },
        )
        .collect()
}

fn file(recs: &[(u32, u32, u16, u16)]) -> FileReport {
    FileReport {
        path: "as in the report".into(),
        lines: lines(recs),
    }
}

fn cfg(pairs: &[(&str, &str)]) -> CoverageConfig {
    CoverageConfig::try_from(&RawInputs::from_named(pairs.iter().copied()))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn render(m: &Merged, diff: &DiffState, cfg: &CoverageConfig, budget: usize) -> Outcome {
    let ev = evaluate(m, diff, cfg).unwrap_or_else(|e| panic!("{e}"));
    outcome(&ev, m, diff, cfg, budget)
}

/// Every part of the outcome, for names that need no escaping: byte for byte what the
/// gate wrote before rendering moved out of `evaluate.rs`.
#[test]
fn ordinary_names_render_as_before() {
    let mut m = Merger::default();
    m.report("coverage.xml".into(), "cobertura".into(), true);
    m.report("cover.out".into(), "go".into(), false);
    m.add(
        "src/a.py".into(),
        file(&[
            (1, 1, 1, 2),
            (2, 0, 0, 0),
            (3, 0, 0, 0),
            (4, 1, 0, 0),
            (7, 0, 0, 0),
        ]),
        true,
    );
    m.add(
        "src/b.py".into(),
        file(&[(1, 0, 0, 0), (2, 0, 0, 0), (3, 1, 2, 2)]),
        true,
    );
    m.add("gen/x.py".into(), file(&[(1, 1, 0, 0)]), false);
    let block = |line, statements, covered| Block {
        start: (line, 1),
        end: (line, 9),
        statements,
        covered,
    };
    m.add_with(
        "c.go".into(),
        file(&[(1, 1, 0, 0), (2, 0, 0, 0)]),
        FileExtras {
            blocks: vec![block(1, 3, true), block(2, 1, false)],
            ..FileExtras::default()
        },
        true,
    );
    m.add_with(
        "D.java".into(),
        file(&[(1, 0, 0, 0), (2, 0, 0, 0)]),
        FileExtras {
            stated: Some(StatedLines {
                covered: 1,
                total: 2,
                per_line_hits: false,
            }),
            ..FileExtras::default()
        },
        true,
    );
    let m = m.finish();
    let diff = DiffState::Available {
        lines: ChangedLines::from([
            ("src/a.py".into(), BTreeSet::from([2, 3, 4, 9])),
            ("D.java".into(), BTreeSet::from([1])),
        ]),
        source: DiffSource::Git {
            range: "origin/main...HEAD".into(),
        },
        unknown: vec!["img.png".into()],
    };
    let c = cfg(&[
        ("threshold", "50"),
        ("file-threshold", "40"),
        ("diff-threshold", "10"),
        ("annotate", "all"),
    ]);
    let o = render(&m, &diff, &c, 60_000);
    assert_eq!(o.verdict, Verdict::Fail);
    assert_eq!(
        o.title,
        "Line coverage 46.15%, diff coverage 33.33%: below threshold (line coverage, every file)"
    );
    assert_eq!(
        o.summary,
        "\
| Check | Measured | Threshold | Result |
|---|---|---|---|
| Line coverage | 46.15% (6/13 lines) | 50% | ❌ fail |
| Statement coverage | 75.00% (3/4 statements) | — | — |
| Branch coverage | 75.00% (3/4 branches) | — | — |
| Diff coverage | 33.33% (1/3 changed lines) | 10% | ✅ pass |
| Every file | 1 of 5 files below | 40% | ❌ fail |

Reports: `coverage.xml` (cobertura), `cover.out` (go). Changed lines from `git diff origin/main...HEAD`. 1 changed files had no patch (binary or too large) and were left out of diff coverage.

1 report paths did not match a file in the repository (set `path-prefix` or `source-root`): `gen/x.py`

1 files have no per-line data in their report (gcovr's JaCoCo writes none; its Cobertura or LCOV output has it): their totals come from the report's counters, and they get no annotations and no diff coverage: `D.java`

4 uncovered ranges annotated (all lines).
"
    );
    assert_eq!(
        o.text,
        "\
| File | Lines | Line % | Statement % | Branch % | Changed lines covered |
|---|---|---|---|---|---|
| `src/b.py` ⚠️ | 1/3 | 33.33% | — | 100.00% | — |
| `src/a.py` | 2/5 | 40.00% | — | 50.00% | 1/3 (33.33%) |
| `D.java` | 1/2 | 50.00% | — | — | — |
| `c.go` | 1/2 | 50.00% | 75.00% | — | — |
| `gen/x.py` | 1/1 | 100.00% | — | — | — |
"
    );
    let outputs: Vec<(&str, &str)> = o
        .outputs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        outputs,
        [
            ("line-coverage", "46.15"),
            ("lines-covered", "6"),
            ("lines-total", "13"),
            ("branch-coverage", "75.00"),
            ("branches-covered", "3"),
            ("branches-total", "4"),
            ("diff-coverage", "33.33"),
            ("diff-lines-covered", "1"),
            ("diff-lines-total", "3"),
            ("files-below-threshold", "src/b.py"),
            ("statement-coverage", "75.00"),
            ("statements-covered", "3"),
            ("statements-total", "4"),
            ("base-sha", ""),
            ("base-line-coverage", ""),
            ("line-coverage-delta", ""),
            ("base-branch-coverage", ""),
            ("branch-coverage-delta", ""),
        ]
    );
    assert_eq!(o.annotations.len(), 4);
}

#[test]
fn text_respects_its_budget() {
    let mut m = Merger::default();
    for i in 0..2000 {
        m.add(
            format!("src/file{i:04}.py"),
            file(&[(1, i % 2, 0, 0)]),
            true,
        );
    }
    let m = m.finish();
    let c = cfg(&[]);
    let o = render(&m, &DiffState::Off("x".into()), &c, 10_000);
    assert!(o.text.len() <= 10_000, "{}", o.text.len());
    assert!(
        o.text
            .contains("_Not listed, to stay within this page's limit: ")
    );
    assert!(o.text.contains("src/file0000.py"), "worst first");
    assert!(
        o.text
            .contains("<details><summary><code>src</code> (2000 files, 50.00%)</summary>")
    );
    let long = o.long_text.as_deref().unwrap_or_default();
    assert!(
        long.contains("src/file1999.py") && !long.contains("Not listed"),
        "the job summary has room for all"
    );
}

/// Names a pull request can give its files.
const HOSTILE: &[&str] = &[
    "src/`tick`.py",
    "src/``<img src=x onerror=alert(1)>``.py",
    "src/@octocat #1 [x](https:e.example).py",
    "src/a|b|c.py",
    "src/x\n## heading\n| a | b |.py",
    "src/trailing\\",
];

/// Table rows, headings, HTML, links and images of rendered markdown, and the text of
/// every code span.
#[derive(Debug, Default)]
struct Shape {
    rows: usize,
    headings: usize,
    html: Vec<String>,
    links: usize,
    code: Vec<String>,
}

fn shape(md: &str) -> Shape {
    let mut s = Shape::default();
    for ev in Parser::new_ext(md, Options::ENABLE_TABLES) {
        match ev {
            Event::End(TagEnd::TableRow | TagEnd::TableHead) => s.rows += 1,
            Event::Start(Tag::Heading { .. }) => s.headings += 1,
            Event::Html(h) | Event::InlineHtml(h) => s.html.push(h.to_string()),
            Event::Start(Tag::Link { .. } | Tag::Image { .. }) => s.links += 1,
            Event::Code(c) => s.code.push(c.to_string()),
            _ => {}
        }
    }
    s
}

#[test]
fn hostile_names_stay_names_in_tables_and_prose() {
    let mut m = Merger::default();
    m.report("r`e|p<b>.xml".into(), "cobertura".into(), false);
    for name in HOSTILE {
        m.add((*name).to_owned(), file(&[(1, 0, 0, 0)]), false);
    }
    let m = m.finish();
    let o = render(&m, &DiffState::Off("x".into()), &cfg(&[]), 60_000);
    let visible = |n: &str| n.replace('\n', "\\n");

    let table = shape(&o.text);
    assert_eq!(table.rows, 1 + HOSTILE.len(), "{}", o.text);
    assert_eq!((table.headings, table.links), (0, 0), "{}", o.text);
    assert!(table.html.is_empty(), "{:?}", table.html);
    let mut want: Vec<String> = HOSTILE.iter().map(|n| visible(n)).collect();
    want.sort();
    let mut got = table.code.clone();
    got.sort();
    assert_eq!(got, want, "every name, whole, as code");

    let summary = shape(&o.summary);
    assert_eq!(summary.rows, 1 + 3, "{}", o.summary);
    assert_eq!((summary.headings, summary.links), (0, 0), "{}", o.summary);
    assert!(summary.html.is_empty(), "{:?}", summary.html);
    let mut got = summary.code.clone();
    got.retain(|c| c != "path-prefix" && c != "source-root");
    let mut want: Vec<String> = std::iter::once("r`e|p<b>.xml".to_owned())
        .chain(HOSTILE.iter().map(|n| visible(n)))
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "{}", o.summary);
}

/// The comment and the rolled-up tables: hostile names (changed, indirect, in directories
/// and in `<details>` summaries) stay code; the only HTML is ours, the only links ours.
#[test]
fn hostile_names_stay_names_in_the_comment_and_the_rolled_up_tables() {
    use crate::gates::coverage::delta::{self, Deltas};
    let mut m = Merger::default();
    m.report("r.xml".into(), "cobertura".into(), false);
    for (i, name) in HOSTILE.iter().enumerate() {
        m.add(
            (*name).to_owned(),
            file(&[(1, 0, 0, 0), (2, 1, 0, 0)]),
            false,
        );
        m.add(format!("{name}/{i}.py"), file(&[(1, 1, 0, 0)]), false);
    }
    for i in 0..files::ROLLUP_AT {
        m.add(format!("pad/m{i}.py"), file(&[(1, 1, 0, 0)]), false);
    }
    let m = m.finish();
    let c = cfg(&[]);
    let ev = evaluate(&m, &DiffState::Off("x".into()), &c).unwrap_or_else(|e| panic!("{e}"));
    let mut base_ev = ev.clone();
    for r in &mut base_ev.rows {
        r.covered = 0;
    }
    let record = delta::record(&base_ev, "cov");
    let changed: BTreeSet<String> = HOSTILE.iter().take(3).map(|s| (*s).to_owned()).collect();
    let d: Deltas = delta::compare(&ev, &changed, "abc", "the merge-base", "", &record);
    assert!(!d.indirect.is_empty() && d.changed.len() == 3);
    let input = files::Input {
        ev: &ev,
        deltas: Some(&d),
        changed: &changed,
    };
    let cx = comment::Context {
        marker: "<!-- m -->",
        check_name: "cov @team #1 <b>",
        verdict: Verdict::Pass,
        no_base: None,
        check_run_url: None,
        components: "",
    };
    let body = comment::body(&ev, Some(&d), &input, &cx);
    let s = shape(&body);
    assert_eq!((s.headings, s.links), (3, 0), "{body}");
    let ours = [
        "<!-- m -->",
        "<details>",
        "<summary>",
        "</summary>",
        "</details>",
        "<code>",
        "</code>",
    ];
    for h in &s.html {
        let mut rest = h.clone();
        for o in ours {
            rest = rest.replace(o, "");
        }
        // Numeric character references are ours (`html_text`); nothing else may remain.
        let mut plain = String::new();
        let mut it = rest.split("&#");
        plain.push_str(it.next().unwrap_or(""));
        for part in it {
            let digits = part.bytes().take_while(u8::is_ascii_digit).count();
            assert!(digits > 0 && part[digits..].starts_with(';'), "{h:?}");
            plain.push_str(&part[digits + 1..]);
        }
        let rest = plain;
        assert!(
            !rest.contains('<') && !rest.contains('@') && !rest.contains('#'),
            "foreign HTML {h:?} in\n{body}"
        );
    }
    assert!(
        body.contains("<summary><code>src/&#64;octocat &#35;1"),
        "{body}"
    );
    for name in HOSTILE {
        let v = name.replace('\n', "\\n");
        assert!(s.code.contains(&v), "{v:?} whole, as code");
    }
    assert!(
        !body.contains("@team") || body.contains("\\@team"),
        "the check name is inert"
    );
}

/// The per-file tables are rendered once when the smaller budget holds them whole, and
/// are then the same as two renders; otherwise each budget gets its own render.
#[test]
fn tables_rendered_once_are_the_two_renders() {
    let evaluated = |n: usize| {
        let mut m = Merger::default();
        for i in 0..n {
            m.add(format!("src/f{i:04}.py"), file(&[(1, 1, 0, 0)]), true);
        }
        let m = m.finish();
        evaluate(&m, &DiffState::Off("x".into()), &cfg(&[])).unwrap_or_else(|e| panic!("{e}"))
    };
    let changed = BTreeSet::new();
    let ev = evaluated(40);
    let input = files::Input {
        ev: &ev,
        deltas: None,
        changed: &changed,
    };
    let (whole, is_whole) = files::render_whole(&input, 20_000, false);
    assert!(is_whole && whole.contains("src/f0039.py"), "{whole}");
    assert_eq!(files::render(&input, 1 << 20, false), whole);
    let (cut, is_whole) = files::render_whole(&input, 1_500, false);
    assert!(!is_whole && cut.contains("Not listed"), "{cut}");
    // Whole under the smaller budget, cut under it, the budgets either way round, and
    // more rows than the smaller budget could hold.
    let big = evaluated(2_000);
    let big_input = files::Input {
        ev: &big,
        deltas: None,
        changed: &changed,
    };
    for (input, text_budget, long_budget) in [
        (&input, 20_000, 1 << 20),
        (&input, 1_500, 1 << 20),
        (&input, 1 << 20, 1_500),
        (&big_input, 20_000, 1 << 20),
    ] {
        let apart = (
            files::render(input, text_budget, false),
            files::render(input, long_budget, false),
        );
        assert_eq!(tables(input, text_budget, long_budget), apart);
    }
    assert_ne!(
        tables(&input, 1_500, 1 << 20).0,
        tables(&input, 1_500, 1 << 20).1
    );
}
