//! The declared interface: every input and output of every gate, with descriptions and
//! defaults. One source for the local CLI's flags, `--help`, the action files and the
//! README tables (a test checks that they agree).

/// One action input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputSpec {
    /// Name as written in `with:` (kebab-case).
    pub name: &'static str,
    /// One or two sentences.
    pub description: &'static str,
    /// Default the binary applies when the input is not given (documentation only:
    /// the typed config applies it).
    pub default: Option<&'static str>,
    /// Default written into `action.yml` when it differs from the binary's (an expression
    /// such as `${{ github.token }}`).
    pub action_default: Option<&'static str>,
    /// Holds a secret: masked before use, never logged, not accepted as a CLI flag value
    /// on shared machines without a warning.
    pub secret: bool,
    /// Newline-separated list.
    pub multiline: bool,
}

impl InputSpec {
    /// A plain input.
    pub const fn new(name: &'static str, description: &'static str) -> Self {
        Self {
            name,
            description,
            default: None,
            action_default: None,
            secret: false,
            multiline: false,
        }
    }
    /// With a default.
    pub const fn default(mut self, d: &'static str) -> Self {
        self.default = Some(d);
        self
    }
    /// With a default that only the action file applies.
    pub const fn action_default(mut self, d: &'static str) -> Self {
        self.action_default = Some(d);
        self
    }
    /// Marked secret.
    pub const fn secret(mut self) -> Self {
        self.secret = true;
        self
    }
    /// Marked multi-line.
    pub const fn multiline(mut self) -> Self {
        self.multiline = true;
        self
    }
}

/// One step output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputSpec {
    /// Name.
    pub name: &'static str,
    /// What it holds.
    pub description: &'static str,
}

/// Inputs every gate reads.
pub const COMMON_INPUTS: &[InputSpec] = &[
    InputSpec::new("gate", "Which gate to run: `coverage`, `image`, `rollout` or `tests`."),
    InputSpec::new(
        "github-token",
        "Token for the check run and the pull-request files API. Needs `checks: write` (and `pull-requests: read` for diff coverage on shallow clones). Without it, or with a read-only fork token, results go to annotations and the job summary.",
    )
    .action_default("${{ github.token }}")
    .secret(),
    InputSpec::new("check-name", "Name of the check run.").default("rust-ci-action / <gate>"),
    InputSpec::new("max-annotations", "Most annotations to send to the check run.").default("1000"),
    InputSpec::new("log-format", "`text`, or `json` for JSON lines (log shipping).").default("text"),
];

/// Outputs every gate writes.
pub const COMMON_OUTPUTS: &[OutputSpec] = &[
    OutputSpec {
        name: "result",
        description: "`pass`, `fail` (the gate's policy did not hold) or `error` (the tool could not do its job). Written even on error.",
    },
    OutputSpec {
        name: "check-run-id",
        description: "Id of the check run, empty when reporting was degraded.",
    },
    OutputSpec {
        name: "check-run-url",
        description: "Web URL of the check run, empty when reporting was degraded.",
    },
];
