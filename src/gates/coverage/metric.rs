//! What `threshold` measures (input `coverage-metric`), and the parts of the result
//! that depend on it: the Go statement check and outputs. Pure: no I/O (the title and
//! the markdown are `render.rs`'s).
//!
//! Why statements: Go measures statements, and a Go user who sets `threshold: 80`
//! compares it with what `go test -cover` and `go tool cover -func` print (covered
//! statements over all statements, each block once). Line coverage of the same profile
//! differs (a line holds several blocks, a block spans lines: 58.69 % of lines where go
//! prints 59.0 %), so with Go profiles only, `auto` holds the threshold to statements.

use super::config::{Metric, Percent, show_percent};
use super::evaluate::{Check, MissingData};

/// The metric `threshold` applies to, and whether any report is a Go profile.
/// `reports` are (path, format name) pairs.
pub(crate) fn resolve(
    metric: Metric,
    reports: &[(String, String)],
) -> Result<(Metric, bool), MissingData> {
    let go = reports.iter().any(|(_, f)| f == "go");
    let all_go = go && reports.iter().all(|(_, f)| f == "go");
    let m = match metric {
        Metric::Statements if !go => return Err(MissingData::Statements),
        Metric::Auto if all_go => Metric::Statements,
        Metric::Auto => Metric::Lines,
        m => m,
    };
    Ok((m, go))
}

/// The "Statement coverage" row.
pub(crate) fn statement_check(statements: (u64, u64), threshold: Option<Percent>) -> Check {
    Check {
        name: "Statement coverage",
        measured: if statements.1 == 0 {
            "no statements".into()
        } else {
            format!(
                "{}% ({}/{} statements)",
                show_percent(statements.0, statements.1),
                statements.0,
                statements.1
            )
        },
        threshold,
        pass: threshold.map(|p| p.met_by(statements.0, statements.1)),
    }
}

/// `statement-coverage`, `statements-covered`, `statements-total`; empty without Go.
pub(crate) fn outputs(statements: Option<(u64, u64)>) -> [(String, String); 3] {
    let (pct, c, t) = statements.map_or_else(Default::default, |(c, t)| {
        (show_percent(c, t), c.to_string(), t.to_string())
    });
    [
        ("statement-coverage".to_owned(), pct),
        ("statements-covered".to_owned(), c),
        ("statements-total".to_owned(), t),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_means_statements_only_for_go_alone() {
        let r = |formats: &[&str]| -> Vec<(String, String)> {
            formats
                .iter()
                .map(|f| ("r".to_owned(), (*f).to_owned()))
                .collect()
        };
        type Resolved = Result<(Metric, bool), MissingData>;
        let cases: &[(Metric, &[&str], Resolved)] = &[
            (Metric::Auto, &["go"], Ok((Metric::Statements, true))),
            (Metric::Auto, &["go", "go"], Ok((Metric::Statements, true))),
            (Metric::Auto, &["go", "lcov"], Ok((Metric::Lines, true))),
            (Metric::Auto, &["lcov"], Ok((Metric::Lines, false))),
            (Metric::Lines, &["go"], Ok((Metric::Lines, true))),
            (
                Metric::Statements,
                &["go", "lcov"],
                Ok((Metric::Statements, true)),
            ),
            (Metric::Statements, &["lcov"], Err(MissingData::Statements)),
        ];
        for (m, formats, want) in cases {
            assert_eq!(&resolve(*m, &r(formats)), want, "{m:?} {formats:?}");
        }
    }

    #[test]
    fn statement_outputs_round_down_and_are_empty_without_go() {
        // 23/39 = 58.974…%: shown 58.97, never 58.98.
        let o = outputs(Some((23, 39)));
        assert_eq!(o[0].1, "58.97");
        assert_eq!((o[1].1.as_str(), o[2].1.as_str()), ("23", "39"));
        assert!(outputs(None).iter().all(|(_, v)| v.is_empty()));
        let c = statement_check(
            (23, 39),
            Some("59".parse().unwrap_or_else(|e| panic!("{e}"))),
        );
        assert_eq!(
            (c.measured.as_str(), c.pass),
            ("58.97% (23/39 statements)", Some(false))
        );
    }
}
