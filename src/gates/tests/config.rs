//! Typed tests-gate configuration from raw inputs (stage two of input handling).

use super::DEFAULT_FILES;
use super::parse::Format;
use crate::runner::inputs::{InputError, RawInputs};

/// What a flaky test (failed, then passed on a retry) does to the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flaky {
    /// Reported and annotated as a warning; the gate still passes.
    Pass,
    /// Fails the gate like a failure.
    Fail,
}

/// Which failures fail the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailOn {
    /// Every failure.
    Any,
    /// Failures that did not also fail on the base commit's recorded run.
    New,
}

/// The tests gate's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TestsConfig {
    /// Report paths or globs.
    pub files: Vec<String>,
    /// `files` was not given: the defaults are tried and one match is enough.
    pub default_files: bool,
    /// Forced format, or `None` for detection from content.
    pub format: Option<Format>,
    /// Flaky policy.
    pub flaky: Flaky,
    /// Which failures fail the gate.
    pub fail_on: FailOn,
    /// Prefix added to report paths.
    pub path_prefix: Option<String>,
    /// Prefix stripped from report paths.
    pub source_root: Option<String>,
}

impl TryFrom<&RawInputs> for TestsConfig {
    type Error = InputError;

    fn try_from(raw: &RawInputs) -> Result<Self, InputError> {
        let files = raw.multiline("files");
        let default_files = files.is_empty();
        let format = match raw.get("format") {
            None | Some("auto") => None,
            Some("junit") => Some(Format::Junit),
            Some("go-json") => Some(Format::GoJson),
            Some(other) => {
                return Err(InputError::invalid(
                    "format",
                    other,
                    "`auto`, `junit` or `go-json`",
                ));
            }
        };
        let flaky = match raw.get("flaky") {
            None | Some("pass") => Flaky::Pass,
            Some("fail") => Flaky::Fail,
            Some(other) => return Err(InputError::invalid("flaky", other, "`pass` or `fail`")),
        };
        let fail_on = match raw.get("fail-on") {
            None | Some("any") => FailOn::Any,
            Some("new") => FailOn::New,
            Some(other) => return Err(InputError::invalid("fail-on", other, "`any` or `new`")),
        };
        let path = |name: &str| {
            raw.get(name)
                .map(|s| s.replace('\\', "/").trim_end_matches('/').to_owned())
                .filter(|s| !s.is_empty())
        };
        Ok(TestsConfig {
            files: if default_files {
                DEFAULT_FILES.iter().map(|s| (*s).to_owned()).collect()
            } else {
                files
            },
            default_files,
            format,
            flaky,
            fail_on,
            path_prefix: path("path-prefix"),
            source_root: path("source-root"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> Result<TestsConfig, InputError> {
        TestsConfig::try_from(&RawInputs::from_named(pairs.iter().copied()))
    }

    #[test]
    fn defaults_and_choices() {
        let c = cfg(&[]).unwrap();
        assert!(c.default_files && c.format.is_none() && c.flaky == Flaky::Pass);
        assert_eq!(c.fail_on, FailOn::Any);
        assert_eq!(cfg(&[("fail-on", "new")]).unwrap().fail_on, FailOn::New);
        let e = cfg(&[("fail-on", "old")]).unwrap_err().to_string();
        assert!(e.contains("fail-on") && e.contains("`any` or `new`"), "{e}");
        let c = cfg(&[
            ("files", "a.xml\nb.json"),
            ("format", "go-json"),
            ("flaky", "fail"),
        ])
        .unwrap();
        assert_eq!(c.files, ["a.xml", "b.json"]);
        assert_eq!((c.format, c.flaky), (Some(Format::GoJson), Flaky::Fail));
        let e = cfg(&[("flaky", "maybe")]).unwrap_err().to_string();
        assert!(e.contains("flaky") && e.contains("`pass` or `fail`"), "{e}");
        assert!(cfg(&[("format", "xunit")]).is_err());
    }
}
