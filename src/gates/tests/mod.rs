//! Tests gate: read test reports (JUnit XML from any producer, `go test -json`), fail on
//! failed tests, annotate each failure where it failed and each flaky test as a warning.
//! `run` is the gate's story: find the reports (`crate::reports`), parse them into one
//! bounded tally (`files`, `parse`), map locations (`crate::paths`, `locate`), with
//! `fail-on: new` read the base commit's record (`crate::base_commit`, `regress`), decide
//! (`evaluate`), render (`render`) and leave this run's record (`regress`,
//! [`crate::baseline`]). This file and `files` do the I/O; every other file is pure.

pub(crate) mod config;
mod error;
pub(crate) mod evaluate;
mod files;
pub(crate) mod locate;
pub mod model;
pub mod parse;
pub(crate) mod regress;
pub(crate) mod render;

use crate::base_commit::{self, BaseState, Wanted};
use crate::gates::Context;
use crate::outcome::{Annotation, Level, Outcome};
use crate::paths::PathMapper;
use crate::runner::inputs::RawInputs;
use crate::spec::{InputSpec, OutputSpec};
use config::{FailOn, TestsConfig};

pub use error::Error;

/// Default report locations, tried when `files` is not given.
pub const DEFAULT_FILES: &[&str] = &["**/junit.xml", "**/TEST-*.xml", "**/test-results/**/*.xml"];

/// The tests gate's inputs.
pub const INPUTS: &[InputSpec] = &[
    InputSpec::new("files", "Test reports, one path or glob per line: JUnit XML (pytest, jest-junit, cargo-nextest, Maven Surefire, Ant, PHPUnit, ...) or `go test -json` output.")
        .default("**/junit.xml, **/TEST-*.xml, **/test-results/**/*.xml")
        .multiline(),
    InputSpec::new("format", "`auto` (from content), `junit` or `go-json`.").default("auto"),
    InputSpec::new("flaky", "What a flaky test (failed, then passed on a retry) does: `pass` (reported and annotated as a warning; the retry policy already accepted it) or `fail`.").default("pass"),
    InputSpec::new("fail-on", "Which failures fail the gate: `any`, or `new` (a failure that also failed on the pull request's merge-base, as recorded in that commit's check run of the same name, is reported and annotated as a warning but does not fail the gate; without such a record every failure fails it, with a notice).").default("any"),
    InputSpec::new("path-prefix", "Prefix to add to report paths to make them repository-relative."),
    InputSpec::new("source-root", "Prefix to strip from report paths (the directory the tests ran in)."),
];

/// The tests gate's outputs.
pub const OUTPUTS: &[OutputSpec] = &[
    OutputSpec {
        name: "passed",
        description: "Tests that passed on their only run.",
    },
    OutputSpec {
        name: "failed",
        description: "Tests that failed or errored.",
    },
    OutputSpec {
        name: "flaky",
        description: "Tests that failed, then passed on a retry.",
    },
    OutputSpec {
        name: "skipped",
        description: "Tests skipped.",
    },
    OutputSpec {
        name: "total",
        description: "Tests in the reports (passed + failed + flaky + skipped).",
    },
    OutputSpec {
        name: "duration",
        description: "The tests' durations added up, in seconds (three decimals).",
    },
    OutputSpec {
        name: "failed-tests",
        description: "The failed tests as a JSON array of `{suite, name, status, file, line, message}` (the first 100).",
    },
];

/// Run the tests gate.
pub async fn run(raw: &RawInputs, ctx: &Context) -> Result<Outcome, Error> {
    let cfg = TestsConfig::try_from(raw)?;
    let ws = ctx.workspace.clone();
    let reports = crate::reports::find_reports(&ws, &cfg.files, cfg.default_files)?;
    let forced = cfg.format;
    let ws_for_names = ws.clone();
    let parsing =
        tokio::task::spawn_blocking(move || files::parse_all(&reports, forced, &ws_for_names));
    let finding_base = async {
        match (&ctx.event.pull_request, cfg.fail_on) {
            (Some(pr), FailOn::New) => {
                let wanted = Wanted {
                    kind: regress::KIND,
                    title: "Tests baseline",
                };
                base_commit::find(ctx, wanted, &pr.base_sha, &pr.head_sha).await
            }
            (None, FailOn::New) => BaseState::Missing {
                why: "not a pull request, so no merge-base".into(),
                api_failed: false,
            },
            (_, FailOn::Any) => BaseState::NotApplicable,
        }
    };
    let (parsed, tracked, base_state) =
        tokio::join!(parsing, crate::reports::tracked_files(&ws), finding_base);
    let (tally, read) = parsed.map_err(|e| crate::reports::FindError::Read {
        path: "reports".into(),
        source: std::io::Error::other(e.to_string()),
    })??;
    if tally.total() == 0 {
        let names: Vec<&str> = read.iter().map(|r| r.shown.as_str()).collect();
        return Err(Error::NoTests(names.join(", ")));
    }
    let mapper = PathMapper::new(
        &ws.display().to_string(),
        tracked,
        cfg.path_prefix.clone(),
        cfg.source_root.clone(),
    );
    let mut notes = Vec::new();
    let base = match base_state {
        BaseState::Found {
            sha, record, url, ..
        } => Some(regress::Base::new(sha, url, &record)),
        BaseState::Missing { why, api_failed } => {
            let level = if api_failed {
                Level::Warning
            } else {
                Level::Notice
            };
            notes.push(Annotation::general(
                level,
                "Tests baseline",
                &format!("every failure fails the gate, as with `fail-on: any`: {why}"),
            ));
            None
        }
        BaseState::NotApplicable => None,
    };
    let mut ev = evaluate::evaluate(&tally, &mapper, &cfg, base);
    ev.annotations.extend(notes);
    tracing::info!(
        "{} tests: {} passed, {} failed, {} errored, {} flaky, {} skipped",
        tally.total(),
        tally.passed,
        tally.failed,
        tally.errored,
        tally.flaky,
        tally.skipped
    );
    let mut outcome = render::outcome(&ev, &tally, &read, &cfg, 60_000);
    attach_record(&mut outcome, &tally, &ctx.check_name);
    Ok(outcome)
}

/// The check run's limit, which the summary and the record share.
const CHECK_LIMIT: usize = 65_535;

/// Leave this run's record (the failed tests) in the check run's summary: as many
/// failures as fit beside the summary, saying so when not every one did.
fn attach_record(outcome: &mut Outcome, tally: &model::Tally, check_name: &str) {
    let record = regress::record(tally, check_name);
    let room = CHECK_LIMIT
        .saturating_sub(outcome.summary.len() + 4096)
        .min(60_000);
    let enc = crate::baseline::encode(&record, room);
    if enc.block.is_empty() {
        outcome.summary.push_str(
            "\nNo record of the failed tests: the summary left no room for it in the check run.\n",
        );
        return;
    }
    if (enc.items as u64) < record.items_total {
        outcome.summary.push_str(&format!(
            "\nThe record of failed tests for later runs (`fail-on: new`) names {} of {} failures.\n",
            enc.items, record.items_total
        ));
    }
    outcome.record = Some(enc.block);
}
