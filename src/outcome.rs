//! What a gate hands back: a verdict, the text a person reads, annotations and outputs.
//! Reporters (check run, job summary, workflow commands, terminal) only ever see this.

/// The gate's decision. A tool error is not a verdict: it is an `Err` from the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every policy held: exit 0, `result=pass`.
    Pass,
    /// A policy did not hold: exit 1, `result=fail`.
    Fail,
}

impl Verdict {
    /// The value of the `result` output.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
        }
    }
}

/// Annotation level, named as in the check-runs API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// `notice`.
    Notice,
    /// `warning`.
    Warning,
    /// `failure` (`::error` as a workflow command).
    Failure,
}

impl Level {
    /// The check-runs API name.
    pub fn api_name(self) -> &'static str {
        match self {
            Level::Notice => "notice",
            Level::Warning => "warning",
            Level::Failure => "failure",
        }
    }
}

/// One annotation; a path and lines make it a line annotation, without them it is general.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    /// Repository-relative path with `/` separators.
    pub path: Option<String>,
    /// First line (1-based).
    pub start_line: Option<u32>,
    /// Last line (inclusive).
    pub end_line: Option<u32>,
    /// Severity.
    pub level: Level,
    /// Short title.
    pub title: Option<String>,
    /// The message.
    pub message: String,
    /// Higher first when only some annotations can be shown (degraded mode, caps).
    pub priority: i64,
}

impl Annotation {
    /// An annotation with no file location.
    pub fn general(level: Level, title: &str, message: &str) -> Self {
        Self {
            path: None,
            start_line: None,
            end_line: None,
            level,
            title: (!title.is_empty()).then(|| title.to_owned()),
            message: message.to_owned(),
            priority: 0,
        }
    }
}

/// Everything a gate produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Pass or fail.
    pub verdict: Verdict,
    /// One line, e.g. `Line coverage 82.50% (threshold 80%)`.
    pub title: String,
    /// Markdown: the verdict per policy and the headline numbers.
    pub summary: String,
    /// Markdown: details (tables of files, workloads, tags).
    pub text: String,
    /// A machine-readable block ([`crate::baseline`]) for the check run alone: appended
    /// to its summary, never shown elsewhere.
    pub record: Option<String>,
    /// Markdown for the job summary in place of `text`, when the gate rendered a longer
    /// version for its larger limit (1 MiB against the check run's 65,535 characters).
    pub long_text: Option<String>,
    /// Annotations, most important first is not required: reporters sort by priority.
    pub annotations: Vec<Annotation>,
    /// Gate outputs (without `result`, `check-run-id`, `check-run-url`), in a stable order.
    pub outputs: Vec<(String, String)>,
}
