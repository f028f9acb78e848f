//! Reporting a gate's outcome: renders it and delivers it to the check run (through
//! [`crate::github`]), and when that is not possible, degraded mode through
//! workflow-command annotations and the job summary. Gates never import this module.
//!
//! Degraded mode exists because fork and Dependabot pull requests get read-only tokens
//! (403 "Resource not accessible by integration" on check-run creation). The gate's
//! verdict and exit code never depend on how it was reported.

pub mod check_run;
pub mod render;

use std::collections::BTreeMap;

use crate::error::{Described, error_chain};
use crate::github::GitHub;
use crate::github::checks::{self, CheckRun, Output};
use crate::outcome::{Annotation, Level, Outcome};
use crate::runner::commands::{Commands, Masks};
use render::Status;

/// The runner shows at most this many annotations per level per step.
pub const RUNNER_ANNOTATIONS_PER_LEVEL: usize = 10;

/// Where the results are going.
#[derive(Debug)]
pub struct Reporter {
    github: Option<GitHub>,
    commands: Commands,
    check_name: String,
    max_annotations: usize,
    check: Option<CheckRun>,
    degraded: Option<String>,
    warned: bool,
}

/// What reporting did, for outputs and the job summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    /// The check run, when one was used.
    pub check_run: Option<CheckRun>,
    /// Lines for the job summary about what could not be shown.
    pub notes: Vec<String>,
    /// Annotation-carrying requests sent to the check-runs API.
    pub annotation_requests: usize,
}

/// Sort annotations most important first: failures before warnings, then priority, then
/// place, so the selection in degraded mode and under caps is stable.
pub fn rank(annotations: &mut [&Annotation]) {
    annotations.sort_by(|a, b| {
        b.level
            .cmp(&a.level)
            .then(b.priority.cmp(&a.priority))
            .then(a.path.cmp(&b.path))
            .then(a.start_line.cmp(&b.start_line))
    });
}

/// Pick at most `per_level` annotations of each level (input already ranked); returns the
/// picked ones and how many of each level were left out.
pub fn pick_per_level<'a>(
    annotations: &[&'a Annotation],
    per_level: usize,
) -> (Vec<&'a Annotation>, BTreeMap<Level, usize>) {
    let mut shown: BTreeMap<Level, usize> = BTreeMap::new();
    let mut left: BTreeMap<Level, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for &a in annotations {
        let n = shown.entry(a.level).or_default();
        if *n < per_level {
            *n += 1;
            out.push(a);
        } else {
            *left.entry(a.level).or_default() += 1;
        }
    }
    (out, left)
}

fn now() -> String {
    // GitHub documents `YYYY-MM-DDTHH:MM:SSZ`; no fractional seconds.
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

impl Reporter {
    /// Start reporting: create the check run `in_progress` when a client and a head
    /// commit are at hand, otherwise (or when GitHub refuses) go degraded.
    pub async fn start(
        github: Option<GitHub>,
        commands: Commands,
        check_name: String,
        max_annotations: usize,
        head_sha: Option<&str>,
    ) -> Self {
        let mut r = Self {
            github,
            commands,
            check_name,
            max_annotations,
            check: None,
            degraded: None,
            warned: false,
        };
        match (&r.github, head_sha) {
            (None, _) => r.degrade("no GitHub token or repository was given".into()),
            (Some(_), None) => r.degrade("the commit to attach a check run to is unknown (no event payload and no GITHUB_SHA)".into()),
            (Some(gh), Some(sha)) => match checks::create(gh, &r.check_name, sha, &now()).await {
                Ok(run) => {
                    tracing::info!("check run {} created: {}", run.id, run.html_url);
                    r.check = Some(run);
                }
                Err(e) => {
                    let why = if e.is_permission() {
                        format!("the token cannot create check runs ({}); fork and Dependabot pull requests get read-only tokens", error_chain(&e))
                    } else {
                        format!("creating the check run failed ({})", error_chain(&e))
                    };
                    r.degrade(why);
                }
            },
        }
        r
    }

    /// The check run in use, when there is one.
    pub fn check_run(&self) -> Option<&CheckRun> {
        self.check.as_ref()
    }

    fn degrade(&mut self, why: String) {
        if !self.warned {
            self.warned = true;
            let msg = format!("{why}: reporting through annotations and the job summary instead");
            if self.commands.style() == crate::runner::commands::Style::Actions {
                self.commands.warning("rust-ci-action", &msg);
            } else {
                tracing::debug!("{msg}");
            }
        }
        self.degraded = Some(why);
    }

    /// Deliver the outcome (or the error) and conclude.
    pub async fn finish(
        &mut self,
        status: Status,
        outcome: Option<&Outcome>,
        error: Option<&Described>,
    ) -> Delivery {
        let mut delivery = Delivery::default();
        let mut annotations: Vec<&Annotation> = outcome
            .map(|o| o.annotations.iter().collect())
            .unwrap_or_default();
        rank(&mut annotations);
        // Masked values are scrubbed from the annotations sent, not all of them (a gate
        // may make thousands; a few are shown): here for the check run, and by
        // `commands.annotation` for the runner's.
        let masks = self.commands.masks();
        if let (Some(gh), Some(run)) = (self.github.clone(), self.check.clone()) {
            let located: Vec<&Annotation> = annotations
                .iter()
                .copied()
                .filter(|a| check_run::located(a))
                .collect();
            let sent = located.len().min(self.max_annotations);
            if located.len() > sent {
                delivery.notes.push(format!(
                    "{} more annotations were not sent to the check run (max-annotations is {}).",
                    located.len() - sent,
                    self.max_annotations
                ));
            }
            let located: Vec<serde_json::Value> = located[..sent]
                .iter()
                .filter_map(|a| check_run::annotation_json(&masks.annotation(a)))
                .collect();
            let output = check_output(outcome, error, &masks);
            let conclusion = match status {
                Status::Verdict(crate::outcome::Verdict::Pass) => "success",
                _ => "failure",
            };
            match checks::complete(&gh, &run, &output, &located, conclusion, &now()).await {
                Ok(n) => {
                    // The check-runs API takes only annotations on a file; the others (a
                    // failed rollout, a failed smoke command) go to the run as workflow
                    // commands, so they are not lost when a check run is used.
                    let general: Vec<&Annotation> = annotations
                        .iter()
                        .copied()
                        .filter(|a| a.path.is_none())
                        .collect();
                    let (picked, _) = pick_per_level(&general, RUNNER_ANNOTATIONS_PER_LEVEL);
                    for a in picked {
                        self.commands.annotation(a);
                    }
                    delivery.annotation_requests = n;
                    delivery.check_run = Some(run);
                    return delivery;
                }
                Err(e) => {
                    self.check = None;
                    delivery.notes.clear();
                    self.degrade(format!(
                        "updating the check run failed ({})",
                        error_chain(&e)
                    ));
                }
            }
        }
        // Degraded: the runner shows only 10 annotations per level per step.
        let (picked, left) = pick_per_level(&annotations, RUNNER_ANNOTATIONS_PER_LEVEL);
        for a in picked {
            self.commands.annotation(a);
        }
        let omitted: usize = left.values().sum();
        if omitted > 0 && self.commands.style() == crate::runner::commands::Style::Actions {
            let per: Vec<String> = left
                .iter()
                .map(|(l, n)| format!("{n} {}", l.api_name()))
                .collect();
            delivery.notes.push(format!(
                "{omitted} more annotations ({}) are not shown: the runner displays at most {RUNNER_ANNOTATIONS_PER_LEVEL} per level per step.",
                per.join(", ")
            ));
        }
        if let Some(why) = &self.degraded
            && self.commands.style() == crate::runner::commands::Style::Actions
        {
            delivery.notes.push(format!("No check run: {why}."));
        }
        delivery
    }
}

/// The check run's output: masked values scrubbed first, then cut to GitHub's limit (cut
/// first, a secret across the cut would leave a prefix that no longer matches its mask).
fn check_output(outcome: Option<&Outcome>, error: Option<&Described>, masks: &Masks) -> Output {
    let fit = |text: &str| render::fit_check_text(&masks.redact(text));
    match (outcome, error) {
        (Some(o), _) => Output {
            title: masks.redact(&o.title),
            summary: with_record(&masks.redact(&o.summary), o.record.as_deref()),
            text: fit(&o.text),
        },
        (None, Some(e)) => Output {
            title: masks.redact(&e.title),
            summary: fit(&render::error_text(e)),
            text: String::new(),
        },
        (None, None) => Output {
            title: "The gate could not run".into(),
            summary: "unknown error".into(),
            text: String::new(),
        },
    }
}

/// The summary cut so that the record still fits after it, then the record. A record
/// that cannot fit at all (the gate sizes it well under the limit) is left out rather than
/// cut, which would only make it unreadable.
fn with_record(summary: &str, record: Option<&str>) -> String {
    let record = record.filter(|r| r.len() + 1024 < render::CHECK_TEXT_LIMIT);
    let Some(record) = record else {
        return render::fit_check_text(summary);
    };
    let room = render::CHECK_TEXT_LIMIT - record.len() - 2;
    let mut out =
        crate::runner::summary::fit(summary, room, "in the check run's 65,535-character limit");
    out.push_str("\n\n");
    out.push_str(record);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann(level: Level, line: u32, priority: i64) -> Annotation {
        Annotation {
            path: Some("a.rs".into()),
            start_line: Some(line),
            end_line: Some(line),
            level,
            title: None,
            message: "m".into(),
            priority,
        }
    }

    #[test]
    fn degraded_selection_keeps_the_most_important_per_level() {
        let mut v: Vec<Annotation> = (0..25)
            .map(|i| ann(Level::Warning, i, i64::from(i)))
            .collect();
        v.extend((0..3).map(|i| ann(Level::Failure, 100 + i, 0)));
        let mut v: Vec<&Annotation> = v.iter().collect();
        rank(&mut v);
        let (picked, left) = pick_per_level(&v, 10);
        assert_eq!(picked.len(), 13);
        assert_eq!(picked[0].level, Level::Failure);
        let lines: Vec<u32> = picked
            .iter()
            .filter(|a| a.level == Level::Warning)
            .map(|a| a.start_line.unwrap())
            .collect();
        assert_eq!(
            lines,
            (15..25).rev().collect::<Vec<_>>(),
            "highest priority warnings first"
        );
        assert_eq!(left.get(&Level::Warning), Some(&15));
        assert_eq!(left.get(&Level::Failure), None);
    }
}
