//! The wire format checked at the HTTP level: status codes and `Status` bodies, watch streams and
//! their 410s, pagination, the four PATCH formats, subresources, and the `/_fake` control API.

use std::time::Duration;

use fake_kube::{ForbiddenRule, Scenario};
use futures::StreamExt as _;
use serde_json::{Value, json};

use crate::common::{DEPLOYMENT, Harness};

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = req.send().await.expect("request sent");
    let code = resp.status().as_u16();
    let body = resp.text().await.expect("body");
    (
        code,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

fn deploy_url(h: &Harness, name: &str) -> String {
    format!(
        "{}/apis/apps/v1/namespaces/default/deployments/{name}",
        h.fake.url()
    )
}

/// Reads watch events (one JSON object per line) until `n` arrived or the stream ended.
async fn read_events(resp: reqwest::Response, n: usize) -> Vec<Value> {
    let mut stream = resp.bytes_stream();
    let mut buf = Vec::new();
    let mut events = Vec::new();
    while events.len() < n {
        let next = tokio::time::timeout(Duration::from_secs(60), stream.next())
            .await
            .expect("watch event within the hang guard");
        let Some(chunk) = next else { break };
        buf.extend_from_slice(&chunk.expect("chunk"));
        while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=pos).collect();
            events.push(serde_json::from_slice(&line).expect("event is JSON"));
        }
    }
    events
}

/// Reads watch events until one satisfies `done` (or 100 events, or the end of the stream).
async fn read_until(resp: reqwest::Response, done: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut stream = resp.bytes_stream();
    let mut buf = Vec::new();
    let mut events: Vec<Value> = Vec::new();
    while !events.last().is_some_and(&done) && events.len() < 100 {
        let next = tokio::time::timeout(Duration::from_secs(60), stream.next())
            .await
            .expect("watch event within the hang guard");
        let Some(chunk) = next else { break };
        buf.extend_from_slice(&chunk.expect("chunk"));
        while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=pos).collect();
            events.push(serde_json::from_slice(&line).expect("event is JSON"));
            if done(events.last().unwrap_or(&Value::Null)) {
                return events;
            }
        }
    }
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_bodies_match_the_api_server() {
    let h = Harness::start(DEPLOYMENT).await;
    let c = client();
    let (code, body) = send(c.get(deploy_url(&h, "missing"))).await;
    assert_eq!(code, 404);
    assert_eq!(
        body,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "deployments.apps \"missing\" not found", "reason": "NotFound",
            "details": {"name": "missing", "group": "apps", "kind": "deployments"}, "code": 404})
    );

    let (_, current) = send(c.get(deploy_url(&h, "api"))).await;
    let mut stale = current.clone();
    stale["spec"]["replicas"] = json!(4);
    let (code, _) = send(c.put(deploy_url(&h, "api")).json(&stale)).await;
    assert_eq!(code, 200);
    let (code, body) = send(c.put(deploy_url(&h, "api")).json(&stale)).await;
    assert_eq!(code, 409);
    assert_eq!(body["reason"], "Conflict");
    assert_eq!(
        body["message"],
        "Operation cannot be fulfilled on deployments.apps \"api\": the object has been modified; please apply your changes to the latest version and try again"
    );

    let (code, body) = send(
        c.patch(deploy_url(&h, "api"))
            .header("Content-Type", "application/strategic-merge-patch+json")
            .body(r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":""}]}}}}"#),
    )
    .await;
    assert_eq!(code, 422);
    assert_eq!(
        body["message"],
        "Deployment.apps \"api\" is invalid: spec.template.spec.containers[0].image: Required value"
    );
    assert_eq!(
        body["details"]["causes"][0]["field"],
        "spec.template.spec.containers[0].image"
    );

    let (code, body) = send(
        c.patch(deploy_url(&h, "api"))
            .header("Content-Type", "application/json")
            .body("{}"),
    )
    .await;
    assert_eq!(code, 415);
    assert_eq!(body["reason"], "UnsupportedMediaType");

    let (code, body) = send(
        c.post(format!(
            "{}/apis/apps/v1/namespaces/default/deployments",
            h.fake.url()
        ))
        .json(&current),
    )
    .await;
    assert_eq!(code, 409);
    assert_eq!(body["reason"], "AlreadyExists");

    let (code, body) = send(c.get(format!(
        "{}/apis/apps/v1/namespaces/default/deployments?fieldSelector=spec.paused%3Dtrue",
        h.fake.url()
    )))
    .await;
    assert_eq!(code, 400);
    assert_eq!(body["message"], "field label not supported: spec.paused");

    let (code, _) = send(c.get(format!("{}/apis/batch/v1/jobs", h.fake.url()))).await;
    assert_eq!(code, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_rules_answer_403_to_kubectl() {
    let scenario = Scenario::new()
        .with_manifests(DEPLOYMENT)
        .expect("manifest")
        .with_forbidden(ForbiddenRule {
            verbs: vec!["patch".into()],
            group: Some("apps".into()),
            resource: "deployments".into(),
            namespace: Some("default".into()),
            name: Some("api".into()),
        });
    let h = Harness::start_with(scenario).await;
    let run = h
        .kubectl(&[
            "set",
            "image",
            "deployment/api",
            "app=registry.example/api:v2",
        ])
        .await
        .expect_code(1);
    // kubectl set image wraps the server's message in its own.
    assert_eq!(
        run.stderr.trim(),
        "error: failed to patch image update to pod template: deployments.apps \"api\" is forbidden: User \"system:serviceaccount:default:deployer\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"default\""
    );
    h.kubectl(&["get", "deploy", "api"]).await.expect_code(0);
    let scale = h
        .kubectl(&[
            "patch",
            "deployment/api",
            "-p",
            r#"{"spec":{"replicas":1}}"#,
        ])
        .await
        .expect_code(1);
    assert!(
        scale
            .stderr
            .starts_with("Error from server (Forbidden): deployments.apps \"api\" is forbidden"),
        "{}",
        scale.stderr
    );
    h.fake.forbid(ForbiddenRule {
        verbs: vec!["list".into()],
        resource: "pods".into(),
        ..Default::default()
    });
    let pods = h.kubectl(&["get", "pods"]).await.expect_code(1);
    assert!(pods.stderr.contains("pods is forbidden: User \"system:serviceaccount:default:deployer\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""), "{}", pods.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_streams_events_bookmarks_and_410() {
    let h = Harness::start(DEPLOYMENT).await;
    let c = client();
    let base = format!(
        "{}/apis/apps/v1/namespaces/default/deployments",
        h.fake.url()
    );
    let (_, list) = send(c.get(&base)).await;
    assert_eq!(list["kind"], "DeploymentList");
    assert!(
        list["items"][0].get("kind").is_none(),
        "list items carry no kind, as on a real server"
    );
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_string();

    let resp = c
        .get(format!(
            "{base}?watch=1&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=30"
        ))
        .send()
        .await
        .expect("watch");
    assert_eq!(resp.headers()["content-type"], "application/json");
    h.fake.tick(1.0);
    h.kubectl(&[
        "set",
        "image",
        "deployment/api",
        "app=registry.example/api:v2",
    ])
    .await
    .expect_code(0);
    // Bookmarks arrive every second of real time, so read until the change shows up.
    let events = read_until(resp, |e| e["type"] == "MODIFIED").await;
    assert!(
        events
            .iter()
            .all(|e| e["type"] == "MODIFIED" || e["type"] == "BOOKMARK"),
        "{events:?}"
    );
    let modified = events
        .iter()
        .find(|e| e["type"] == "MODIFIED")
        .expect("modified");
    assert_eq!(modified["object"]["kind"], "Deployment");
    assert_eq!(modified["object"]["metadata"]["generation"], 2);

    // Resuming from before the compaction is answered with an ERROR event carrying 410 Expired.
    h.fake.compact();
    let resp = c
        .get(format!("{base}?watch=true&resourceVersion={rv}"))
        .send()
        .await
        .expect("watch");
    assert_eq!(resp.status().as_u16(), 200);
    let events = read_events(resp, 2).await;
    assert_eq!(
        events.len(),
        1,
        "the stream ends after the error: {events:?}"
    );
    assert_eq!(events[0]["type"], "ERROR");
    assert_eq!(events[0]["object"]["kind"], "Status");
    assert_eq!(events[0]["object"]["code"], 410);
    assert_eq!(events[0]["object"]["reason"], "Expired");

    // A fresh watch without a resourceVersion starts with the current state, then bookmarks.
    let resp = c
        .get(format!("{base}?watch=true&allowWatchBookmarks=true"))
        .send()
        .await
        .expect("watch");
    let events = read_events(resp, 2).await;
    assert_eq!(events[0]["type"], "ADDED");
    assert_eq!(events[1]["type"], "BOOKMARK");
    assert_eq!(events[1]["object"]["kind"], "Deployment");

    // A pagination token older than the compacted history is answered with 410 too.
    let (_, page) = send(c.get(format!(
        "{}/api/v1/namespaces/default/pods?limit=1",
        h.fake.url()
    )))
    .await;
    let token = page["metadata"]["continue"]
        .as_str()
        .expect("continue token")
        .to_string();
    assert!(page["metadata"]["remainingItemCount"].as_i64() > Some(0));
    h.fake.compact();
    let (code, body) = send(c.get(format!(
        "{}/api/v1/namespaces/default/pods?limit=1&continue={token}",
        h.fake.url()
    )))
    .await;
    assert_eq!(code, 410);
    assert_eq!(body["reason"], "Expired");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("The provided continue parameter is too old")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_with_selectors_sees_objects_enter_and_leave() {
    let h = Harness::start(DEPLOYMENT).await;
    let c = client();
    let url = format!(
        "{}/api/v1/namespaces/default/pods?watch=true&labelSelector=app%3Dapi&fieldSelector=status.phase%3DPending&resourceVersion={}",
        h.fake.url(),
        h.fake.resource_version()
    );
    let resp = c.get(url).send().await.expect("watch");
    h.kubectl(&[
        "set",
        "image",
        "deployment/api",
        "app=registry.example/api:v2",
    ])
    .await
    .expect_code(0);
    h.fake.settle(1.0, 60);
    let events = read_events(resp, 3).await;
    assert_eq!(events[0]["type"], "ADDED", "a new pod starts Pending");
    assert_eq!(events[0]["object"]["status"]["phase"], "Pending");
    let leaving = events
        .iter()
        .find(|e| e["type"] == "DELETED")
        .expect("leaves the selector when Running");
    assert_eq!(leaving["object"]["status"]["phase"], "Running");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_formats_and_subresources() {
    let h = Harness::start(DEPLOYMENT).await;
    let c = client();
    let url = deploy_url(&h, "api");
    let (code, body) = send(
        c.patch(&url)
            .header("Content-Type", "application/merge-patch+json")
            .body(r#"{"metadata":{"annotations":{"kubernetes.io/change-cause":"merge"}}}"#),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        body["metadata"]["generation"], 1,
        "metadata changes do not bump the generation"
    );

    let (code, body) = send(
        c.patch(&url)
            .header("Content-Type", "application/json-patch+json")
            .body(r#"[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"registry.example/api:v3"}]"#),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(body["metadata"]["generation"], 2);

    let apply = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: registry.example/api:v4\n      - name: sidecar\n        image: registry.example/proxy:v1\n";
    let (code, body) = send(
        c.patch(format!("{url}?fieldManager=rollout-gate&force=true"))
            .header("Content-Type", "application/apply-patch+yaml")
            .body(apply),
    )
    .await;
    assert_eq!(code, 200);
    let containers = body["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers");
    assert_eq!(containers.len(), 2);
    assert_eq!(containers[0]["image"], "registry.example/api:v4");
    assert_eq!(
        containers[0]["ports"][0]["containerPort"], 8080,
        "apply merges containers by name"
    );
    let (code, body) = send(
        c.patch(&url)
            .header("Content-Type", "application/apply-patch+yaml")
            .body(apply),
    )
    .await;
    assert_eq!(code, 422);
    assert_eq!(body["details"]["causes"][0]["field"], "fieldManager");

    let (code, body) = send(
        c.patch(format!(
            "{}/apis/apps/v1/namespaces/default/deployments/new?fieldManager=gate",
            h.fake.url()
        ))
        .header("Content-Type", "application/apply-patch+yaml")
        .body(DEPLOYMENT.replace(
            "name: api\n  namespace: default",
            "name: new\n  namespace: default",
        )),
    )
    .await;
    assert_eq!(code, 201, "server-side apply creates: {body}");

    let (code, body) = send(c.get(format!("{url}/scale"))).await;
    assert_eq!(code, 200);
    assert_eq!(body["kind"], "Scale");
    assert_eq!(body["status"]["selector"], "app=api");
    let (code, body) = send(
        c.patch(format!("{url}/status"))
            .header("Content-Type", "application/merge-patch+json")
            .body(r#"{"spec":{"replicas":9},"status":{"replicas":7}}"#),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        body["spec"]["replicas"], 3,
        "the status subresource ignores spec"
    );
    assert_eq!(body["status"]["replicas"], 7);

    let pod = h.fake.list("v1", "Pod", Some("default"))[0]["metadata"]["name"]
        .as_str()
        .expect("pod")
        .to_string();
    let resp = c
        .get(format!(
            "{}/api/v1/namespaces/default/pods/{pod}/log?container=app&tailLines=1",
            h.fake.url()
        ))
        .send()
        .await
        .expect("logs");
    assert_eq!(resp.headers()["content-type"], "text/plain");
    assert_eq!(resp.text().await.expect("text"), "ready\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_and_tables() {
    let h = Harness::start(DEPLOYMENT).await;
    let c = client();
    let (_, version) = send(c.get(format!("{}/version", h.fake.url()))).await;
    assert_eq!(version["gitVersion"], "v1.33.0");
    let (_, apps) = send(c.get(format!("{}/apis/apps/v1", h.fake.url()))).await;
    let deploy = apps["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["name"] == "deployments")
        .expect("deployments")
        .clone();
    assert_eq!(deploy["shortNames"], json!(["deploy"]));
    assert_eq!(deploy["kind"], "Deployment");
    let (_, table) = send(
        c.get(format!(
            "{}/apis/apps/v1/namespaces/default/deployments",
            h.fake.url()
        ))
        .header(
            "Accept",
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
        ),
    )
    .await;
    assert_eq!(table["kind"], "Table");
    assert_eq!(table["rows"][0]["cells"][1], "3/3");
    assert_eq!(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
    let run = h
        .kubectl(&["api-resources", "--api-group=apps"])
        .await
        .expect_code(0);
    assert!(
        run.stdout.contains("deployments") && run.stdout.contains("deploy"),
        "{}",
        run.stdout
    );
    let events = h
        .kubectl(&[
            "get",
            "events.v1.events.k8s.io",
            "-o",
            "jsonpath={.items[0].regarding.kind}",
        ])
        .await
        .expect_code(0);
    assert!(!events.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_api_over_http() {
    let h = Harness::start("").await;
    let c = client();
    let url = |p: &str| format!("{}/_fake/{p}", h.fake.url());
    let (code, body) = send(c.post(url("objects")).body(DEPLOYMENT)).await;
    assert_eq!(code, 201);
    assert_eq!(body["created"][0]["kind"], "Deployment");
    let (_, before) = send(c.get(url("state"))).await;
    let (code, body) = send(
        c.post(url("tick"))
            .json(&json!({"seconds": 30, "ticks": 2})),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(body["changed"], true);
    assert_eq!(
        body["nowMs"].as_i64().unwrap_or(0) - before["nowMs"].as_i64().unwrap_or(0),
        60_000
    );
    let (_, settle) = send(
        c.post(url("settle"))
            .json(&json!({"seconds": 1, "maxTicks": 50})),
    )
    .await;
    assert_eq!(settle["settled"], true);
    assert!(
        h.fake
            .get("apps/v1", "Deployment", "default", "api")
            .is_some_and(|d| d["status"]["availableReplicas"] == 3)
    );

    let watch = c
        .get(format!(
            "{}/apis/apps/v1/deployments?watch=true",
            h.fake.url()
        ))
        .send()
        .await
        .expect("watch");
    let (_, watches) = send(c.get(url("watches"))).await;
    assert_eq!(watches[0]["resource"], "apps/v1/deployments");
    let (_, dropped) = send(c.post(url("drop-watches"))).await;
    assert_eq!(dropped["dropped"], 1);
    let events = read_events(watch, 5).await;
    assert_eq!(
        events.len(),
        1,
        "stream closed after the initial ADDED: {events:?}"
    );
    let (_, compacted) = send(c.post(url("compact"))).await;
    assert!(compacted["compactedResourceVersion"].as_str().is_some());

    let (_, log) = send(c.get(url("requests"))).await;
    let entry = log
        .as_array()
        .expect("log")
        .iter()
        .find(|r| r["path"] == "/apis/apps/v1/deployments")
        .expect("logged")
        .clone();
    assert_eq!(entry["method"], "GET");
    assert_eq!(entry["query"], "watch=true");
    assert!(
        log.as_array()
            .expect("log")
            .iter()
            .all(|r| !r["path"].as_str().unwrap_or_default().starts_with("/_fake"))
    );
    send(c.delete(url("requests"))).await;
    let (_, log) = send(c.get(url("requests"))).await;
    assert_eq!(log, json!([]));

    let (code, _) = send(
        c.post(url("forbidden"))
            .json(&json!({"verbs": ["get"], "resource": "deployments"})),
    )
    .await;
    assert_eq!(code, 200);
    let (code, _) = send(c.get(deploy_url(&h, "api"))).await;
    assert_eq!(code, 403);
    send(c.delete(url("forbidden"))).await;
    let (code, _) = send(c.get(deploy_url(&h, "api"))).await;
    assert_eq!(code, 200);
    let (code, body) = send(
        c.post(url("objects"))
            .body("apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n"),
    )
    .await;
    assert_eq!(code, 400);
    assert_eq!(
        body["message"],
        "no matches for kind \"Job\" in version \"batch/v1\""
    );
}
