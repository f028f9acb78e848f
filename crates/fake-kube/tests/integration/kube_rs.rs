//! kube-rs, the client the rollout gate is built on, against the fake: typed get/patch, apply,
//! error statuses, and a watcher that survives dropped watches and a 410.

use std::time::Duration;

use futures::StreamExt as _;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::{WatchStreamExt as _, watcher};
use kube::{Client, Config};
use serde_json::json;

use crate::common::{DEPLOYMENT, Harness, poll, rolled_out};

async fn client(h: &Harness) -> Client {
    // reqwest (aws-lc-rs) and kube (ring) both enable a rustls provider in this build, so rustls
    // cannot pick one by itself; an error only means another test installed it first.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kubeconfig =
        Kubeconfig::from_yaml(&h.fake.kubeconfig("default")).expect("kubeconfig parses");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config");
    Client::try_from(config).expect("client")
}

fn done(d: &Deployment) -> bool {
    rolled_out(&serde_json::to_value(d).expect("serializes")) && d.metadata.generation == Some(2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_patches_and_watches_a_rollout_through_disruptions() {
    let h = Harness::start(DEPLOYMENT).await;
    let api: Api<Deployment> = Api::default_namespaced(client(&h).await);
    let d = api.get("api").await.expect("get");
    assert_eq!(d.spec.and_then(|s| s.replicas), Some(3));

    let err = api.get("missing").await.expect_err("404");
    match err {
        kube::Error::Api(status) => {
            assert_eq!(status.code, 404);
            assert_eq!(status.reason, "NotFound");
            assert_eq!(status.message, "deployments.apps \"missing\" not found");
        }
        other => panic!("unexpected error {other:?}"),
    }

    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "registry.example/api:v2"}]}}}});
    let patched = api
        .patch("api", &PatchParams::default(), &Patch::Strategic(&patch))
        .await
        .expect("patch");
    assert_eq!(patched.metadata.generation, Some(2));

    // The watcher surfaces a 410 as an error item and relists on the next poll, as it does
    // against a real server; collect the errors and keep going.
    let errors = std::sync::Mutex::new(Vec::new());
    let mut stream = watcher(
        api.clone(),
        watcher::Config::default().fields("metadata.name=api"),
    )
    .default_backoff()
    .applied_objects()
    .filter_map(|item| {
        let found = match item {
            Ok(d) if done(&d) => Some(d),
            Ok(_) => None,
            Err(e) => {
                errors.lock().expect("lock").push(e.to_string());
                None
            }
        };
        futures::future::ready(found)
    })
    .boxed();
    let fake = &h.fake;
    // The stream is lazy: it lists and watches only once polled below, so each disruption waits
    // for the watch it is meant to hit.
    let ticking = async {
        let watch_after = |after: u64| {
            poll(move || {
                fake.watches()
                    .iter()
                    .map(|w| w.id)
                    .filter(|id| *id > after)
                    .max()
            })
        };
        let first = watch_after(0).await.expect("watcher opened a watch");
        for _ in 0..4 {
            fake.tick(1.0);
        }
        fake.drop_watches();
        let second = watch_after(first).await.expect("watch resumed");
        for _ in 0..4 {
            fake.tick(1.0);
        }
        fake.compact();
        fake.drop_watches();
        watch_after(second)
            .await
            .expect("relisted and watching again");
        for _ in 0..200 {
            fake.tick(1.0);
            if fake
                .get("apps/v1", "Deployment", "default", "api")
                .is_some_and(|d| rolled_out(&d))
            {
                break;
            }
        }
    };
    let (first, ()) = tokio::join!(
        tokio::time::timeout(Duration::from_secs(120), stream.next()),
        ticking
    );
    let finished = first
        .expect("watcher saw the rollout finish")
        .expect("stream item");
    let errors = errors.lock().expect("lock").clone();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("410") || e.contains("too old resource version")),
        "the compaction reached the watcher: {errors:?}"
    );
    assert_eq!(finished.status.and_then(|s| s.updated_replicas), Some(3));

    let apply = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "registry.example/api:v3"}]}}}
    });
    let applied = api
        .patch(
            "api",
            &PatchParams::apply("rollout-gate").force(),
            &Patch::Apply(&apply),
        )
        .await
        .expect("apply");
    let container = &applied
        .spec
        .expect("spec")
        .template
        .spec
        .expect("pod spec")
        .containers[0];
    assert_eq!(container.image.as_deref(), Some("registry.example/api:v3"));
    assert!(
        container.ports.is_some(),
        "apply keeps fields it does not mention"
    );
    let requests = h.fake.requests();
    let apply_request = requests
        .iter()
        .rev()
        .find(|r| r.method == "PATCH")
        .expect("apply request");
    assert_eq!(
        apply_request.content_type.as_deref(),
        Some("application/apply-patch+yaml")
    );
    assert!(
        apply_request.query.contains("fieldManager=rollout-gate")
            && apply_request.query.contains("force=true")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_streaming_list_and_paged_list() {
    let h = Harness::start(DEPLOYMENT).await;
    let client = client(&h).await;
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::default_namespaced(client.clone());
    // Watch-list: initial ADDED events, then a bookmark annotated k8s.io/initial-events-end.
    let mut stream = watcher(pods.clone(), watcher::Config::default().streaming_lists()).boxed();
    let mut initial = 0;
    loop {
        let event = tokio::time::timeout(Duration::from_secs(60), stream.next())
            .await
            .expect("event within the hang guard")
            .expect("stream open")
            .expect("no error");
        match event {
            watcher::Event::InitApply(_) => initial += 1,
            watcher::Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(initial, 3);
    let query = h
        .fake
        .requests()
        .into_iter()
        .find(|r| r.query.contains("sendInitialEvents=true"))
        .expect("watch-list request");
    assert!(
        query.query.contains("resourceVersionMatch=NotOlderThan"),
        "{}",
        query.query
    );

    // Paged lists follow `continue` tokens.
    let mut stream = watcher(pods, watcher::Config::default().page_size(1)).boxed();
    let mut paged = 0;
    loop {
        match stream.next().await.expect("stream open").expect("no error") {
            watcher::Event::InitApply(_) => paged += 1,
            watcher::Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(paged, 3);
    assert!(
        h.fake
            .requests()
            .iter()
            .any(|r| r.query.contains("continue="))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_discovery_plain_and_aggregated() {
    let h = Harness::start("").await;
    let client = client(&h).await;
    let gvk = kube::api::GroupVersionKind::gvk("apps", "v1", "Deployment");
    for discovery in [
        kube::Discovery::new(client.clone())
            .run()
            .await
            .expect("plain discovery"),
        kube::Discovery::new(client.clone())
            .run_aggregated()
            .await
            .expect("aggregated discovery"),
    ] {
        let (resource, caps) = discovery.resolve_gvk(&gvk).expect("deployments discovered");
        assert_eq!(resource.plural, "deployments");
        assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);
        assert!(
            caps.subresources
                .iter()
                .any(|(r, _)| r.plural == "deployments/scale" || r.plural == "scale")
        );
        assert!(discovery.has_group("events.k8s.io"));
    }
    assert!(
        h.fake.requests().iter().any(|r| r.path == "/apis/apps/v1"),
        "plain discovery walks the group versions"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_recorder_publishes_events_kubectl_can_read() {
    use kube::runtime::events::{Event, EventType, Recorder, Reporter};
    let h = Harness::start(DEPLOYMENT).await;
    let client = client(&h).await;
    let api: Api<Deployment> = Api::default_namespaced(client.clone());
    let d = api.get("api").await.expect("get");
    let reference = kube::Resource::object_ref(&d, &());
    let recorder = Recorder::new(
        client,
        Reporter {
            controller: "rollout-gate".into(),
            instance: None,
        },
    );
    let event = Event {
        type_: EventType::Warning,
        reason: "RolloutFailed".into(),
        note: Some("image pull failed, rolled back".into()),
        action: "Rollback".into(),
        secondary: None,
    };
    recorder
        .publish(&event, &reference)
        .await
        .expect("first publish creates");
    recorder
        .publish(&event, &reference)
        .await
        .expect("second publish patches the series");
    let methods: Vec<String> = h
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/apis/events.k8s.io/v1/"))
        .map(|r| format!("{} {}", r.method, r.status))
        .collect();
    assert_eq!(methods, ["POST 201", "PATCH 200"]);
    let events = h
        .kubectl(&["get", "events", "--field-selector", "reason=RolloutFailed"])
        .await
        .expect_code(0);
    assert!(
        events.stdout.contains("deployment/api"),
        "{}",
        events.stdout
    );
    assert!(
        events.stdout.contains("image pull failed, rolled back"),
        "{}",
        events.stdout
    );
}
