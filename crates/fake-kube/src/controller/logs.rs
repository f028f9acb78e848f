//! Container logs as the kubelet serves them (`GET pods/<name>/log`): the lines an image's
//! behaviour writes ([`super::kubelet::behaviour`]), `previous`, `tailLines`, `limitBytes`,
//! `timestamps`, and the kubelet's errors for containers that have no log yet (the
//! messages of `validateContainerLogStatus`). Reads pods; changes nothing.

use serde_json::Value;

use super::kubelet::{Behaviour, behaviour};
use super::name;
use crate::clock::format_time;
use crate::status::ApiError;

/// Options of `GET pods/<name>/log`.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// `container`.
    pub container: Option<String>,
    /// `previous`.
    pub previous: bool,
    /// `tailLines`.
    pub tail_lines: Option<usize>,
    /// `limitBytes`.
    pub limit_bytes: Option<usize>,
    /// `timestamps`.
    pub timestamps: bool,
}

fn log_lines(image: &str, cname: &str, ready: bool) -> Vec<String> {
    let start = format!("starting {cname} (image {image})");
    let lines: Vec<&str> = match behaviour(image) {
        Behaviour::Crash => vec![
            "loading configuration from /etc/app/config.yaml",
            "connecting to database at db:5432",
            "error: dial tcp 10.96.0.15:5432: connect: connection refused",
            "panic: cannot start without a database connection",
        ],
        Behaviour::Oom => vec![
            "warming cache: 512MiB",
            "warming cache: 1024MiB",
            "warming cache: 2048MiB",
        ],
        Behaviour::Slow if !ready => vec!["warming up caches, this takes about 10 minutes"],
        Behaviour::Slow => vec!["warming up caches, this takes about 10 minutes", "ready"],
        _ => vec!["listening on 0.0.0.0:8080", "ready"],
    };
    std::iter::once(start)
        .chain(lines.into_iter().map(str::to_string))
        .collect()
}

/// The log of a container, with the kubelet's errors for containers that have none.
pub fn logs(pod: &Value, opts: &LogOptions) -> Result<String, ApiError> {
    let pod_name = name(pod);
    let containers: Vec<&str> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| cs.iter().filter_map(|c| c["name"].as_str()).collect())
        .unwrap_or_default();
    let container = match opts.container.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => c.to_string(),
        None if containers.len() == 1 => containers[0].to_string(),
        None => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {pod_name}, choose one of: [{}]",
                containers.join(" ")
            )));
        }
    };
    if !containers.contains(&container.as_str()) {
        return Err(ApiError::bad_request(format!(
            "container {container} is not valid for pod {pod_name}"
        )));
    }
    if pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Ok(String::new());
    }
    let cs = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().find(|c| c["name"] == container.as_str()))
        .cloned()
        .unwrap_or(Value::Null);
    let image = cs["image"].as_str().unwrap_or_default();
    let last_terminated = cs.pointer("/lastState/terminated").is_some();
    let quoted = format!("container \"{container}\" in pod \"{pod_name}\"");
    let (source_time, ready) = if opts.previous {
        if !last_terminated {
            return Err(ApiError::bad_request(format!(
                "previous terminated container \"{container}\" in pod \"{pod_name}\" not found"
            )));
        }
        (cs.pointer("/lastState/terminated/startedAt"), false)
    } else if cs.pointer("/state/running").is_some() {
        (cs.pointer("/state/running/startedAt"), cs["ready"] == true)
    } else if cs.pointer("/state/terminated").is_some() {
        (cs.pointer("/state/terminated/startedAt"), false)
    } else if last_terminated {
        (cs.pointer("/lastState/terminated/startedAt"), false)
    } else {
        let reason = cs
            .pointer("/state/waiting/reason")
            .and_then(Value::as_str)
            .unwrap_or("ContainerCreating");
        let message = match reason {
            "ErrImagePull" => format!("{quoted} is waiting to start: image can't be pulled"),
            "ImagePullBackOff" => {
                format!("{quoted} is waiting to start: trying and failing to pull image")
            }
            other => format!("{quoted} is waiting to start: {other}"),
        };
        return Err(ApiError::bad_request(message));
    };
    let start_ms = source_time
        .and_then(Value::as_str)
        .and_then(crate::clock::parse_time)
        .unwrap_or_default();
    let mut lines = log_lines(image, &container, ready);
    if opts.timestamps {
        lines = lines
            .into_iter()
            .enumerate()
            .map(|(i, l)| {
                let t = format_time(start_ms);
                let ms = i64::try_from(i).unwrap_or(0) * 137;
                format!("{}.{:09}Z {l}", t.trim_end_matches('Z'), ms * 1_000_000)
            })
            .collect();
    }
    if let Some(n) = opts.tail_lines {
        let skip = lines.len().saturating_sub(n);
        lines.drain(..skip);
    }
    let mut out: String = lines.iter().map(|l| format!("{l}\n")).collect();
    if let Some(limit) = opts.limit_bytes {
        if out.len() > limit {
            let mut cut = limit;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(state: Value, last: Value) -> Value {
        json!({"metadata": {"name": "p", "namespace": "default", "uid": "u"},
            "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "app:crash"}]},
            "status": {"containerStatuses": [{"name": "app", "image": "app:crash", "state": state, "lastState": last}]}})
    }

    #[test]
    fn log_rules() {
        let crash = pod(
            json!({"waiting": {"reason": "CrashLoopBackOff"}}),
            json!({"terminated": {"exitCode": 1, "startedAt": "2023-11-14T22:13:20Z"}}),
        );
        let out = logs(
            &crash,
            &LogOptions {
                tail_lines: Some(2),
                ..Default::default()
            },
        )
        .expect("logs");
        assert_eq!(out.lines().count(), 2);
        assert!(out.contains("panic"));
        let pulling = pod(
            json!({"waiting": {"reason": "ImagePullBackOff"}}),
            json!({}),
        );
        let err = logs(&pulling, &LogOptions::default()).expect_err("waiting");
        assert_eq!(
            err.message,
            "container \"app\" in pod \"p\" is waiting to start: trying and failing to pull image"
        );
        let err = logs(
            &crash,
            &LogOptions {
                container: Some("x".into()),
                ..Default::default()
            },
        )
        .expect_err("bad container");
        assert_eq!(err.message, "container x is not valid for pod p");
        let limited = logs(
            &crash,
            &LogOptions {
                limit_bytes: Some(5),
                ..Default::default()
            },
        )
        .expect("logs");
        assert_eq!(limited, "start");
    }
}
