//! A small stateful GitHub behind the OpenAPI-validated mock: check runs kept per commit
//! (so a later run reads back what an earlier one recorded), a commit graph for the
//! compare API, issue comments, workflow runs and their artifacts. Every request still
//! passes through `github_mock.rs`'s judge first; this only shapes the answers.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::github_mock::{MockGitHub, Recorded};

/// A check run as the fake keeps it.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub id: u64,
    pub name: String,
    pub head_sha: String,
    pub status: String,
    pub summary: String,
    pub text: String,
}

/// The fake's state.
#[derive(Debug, Default)]
pub(crate) struct World {
    pub runs: Vec<Run>,
    pub comments: BTreeMap<u64, String>,
    /// Comments written by someone other than the gate (a fork's author): id -> body. They
    /// are listed with `user.type: User` and `author_association: CONTRIBUTOR`, before the
    /// gate's own (which are `github-actions[bot]`, as GitHub lists them).
    pub planted: BTreeMap<u64, String>,
    /// Parents of each commit, first parent first (for the compare API).
    pub parents: BTreeMap<String, Vec<String>>,
    /// Answer comment writes with 403, as for a read-only token.
    pub comments_forbidden: bool,
    /// Pull requests per commit for `GET /commits/{sha}/pulls`.
    pub commit_pulls: BTreeMap<String, Vec<Value>>,
    /// Workflow runs by id.
    pub workflow_runs: BTreeMap<u64, Value>,
    /// Artifacts by id: (run id, name, zip bytes).
    pub artifacts: BTreeMap<u64, (u64, String, Vec<u8>)>,
    next: u64,
}

type Answer = Option<(u16, Vec<(String, String)>, Vec<u8>)>;

fn json_answer(status: u16, v: Value) -> Answer {
    Some((
        status,
        vec![("content-type".into(), "application/json".into())],
        serde_json::to_vec(&v).expect("json"),
    ))
}

fn query(rec: &Recorded, key: &str) -> Option<String> {
    rec.query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl World {
    /// Every ancestor of `sha` (itself included), breadth first.
    fn ancestors(&self, sha: &str) -> Vec<String> {
        let mut seen = HashSet::new();
        let mut order = Vec::new();
        let mut q = VecDeque::from([sha.to_owned()]);
        while let Some(c) = q.pop_front() {
            if seen.insert(c.clone()) {
                order.push(c.clone());
                q.extend(self.parents.get(&c).cloned().unwrap_or_default());
            }
        }
        order
    }

    fn merge_base(&self, a: &str, b: &str) -> Option<String> {
        let of_b: HashSet<String> = self.ancestors(b).into_iter().collect();
        self.ancestors(a).into_iter().find(|c| of_b.contains(c))
    }

    fn answer(&mut self, rec: &Recorded) -> Answer {
        let op = rec.operation.as_deref()?;
        let seg: Vec<&str> = rec.path.split('/').collect();
        let body = rec.body.clone().unwrap_or(Value::Null);
        match op {
            "POST /repos/{owner}/{repo}/check-runs" => {
                self.next += 1;
                let id = 1000 + self.next;
                self.runs.push(Run {
                    id,
                    name: body["name"].as_str().unwrap_or("").into(),
                    head_sha: body["head_sha"].as_str().unwrap_or("").into(),
                    status: body["status"].as_str().unwrap_or("queued").into(),
                    summary: String::new(),
                    text: String::new(),
                });
                json_answer(
                    201,
                    json!({"id": id, "html_url": format!("https://github.com/o/r/runs/{id}")}),
                )
            }
            "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}" => {
                let id: u64 = seg.last()?.parse().ok()?;
                let run = self.runs.iter_mut().find(|r| r.id == id)?;
                if let Some(s) = body["status"].as_str() {
                    run.status = s.into();
                }
                if let Some(s) = body.pointer("/output/summary").and_then(Value::as_str) {
                    run.summary = s.into();
                }
                if let Some(s) = body.pointer("/output/text").and_then(Value::as_str) {
                    run.text = s.into();
                }
                json_answer(200, json!({"id": id}))
            }
            "GET /repos/{owner}/{repo}/commits/{ref}/check-runs" => {
                let sha = seg.get(5)?;
                let name = query(rec, "check_name");
                let runs: Vec<Value> = self
                    .runs
                    .iter()
                    .rev()
                    .filter(|r| &r.head_sha == sha && name.as_ref().is_none_or(|n| n == &r.name))
                    .map(|r| {
                        json!({"id": r.id, "name": r.name, "head_sha": r.head_sha, "status": r.status,
                               "html_url": format!("https://github.com/o/r/runs/{}", r.id),
                               "output": {"title": "t", "summary": r.summary, "text": r.text}})
                    })
                    .collect();
                json_answer(200, json!({"total_count": runs.len(), "check_runs": runs}))
            }
            "GET /repos/{owner}/{repo}/compare/{basehead}" => {
                let (base, head) = seg.get(5)?.split_once("...")?;
                let mb = self.merge_base(base, head)?;
                let parents: Vec<Value> = self
                    .parents
                    .get(&mb)
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|p| json!({"sha": p}))
                    .collect();
                json_answer(
                    200,
                    json!({"status": "diverged", "merge_base_commit": {"sha": mb, "parents": parents}}),
                )
            }
            "GET /repos/{owner}/{repo}/issues/{issue_number}/comments" => {
                let planted = self.planted.iter().map(|(id, b)| {
                    json!({"id": id, "body": b, "html_url": format!("https://github.com/o/r/pull/1#issuecomment-{id}"),
                        "user": {"login": "fork-author", "type": "User"}, "author_association": "CONTRIBUTOR"})
                });
                let ours = self.comments.iter().map(|(id, b)| {
                    json!({"id": id, "body": b, "html_url": format!("https://github.com/o/r/pull/1#issuecomment-{id}"),
                        "user": {"login": "github-actions[bot]", "type": "Bot"}, "author_association": "NONE"})
                });
                let list: Vec<Value> = planted.chain(ours).collect();
                json_answer(200, Value::Array(list))
            }
            "POST /repos/{owner}/{repo}/issues/{issue_number}/comments"
            | "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}" => {
                if self.comments_forbidden {
                    return json_answer(
                        403,
                        json!({"message": "Resource not accessible by integration"}),
                    );
                }
                let id = if rec.method == "POST" {
                    self.next += 1;
                    9000 + self.next
                } else {
                    seg.last()?.parse().ok()?
                };
                self.comments
                    .insert(id, body["body"].as_str().unwrap_or("").into());
                json_answer(
                    if rec.method == "POST" { 201 } else { 200 },
                    json!({"id": id, "body": body["body"], "html_url": format!("https://github.com/o/r/pull/1#issuecomment-{id}")}),
                )
            }
            "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls" => {
                let list = self
                    .commit_pulls
                    .get(*seg.get(5)?)
                    .cloned()
                    .unwrap_or_default();
                json_answer(200, Value::Array(list))
            }
            "GET /repos/{owner}/{repo}/actions/runs/{run_id}" => {
                let id: u64 = seg.get(6)?.parse().ok()?;
                json_answer(200, self.workflow_runs.get(&id)?.clone())
            }
            "GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts" => {
                let id: u64 = seg.get(6)?.parse().ok()?;
                let list: Vec<Value> = self
                    .artifacts
                    .iter()
                    .filter(|(_, (run, _, _))| *run == id)
                    .map(|(aid, (_, name, zip))| {
                        json!({"id": aid, "name": name, "size_in_bytes": zip.len(), "expired": false,
                               "archive_download_url": format!("https://api.github.com/repos/o/r/actions/artifacts/{aid}/zip")})
                    })
                    .collect();
                json_answer(200, json!({"total_count": list.len(), "artifacts": list}))
            }
            "GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}" => {
                let id: u64 = seg.get(6)?.parse().ok()?;
                let (_, _, zip) = self.artifacts.get(&id)?;
                Some((
                    200,
                    vec![("content-type".into(), "application/zip".into())],
                    zip.clone(),
                ))
            }
            _ => None,
        }
    }
}

/// Put a fresh world behind `mock`.
pub(crate) fn install(mock: &MockGitHub) -> Arc<Mutex<World>> {
    let world = Arc::new(Mutex::new(World::default()));
    let w = world.clone();
    mock.responder(Box::new(move |rec| w.lock().unwrap().answer(rec)));
    world
}
