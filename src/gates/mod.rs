//! The gates. Each gate module exposes `INPUTS`, `OUTPUTS` and
//! `run(&RawInputs, &Context) -> Result<Outcome, Error>`; this file dispatches.

pub mod coverage;
pub mod image;
pub mod rollout;
pub mod tests;

use std::path::PathBuf;

use crate::github::GitHub;
use crate::outcome::Outcome;
use crate::runner::commands::Commands;
use crate::runner::env::RunnerEnv;
use crate::runner::event::EventInfo;
use crate::runner::inputs::{InputError, RawInputs};
use crate::spec::{InputSpec, OutputSpec};

/// Which gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateKind {
    /// Coverage thresholds and diff coverage.
    Coverage,
    /// Build, authenticate, push, verify digest.
    Image,
    /// Kubernetes rollout.
    Rollout,
    /// Test results.
    Tests,
}

impl GateKind {
    /// Every gate.
    pub const ALL: [GateKind; 4] = [
        GateKind::Coverage,
        GateKind::Image,
        GateKind::Rollout,
        GateKind::Tests,
    ];

    /// The name used in `gate:` and as CLI subcommand.
    pub fn name(self) -> &'static str {
        match self {
            GateKind::Coverage => "coverage",
            GateKind::Image => "image",
            GateKind::Rollout => "rollout",
            GateKind::Tests => "tests",
        }
    }

    /// One line about the gate.
    pub fn about(self) -> &'static str {
        match self {
            GateKind::Coverage => {
                "Enforce line, branch, per-file and diff coverage thresholds on coverage reports"
            }
            GateKind::Image => {
                "Build a container image, authenticate (ECR, Secrets Manager), push and verify the digest"
            }
            GateKind::Rollout => {
                "Point Kubernetes workloads at a new image and wait like `kubectl rollout status`"
            }
            GateKind::Tests => {
                "Fail on failed tests from JUnit or go test reports, annotate each failure where it failed, name flaky tests"
            }
        }
    }

    /// The gate's own inputs (without the common ones).
    pub fn inputs(self) -> &'static [InputSpec] {
        match self {
            GateKind::Coverage => coverage::INPUTS,
            GateKind::Image => image::INPUTS,
            GateKind::Rollout => rollout::INPUTS,
            GateKind::Tests => tests::INPUTS,
        }
    }

    /// The gate's own outputs (without the common ones).
    pub fn outputs(self) -> &'static [OutputSpec] {
        match self {
            GateKind::Coverage => coverage::OUTPUTS,
            GateKind::Image => image::OUTPUTS,
            GateKind::Rollout => rollout::OUTPUTS,
            GateKind::Tests => tests::OUTPUTS,
        }
    }
}

impl std::str::FromStr for GateKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GateKind::ALL
            .into_iter()
            .find(|g| g.name() == s)
            .ok_or_else(|| "expected one of coverage, image, rollout, tests".to_owned())
    }
}

/// What every gate may use: the runner's environment, the event, the GitHub client and
/// the command writer. Built once in `app`.
#[derive(Debug, Clone)]
pub struct Context {
    /// Runner variables.
    pub env: RunnerEnv,
    /// The triggering event.
    pub event: EventInfo,
    /// GitHub client, when a token and repository are known.
    pub github: Option<GitHub>,
    /// Workflow commands (masks, groups).
    pub commands: Commands,
    /// The directory relative paths are resolved against (`GITHUB_WORKSPACE` or the cwd).
    pub workspace: PathBuf,
    /// The check run's name (`check-name`): what a gate's baseline record and pull-request
    /// comment are keyed by.
    pub check_name: String,
    /// The web URL of this run's check run, when one was created (for links).
    pub check_run_url: Option<String>,
}

/// A gate could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// Bad input.
    #[error(transparent)]
    Input(#[from] InputError),
    /// Coverage gate.
    #[error(transparent)]
    Coverage(#[from] coverage::Error),
    /// Image gate.
    #[error(transparent)]
    Image(#[from] image::Error),
    /// Rollout gate.
    #[error(transparent)]
    Rollout(#[from] rollout::Error),
    /// Tests gate.
    #[error(transparent)]
    Tests(#[from] tests::Error),
    /// The gate panicked (a bug): caught so the check run is still completed.
    #[error("rust-ci-action crashed: {0}")]
    Crashed(String),
}

/// Run a gate.
pub async fn run(kind: GateKind, raw: &RawInputs, ctx: &Context) -> Result<Outcome, GateError> {
    Ok(match kind {
        GateKind::Coverage => coverage::run(raw, ctx).await?,
        GateKind::Image => image::run(raw, ctx).await?,
        GateKind::Rollout => rollout::run(raw, ctx).await?,
        GateKind::Tests => tests::run(raw, ctx).await?,
    })
}

impl GateError {
    /// Outputs the gate could still give although it failed (the rollout gate's
    /// `deployment-id` once the deployment was recorded), so a later step can act on them.
    pub fn outputs(&self) -> Vec<(String, String)> {
        match self {
            GateError::Rollout(rollout::Error::Recorded { deployment_id, .. }) => {
                vec![("deployment-id".to_owned(), deployment_id.to_string())]
            }
            _ => Vec::new(),
        }
    }

    /// The error as people read it: title and help chosen per cause.
    pub fn described(&self) -> crate::error::Described {
        let (title, help) = match self {
            GateError::Input(_) => (
                "Bad input",
                Some("Check the step's `with:` inputs against the action's README."),
            ),
            GateError::Coverage(e) => (e.title(), e.help()),
            GateError::Image(e) => (e.title(), e.help()),
            GateError::Rollout(e) => (e.title(), e.help()),
            GateError::Tests(e) => (e.title(), e.help()),
            GateError::Crashed(_) => (
                "rust-ci-action crashed",
                Some("This is a bug in rust-ci-action; please report it with this message."),
            ),
        };
        crate::error::Described::new(title, self, help)
    }
}
