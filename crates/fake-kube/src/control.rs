//! The test-control API under `/_fake/`: the clock, watch disruption, compaction, object
//! seeding, authorization rules and the request log. JSON in, JSON out.
//!
//! | endpoint | body | effect |
//! | --- | --- | --- |
//! | `POST /_fake/tick` | `{"seconds": 5, "ticks": 1}` | advance the clock and run the controllers `ticks` times |
//! | `POST /_fake/settle` | `{"seconds": 1, "maxTicks": 100}` | tick until nothing changes |
//! | `POST /_fake/drop-watches` | — | close every open watch stream |
//! | `POST /_fake/compact` | — | forget watch history: resuming it gives 410 |
//! | `POST /_fake/objects` | YAML or JSON manifests | create the objects |
//! | `GET/DELETE /_fake/requests` | — | the request log / clear it |
//! | `GET /_fake/watches` | — | open watch streams |
//! | `POST/DELETE /_fake/forbidden` | a `ForbiddenRule` | add a 403 rule / clear them |
//! | `GET /_fake/state` | — | clock and revisions |

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::scenario::{ForbiddenRule, parse_manifests};
use crate::server::App;
use crate::status::ApiError;

/// Body of `POST /_fake/tick`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct TickRequest {
    seconds: f64,
    ticks: u32,
}

impl Default for TickRequest {
    fn default() -> Self {
        TickRequest {
            seconds: 1.0,
            ticks: 1,
        }
    }
}

/// Body of `POST /_fake/settle`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct SettleRequest {
    seconds: f64,
    max_ticks: u32,
}

impl Default for SettleRequest {
    fn default() -> Self {
        SettleRequest {
            seconds: 1.0,
            max_ticks: 100,
        }
    }
}

fn body_or_default<T: for<'de> Deserialize<'de> + Default>(
    body: &[u8],
) -> Result<T, Box<Response>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| Box::new(bad_request(&format!("invalid control request: {e}"))))
}

fn bad_request(message: &str) -> Response {
    let err = ApiError::bad_request(message);
    (StatusCode::BAD_REQUEST, axum::Json(err.to_status())).into_response()
}

async fn tick(State(app): State<App>, body: Bytes) -> Response {
    let req: TickRequest = match body_or_default(&body) {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    let mut cluster = app.lock();
    let mut changed = false;
    let mut report = None;
    for _ in 0..req.ticks.max(1) {
        let r = cluster.tick(req.seconds);
        changed |= r.changed;
        report = Some(r);
    }
    let state = cluster.state();
    axum::Json(json!({
        "nowMs": report.map(|r| r.now_ms),
        "now": state["now"],
        "resourceVersion": state["resourceVersion"],
        "changed": changed,
    }))
    .into_response()
}

async fn settle(State(app): State<App>, body: Bytes) -> Response {
    let req: SettleRequest = match body_or_default(&body) {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    let report = app.lock().settle(req.seconds, req.max_ticks);
    axum::Json(report).into_response()
}

async fn drop_watches(State(app): State<App>) -> Response {
    let dropped = app.lock().drop_watches();
    axum::Json(json!({"dropped": dropped})).into_response()
}

async fn compact(State(app): State<App>) -> Response {
    let rv = app.lock().compact();
    axum::Json(json!({"compactedResourceVersion": rv.to_string()})).into_response()
}

async fn objects(State(app): State<App>, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body);
    let objects = match parse_manifests(&text) {
        Ok(o) => o,
        Err(e) => return bad_request(&format!("{e}")),
    };
    match app.lock().create_objects(objects) {
        Ok(created) => {
            (StatusCode::CREATED, axum::Json(json!({"created": created}))).into_response()
        }
        Err(e) => {
            let code = StatusCode::from_u16(e.code).unwrap_or(StatusCode::BAD_REQUEST);
            (code, axum::Json(e.to_status())).into_response()
        }
    }
}

async fn requests(State(app): State<App>) -> Response {
    axum::Json(app.lock().requests.clone()).into_response()
}

async fn clear_requests(State(app): State<App>) -> Response {
    app.lock().requests.clear();
    axum::Json(json!({"cleared": true})).into_response()
}

async fn watches(State(app): State<App>) -> Response {
    axum::Json(app.lock().store.watches()).into_response()
}

async fn forbid(State(app): State<App>, body: Bytes) -> Response {
    let rule: ForbiddenRule = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad_request(&format!("invalid forbidden rule: {e}")),
    };
    let mut cluster = app.lock();
    cluster.forbidden.push(rule);
    axum::Json(json!({"rules": cluster.forbidden.len()})).into_response()
}

async fn clear_forbidden(State(app): State<App>) -> Response {
    app.lock().forbidden.clear();
    axum::Json(json!({"rules": 0})).into_response()
}

async fn state(State(app): State<App>) -> Response {
    let s: Value = app.lock().state();
    axum::Json(s).into_response()
}

/// The `/_fake` routes.
pub(crate) fn router() -> Router<App> {
    Router::new()
        .route("/tick", post(tick))
        .route("/settle", post(settle))
        .route("/drop-watches", post(drop_watches))
        .route("/compact", post(compact))
        .route("/objects", post(objects))
        .route("/requests", get(requests).delete(clear_requests))
        .route("/watches", get(watches))
        .route("/forbidden", post(forbid).delete(clear_forbidden))
        .route("/state", get(state))
}
