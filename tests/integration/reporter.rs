//! The reporter in process against the OpenAPI-validating mock: the check-run lifecycle,
//! annotation batches and caps, retries and their budget, degraded mode, GitHub Enterprise
//! Server paths. No binary is run; `foundation.rs` covers the same path end to end.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rust_ci_action::github::{GitHub, RetryPolicy};
use rust_ci_action::outcome::{Annotation, Level, Outcome, Verdict};
use rust_ci_action::report::Reporter;
use rust_ci_action::report::render::Status;
use rust_ci_action::runner::commands::{Commands, Style};
use rust_ci_action::secret::Secret;
use serde_json::json;

use crate::github_mock::{Fault, MockGitHub};

const TOKEN: &str = "ghs_testTOKEN0123456789abcdefSECRET";

fn fast() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
        max_total_wait: Duration::from_secs(10),
        request_timeout: Duration::from_secs(10),
    }
}

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);
impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
impl Buf {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn synthetic(n: usize) -> Outcome {
    Outcome {
        verdict: Verdict::Fail,
        title: "Synthetic outcome".into(),
        summary: "summary".into(),
        text: "text".into(),
        record: None,
        long_text: None,
        annotations: (0..n)
            .map(|i| Annotation {
                path: Some(format!("src/f{}.rs", i % 7)),
                start_line: Some(u32::try_from(i).unwrap() + 1),
                end_line: Some(u32::try_from(i).unwrap() + 2),
                level: if i % 10 == 0 {
                    Level::Failure
                } else {
                    Level::Warning
                },
                title: Some("Uncovered".into()),
                message: format!("lines {} are not covered", i + 1),
                priority: i64::try_from(i).unwrap(),
            })
            .collect(),
        outputs: vec![],
    }
}

/// Run the reporter in-process with a synthetic outcome.
fn report(
    mock: &MockGitHub,
    outcome: &Outcome,
    max: usize,
) -> (rust_ci_action::report::Delivery, String) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let buf = Buf::default();
    let commands = Commands::new(Box::new(buf.clone()), Style::Actions);
    let delivery = rt.block_on(async {
        let gh = GitHub::new(
            &mock.url,
            &Secret::new(TOKEN.to_owned()),
            "octo",
            "hello",
            fast(),
        )
        .unwrap();
        let mut r = Reporter::start(
            Some(gh),
            commands,
            "rust-ci-action / test".into(),
            max,
            Some("ec26c3e57ca3a959ca5aad62de7213c562f8c821"),
        )
        .await;
        r.finish(Status::Verdict(outcome.verdict), Some(outcome), None)
            .await
    });
    (delivery, buf.text())
}

fn annotation_requests(mock: &MockGitHub) -> Vec<usize> {
    mock.requests()
        .iter()
        .filter_map(|r| {
            r.body
                .as_ref()?
                .pointer("/output/annotations")?
                .as_array()
                .map(Vec::len)
        })
        .collect()
}

#[test]
fn thousand_annotations_take_twenty_requests_of_fifty() {
    let mock = MockGitHub::start();
    let (delivery, out) = report(&mock, &synthetic(1000), 1000);
    mock.assert_valid();
    let per_request = annotation_requests(&mock);
    assert_eq!(per_request, vec![50; 20], "annotation-carrying requests");
    assert_eq!(delivery.annotation_requests, 20);
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 21, "one create and twenty updates");
    assert_eq!(
        reqs[0].operation.as_deref(),
        Some("POST /repos/{owner}/{repo}/check-runs")
    );
    assert!(
        reqs[1..].iter().all(|r| r.operation.as_deref()
            == Some("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}"))
    );
    assert_eq!(reqs[0].body.as_ref().unwrap()["status"], "in_progress");
    assert_eq!(
        reqs[0].body.as_ref().unwrap()["head_sha"],
        "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
    );
    let last = reqs.last().unwrap().body.clone().unwrap();
    assert_eq!(last["status"], "completed");
    assert_eq!(last["conclusion"], "failure");
    assert!(
        reqs[1..20]
            .iter()
            .all(|r| r.body.as_ref().unwrap().get("conclusion").is_none()),
        "earlier batches do not conclude"
    );
    assert!(
        !out.contains("::warning"),
        "no degraded-mode warning: {out}"
    );
    assert_eq!(
        reqs[0].headers.get("authorization").map(String::as_str),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[test]
fn max_annotations_caps_and_says_so() {
    let mock = MockGitHub::start();
    let (delivery, _) = report(&mock, &synthetic(120), 100);
    mock.assert_valid();
    assert_eq!(annotation_requests(&mock), vec![50, 50]);
    assert!(
        delivery
            .notes
            .iter()
            .any(|n| n.contains("20 more annotations were not sent")),
        "{:?}",
        delivery.notes
    );
}

#[test]
fn server_error_then_success_is_retried() {
    let mock = MockGitHub::start();
    mock.fault(Fault::status("POST", "/check-runs", 500, "Server Error", 1));
    let (delivery, _) = report(&mock, &synthetic(3), 1000);
    let posts = mock
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 2, "500 then success");
    assert!(delivery.check_run.is_some());
}

#[test]
fn too_many_requests_honours_retry_after() {
    let mock = MockGitHub::start();
    mock.fault(
        Fault::status("PATCH", "/check-runs/", 429, "Too Many Requests", 1)
            .header("retry-after", "1"),
    );
    let started = std::time::Instant::now();
    let (delivery, _) = report(&mock, &synthetic(3), 1000);
    let patches = mock
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .count();
    assert_eq!(patches, 2, "429 then success");
    assert!(delivery.check_run.is_some());
    // Not a timing assertion on speed: Retry-After is a lower bound we must respect.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited at least Retry-After"
    );
}

#[test]
fn secondary_rate_limit_403_is_retried() {
    let mock = MockGitHub::start();
    mock.fault(Fault {
        method: "POST",
        path_contains: "/check-runs",
        status: 403,
        headers: vec![],
        body: json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}),
        times: 2,
    });
    let (delivery, _) = report(&mock, &synthetic(1), 1000);
    assert_eq!(
        mock.requests()
            .iter()
            .filter(|r| r.method == "POST")
            .count(),
        3
    );
    assert!(delivery.check_run.is_some());
}

#[test]
fn fork_token_403_degrades_without_retrying() {
    let mock = MockGitHub::start();
    mock.fault(Fault::read_only_token(1));
    let (delivery, out) = report(&mock, &synthetic(40), 1000);
    assert_eq!(
        mock.requests().len(),
        1,
        "a permission error is not retried"
    );
    assert!(delivery.check_run.is_none());
    let warnings: Vec<&str> = out.lines().filter(|l| l.starts_with("::warning")).collect();
    let errors: Vec<&str> = out.lines().filter(|l| l.starts_with("::error")).collect();
    // one degraded-mode notice + 10 annotations per level
    assert_eq!(warnings.len(), 11, "{out}");
    assert_eq!(errors.len(), 4, "{out}");
    assert_eq!(
        warnings
            .iter()
            .filter(|l| l.contains("Resource not accessible"))
            .count(),
        1,
        "warn once"
    );
    assert!(
        delivery
            .notes
            .iter()
            .any(|n| n.contains("26 more annotations (26 warning)")),
        "{:?}",
        delivery.notes
    );
}

#[test]
fn client_errors_are_not_retried() {
    let mock = MockGitHub::start();
    mock.fault(Fault::status(
        "POST",
        "/check-runs",
        422,
        "Validation Failed",
        5,
    ));
    let (delivery, _) = report(&mock, &synthetic(1), 1000);
    assert_eq!(mock.requests().len(), 1);
    assert!(delivery.check_run.is_none());
}

#[test]
fn retries_stop_within_the_budget() {
    let mock = MockGitHub::start();
    mock.fault(Fault::status(
        "POST",
        "/check-runs",
        502,
        "Bad Gateway",
        100,
    ));
    let (delivery, out) = report(&mock, &synthetic(1), 1000);
    assert_eq!(mock.requests().len(), 4, "max_attempts");
    assert!(delivery.check_run.is_none());
    assert!(out.contains("HTTP 502"), "{out}");
}

#[test]
fn enterprise_server_prefix_is_honoured() {
    let mock = MockGitHub::start_with_prefix("/api/v3");
    let (delivery, _) = report(&mock, &synthetic(2), 1000);
    mock.assert_valid();
    assert!(delivery.check_run.is_some());
    assert!(
        mock.requests()
            .iter()
            .all(|r| r.path.starts_with("/repos/octo/hello/check-runs"))
    );
}
