//! Action inputs read exactly as `@actions/core`'s `getInput` reads them.
//!
//! Stage one of the two-stage input handling: raw strings keyed by input name. Gates turn
//! [`RawInputs`] into typed configuration (`TryFrom<&RawInputs>`); nothing here knows
//! what an input means. Parsing is from an iterator of pairs, never from the process
//! environment, so tests never set environment variables.
//!
//! `getInput(name)` reads `INPUT_` + the name with spaces replaced by `_` and upper-cased
//! (hyphens kept), trims the value, and treats an empty value as "not given"
//! (<https://github.com/actions/toolkit/blob/main/packages/core/src/core.ts>).

use std::collections::BTreeMap;
use std::str::FromStr;

/// An input that was given but could not be understood.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InputError {
    /// A boolean input outside the YAML 1.2 core schema values `@actions/core` accepts.
    #[error(
        "input `{name}`: expected one of true, True, TRUE, false, False, FALSE, found {value:?}"
    )]
    NotBoolean {
        /// Input name.
        name: String,
        /// What was given.
        value: String,
    },
    /// A required input is missing.
    #[error("input `{name}` is required{hint}")]
    Missing {
        /// Input name.
        name: String,
        /// Extra guidance, starting with `: ` when present.
        hint: String,
    },
    /// An input whose value does not parse.
    #[error("input `{name}`: {message}, found {value:?}")]
    Invalid {
        /// Input name.
        name: String,
        /// What was given.
        value: String,
        /// What was expected.
        message: String,
    },
    /// A line of a secret input that does not parse: named by its number, never shown.
    #[error("input `{name}`, line {line}: {message} (the line is not shown: it holds a secret)")]
    SecretLine {
        /// Input name.
        name: String,
        /// 1-based line number among the non-empty lines.
        line: usize,
        /// What was expected.
        message: String,
    },
}

impl InputError {
    /// Build an [`InputError::Invalid`].
    pub fn invalid(name: &str, value: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            name: name.to_owned(),
            value: value.to_owned(),
            message: message.into(),
        }
    }
}

/// Inputs as given, keyed by the environment-variable form of their name
/// (`MAX-ANNOTATIONS` for `max-annotations`), values trimmed, empty ones dropped.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RawInputs {
    values: BTreeMap<String, String>,
}

/// The environment-variable suffix `@actions/core` derives from an input name.
pub fn env_key(name: &str) -> String {
    name.replace(' ', "_").to_uppercase()
}

impl RawInputs {
    /// Collect inputs from environment pairs: every `INPUT_*` variable, trimmed, empties dropped.
    pub fn from_env<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let values = pairs
            .into_iter()
            .filter_map(|(k, v)| {
                let key = k.as_ref().strip_prefix("INPUT_")?;
                let value = v.as_ref().trim();
                (!value.is_empty()).then(|| (key.to_owned(), value.to_owned()))
            })
            .collect();
        Self { values }
    }

    /// Collect inputs given by name (the local CLI), with the same trimming rules.
    pub fn from_named<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        Self::from_env(
            pairs
                .into_iter()
                .map(|(k, v)| (format!("INPUT_{}", env_key(k.as_ref())), v)),
        )
    }

    /// The trimmed value of an input, `None` when not given or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(&env_key(name)).map(String::as_str)
    }

    /// The value of a required input.
    pub fn require(&self, name: &str, hint: &str) -> Result<&str, InputError> {
        self.get(name).ok_or_else(|| InputError::Missing {
            name: name.to_owned(),
            hint: if hint.is_empty() {
                String::new()
            } else {
                format!(": {hint}")
            },
        })
    }

    /// A boolean input as `getBooleanInput` reads it; `None` when not given.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, InputError> {
        match self.get(name) {
            None => Ok(None),
            Some("true" | "True" | "TRUE") => Ok(Some(true)),
            Some("false" | "False" | "FALSE") => Ok(Some(false)),
            Some(other) => Err(InputError::NotBoolean {
                name: name.to_owned(),
                value: other.to_owned(),
            }),
        }
    }

    /// A multi-line input: split on newlines, each line trimmed, empty lines dropped.
    ///
    /// `getMultilineInput` drops empty lines before trimming, so a whitespace-only line
    /// would come back as `""`; we drop those too because no input of ours can use one.
    pub fn multiline(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|v| {
                v.split('\n')
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Parse an input with `FromStr`, naming the input and the expectation on failure.
    pub fn parse<T: FromStr>(&self, name: &str, expected: &str) -> Result<Option<T>, InputError> {
        self.get(name)
            .map(|v| {
                v.parse::<T>()
                    .map_err(|_| InputError::invalid(name, v, format!("expected {expected}")))
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> RawInputs {
        RawInputs::from_env(pairs.iter().copied())
    }

    #[test]
    fn names_follow_actions_core() {
        let r = raw(&[
            ("INPUT_MAX-ANNOTATIONS", " 12 "),
            ("INPUT_CHECK_NAME", "x"),
            ("INPUT_EMPTY", "   "),
            ("GITHUB_TOKEN", "no"),
        ]);
        assert_eq!(r.get("max-annotations"), Some("12"));
        assert_eq!(r.get("check name"), Some("x"), "spaces become underscores");
        assert_eq!(
            r.get("check-name"),
            None,
            "hyphens are kept, not turned into underscores"
        );
        assert_eq!(r.get("empty"), None, "whitespace-only means not given");
        assert_eq!(r.get("github-token"), None);
        assert_eq!(
            r,
            RawInputs::from_named([("max-annotations", "12"), ("check name", "x")]),
            "only INPUT_* kept"
        );
    }

    #[test]
    fn booleans_accept_only_the_core_schema() {
        for (v, want) in [
            ("true", Some(true)),
            ("True", Some(true)),
            ("TRUE", Some(true)),
            ("false", Some(false)),
            ("False", Some(false)),
            ("FALSE", Some(false)),
        ] {
            assert_eq!(raw(&[("INPUT_PUSH", v)]).boolean("push"), Ok(want), "{v}");
        }
        assert_eq!(raw(&[]).boolean("push"), Ok(None));
        for bad in ["yes", "1", "tRue", "on"] {
            let err = raw(&[("INPUT_PUSH", bad)]).boolean("push").unwrap_err();
            assert!(err.to_string().contains("input `push`"), "{err}");
            assert!(err.to_string().contains(bad), "{err}");
        }
    }

    #[test]
    fn multiline_splits_trims_and_drops_empties() {
        let r = raw(&[("INPUT_FILES", "a.xml\r\n\n  b.xml  \n \n c/**/*.info\n")]);
        assert_eq!(r.multiline("files"), ["a.xml", "b.xml", "c/**/*.info"]);
        assert!(raw(&[]).multiline("files").is_empty());
    }

    #[test]
    fn named_inputs_use_the_same_rules() {
        let r = RawInputs::from_named([("max-annotations", " 5"), ("base-ref", "")]);
        assert_eq!(r.get("max-annotations"), Some("5"));
        assert_eq!(r.get("base-ref"), None);
    }

    #[test]
    fn parse_and_require_name_the_input() {
        let r = raw(&[("INPUT_MAX-ANNOTATIONS", "lots")]);
        let err = r
            .parse::<u32>("max-annotations", "a whole number")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "input `max-annotations`: expected a whole number, found \"lots\""
        );
        let err = r
            .require("gate", "one of coverage, image, rollout")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "input `gate` is required: one of coverage, image, rollout"
        );
    }
}
