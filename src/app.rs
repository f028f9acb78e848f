//! One run: inputs → gate → outcome → reporters. Returns what `main` should print and the
//! exit code; never prints itself (workflow commands go through [`Commands`]).

use std::io::Write;

use crate::error::{Described, error_chain};
use crate::gates::{self, Context, GateKind};
use crate::github::{GitHub, RetryPolicy};
use crate::logging::LogFormat;
use crate::outcome::Outcome;
use crate::report::Reporter;
use crate::report::render::{self, Status};
use crate::runner::commands::Commands;
use crate::runner::env::RunnerEnv;
use crate::runner::inputs::{InputError, RawInputs};
use crate::runner::{outputs, summary};
use crate::secret::Secret;
use crate::spec::COMMON_INPUTS;

/// Exit code: the gate passed.
pub const EXIT_PASS: u8 = 0;
/// Exit code: the gate's policy did not hold.
pub const EXIT_FAIL: u8 = 1;
/// Exit code: the tool could not do its job.
pub const EXIT_ERROR: u8 = 2;

/// Inputs every gate shares, typed.
#[derive(Debug, Clone)]
pub struct CommonConfig {
    /// The gate.
    pub gate: GateKind,
    /// Token for the GitHub API.
    pub token: Option<Secret<String>>,
    /// Check-run name.
    pub check_name: String,
    /// Cap on check-run annotations.
    pub max_annotations: usize,
    /// Log format.
    pub log_format: LogFormat,
}

impl TryFrom<&RawInputs> for CommonConfig {
    type Error = InputError;
    fn try_from(raw: &RawInputs) -> Result<Self, InputError> {
        let gate: GateKind = raw
            .parse("gate", "one of coverage, image, rollout")?
            .ok_or_else(|| InputError::Missing {
                name: "gate".into(),
                hint: ": one of coverage, image, rollout".into(),
            })?;
        Ok(Self {
            gate,
            token: raw.get("github-token").map(|t| Secret::new(t.to_owned())),
            check_name: raw.get("check-name").map_or_else(
                || format!("rust-ci-action / {}", gate.name()),
                str::to_owned,
            ),
            max_annotations: raw
                .parse("max-annotations", "a whole number")?
                .unwrap_or(1000),
            log_format: raw
                .parse("log-format", "`text` or `json`")?
                .unwrap_or_default(),
        })
    }
}

/// The log format asked for, read before anything else so logging can start.
pub fn log_format(raw: &RawInputs) -> LogFormat {
    raw.get("log-format")
        .and_then(|v| v.parse().ok())
        .unwrap_or_default()
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// Process exit code.
    pub exit_code: u8,
    /// Every output written (also when not on a runner).
    pub outputs: Vec<(String, String)>,
    /// The job summary markdown.
    pub summary: String,
}

/// Mask every secret input (and the token) before anything could log it. A multi-line
/// secret (a kubeconfig) is masked whole; the gate that reads it masks the credential
/// fields inside, so harmless lines such as `apiVersion: v1` are not scrubbed everywhere.
pub fn mask_secrets(raw: &RawInputs, env: &RunnerEnv, commands: &Commands) {
    let gate_inputs = GateKind::ALL.iter().flat_map(|g| g.inputs().iter());
    for spec in COMMON_INPUTS.iter().chain(gate_inputs).filter(|s| s.secret) {
        if let Some(v) = raw.get(spec.name) {
            commands.add_mask(v);
        }
    }
    if let Some(t) = &env.token {
        commands.add_mask(t);
    }
}

/// Run once. `retry` lets tests shorten backoff.
pub async fn run(
    env: RunnerEnv,
    raw: RawInputs,
    commands: Commands,
    retry: RetryPolicy,
) -> RunResult {
    mask_secrets(&raw, &env, &commands);
    let common = match CommonConfig::try_from(&raw) {
        Ok(c) => c,
        Err(e) => {
            let d = Described::new(
                "Bad input",
                &e,
                Some("Check the step's `with:` inputs against the action's README."),
            );
            return early_error(&env, &commands, "rust-ci-action", &d);
        }
    };
    let token = common
        .token
        .clone()
        .or_else(|| env.token.clone().map(Secret::new));
    let event = match crate::runner::event::load(&env) {
        Ok(e) => e,
        Err(e) => {
            let d = Described::new("The event payload could not be read", &e, None);
            return early_error(&env, &commands, &common.check_name, &d);
        }
    };
    let github = match (&token, env.owner_repo()) {
        (Some(t), Some((owner, repo))) => {
            match GitHub::new(&env.api_url(), t, &owner, &repo, retry) {
                Ok(gh) => Some(gh),
                Err(e) => {
                    tracing::warn!("{}", error_chain(&e));
                    None
                }
            }
        }
        _ => None,
    };
    let head_sha = event.head_sha.clone();
    let mut reporter = Reporter::start(
        github.clone(),
        commands.clone(),
        common.check_name.clone(),
        common.max_annotations,
        head_sha.as_deref(),
    )
    .await;
    let workspace = env.workspace_dir();
    let ctx = Context {
        env: env.clone(),
        event,
        github,
        commands: commands.clone(),
        workspace,
        check_name: common.check_name.clone(),
        check_run_url: reporter.check_run().map(|c| c.html_url.clone()),
    };
    commands.group(&format!("{} gate", common.gate.name()));
    let gate = async {
        // Test builds only: a panic inside the gate, after the check run exists.
        #[cfg(feature = "crash-test")]
        if env.crash_test.as_deref() == Some("gate") {
            panic!("crash test requested inside the gate");
        }
        gates::run(common.gate, &raw, &ctx).await
    };
    let result = match crate::crash::catch(gate).await {
        Ok(r) => r,
        Err(panic) => Err(gates::GateError::Crashed(panic)),
    };
    commands.endgroup();

    let mut partial = Vec::new();
    let (status, outcome, error): (Status, Option<Outcome>, Option<Described>) = match result {
        Ok(o) => (Status::Verdict(o.verdict), Some(o), None),
        Err(e) => {
            partial = e.outputs();
            (Status::Error, None, Some(e.described()))
        }
    };
    if let Some(e) = &error {
        commands.error(&format!("{} could not run", common.check_name), &e.message);
    }
    let delivery = reporter
        .finish(status, outcome.as_ref(), error.as_ref())
        .await;
    let mut outs = vec![("result".to_owned(), status.result().to_owned())];
    if let Some(o) = &outcome {
        outs.extend(o.outputs.iter().cloned());
    }
    outs.extend(partial);
    let check = delivery.check_run.as_ref();
    outs.push((
        "check-run-id".into(),
        check.map(|c| c.id.to_string()).unwrap_or_default(),
    ));
    outs.push((
        "check-run-url".into(),
        check.map(|c| c.html_url.clone()).unwrap_or_default(),
    ));
    let mut notes = delivery.notes.clone();
    if let Some(c) = check {
        notes.push(format!("Check run: {}", c.html_url));
    }
    let md = render::job_summary(
        &common.check_name,
        status,
        outcome.as_ref(),
        error.as_ref(),
        &notes,
    );
    let exit_code = match status {
        Status::Verdict(crate::outcome::Verdict::Pass) => EXIT_PASS,
        Status::Verdict(crate::outcome::Verdict::Fail) => EXIT_FAIL,
        Status::Error => EXIT_ERROR,
    };
    finish(&env, &commands, outs, md, exit_code)
}

fn early_error(env: &RunnerEnv, commands: &Commands, name: &str, error: &Described) -> RunResult {
    commands.error(&format!("{name} could not run"), &error.message);
    let md = render::job_summary(name, Status::Error, None, Some(error), &[]);
    finish(
        env,
        commands,
        vec![("result".into(), "error".into())],
        md,
        EXIT_ERROR,
    )
}

/// Write outputs and the summary where the runner wants them. Failing to write them is
/// itself an error (exit 2): a step whose outputs vanish would mislead the workflow.
fn finish(
    env: &RunnerEnv,
    commands: &Commands,
    outs: Vec<(String, String)>,
    md: String,
    mut exit_code: u8,
) -> RunResult {
    // Scrub every masked value from what we write, whatever echoed it, before anything
    // is written: step outputs are not masked by the runner and reach later steps.
    let masks = commands.masks();
    let md = masks.redact(&md);
    let outs: Vec<(String, String)> = outs
        .into_iter()
        .map(|(k, v)| (k, masks.redact(&v)))
        .collect();
    if let Some(path) = &env.output
        && let Err(e) = outputs::append(path, &outs)
    {
        commands.error(
            "rust-ci-action could not write outputs",
            &format!("{}: {e}", path.display()),
        );
        exit_code = EXIT_ERROR;
    }
    let mut md_out = md.clone();
    if let Some(path) = &env.step_summary {
        let already = std::fs::metadata(path)
            .map(|m| m.len() as usize)
            .unwrap_or(0);
        md_out = summary::fit_step_summary(&md, already);
        if let Err(e) = append_file(path, |f| summary::append(f, &md_out)) {
            commands.error(
                "rust-ci-action could not write the job summary",
                &format!("{}: {e}", path.display()),
            );
            exit_code = EXIT_ERROR;
        }
    }
    RunResult {
        exit_code,
        outputs: outs,
        summary: md_out,
    }
}

fn append_file(
    path: &std::path::Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    write(&mut f)?;
    f.flush()
}
