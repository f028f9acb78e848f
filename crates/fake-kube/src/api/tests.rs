//! Unit tests of the REST semantics: create/update/patch conflicts and generations, server-side
//! apply, pagination and expired continue tokens.

use serde_json::{Value, json};

use super::*;
use crate::patch::PatchKind;
use crate::resources::DEPLOYMENTS;
use crate::store::Store;

fn deploy() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "api"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "api"}},
            "template": {"metadata": {"labels": {"app": "api"}},
                "spec": {"containers": [{"name": "app", "image": "app:v1"}]}}}})
}

#[test]
fn create_update_patch_conflict() {
    let mut s = Store::new(1_700_000_000_000, 1);
    let created = create(&mut s, &DEPLOYMENTS, Some("default"), deploy(), false).expect("created");
    assert_eq!(created["metadata"]["generation"], 1);
    let err = create(&mut s, &DEPLOYMENTS, Some("default"), deploy(), false).expect_err("exists");
    assert_eq!(err.code, 409);
    assert_eq!(err.reason, "AlreadyExists");
    let rv = created["metadata"]["resourceVersion"].clone();

    let body =
        br#"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"app:v2"}]}}}}"#;
    let (patched, _) = patch(
        &mut s,
        &DEPLOYMENTS,
        "default",
        "api",
        None,
        PatchKind::Strategic,
        body,
        &PatchParams::default(),
    )
    .expect("patched");
    assert_eq!(patched["metadata"]["generation"], 2);
    assert_eq!(
        patched["spec"]["template"]["spec"]["containers"][0]["image"],
        "app:v2"
    );

    let mut stale = created.clone();
    stale["metadata"]["resourceVersion"] = rv;
    let err =
        update(&mut s, &DEPLOYMENTS, "default", "api", None, stale, false).expect_err("stale");
    assert_eq!(err.code, 409);
    assert_eq!(err.reason, "Conflict");

    // A status-only change does not bump the generation; a no-op does not bump the revision.
    let before = s.revision();
    let (same, _) = patch(
        &mut s,
        &DEPLOYMENTS,
        "default",
        "api",
        None,
        PatchKind::Merge,
        br#"{"spec":{"replicas":2}}"#,
        &PatchParams::default(),
    )
    .expect("noop");
    assert_eq!(s.revision(), before);
    assert_eq!(same["metadata"]["generation"], 2);
    let (st, _) = patch(
        &mut s,
        &DEPLOYMENTS,
        "default",
        "api",
        Some("status"),
        PatchKind::Merge,
        br#"{"status":{"replicas":7}}"#,
        &PatchParams::default(),
    )
    .expect("status");
    assert_eq!(st["status"]["replicas"], 7);
    assert_eq!(st["metadata"]["generation"], 2);

    let err = patch(
        &mut s,
        &DEPLOYMENTS,
        "default",
        "api",
        None,
        PatchKind::Merge,
        br#"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":""}]}}}}"#,
        &PatchParams::default(),
    )
    .expect_err("invalid");
    assert_eq!(err.code, 422);

    let err = patch(
        &mut s,
        &DEPLOYMENTS,
        "default",
        "missing",
        None,
        PatchKind::Merge,
        b"{}",
        &PatchParams::default(),
    )
    .expect_err("missing");
    assert_eq!(err.code, 404);
}

#[test]
fn apply_creates_then_merges() {
    let mut s = Store::new(1_700_000_000_000, 1);
    let params = PatchParams {
        field_manager: Some("gate".into()),
        ..Default::default()
    };
    let body = serde_json::to_vec(&deploy()).expect("json");
    let (_, created) = patch(
        &mut s,
        &DEPLOYMENTS,
        "default",
        "api",
        None,
        PatchKind::Apply,
        &body,
        &params,
    )
    .expect("apply");
    assert!(created);
    let err = patch(
        &mut s,
        &DEPLOYMENTS,
        "default",
        "api",
        None,
        PatchKind::Apply,
        &body,
        &PatchParams::default(),
    )
    .expect_err("no manager");
    assert_eq!(err.code, 422);
}

#[test]
fn pagination_and_expired_continue() {
    let mut s = Store::new(1_700_000_000_000, 1);
    for n in ["a", "b", "c"] {
        let mut d = deploy();
        d["metadata"]["name"] = json!(n);
        create(&mut s, &DEPLOYMENTS, Some("default"), d, false).expect("created");
    }
    let opts = ListOptions {
        limit: Some(2),
        ..Default::default()
    };
    let page = list(&s, &DEPLOYMENTS, Some("default"), &opts).expect("page");
    assert_eq!(page.items.len(), 2);
    assert!(page.items[0].get("kind").is_none());
    let token = page.metadata["continue"]
        .as_str()
        .expect("token")
        .to_string();
    let next = list(
        &s,
        &DEPLOYMENTS,
        Some("default"),
        &ListOptions {
            continue_token: Some(token.clone()),
            ..Default::default()
        },
    )
    .expect("next");
    assert_eq!(next.items.len(), 1);
    assert_eq!(next.items[0]["metadata"]["name"], "c");
    s.compact();
    let mut d = deploy();
    d["metadata"]["name"] = json!("d");
    create(&mut s, &DEPLOYMENTS, Some("default"), d, false).expect("created");
    s.compact();
    let err = list(
        &s,
        &DEPLOYMENTS,
        Some("default"),
        &ListOptions {
            continue_token: Some(token),
            ..Default::default()
        },
    )
    .expect_err("expired");
    assert_eq!(err.code, 410);
    assert_eq!(err.reason, "Expired");
}
