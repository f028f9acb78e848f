//! Reading what explains a failed rollout: the workload's pods, the events about it, its
//! new revision and those pods, and the log of the container that crashed.
//!
//! Only reads (pods, events, one log). Read errors never turn a failed rollout into a tool
//! error: they become gaps in the explanation. Which pods and events matter and which log
//! to read is decided by the pure files ([`Kind::new_revision`], [`explain`], [`events`]).

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ListParams, LogParams};

use super::cluster::Cluster;
use super::error::ApiError;
use super::events::{self, MAX_EVENTS};
use super::explain::{self, Explanation, LOG_BYTES, LOG_LINES};
use super::kinds::Kind;
use super::names::Workload;
use super::workload::{history_gap, selector_params};

/// Read what explains `w`'s failure. `obj` is the workload as the wait last saw it (none
/// when it was deleted), `history` its history when it was read.
pub(super) async fn explain_failure<K: Kind>(
    cluster: &Cluster,
    w: &Workload,
    obj: Option<&K>,
    history: Option<&Result<Vec<K::History>, ApiError>>,
    verdict: &str,
) -> Explanation {
    let Some(obj) = obj else {
        return Explanation {
            verdict: verdict.to_owned(),
            gaps: vec![format!("{} could not be read", w.short())],
            ..Explanation::default()
        };
    };
    let mut gaps = Vec::new();
    let pods_api: Api<Pod> = Api::namespaced(cluster.client.clone(), &w.namespace);
    let all_pods = match pods_api.list(&selector_params(obj)).await {
        Ok(l) => l.items,
        Err(e) => {
            gaps.push(format!("could not list pods: {}", ApiError::from_kube(e)));
            Vec::new()
        }
    };
    let known: &[K::History] = match history {
        Some(Ok(h)) => h,
        Some(Err(e)) => {
            gaps.push(history_gap::<K>(e));
            &[]
        }
        None => &[],
    };
    let new = obj.new_revision(known, &all_pods);

    // Events of the workload, its new revision object and the new revision's pods: the
    // old ones' start-up events are noise here.
    let mut event_objects: BTreeSet<(String, String)> = new.event_objects.into_iter().collect();
    event_objects.insert((
        <K as k8s_openapi::Resource>::KIND.to_owned(),
        w.name.clone(),
    ));
    for p in &new.pods {
        event_objects.insert(("Pod".into(), p.metadata.name.clone().unwrap_or_default()));
    }
    let events_api: Api<Event> = Api::namespaced(cluster.client.clone(), &w.namespace);
    let all_events = match events_api.list(&ListParams::default().limit(1000)).await {
        Ok(l) => l.items,
        Err(e) => {
            gaps.push(format!("could not list events: {}", ApiError::from_kube(e)));
            Vec::new()
        }
    };
    let event_lines = events::relevant_events(&all_events, &event_objects, MAX_EVENTS)
        .into_iter()
        .map(events::event_line)
        .collect();

    let log = match explain::log_target(&new.pods) {
        Some(t) => {
            let params = LogParams {
                container: Some(t.container.clone()),
                previous: t.previous,
                tail_lines: Some(LOG_LINES as i64),
                limit_bytes: Some(LOG_BYTES as i64),
                ..LogParams::default()
            };
            match pods_api.logs(&t.pod, &params).await {
                Ok(text) => Some((t, explain::tail_log(&text, LOG_LINES, LOG_BYTES))),
                Err(e) => {
                    gaps.push(format!(
                        "could not read the log of {}/{}: {}",
                        t.pod,
                        t.container,
                        ApiError::from_kube(e)
                    ));
                    None
                }
            }
        }
        None => None,
    };
    let mut e = explain::explain(verdict, &new.pods, new.history_lines, event_lines, log);
    e.gaps = gaps;
    e
}
