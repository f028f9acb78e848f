//! Typed coverage-gate configuration from raw inputs (stage two of input handling).

use std::fmt;
use std::str::FromStr;

use super::model::Format;
use crate::runner::inputs::{InputError, RawInputs};

/// A percentage between 0 and 100 held exactly as `mantissa / 10^scale`, so comparisons
/// never go through floating point (`82.5` is `825 / 10^1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percent {
    mantissa: u64,
    scale: u32,
}

impl Percent {
    /// `covered / total ≥ self`, decided in integers: `covered × 100 × 10^scale ≥ mantissa × total`.
    pub fn met_by(self, covered: u64, total: u64) -> bool {
        let lhs = u128::from(covered) * 100 * 10u128.pow(self.scale);
        let rhs = u128::from(self.mantissa) * u128::from(total);
        lhs >= rhs
    }
}

impl Percent {
    /// Whether coverage fell by more than `self` points from `base` to `now`, decided in
    /// integers: `100 × (bc/bt − nc/nt) > self` ⇔ `100 × 10^scale × (bc·nt − nc·bt) >
    /// mantissa × bt × nt`. Nothing measured on either side is no drop.
    pub fn dropped_more_than(self, base: (u64, u64), now: (u64, u64)) -> bool {
        let ((bc, bt), (nc, nt)) = (
            (u128::from(base.0), u128::from(base.1)),
            (u128::from(now.0), u128::from(now.1)),
        );
        if bt == 0 || nt == 0 {
            return false;
        }
        let scale = 100 * 10u128.pow(self.scale);
        let (was, is) = (bc * nt, nc * bt);
        was > is && scale.saturating_mul(was - is) > u128::from(self.mantissa) * bt * nt
    }
}

impl FromStr for Percent {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim().trim_end_matches('%').trim();
        let (int, frac) = t.split_once('.').unwrap_or((t, ""));
        let ok = !int.is_empty()
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.bytes().all(|b| b.is_ascii_digit())
            && frac.len() <= 6
            && int.len() <= 3;
        if !ok {
            return Err("a percentage such as `80` or `82.5` (at most 6 decimals)".into());
        }
        let digits = format!("{int}{frac}");
        let mantissa: u64 = digits.parse().map_err(|_| "a percentage".to_owned())?;
        let scale = u32::try_from(frac.len()).map_err(|_| "a percentage".to_owned())?;
        let p = Percent { mantissa, scale };
        if mantissa > 100 * 10u64.pow(scale) {
            return Err("a percentage between 0 and 100".into());
        }
        Ok(p)
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}%", self.mantissa);
        }
        let div = 10u64.pow(self.scale);
        let frac = format!(
            "{:0width$}",
            self.mantissa % div,
            width = self.scale as usize
        );
        write!(f, "{}.{}%", self.mantissa / div, frac.trim_end_matches('0'))
    }
}

/// `covered / total` as a percentage with two decimals, rounded down so that a shown
/// `80.00%` never hides a value below 80.
pub(crate) fn show_percent(covered: u64, total: u64) -> String {
    if total == 0 {
        return String::new();
    }
    let hundredths = u128::from(covered) * 10_000 / u128::from(total);
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// The change from `base` to `now` in percentage points with two decimals and a sign,
/// rounded down (a drop of 0.001 points shows as `-0.01`, never as no change); empty
/// when either side measured nothing.
pub(crate) fn show_delta(base: (u64, u64), now: (u64, u64)) -> String {
    if base.1 == 0 || now.1 == 0 {
        return String::new();
    }
    let num =
        (i128::from(now.0) * i128::from(base.1) - i128::from(base.0) * i128::from(now.1)) * 10_000;
    let den = i128::from(base.1) * i128::from(now.1);
    let h = num.div_euclid(den);
    let sign = if h < 0 { "-" } else { "+" };
    format!("{sign}{}.{:02}", h.abs() / 100, h.abs() % 100)
}

/// When the pull-request comment is posted (input `comment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CommentMode {
    /// Never.
    Off,
    /// When the change touches measured lines, moves a total, or fails; an existing
    /// comment is always brought up to date.
    OnChange,
    /// On every run of a pull request.
    Always,
}

/// Which uncovered lines become annotations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Annotate {
    /// Uncovered lines the change added.
    Changed,
    /// Every uncovered line.
    All,
    /// None.
    None,
}

/// What `threshold` and `file-threshold` measure (input `coverage-metric`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Metric {
    /// Statements when every report is a Go profile (the number `go test -cover` and
    /// `go tool cover -func` print), lines otherwise.
    Auto,
    /// Executable lines.
    Lines,
    /// Go statements; an error when no report is a Go profile.
    Statements,
}

/// The coverage gate's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CoverageConfig {
    /// Patterns (paths or globs) of reports.
    pub files: Vec<String>,
    /// Whether `files` came from the defaults.
    pub default_files: bool,
    /// Forced format, `None` for auto-detection.
    pub format: Option<Format>,
    /// Minimum coverage of `metric`.
    pub threshold: Option<Percent>,
    /// What `threshold` and `file-threshold` measure.
    pub metric: Metric,
    /// Minimum branch coverage.
    pub branch_threshold: Option<Percent>,
    /// Minimum coverage of `metric` per file.
    pub file_threshold: Option<Percent>,
    /// Minimum coverage of changed executable lines.
    pub diff_threshold: Option<Percent>,
    /// What to diff against.
    pub base_ref: Option<String>,
    /// Annotation scope.
    pub annotate: Annotate,
    /// Prefix to add to report paths.
    pub path_prefix: Option<String>,
    /// Prefix to strip from report paths.
    pub source_root: Option<String>,
    /// Most points line coverage may fall against the base.
    pub max_drop: Option<Percent>,
    /// Fail when no baseline is found.
    pub baseline_required: bool,
    /// When to post the pull-request comment.
    pub comment: CommentMode,
    /// Monorepo components.
    pub components: Vec<super::components::Component>,
    /// Report on this workflow run (its artifact, its pull request).
    pub from_run: Option<u64>,
    /// The artifact holding the reports with `from_run`.
    pub artifact: String,
}

impl TryFrom<&RawInputs> for CoverageConfig {
    type Error = InputError;
    fn try_from(raw: &RawInputs) -> Result<Self, InputError> {
        let files = raw.multiline("files");
        let default_files = files.is_empty();
        let percent = |name: &str| -> Result<Option<Percent>, InputError> {
            raw.get(name)
                .map(|v| {
                    v.parse::<Percent>()
                        .map_err(|e| InputError::invalid(name, v, format!("expected {e}")))
                })
                .transpose()
        };
        let format = match raw.get("format") {
            None | Some("auto") => None,
            Some(v) => Some(v.parse::<Format>().map_err(|_| {
                InputError::invalid(
                    "format",
                    v,
                    "expected one of auto, cobertura, lcov, jacoco, clover, go",
                )
            })?),
        };
        let metric = match raw.get("coverage-metric") {
            None | Some("auto") => Metric::Auto,
            Some("lines") => Metric::Lines,
            Some("statements") => Metric::Statements,
            Some(v) => {
                return Err(InputError::invalid(
                    "coverage-metric",
                    v,
                    "expected one of auto, lines, statements",
                ));
            }
        };
        let annotate = match raw.get("annotate") {
            None | Some("changed") => Annotate::Changed,
            Some("all") => Annotate::All,
            Some("none") => Annotate::None,
            Some(v) => {
                return Err(InputError::invalid(
                    "annotate",
                    v,
                    "expected one of changed, all, none",
                ));
            }
        };
        let comment = match raw.get("comment") {
            None | Some("on-change") => CommentMode::OnChange,
            Some("off") => CommentMode::Off,
            Some("always") => CommentMode::Always,
            Some(v) => {
                return Err(InputError::invalid(
                    "comment",
                    v,
                    "expected one of off, on-change, always",
                ));
            }
        };
        let baseline_required = match raw.get("baseline-required") {
            None | Some("false") => false,
            Some("true") => true,
            Some(v) => {
                return Err(InputError::invalid(
                    "baseline-required",
                    v,
                    "expected true or false",
                ));
            }
        };
        let components = super::components::parse(&raw.multiline("components")).map_err(|e| {
            InputError::invalid(
                "components",
                raw.get("components").unwrap_or_default(),
                format!("{e} (one per line: `name: glob [glob...] [threshold=N]`)"),
            )
        })?;
        let from_run = raw
            .get("from-run")
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| InputError::invalid("from-run", v, "expected a workflow run id"))
            })
            .transpose()?;
        Ok(Self {
            from_run,
            artifact: raw.get("artifact").unwrap_or("coverage").to_owned(),
            components,
            max_drop: percent("max-drop")?,
            baseline_required,
            comment,
            files: if default_files {
                super::DEFAULT_FILES
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect()
            } else {
                files
            },
            default_files,
            format,
            threshold: percent("threshold")?,
            metric,
            branch_threshold: percent("branch-threshold")?,
            file_threshold: percent("file-threshold")?,
            diff_threshold: percent("diff-threshold")?,
            base_ref: raw.get("base-ref").map(str::to_owned),
            annotate,
            path_prefix: raw
                .get("path-prefix")
                .map(|s| s.replace('\\', "/").trim_matches('/').to_owned())
                .filter(|s| !s.is_empty()),
            source_root: raw
                .get("source-root")
                .map(|s| s.replace('\\', "/").trim_end_matches('/').to_owned())
                .filter(|s| !s.is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_parses_exactly() {
        for (s, shown) in [
            ("80", "80%"),
            ("82.5", "82.5%"),
            ("0", "0%"),
            ("100", "100%"),
            ("33.333333", "33.333333%"),
            ("75%", "75%"),
            ("82.50", "82.5%"),
        ] {
            assert_eq!(s.parse::<Percent>().unwrap().to_string(), shown, "{s}");
        }
        for bad in [
            "",
            "abc",
            "-1",
            "100.1",
            "101",
            "1e2",
            "80.1234567",
            ".5",
            "8 0",
            "NaN",
        ] {
            assert!(bad.parse::<Percent>().is_err(), "{bad}");
        }
    }

    #[test]
    fn drop_and_delta_are_exact() {
        let zero: Percent = "0".parse().unwrap();
        assert!(!zero.dropped_more_than((1, 2), (1, 2)));
        assert!(
            !zero.dropped_more_than((1, 2), (2, 4)),
            "same ratio, other counts"
        );
        assert!(
            zero.dropped_more_than((2, 3), (666_666, 1_000_000)),
            "2/3 > 0.666666"
        );
        let half: Percent = "0.5".parse().unwrap();
        assert!(
            !half.dropped_more_than((80, 100), (795, 1000)),
            "exactly 0.5 points"
        );
        assert!(half.dropped_more_than((80, 100), (7949, 10_000)));
        assert!(!half.dropped_more_than((0, 0), (0, 10)), "no base");
        for (base, now, shown) in [
            ((80, 100), (81, 100), "+1.00"),
            ((80, 100), (79, 100), "-1.00"),
            ((2, 3), (2, 3), "+0.00"),
            ((1_000_000, 1_000_000), (999_999, 1_000_000), "-0.01"),
            ((1, 3), (1, 2), "+16.66"),
        ] {
            assert_eq!(show_delta(base, now), shown, "{base:?} {now:?}");
        }
        assert_eq!(show_delta((0, 0), (1, 2)), "");
    }

    #[test]
    fn threshold_comparison_is_exact() {
        let p: Percent = "82.5".parse().unwrap();
        assert!(p.met_by(825, 1000));
        assert!(!p.met_by(824, 1000));
        // 2/3 = 66.666…% : a float rounded to 66.67 would pass 66.67; exact does not.
        let p: Percent = "66.67".parse().unwrap();
        assert!(!p.met_by(2, 3));
        assert!("66.666666".parse::<Percent>().unwrap().met_by(2, 3));
        assert!("0".parse::<Percent>().unwrap().met_by(0, 10));
        assert!("100".parse::<Percent>().unwrap().met_by(u64::MAX, u64::MAX));
    }

    #[test]
    fn shown_percent_rounds_down() {
        assert_eq!(show_percent(79_996, 100_000), "79.99");
        assert_eq!(show_percent(2, 3), "66.66");
        assert_eq!(show_percent(1, 1), "100.00");
        assert_eq!(show_percent(0, 0), "");
    }

    #[test]
    fn config_errors_name_the_input() {
        let raw = RawInputs::from_named([("threshold", "lots")]);
        let e = CoverageConfig::try_from(&raw).unwrap_err().to_string();
        assert!(
            e.starts_with("input `threshold`: expected a percentage"),
            "{e}"
        );
        let raw = RawInputs::from_named([("annotate", "some")]);
        assert!(
            CoverageConfig::try_from(&raw)
                .unwrap_err()
                .to_string()
                .contains("input `annotate`")
        );
        let raw = RawInputs::from_named([("coverage-metric", "branches")]);
        assert!(
            CoverageConfig::try_from(&raw)
                .unwrap_err()
                .to_string()
                .starts_with("input `coverage-metric`")
        );
        let raw = RawInputs::from_named([("format", "xml")]);
        assert!(
            CoverageConfig::try_from(&raw)
                .unwrap_err()
                .to_string()
                .contains("input `format`")
        );
        let cfg = CoverageConfig::try_from(&RawInputs::default()).unwrap();
        assert!(cfg.default_files && cfg.files.len() == 8 && cfg.annotate == Annotate::Changed);
        assert_eq!(cfg.metric, Metric::Auto);
    }
}
