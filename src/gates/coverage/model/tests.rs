//! Tests of the coverage model: format names, the line encoding, and the merge rules
//! (checked against a plain map on random sections).

use super::*;

fn rec(line: u32, hits: u32, bc: u16, bt: u16) -> LineRecord {
    LineRecord {
        line,
        hits,
        branches_covered: bc,
        branches_total: bt,
    }
}

#[test]
fn format_names_round_trip() {
    for f in Format::ALL {
        assert_eq!(f.to_string().parse::<Format>(), Ok(f));
    }
    assert_eq!(
        "xml".parse::<Format>().map_err(|e| e.to_string()),
        Err(
            "unknown coverage format \"xml\" (expected cobertura, lcov, jacoco, clover or go)"
                .to_owned()
        )
    );
}

#[test]
fn line_record_is_12_bytes() {
    assert_eq!(std::mem::size_of::<LineRecord>(), 12);
}

#[test]
fn merge_rules() {
    let cases: &[(&[LineRecord], &[LineRecord], &[LineRecord])] = &[
        // `other` is a subset with gaps: folded in place.
        (
            &[rec(1, 0, 0, 0), rec(3, 0, 0, 0), rec(5, 2, 0, 0)],
            &[rec(3, 7, 1, 2), rec(5, 0, 0, 0)],
            &[rec(1, 0, 0, 0), rec(3, 7, 1, 2), rec(5, 2, 0, 0)],
        ),
        // Interleaved.
        (
            &[rec(2, 0, 0, 0), rec(4, 0, 0, 0)],
            &[rec(1, 1, 0, 0), rec(3, 1, 0, 0), rec(5, 1, 0, 0)],
            &[
                rec(1, 1, 0, 0),
                rec(2, 0, 0, 0),
                rec(3, 1, 0, 0),
                rec(4, 0, 0, 0),
                rec(5, 1, 0, 0),
            ],
        ),
        (&[], &[rec(1, 0, 0, 0)], &[rec(1, 0, 0, 0)]),
        (&[rec(1, 0, 0, 0)], &[], &[rec(1, 0, 0, 0)]),
        (&[rec(1, 0, 0, 0)], &[rec(1, 3, 0, 0)], &[rec(1, 3, 0, 0)]),
        (&[rec(1, 5, 0, 0)], &[rec(1, 0, 0, 0)], &[rec(1, 5, 0, 0)]),
        (
            &[rec(1, 1, 1, 2), rec(4, 0, 0, 0)],
            &[rec(1, 1, 2, 4), rec(2, 1, 0, 0)],
            &[rec(1, 1, 2, 4), rec(2, 1, 0, 0), rec(4, 0, 0, 0)],
        ),
        (&[rec(1, 1, 2, 2)], &[rec(1, 1, 0, 4)], &[rec(1, 1, 2, 4)]),
        (
            &[rec(1, 1, 0, 0)],
            &[rec(3, 1, 0, 0)],
            &[rec(1, 1, 0, 0), rec(3, 1, 0, 0)],
        ),
    ];
    for (a, b, want) in cases {
        let want: Vec<Line> = want.iter().map(Line::from).collect();
        // Merged at once, at the end, and both orders (the rule commutes).
        for pending_min in [0, 1 << 20] {
            for (x, y) in [(a, b), (b, a)] {
                let mut by_lines = LinesByFile::with_pending_min(pending_min);
                let i = by_lines.push_file();
                by_lines.add_lines(i, &Lines::from_sorted_records(x));
                by_lines.add_lines(i, &Lines::from_sorted_records(y));
                let by_lines = by_lines.finish();
                assert_eq!(
                    by_lines[0].iter().collect::<Vec<_>>(),
                    want,
                    "{x:?} + {y:?}"
                );
                let mut by_records = LinesByFile::with_pending_min(pending_min);
                let i = by_records.push_file();
                by_records.add_records(i, x);
                by_records.add_records(i, y);
                assert_eq!(by_records.finish(), by_lines, "{x:?} + {y:?} as records");
            }
        }
    }
}

#[test]
fn lines_round_trip_extremes() {
    let recs = [
        rec(0, 1, 0, 0),
        rec(1, 0, 3, 2),
        rec(63, 1, 0, 0),
        rec(64, 0, 0, 0),
        rec(1 << 20, 1, 0, u16::MAX),
        rec(u32::MAX - 1, 0, 0, 0),
        rec(u32::MAX, 1, 1, 1),
    ];
    let lines = Lines::from_sorted_records(&recs);
    let got: Vec<Line> = lines.iter().collect();
    let want: Vec<Line> = recs.iter().map(Line::from).collect();
    assert_eq!(got, want);
    assert_eq!(got[1].branches_covered, 2, "covered capped at total");
    let t = lines.totals();
    assert_eq!((t.lines_total, t.lines_covered), (7, 4));
}

#[test]
fn dense_lines_cost_one_byte_each() {
    let recs: Vec<LineRecord> = (1..=10_000).map(|l| rec(l * 3, l % 2, 0, 0)).collect();
    let lines = Lines::from_sorted_records(&recs);
    assert_eq!(lines.heap_bytes(), 10_000);
}

/// Random sections merged in random order agree with a plain map of the same rules.
#[test]
fn merging_agrees_with_a_reference_model() {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        seed.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    for round in 0..300 {
        // Merged as each section comes, in small batches, and once at the end; two
        // files share each builder so one file's merge happens while another waits.
        let mut builders = [
            LinesByFile::with_pending_min(0),
            LinesByFile::with_pending_min(7),
            LinesByFile::default(),
        ];
        for b in &mut builders {
            b.push_file();
            b.push_file();
        }
        let mut reference = [
            std::collections::BTreeMap::<u32, Line>::new(),
            std::collections::BTreeMap::<u32, Line>::new(),
        ];
        let sections = if round % 5 == 0 { 60 } else { 6 };
        for _ in 0..(1 + next() % sections) {
            let file = (next() % 2) as usize;
            let span = if round % 3 == 0 { 200_000 } else { 60 };
            let section: Vec<LineRecord> = (0..next() % 40)
                .map(|_| {
                    let r = next();
                    let bt = if r % 4 == 0 { (r >> 8) as u16 % 5 } else { 0 };
                    rec(
                        (r >> 16) as u32 % span,
                        (r >> 40) as u32 % 3,
                        (r >> 50) as u16 % 6,
                        bt,
                    )
                })
                .collect();
            let section: Lines = section.into_iter().collect();
            for l in section.iter() {
                reference[file]
                    .entry(l.line)
                    .and_modify(|m| m.absorb(&l))
                    .or_insert(l);
            }
            let records: Vec<LineRecord> = section
                .iter()
                .map(|l| {
                    rec(
                        l.line,
                        u32::from(l.covered),
                        l.branches_covered,
                        l.branches_total,
                    )
                })
                .collect();
            for (i, b) in builders.iter_mut().enumerate() {
                if (i + round) % 2 == 0 {
                    b.add_lines(file, &section);
                } else {
                    b.add_records(file, &records);
                }
            }
        }
        let want: Vec<Vec<Line>> = reference
            .into_iter()
            .map(|r| r.into_values().collect())
            .collect();
        for (i, b) in builders.into_iter().enumerate() {
            for (file, lines) in b.finish().iter().enumerate() {
                let want = &want[file];
                assert_eq!(
                    &lines.iter().collect::<Vec<_>>(),
                    want,
                    "round {round}, builder {i}, file {file}"
                );
                let t = lines.totals();
                assert_eq!(t.lines_total, want.len() as u64);
                assert_eq!(
                    t.lines_covered,
                    want.iter().filter(|l| l.covered).count() as u64
                );
            }
        }
    }
}

#[test]
fn totals_count_records() {
    let r = Report {
        format: Format::Lcov,
        origin: "x".into(),
        sources: vec![],
        files: vec![
            FileReport {
                path: "a".into(),
                lines: Lines::from_sorted_records(&[rec(1, 1, 1, 2), rec(2, 0, 0, 0)]),
            },
            FileReport {
                path: "b".into(),
                lines: Lines::from_sorted_records(&[rec(1, u32::MAX, 0, 0)]),
            },
        ],
        has_branch_data: true,
        extras: BTreeMap::new(),
    };
    assert_eq!(
        r.totals(),
        Totals {
            lines_covered: 2,
            lines_total: 3,
            branches_covered: 1,
            branches_total: 2
        }
    );
}

#[test]
fn totals_agree_with_the_lines_across_block_edges() {
    // Gaps of every varint width, so line starts fall on both sides of the 255-byte
    // blocks the count works in.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for n in [0usize, 1, 254, 255, 256, 511, 3000] {
        let mut line = 0u32;
        let records: Vec<LineRecord> = (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                line += 1 + [0u32, 200, 40_000, 3_000_000][(x % 4) as usize];
                LineRecord::new(line, u32::from(x & 8 == 0))
            })
            .collect();
        let lines = Lines::from_sorted_records(&records);
        let t = lines.totals();
        assert_eq!(t.lines_total, n as u64, "{n} lines");
        assert_eq!(
            t.lines_covered,
            lines.iter().filter(|l| l.covered).count() as u64,
            "{n} lines"
        );
        assert_eq!(
            t.lines_covered,
            records.iter().filter(|r| r.hits > 0).count() as u64
        );
    }
}
