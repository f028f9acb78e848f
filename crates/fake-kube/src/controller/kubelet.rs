//! Scheduler and kubelet in one: moves each pod through Pending → ContainerCreating → Running one
//! tick at a time, with the failure an image name asks for. Logs are `logs.rs`.
//!
//! Image conventions (substring match, first hit wins): `unschedulable` → Pending with
//! `PodScheduled=False reason=Unschedulable`; `pull-once` → `ErrImagePull` once, then running;
//! `pull-error` → `ErrImagePull` then `ImagePullBackOff`; `invalid-name` → `InvalidImageName`;
//! `config-error` → `CreateContainerConfigError`; `create-error` → `CreateContainerError`;
//! `stuck-creating` → `ContainerCreating` for ever (a volume that never mounts); `crash-once` →
//! one crash, then running (restartCount 1); `crash` → `CrashLoopBackOff` with
//! `lastState.terminated.exitCode=1`; `oom` → `OOMKilled` then `CrashLoopBackOff`; `slow` →
//! running but not ready until 600 simulated seconds after start; anything else → ready on the
//! second tick after creation. Status shapes, reasons and event messages follow the kubelet's.

use serde_json::{Value, json};

use super::{Controllers, name, namespace, uid};
use crate::clock::format_time;
use crate::names::fnv32a;
use crate::resources::PODS;
use crate::store::Store;

/// How long a `slow` container takes to become ready, in simulated milliseconds.
pub const SLOW_READY_MS: i64 = 600_000;

/// What a container does, decided by its image name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Starts and becomes ready.
    Normal,
    /// The image cannot be pulled.
    PullError,
    /// Exits with code 1 every time it starts.
    Crash,
    /// Killed by the OOM killer every time it starts.
    Oom,
    /// Starts, but is ready only after [`SLOW_READY_MS`].
    Slow,
    /// No node can take the pod.
    Unschedulable,
    /// The first pull fails (`ErrImagePull`), the retry succeeds.
    PullOnce,
    /// The image reference does not parse (`InvalidImageName`).
    InvalidName,
    /// A ConfigMap the container needs is missing (`CreateContainerConfigError`).
    ConfigError,
    /// The runtime cannot create the container (`CreateContainerError`).
    CreateError,
    /// A volume never mounts: `ContainerCreating` for ever.
    StuckCreating,
    /// Crashes once, then runs (restartCount 1).
    CrashOnce,
}

/// The behaviour an image name selects.
pub fn behaviour(image: &str) -> Behaviour {
    let image = image.to_ascii_lowercase();
    if image.contains("unschedulable") {
        Behaviour::Unschedulable
    } else if image.contains("pull-once") {
        Behaviour::PullOnce
    } else if image.contains("invalid-name") {
        Behaviour::InvalidName
    } else if image.contains("config-error") {
        Behaviour::ConfigError
    } else if image.contains("create-error") {
        Behaviour::CreateError
    } else if image.contains("stuck-creating") {
        Behaviour::StuckCreating
    } else if image.contains("crash-once") {
        Behaviour::CrashOnce
    } else if image.contains("pull-error") {
        Behaviour::PullError
    } else if image.contains("crash") {
        Behaviour::Crash
    } else if image.contains("oom") {
        Behaviour::Oom
    } else if image.contains("slow") {
        Behaviour::Slow
    } else {
        Behaviour::Normal
    }
}

/// Per-pod kubelet progress.
#[derive(Debug, Clone, Default)]
pub struct PodSim {
    /// Kubelet passes since the pod was bound to a node.
    steps: u32,
    /// When the pod was bound.
    scheduled_ms: Option<i64>,
    /// When the containers first started.
    started_ms: Option<i64>,
    /// Pod IP.
    ip: Option<String>,
    /// Whether the FailedScheduling event was recorded.
    failed_scheduling: bool,
}

fn container_id(pod_uid: &str, container: &str, attempt: i64) -> String {
    let mut hex = String::new();
    let mut seed = format!("{pod_uid}/{container}/{attempt}");
    while hex.len() < 64 {
        let h = fnv32a(seed.as_bytes());
        hex.push_str(&format!("{h:08x}"));
        seed.push('.');
    }
    format!("containerd://{hex}")
}

fn image_id(image: &str) -> String {
    let repo = image.split('@').next().unwrap_or(image);
    let repo = match repo.rsplit_once(':') {
        Some((r, tag)) if !tag.contains('/') => r,
        _ => repo,
    };
    let mut hex = String::new();
    let mut seed = image.to_string();
    while hex.len() < 64 {
        hex.push_str(&format!("{:08x}", fnv32a(seed.as_bytes())));
        seed.push('#');
    }
    format!("{repo}@sha256:{hex}")
}

fn condition(
    prev: &Value,
    kind: &str,
    status: bool,
    reason: Option<(&str, String)>,
    now: &str,
) -> Value {
    let status_str = if status { "True" } else { "False" };
    let previous = prev
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == kind));
    let transition = match previous {
        Some(c) if c["status"] == status_str => c["lastTransitionTime"].clone(),
        _ => json!(now),
    };
    let mut c = json!({"type": kind, "status": status_str, "lastProbeTime": null, "lastTransitionTime": transition});
    if let Some((r, m)) = reason {
        c["reason"] = json!(r);
        c["message"] = json!(m);
    }
    c
}

/// A container's status after `steps` kubelet passes.
fn container_status(pod: &Value, sim: &PodSim, c: &Value, now_ms: i64) -> (Value, bool, bool) {
    let cname = c["name"].as_str().unwrap_or_default();
    let image = c["image"].as_str().unwrap_or_default();
    let b = behaviour(image);
    let pod_uid = uid(pod);
    let started = sim.started_ms.unwrap_or(now_ms);
    let mut cs = json!({
        "name": cname,
        "image": image,
        "imageID": "",
        "ready": false,
        "restartCount": 0,
        "started": false,
        "state": {"waiting": {"reason": "ContainerCreating"}},
        "lastState": {},
    });
    if sim.steps < 2 {
        return (cs, false, false);
    }
    let steps = i64::from(sim.steps);
    let pod_ref = format!("{}_{}({})", name(pod), namespace(pod), pod_uid);
    let mut ran = true;
    let mut ready = false;
    match b {
        Behaviour::Normal | Behaviour::Slow => {
            ready = b == Behaviour::Normal || now_ms - started >= SLOW_READY_MS;
            cs["state"] = json!({"running": {"startedAt": format_time(started)}});
            cs["ready"] = json!(ready);
            cs["started"] = json!(true);
            cs["imageID"] = json!(image_id(image));
            cs["containerID"] = json!(container_id(pod_uid, cname, 0));
        }
        Behaviour::PullOnce if steps > 2 => {
            ready = true;
            cs["state"] = json!({"running": {"startedAt": format_time(started)}});
            cs["ready"] = json!(true);
            cs["started"] = json!(true);
            cs["imageID"] = json!(image_id(image));
            cs["containerID"] = json!(container_id(pod_uid, cname, 0));
        }
        Behaviour::CrashOnce if steps > 2 => {
            ready = true;
            cs["state"] = json!({"running": {"startedAt": format_time(started)}});
            cs["lastState"] = json!({"terminated": {
                "exitCode": 1, "reason": "Error",
                "startedAt": format_time(started),
                "finishedAt": format_time(started + 1000),
                "containerID": container_id(pod_uid, cname, 0),
            }});
            cs["restartCount"] = json!(1);
            cs["ready"] = json!(true);
            cs["started"] = json!(true);
            cs["imageID"] = json!(image_id(image));
            cs["containerID"] = json!(container_id(pod_uid, cname, 1));
        }
        Behaviour::InvalidName
        | Behaviour::ConfigError
        | Behaviour::CreateError
        | Behaviour::StuckCreating => {
            ran = false;
            if let Some((reason, message)) = creation_failure(b, image) {
                cs["state"] = json!({"waiting": {"reason": reason, "message": message}});
            }
        }
        Behaviour::PullError | Behaviour::Unschedulable | Behaviour::PullOnce => {
            ran = false;
            let (reason, message) = if steps == 2 {
                (
                    "ErrImagePull",
                    format!(
                        "rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {image}: not found"
                    ),
                )
            } else {
                (
                    "ImagePullBackOff",
                    format!("Back-off pulling image \"{image}\""),
                )
            };
            cs["state"] = json!({"waiting": {"reason": reason, "message": message}});
        }
        Behaviour::Crash | Behaviour::Oom | Behaviour::CrashOnce => {
            let oom = b == Behaviour::Oom;
            let restarts = if oom {
                steps - 2
            } else if b == Behaviour::CrashOnce {
                1
            } else {
                steps - 1
            };
            let (reason, code) = if oom {
                ("OOMKilled", 137)
            } else {
                ("Error", 1)
            };
            let terminated = |attempt: i64| {
                json!({"terminated": {
                    "exitCode": code,
                    "reason": reason,
                    "startedAt": format_time(now_ms - 1000),
                    "finishedAt": format_time(now_ms),
                    "containerID": container_id(pod_uid, cname, attempt),
                }})
            };
            cs["imageID"] = json!(image_id(image));
            cs["restartCount"] = json!(restarts);
            if oom && steps == 2 {
                cs["state"] = terminated(0);
                cs["containerID"] = json!(container_id(pod_uid, cname, 0));
            } else {
                let backoff = (10_i64 << (restarts - 1).clamp(0, 5)).min(300);
                cs["state"] = json!({"waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": format!("back-off {backoff}s restarting failed container={cname} pod={pod_ref}"),
                }});
                cs["lastState"] = terminated(restarts.max(1) - 1);
                cs["containerID"] = json!(container_id(pod_uid, cname, restarts.max(1) - 1));
            }
        }
    }
    (cs, ran, ready)
}

/// The waiting reason and message of a container the kubelet cannot create (none for one
/// still `ContainerCreating`), as `kubectl describe pod` shows them.
fn creation_failure(b: Behaviour, image: &str) -> Option<(&'static str, String)> {
    match b {
        Behaviour::InvalidName => Some((
            "InvalidImageName",
            format!(
                "Failed to apply default image tag \"{image}\": couldn't parse image name \"{image}\": invalid reference format"
            ),
        )),
        Behaviour::ConfigError => Some((
            "CreateContainerConfigError",
            "configmap \"app-config\" not found".to_owned(),
        )),
        Behaviour::CreateError => Some((
            "CreateContainerError",
            "failed to generate container spec: failed to mkdir \"/data\": mkdir /data: read-only file system".to_owned(),
        )),
        _ => None,
    }
}

fn record(store: &mut Store, pod: &Value, event_type: &str, reason: &str, message: &str) {
    store.record_event(&PODS, pod, event_type, reason, message, "kubelet");
}

fn start_events(store: &mut Store, pod: &Value) {
    let containers = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let pod_ref = format!("{}_{}({})", name(pod), namespace(pod), uid(pod));
    for c in containers {
        let cname = c["name"].as_str().unwrap_or_default();
        let image = c["image"].as_str().unwrap_or_default();
        match behaviour(image) {
            b @ (Behaviour::InvalidName | Behaviour::ConfigError | Behaviour::CreateError) => {
                if let Some((reason, message)) = creation_failure(b, image) {
                    if b == Behaviour::InvalidName {
                        record(store, pod, "Warning", "InspectFailed", &message);
                    }
                    record(store, pod, "Warning", "Failed", &format!("Error: {reason}"));
                }
            }
            Behaviour::StuckCreating => record(
                store,
                pod,
                "Warning",
                "FailedMount",
                "MountVolume.SetUp failed for volume \"cache\" : configmap \"cache\" not found",
            ),
            Behaviour::PullError | Behaviour::PullOnce => {
                record(
                    store,
                    pod,
                    "Normal",
                    "Pulling",
                    &format!("Pulling image \"{image}\""),
                );
                record(
                    store,
                    pod,
                    "Warning",
                    "Failed",
                    &format!(
                        "Failed to pull image \"{image}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {image}: not found"
                    ),
                );
                record(store, pod, "Warning", "Failed", "Error: ErrImagePull");
            }
            b => {
                record(
                    store,
                    pod,
                    "Normal",
                    "Pulled",
                    &format!("Container image \"{image}\" already present on machine"),
                );
                record(
                    store,
                    pod,
                    "Normal",
                    "Created",
                    &format!("Created container: {cname}"),
                );
                record(
                    store,
                    pod,
                    "Normal",
                    "Started",
                    &format!("Started container {cname}"),
                );
                if matches!(b, Behaviour::Crash | Behaviour::Oom) {
                    record(
                        store,
                        pod,
                        "Warning",
                        "BackOff",
                        &format!("Back-off restarting failed container {cname} in pod {pod_ref}"),
                    );
                }
                if b == Behaviour::Slow {
                    record(
                        store,
                        pod,
                        "Warning",
                        "Unhealthy",
                        "Readiness probe failed: HTTP probe failed with statuscode: 503",
                    );
                }
            }
        }
    }
}

fn repeat_events(store: &mut Store, pod: &Value, steps: u32) {
    let containers = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let pod_ref = format!("{}_{}({})", name(pod), namespace(pod), uid(pod));
    for c in containers {
        let cname = c["name"].as_str().unwrap_or_default();
        let image = c["image"].as_str().unwrap_or_default();
        match behaviour(image) {
            Behaviour::PullError => {
                record(
                    store,
                    pod,
                    "Normal",
                    "BackOff",
                    &format!("Back-off pulling image \"{image}\""),
                );
                record(store, pod, "Warning", "Failed", "Error: ImagePullBackOff");
            }
            Behaviour::Crash => {
                record(
                    store,
                    pod,
                    "Warning",
                    "BackOff",
                    &format!("Back-off restarting failed container {cname} in pod {pod_ref}"),
                );
            }
            Behaviour::Oom if steps > 3 => {
                record(
                    store,
                    pod,
                    "Warning",
                    "BackOff",
                    &format!("Back-off restarting failed container {cname} in pod {pod_ref}"),
                );
            }
            _ => {}
        }
    }
}

/// One kubelet pass over every active pod.
pub(super) fn step(ctrl: &mut Controllers, store: &mut Store) {
    let now_ms = store.clock.now_ms();
    let now = store.clock.timestamp();
    let node_count = ctrl.nodes.len();
    let pods = store.list(&PODS, None);
    let live: Vec<String> = pods.iter().map(|p| uid(p).to_string()).collect();
    ctrl.pods.retain(|k, _| live.contains(k));
    for pod in pods {
        if !super::pod_active(&pod) {
            continue;
        }
        let pod_uid = uid(&pod).to_string();
        let containers = pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let unschedulable = containers.iter().any(|c| {
            behaviour(c["image"].as_str().unwrap_or_default()) == Behaviour::Unschedulable
        });
        let mut sim = ctrl.pods.get(&pod_uid).cloned().unwrap_or_default();
        let mut updated = pod.clone();
        if sim.scheduled_ms.is_none() {
            if unschedulable {
                let message = format!(
                    "0/{node_count} nodes are available: {node_count} Insufficient cpu. preemption: 0/{node_count} nodes are available: {node_count} No preemption victims found for incoming pod."
                );
                updated["status"] = json!({
                    "phase": "Pending",
                    "conditions": [condition(&pod, "PodScheduled", false, Some(("Unschedulable", message.clone())), &now)],
                    "qosClass": "BestEffort",
                });
                if !sim.failed_scheduling {
                    store.record_event(
                        &PODS,
                        &pod,
                        "Warning",
                        "FailedScheduling",
                        &message,
                        "default-scheduler",
                    );
                    sim.failed_scheduling = true;
                }
                ctrl.pods.insert(pod_uid, sim);
                super::write_status(store, &PODS, &pod, updated["status"].clone());
                continue;
            }
            let node = match pod.pointer("/spec/nodeName").and_then(Value::as_str) {
                Some(n) if !n.is_empty() => n.to_string(),
                _ => ctrl.schedule(),
            };
            updated["spec"]["nodeName"] = json!(node);
            sim.scheduled_ms = Some(now_ms);
            store.record_event(
                &PODS,
                &pod,
                "Normal",
                "Scheduled",
                &format!(
                    "Successfully assigned {}/{} to {node}",
                    namespace(&pod),
                    name(&pod)
                ),
                "default-scheduler",
            );
        }
        sim.steps += 1;
        if sim.steps == 2 {
            sim.started_ms = Some(now_ms);
            let node = updated
                .pointer("/spec/nodeName")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            sim.ip = Some(ctrl.allocate_ip(&node));
            start_events(store, &updated);
        } else if sim.steps > 2 {
            repeat_events(store, &updated, sim.steps);
        }
        let mut statuses = Vec::new();
        let mut all_ran = true;
        let mut unready = Vec::new();
        for c in &containers {
            let (cs, ran, ready) = container_status(&updated, &sim, c, now_ms);
            all_ran &= ran;
            if !ready {
                unready.push(c["name"].as_str().unwrap_or_default().to_string());
            }
            statuses.push(cs);
        }
        let node = updated
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let node_idx = ctrl.nodes.iter().position(|n| *n == node).unwrap_or(0) + 1;
        let host_ip = format!("10.0.0.{node_idx}");
        let all_ready = unready.is_empty();
        let not_ready = (!all_ready).then(|| {
            (
                "ContainersNotReady",
                format!("containers with unready status: [{}]", unready.join(" ")),
            )
        });
        let mut status = json!({
            "phase": if sim.steps >= 2 && all_ran { "Running" } else { "Pending" },
            "conditions": [
                condition(&pod, "PodReadyToStartContainers", sim.steps >= 2, None, &now),
                condition(&pod, "Initialized", true, None, &now),
                condition(&pod, "Ready", all_ready, not_ready.clone(), &now),
                condition(&pod, "ContainersReady", all_ready, not_ready, &now),
                condition(&pod, "PodScheduled", true, None, &now),
            ],
            "hostIP": host_ip,
            "hostIPs": [{"ip": host_ip}],
            "startTime": format_time(sim.scheduled_ms.unwrap_or(now_ms)),
            "containerStatuses": statuses,
            "qosClass": "BestEffort",
        });
        if let Some(ip) = &sim.ip {
            status["podIP"] = json!(ip);
            status["podIPs"] = json!([{"ip": ip}]);
        }
        ctrl.pods.insert(pod_uid, sim);
        updated["status"] = status;
        if super::without_nulls(&updated) != super::without_nulls(&pod) {
            store.replace(&PODS, updated);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_conventions() {
        for (image, want) in [
            ("registry/app:v2", Behaviour::Normal),
            ("app:pull-error", Behaviour::PullError),
            ("app:crash-v2", Behaviour::Crash),
            ("app:oom", Behaviour::Oom),
            ("slow-app:v1", Behaviour::Slow),
            ("app:unschedulable", Behaviour::Unschedulable),
            ("app:pull-once", Behaviour::PullOnce),
            ("app:invalid-name", Behaviour::InvalidName),
            ("app:config-error", Behaviour::ConfigError),
            ("app:create-error", Behaviour::CreateError),
            ("app:stuck-creating", Behaviour::StuckCreating),
            ("app:crash-once", Behaviour::CrashOnce),
        ] {
            assert_eq!(behaviour(image), want, "{image}");
        }
    }
}
