//! The HTTP face of the fake: URL routing, query parsing, content negotiation, watch streaming,
//! status codes, and the request log. The only module that speaks HTTP for the Kubernetes API.
//!
//! Watches are chunked `application/json` streams of one JSON event per line, exactly as the real
//! server writes them; a stream ends when its `timeoutSeconds` (wall clock) passes, when
//! `/_fake/drop-watches` closes it, or after a 410 `ERROR` event.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::api::{self, ListOptions, PatchParams};
use crate::cluster::{Cluster, RequestRecord};
use crate::controller::logs::{self, LogOptions};
use crate::discovery;
use crate::openapi;
use crate::patch::PatchKind;
use crate::resources::{self, ResourceType};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::status::ApiError;
use crate::store::{self, Render, WatchSpec};
use crate::tables::{self, IncludeObject};

/// State shared by every request.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The cluster.
    pub cluster: Mutex<Cluster>,
    /// The address the server listens on.
    pub addr: SocketAddr,
}

impl Shared {
    /// Locks the cluster; a panic in another request does not poison it for the test.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Cluster> {
        self.cluster.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Shared state handle.
pub(crate) type App = Arc<Shared>;

/// The full router: control endpoints under `/_fake`, everything else is the Kubernetes API.
pub(crate) fn router(app: App) -> Router {
    Router::new()
        .nest("/_fake", crate::control::router())
        .fallback(handle)
        .with_state(app)
}

fn json_response(code: u16, value: &Value) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

fn error_response(err: &ApiError) -> Response {
    json_response(err.code, &err.to_status())
}

fn not_found_page() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "404 page not found\n",
    )
        .into_response()
}

/// A parsed resource URL.
struct Target {
    rt: &'static ResourceType,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
}

/// Parses the part of an API path after `/api/v1` or `/apis/<g>/<v>`.
fn parse_target(group: &str, version: &str, rest: &[&str]) -> Option<Target> {
    let find = |plural: &str| resources::by_path(group, version, plural);
    match rest {
        ["namespaces", ns, plural, tail @ ..]
            if find(plural).is_some_and(|r| r.namespaced) && tail.len() <= 2 =>
        {
            Some(Target {
                rt: find(plural)?,
                namespace: Some((*ns).to_string()),
                name: tail.first().map(|s| (*s).to_string()),
                subresource: tail.get(1).map(|s| (*s).to_string()),
            })
        }
        [plural, tail @ ..] if tail.len() <= 2 => {
            let rt = find(plural)?;
            if rt.namespaced && !tail.is_empty() {
                return None;
            }
            Some(Target {
                rt,
                namespace: None,
                name: tail.first().map(|s| (*s).to_string()),
                subresource: tail.get(1).map(|s| (*s).to_string()),
            })
        }
        _ => None,
    }
}

fn query_map(query: &str) -> HashMap<String, String> {
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

fn flag(q: &HashMap<String, String>, key: &str) -> bool {
    q.get(key).is_some_and(|v| v == "true" || v == "1")
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn handle(
    State(app): State<App>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or_default().to_string();
    let response = route(&app, &method, &path, &query, &headers, &body);
    let record = RequestRecord {
        method: method.to_string(),
        path,
        query,
        content_type: header_str(&headers, header::CONTENT_TYPE).map(str::to_string),
        accept: header_str(&headers, header::ACCEPT).map(str::to_string),
        user_agent: header_str(&headers, header::USER_AGENT).map(str::to_string),
        body: (!body.is_empty()).then(|| String::from_utf8_lossy(&body).into_owned()),
        status: response.status().as_u16(),
    };
    tracing::debug!(method = %record.method, path = %record.path, query = %record.query, status = record.status, "request");
    app.lock().requests.push(record);
    response
}

fn route(
    app: &App,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let segments: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let get = method == Method::GET;
    match segments.as_slice() {
        ["version"] if get => json_response(200, &discovery::version()),
        ["healthz" | "livez" | "readyz"] if get => (StatusCode::OK, "ok").into_response(),
        ["api" | "apis"]
            if get
                && discovery::wants_aggregated(
                    header_str(headers, header::ACCEPT).unwrap_or_default(),
                ) =>
        {
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, discovery::AGGREGATED_V2)],
                discovery::aggregated(segments[0] == "api").to_string(),
            )
                .into_response()
        }
        ["api"] if get => json_response(200, &discovery::core_versions(&app.addr.to_string())),
        ["apis"] if get => json_response(200, &discovery::groups()),
        ["api", "v1"] if get => discovery::resource_list("", "v1")
            .map_or_else(not_found_page, |d| json_response(200, &d)),
        ["apis", g] if get => {
            discovery::api_group(g).map_or_else(not_found_page, |d| json_response(200, &d))
        }
        ["apis", g, v] if get => {
            discovery::resource_list(g, v).map_or_else(not_found_page, |d| json_response(200, &d))
        }
        ["openapi", "v3"] if get => json_response(200, &openapi::root()),
        ["openapi", "v3", rest @ ..] if get => openapi::group_version(&rest.join("/"))
            .map_or_else(not_found_page, |d| json_response(200, &d)),
        ["api", "v1", rest @ ..] => {
            resource_request(app, method, "", "v1", rest, query, headers, body)
        }
        ["apis", g, v, rest @ ..] => {
            resource_request(app, method, g, v, rest, query, headers, body)
        }
        _ => not_found_page(),
    }
}

fn verb_of(method: &Method, target: &Target, q: &HashMap<String, String>) -> Option<&'static str> {
    let named = target.name.is_some();
    Some(match *method {
        Method::GET if !named && flag(q, "watch") => "watch",
        Method::GET if !named => "list",
        Method::GET => "get",
        Method::POST if !named => "create",
        Method::PUT if named => "update",
        Method::PATCH if named => "patch",
        Method::DELETE if named => "delete",
        Method::DELETE => "deletecollection",
        _ => return None,
    })
}

fn list_options(rt: &ResourceType, q: &HashMap<String, String>) -> Result<ListOptions, ApiError> {
    Ok(ListOptions {
        labels: LabelSelector::parse(q.get("labelSelector").map_or("", String::as_str))?,
        fields: FieldSelector::parse(q.get("fieldSelector").map_or("", String::as_str), rt)?,
        limit: q.get("limit").and_then(|l| l.parse().ok()),
        continue_token: q.get("continue").cloned(),
        resource_version: q.get("resourceVersion").cloned(),
        resource_version_match: q.get("resourceVersionMatch").cloned(),
    })
}

#[allow(clippy::too_many_arguments)]
fn resource_request(
    app: &App,
    method: &Method,
    group: &str,
    version: &str,
    rest: &[&str],
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    if resources::in_group_version(group, version).next().is_none() {
        return not_found_page();
    }
    let Some(target) = parse_target(group, version, rest) else {
        return error_response(&ApiError::no_such_resource());
    };
    let q = query_map(query);
    let Some(verb) = verb_of(method, &target, &q) else {
        return error_response(&ApiError::method_not_allowed());
    };
    if let Some(sub) = target.subresource.as_deref() {
        if !target.rt.subresources.contains(&sub) {
            return error_response(&ApiError::no_such_resource());
        }
        if sub == "log" && verb != "get" {
            return error_response(&ApiError::method_not_allowed());
        }
    }
    let accept = header_str(headers, header::ACCEPT).unwrap_or("application/json");
    let result = {
        let cluster = app.lock();
        cluster.authorize(
            verb,
            target.rt,
            target.subresource.as_deref(),
            target.namespace.as_deref(),
            target.name.as_deref(),
        )
    };
    if let Err(e) = result {
        return error_response(&e);
    }
    match verb {
        "watch" => watch(app, &target, &q, accept),
        "list" => list(app, &target, &q, accept),
        "get" => get(app, &target, &q, accept),
        _ => write(app, verb, &target, &q, headers, body),
    }
}

fn namespace_of(target: &Target) -> &str {
    target.namespace.as_deref().unwrap_or_default()
}

fn get(app: &App, target: &Target, q: &HashMap<String, String>, accept: &str) -> Response {
    let name = target.name.as_deref().unwrap_or_default();
    let cluster = app.lock();
    let store = &cluster.store;
    let result = match target.subresource.as_deref() {
        Some("log") => {
            let opts = LogOptions {
                container: q.get("container").cloned(),
                previous: flag(q, "previous"),
                tail_lines: q.get("tailLines").and_then(|v| v.parse().ok()),
                limit_bytes: q.get("limitBytes").and_then(|v| v.parse().ok()),
                timestamps: flag(q, "timestamps"),
            };
            let pod = store.get(target.rt, namespace_of(target), name);
            return match pod.map(|p| logs::logs(p, &opts)) {
                None => error_response(&ApiError::not_found(target.rt, name)),
                Some(Err(e)) => error_response(&e),
                Some(Ok(text)) => {
                    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], text).into_response()
                }
            };
        }
        Some(sub) => api::get_subresource(store, target.rt, namespace_of(target), name, sub),
        None => api::get(store, target.rt, namespace_of(target), name),
    };
    match result {
        Ok(obj) if tables::wants_table(accept) && target.subresource.is_none() => {
            let rv = obj
                .pointer("/metadata/resourceVersion")
                .cloned()
                .unwrap_or(Value::Null);
            let include = IncludeObject::parse(q.get("includeObject").map(String::as_str));
            json_response(
                200,
                &tables::table(
                    target.rt,
                    &[obj],
                    json!({"resourceVersion": rv}),
                    store.clock.now_ms(),
                    include,
                    true,
                ),
            )
        }
        Ok(obj) => json_response(200, &obj),
        Err(e) => error_response(&e),
    }
}

fn list(app: &App, target: &Target, q: &HashMap<String, String>, accept: &str) -> Response {
    let cluster = app.lock();
    let result = list_options(target.rt, q).and_then(|opts| {
        api::list(
            &cluster.store,
            target.rt,
            target.namespace.as_deref(),
            &opts,
        )
    });
    match result {
        Ok(page) if tables::wants_table(accept) => {
            let include = IncludeObject::parse(q.get("includeObject").map(String::as_str));
            json_response(
                200,
                &tables::table(
                    target.rt,
                    &page.items,
                    page.metadata,
                    cluster.store.clock.now_ms(),
                    include,
                    true,
                ),
            )
        }
        Ok(page) => json_response(
            200,
            &json!({
                "kind": target.rt.list_kind(),
                "apiVersion": target.rt.api_version(),
                "metadata": page.metadata,
                "items": page.items,
            }),
        ),
        Err(e) => error_response(&e),
    }
}

/// Default watch timeout when the client sends none: the real server picks a random value
/// between `--min-request-timeout` (1800 s) and twice that.
const DEFAULT_WATCH_TIMEOUT: u64 = 1800;

fn watch(app: &App, target: &Target, q: &HashMap<String, String>, accept: &str) -> Response {
    let opts = match list_options(target.rt, q) {
        Ok(o) => o,
        Err(e) => return error_response(&e),
    };
    let render = if tables::wants_table(accept) {
        Render::Table(IncludeObject::parse(
            q.get("includeObject").map(String::as_str),
        ))
    } else {
        Render::Json
    };
    let spec = WatchSpec {
        rt: target.rt,
        namespace: target.namespace.clone(),
        labels: opts.labels,
        fields: opts.fields,
        resource_version: q.get("resourceVersion").and_then(|r| r.parse().ok()),
        allow_bookmarks: flag(q, "allowWatchBookmarks"),
        send_initial_events: flag(q, "sendInitialEvents"),
        render,
        query: form_urlencoded::Serializer::new(String::new())
            .extend_pairs(q.iter())
            .finish(),
    };
    let rx = app.lock().store.open_watch(spec);
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|t| t.parse().ok())
        .unwrap_or(DEFAULT_WATCH_TIMEOUT);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    let stream = futures::stream::unfold((rx, deadline), |(mut rx, deadline)| async move {
        tokio::select! {
            frame = rx.recv() => frame.map(|f| (Ok::<Bytes, Infallible>(Bytes::from(f)), (rx, deadline))),
            () = tokio::time::sleep_until(deadline) => None,
        }
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(stream),
    )
        .into_response()
}

fn parse_json_body(body: &[u8], content_type: &str) -> Result<Value, ApiError> {
    let base = content_type.split(';').next().unwrap_or_default().trim();
    if base.contains("yaml") {
        serde_yaml::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))
    } else {
        serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
        })
    }
}

fn write(
    app: &App,
    verb: &str,
    target: &Target,
    q: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let content_type = header_str(headers, header::CONTENT_TYPE).unwrap_or("application/json");
    let dry_run = q.get("dryRun").is_some_and(|v| v == "All");
    let name = target.name.clone().unwrap_or_default();
    let ns = namespace_of(target).to_string();
    let sub = target.subresource.as_deref();
    let mut cluster = app.lock();
    let store = &mut cluster.store;
    let result: Result<(u16, Value), ApiError> = match verb {
        "create" => parse_json_body(body, content_type)
            .and_then(|b| api::create(store, target.rt, target.namespace.as_deref(), b, dry_run))
            .map(|v| (201, v)),
        "update" => parse_json_body(body, content_type)
            .and_then(|b| api::update(store, target.rt, &ns, &name, sub, b, dry_run))
            .map(|v| (200, v)),
        "patch" => match PatchKind::from_content_type(content_type) {
            None => Err(ApiError::unsupported_media_type(content_type)),
            Some(kind) => {
                let params = PatchParams {
                    field_manager: q.get("fieldManager").cloned(),
                    force: flag(q, "force"),
                    dry_run,
                };
                api::patch(store, target.rt, &ns, &name, sub, kind, body, &params)
                    .map(|(v, created)| (if created { 201 } else { 200 }, v))
            }
        },
        "delete" => api::delete(store, target.rt, &ns, &name, dry_run).map(|v| (200, v)),
        "deletecollection" => list_options(target.rt, q)
            .and_then(|opts| api::delete_collection(store, target.rt, target.namespace.as_deref(), &opts, dry_run))
            .map(|page| {
                (
                    200,
                    json!({"kind": target.rt.list_kind(), "apiVersion": target.rt.api_version(), "metadata": page.metadata, "items": page.items}),
                )
            }),
        _ => Err(ApiError::method_not_allowed()),
    };
    match result {
        Ok((code, v)) => json_response(code, &v),
        Err(e) => error_response(&e),
    }
}

/// Presents a stored object for the control API (kind and apiVersion filled in).
pub(crate) fn present(rt: &ResourceType, obj: &Value) -> Value {
    store::present(rt, obj)
}
