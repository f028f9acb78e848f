//! A mock GitHub REST API that judges every request by GitHub's own OpenAPI description
//! (`tests/fixtures/github/github-openapi/api.github.com.subset.json`, from `../shared`):
//! the operation must exist, a body may only go to an operation that takes one, and the
//! JSON body must validate against its `requestBody` schema (jsonschema, formats on).
//! Answers are shaped after the description's response examples. Faults can be scripted.
//!
//! A mock that saw an invalid request fails the test when it is dropped, so no test can
//! forget to look.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::common::shared_dir;

/// One request as received.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    /// Method.
    pub method: String,
    /// Path without the API prefix.
    pub path: String,
    /// Query string.
    pub query: String,
    /// Every header (lower-case names).
    pub headers: BTreeMap<String, String>,
    /// Body text.
    pub body_text: String,
    /// Body as JSON.
    pub body: Option<Value>,
    /// The OpenAPI operation it matched (`POST /repos/{owner}/{repo}/check-runs`).
    pub operation: Option<String>,
}

/// A scripted answer for the next matching request(s).
#[derive(Debug, Clone)]
pub(crate) struct Fault {
    /// Method to match.
    pub method: &'static str,
    /// Substring of the path to match.
    pub path_contains: &'static str,
    /// Status to answer.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// Body.
    pub body: Value,
    /// How many matching requests get this answer.
    pub times: usize,
}

impl Fault {
    /// Answer the next `times` `method` requests whose path contains `path_contains` with
    /// `status` and GitHub's error body `{"message": ...}`.
    pub(crate) fn status(
        method: &'static str,
        path_contains: &'static str,
        status: u16,
        message: impl Into<String>,
        times: usize,
    ) -> Self {
        Self {
            method,
            path_contains,
            status,
            headers: vec![],
            body: json!({ "message": message.into() }),
            times,
        }
    }

    /// The 403 a read-only token (fork and Dependabot pull requests) gets when it creates a
    /// check run, for the next `times` attempts.
    pub(crate) fn read_only_token(times: usize) -> Self {
        Self::status(
            "POST",
            "/check-runs",
            403,
            "Resource not accessible by integration",
            times,
        )
    }

    /// With one more response header.
    pub(crate) fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }
}

/// A scripted responder: given a valid request (and its OpenAPI operation key), an answer
/// `(status, headers, body)`, or `None` to fall through to the built-in answers.
pub(crate) type Responder =
    Box<dyn Fn(&Recorded) -> Option<(u16, Vec<(String, String)>, Vec<u8>)> + Send + Sync>;

#[derive(Default)]
struct MockState {
    requests: Vec<Recorded>,
    violations: Vec<String>,
    faults: Vec<Fault>,
    next_id: u64,
    pr_files_pages: Vec<Vec<Value>>,
    prefix: String,
    responders: Vec<Arc<Responder>>,
}

struct Operation {
    method: String,
    template: Vec<String>,
    key: String,
    validator: Option<jsonschema::Validator>,
    spec: Value,
}

struct Shared {
    state: Mutex<MockState>,
    ops: Vec<Operation>,
    base_url: Mutex<String>,
}

/// A running mock.
pub(crate) struct MockGitHub {
    shared: Arc<Shared>,
    /// API base URL (`GITHUB_API_URL`).
    pub url: String,
    _runtime: tokio::runtime::Runtime,
}

fn load_operations() -> Vec<Operation> {
    // Every operation that takes a body must take JSON we can validate: a body we could
    // not check would pass silently.
    let path = shared_dir().join("github-openapi/api.github.com.subset.json");
    let spec: Value = serde_json::from_slice(
        &std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .expect("OpenAPI JSON");
    let mut ops = Vec::new();
    for (p, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let schema = op.pointer("/requestBody/content/application~1json/schema");
            assert!(
                op.get("requestBody").is_none() || schema.is_some(),
                "{method} {p} takes a body that is not application/json"
            );
            let validator = schema.map(|s| {
                jsonschema::options()
                    .should_validate_formats(true)
                    .build(s)
                    .unwrap_or_else(|e| panic!("schema of {method} {p}: {e}"))
            });
            ops.push(Operation {
                method: method.to_uppercase(),
                template: p.split('/').map(str::to_owned).collect(),
                key: format!("{} {p}", method.to_uppercase()),
                validator,
                spec: op.clone(),
            });
        }
    }
    ops
}

/// How well `path` fits `template`: `None` when it does not, else the number of literal
/// segments (the most literal template wins, as in any router).
fn fit(template: &[String], path: &str) -> Option<usize> {
    let segs: Vec<&str> = path.split('/').collect();
    let fits = segs.len() == template.len()
        && template
            .iter()
            .zip(&segs)
            .all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t == s);
    fits.then(|| template.iter().filter(|t| !t.starts_with('{')).count())
}

fn example(op: &Operation, status: &str) -> Value {
    let content = op
        .spec
        .pointer(&format!("/responses/{status}/content/application~1json"));
    content
        .and_then(|c| {
            c.get("example").cloned().or_else(|| {
                c.get("examples")
                    .and_then(|e| e.as_object())
                    .and_then(|e| e.values().next_back())
                    .and_then(|e| e.get("value").cloned())
            })
        })
        .unwrap_or(Value::Null)
}

impl MockGitHub {
    /// Start on a free port; `prefix` is the API path prefix (`""`, or `/api/v3` as GHES).
    pub(crate) fn start_with_prefix(prefix: &str) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let shared = Arc::new(Shared {
            state: Mutex::new(MockState {
                next_id: 4,
                prefix: prefix.to_owned(),
                ..Default::default()
            }),
            ops: load_operations(),
            base_url: Mutex::new(String::new()),
        });
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let url = format!("http://{addr}{prefix}");
        *shared.base_url.lock().unwrap() = format!("http://{addr}");
        Self {
            shared,
            url,
            _runtime: runtime,
        }
    }

    /// Start with the github.com layout.
    pub(crate) fn start() -> Self {
        Self::start_with_prefix("")
    }

    /// Script a fault.
    pub(crate) fn fault(&self, f: Fault) {
        self.shared.state.lock().unwrap().faults.push(f);
    }

    /// Answer valid requests through `r` first (after scripted faults); see [`Responder`].
    pub(crate) fn responder(&self, r: Responder) {
        self.shared
            .state
            .lock()
            .unwrap()
            .responders
            .push(Arc::new(r));
    }

    /// Serve these pages for `GET .../pulls/{n}/files`.
    pub(crate) fn pr_files(&self, pages: Vec<Vec<Value>>) {
        self.shared.state.lock().unwrap().pr_files_pages = pages;
    }

    /// Every request so far.
    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.shared.state.lock().unwrap().requests.clone()
    }

    /// Requests that broke the OpenAPI description.
    pub(crate) fn violations(&self) -> Vec<String> {
        self.shared.state.lock().unwrap().violations.clone()
    }

    /// Hand back the violations so far and forget them (for tests that send bad requests
    /// on purpose; the drop check then passes).
    pub(crate) fn take_violations(&self) -> Vec<String> {
        std::mem::take(&mut self.shared.state.lock().unwrap().violations)
    }

    /// Panic unless every request was valid.
    #[track_caller]
    pub(crate) fn assert_valid(&self) {
        let v = self.violations();
        assert!(
            v.is_empty(),
            "requests that do not match GitHub's OpenAPI description:\n{}",
            v.join("\n")
        );
    }
}

impl Drop for MockGitHub {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.assert_valid();
        }
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let prefix = shared.state.lock().unwrap().prefix.clone();
    let full_path = uri.path().to_owned();
    let path = full_path
        .strip_prefix(&prefix)
        .unwrap_or(&full_path)
        .to_owned();
    let body_text = String::from_utf8_lossy(&body).into_owned();
    let body_json: Option<Value> = if body.is_empty() {
        None
    } else {
        serde_json::from_slice(&body).ok()
    };
    let op = shared
        .ops
        .iter()
        .filter(|o| o.method == method.as_str())
        .filter_map(|o| Some((fit(&o.template, &path)?, o)))
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, o)| o);
    let mut violations = Vec::new();
    if !full_path.starts_with(&prefix) {
        violations.push(format!(
            "{method} {full_path}: outside the API prefix {prefix}"
        ));
    }
    match op {
        None => violations.push(format!(
            "{method} {path}: no such operation in the description"
        )),
        Some(op) => match (&op.validator, &body_json) {
            (None, _) if !body.is_empty() => {
                violations.push(format!("{}: takes no body, got {body_text:?}", op.key));
            }
            (None, _) => {}
            (Some(_), None) => {
                violations.push(format!("{}: body is not JSON: {body_text:?}", op.key));
            }
            (Some(v), Some(b)) => {
                for e in v.iter_errors(b) {
                    violations.push(format!("{}: {} at {}", op.key, e, e.instance_path));
                }
            }
        },
    }
    let header_map: BTreeMap<String, String> = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let mut st = shared.state.lock().unwrap();
    st.requests.push(Recorded {
        method: method.to_string(),
        path: path.clone(),
        query: uri.query().unwrap_or("").to_owned(),
        headers: header_map,
        body_text,
        body: body_json.clone(),
        operation: op.map(|o| o.key.clone()),
    });
    if !violations.is_empty() {
        st.violations.extend(violations.iter().cloned());
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({"message": "Validation Failed", "errors": violations})),
        )
            .into_response();
    }
    if let Some(i) = st
        .faults
        .iter()
        .position(|f| f.method == method.as_str() && path.contains(f.path_contains) && f.times > 0)
    {
        let f = &mut st.faults[i];
        f.times -= 1;
        let mut resp = (
            StatusCode::from_u16(f.status).expect("status"),
            axum::Json(f.body.clone()),
        )
            .into_response();
        for (k, v) in &f.headers {
            resp.headers_mut().insert(*k, v.parse().expect("header"));
        }
        return resp;
    }
    let responders = st.responders.clone();
    let recorded = st.requests.last().cloned();
    drop(st);
    if let Some(rec) = recorded {
        for r in &responders {
            if let Some((status, headers, body)) = r(&rec) {
                let mut resp =
                    (StatusCode::from_u16(status).expect("status"), body).into_response();
                for (k, v) in headers {
                    resp.headers_mut().insert(
                        axum::http::HeaderName::from_bytes(k.as_bytes()).expect("header name"),
                        v.parse().expect("header value"),
                    );
                }
                return resp;
            }
        }
    }
    let mut st = shared.state.lock().unwrap();
    let Some(op) = op else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"message": "Not Found"})),
        )
            .into_response();
    };
    let base = shared.base_url.lock().unwrap().clone();
    match op.key.as_str() {
        "POST /repos/{owner}/{repo}/check-runs" => {
            st.next_id += 1;
            let id = st.next_id;
            let mut v = example(op, "201");
            let b = body_json.unwrap_or(Value::Null);
            v["id"] = json!(id);
            v["name"] = b["name"].clone();
            v["head_sha"] = b["head_sha"].clone();
            v["status"] = b.get("status").cloned().unwrap_or(json!("queued"));
            v["conclusion"] = Value::Null;
            v["html_url"] = json!(format!(
                "https://github.com{}/runs/{id}",
                path.trim_end_matches("/check-runs")
                    .trim_start_matches("/repos")
            ));
            (StatusCode::CREATED, axum::Json(v)).into_response()
        }
        "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}" => {
            let mut v = example(op, "200");
            let id: u64 = path
                .rsplit('/')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            v["id"] = json!(id);
            (StatusCode::OK, axum::Json(v)).into_response()
        }
        "GET /repos/{owner}/{repo}/pulls/{pull_number}/files" => {
            let page: usize = uri
                .query()
                .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("page=")))
                .and_then(|p| p.parse().ok())
                .unwrap_or(1);
            let pages = &st.pr_files_pages;
            let items = pages.get(page - 1).cloned().unwrap_or_default();
            let mut resp = (StatusCode::OK, axum::Json(Value::Array(items))).into_response();
            if page < pages.len() {
                let link = format!(
                    "<{base}{prefix}{path}?per_page=100&page={}>; rel=\"next\"",
                    page + 1
                );
                resp.headers_mut()
                    .insert("link", link.parse().expect("link"));
            }
            resp
        }
        // A create answers 201 with the created object, as GitHub does.
        _ if example(op, "200").is_null() && !example(op, "201").is_null() => {
            (StatusCode::CREATED, axum::Json(example(op, "201"))).into_response()
        }
        _ => (StatusCode::OK, axum::Json(example(op, "200"))).into_response(),
    }
}

/// The mock is the judge of our requests; these prove it can say no.
mod judge {
    use super::*;

    fn send(mock: &MockGitHub, method: reqwest::Method, path: &str, body: &str) -> u16 {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut req = reqwest::Client::new().request(method, format!("{}{path}", mock.url));
            if !body.is_empty() {
                req = req
                    .header("content-type", "application/json")
                    .body(body.to_owned());
            }
            req.send().await.unwrap().status().as_u16()
        })
    }

    #[test]
    fn requests_outside_the_description_are_violations() {
        let mock = MockGitHub::start();
        let post = reqwest::Method::POST;
        let valid = r#"{"name":"n","head_sha":"ec26c3e57ca3a959ca5aad62de7213c562f8c821"}"#;
        assert_eq!(
            send(&mock, post.clone(), "/repos/o/r/check-runs", valid),
            201
        );
        assert_eq!(mock.take_violations(), Vec::<String>::new());

        let cases = [
            (
                post.clone(),
                "/repos/o/r/check-runs",
                r#"{"name":5}"#,
                "POST /repos/{owner}/{repo}/check-runs: ",
            ),
            (
                post.clone(),
                "/repos/o/r/check-runs",
                "not json",
                "body is not JSON",
            ),
            (
                reqwest::Method::GET,
                "/repos/o/r/pulls/1/files",
                "{}",
                "takes no body",
            ),
            (post, "/repos/o/r/no-such-thing", "{}", "no such operation"),
        ];
        for (method, path, body, want) in cases {
            assert_eq!(send(&mock, method, path, body), 422, "{path} {body}");
            let v = mock.take_violations();
            assert!(v.iter().any(|v| v.contains(want)), "{path} {body}: {v:?}");
        }
    }

    #[test]
    fn the_most_literal_template_wins() {
        let t = |p: &str| p.split('/').map(str::to_owned).collect::<Vec<_>>();
        let (literal, param) = (
            t("/repos/{owner}/{repo}/pulls/{n}/files"),
            t("/repos/{owner}/{repo}/{a}/{b}/{c}"),
        );
        let path = "/repos/o/r/pulls/1/files";
        assert!(fit(&literal, path) > fit(&param, path));
        assert_eq!(fit(&literal, "/repos/o/r/pulls/1"), None);
    }
}
