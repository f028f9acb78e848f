//! Which events explain a failed rollout (the workload's, its new revision object's and
//! the new pods', most recent last) and how each reads on one line. Pure.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Event;

/// Most events shown.
pub(super) const MAX_EVENTS: usize = 12;

/// Events about the given objects (`(kind, name)` pairs), oldest first, at most `max`
/// (the most recent ones).
pub(super) fn relevant_events<'a>(
    events: &'a [Event],
    objects: &BTreeSet<(String, String)>,
    max: usize,
) -> Vec<&'a Event> {
    let mut ev: Vec<&Event> = events
        .iter()
        .filter(|e| {
            let o = &e.involved_object;
            objects.contains(&(
                o.kind.clone().unwrap_or_default(),
                o.name.clone().unwrap_or_default(),
            ))
        })
        .collect();
    ev.sort_by_key(|e| event_time(e));
    let skip = ev.len().saturating_sub(max);
    ev.split_off(skip)
}

fn event_time(e: &Event) -> Option<jiff::Timestamp> {
    e.last_timestamp
        .as_ref()
        .map(|t| t.0)
        .or_else(|| e.event_time.as_ref().map(|t| t.0))
        .or_else(|| e.first_timestamp.as_ref().map(|t| t.0))
}

/// `Warning BackOff pod/api-1: Back-off pulling image "x" (x4)`.
pub(super) fn event_line(e: &Event) -> String {
    let o = &e.involved_object;
    let count = e
        .count
        .filter(|c| *c > 1)
        .map(|c| format!(" (x{c})"))
        .unwrap_or_default();
    format!(
        "{} {} {}/{}: {}{count}",
        e.type_.as_deref().unwrap_or("Normal"),
        e.reason.as_deref().unwrap_or(""),
        o.kind.as_deref().unwrap_or("").to_ascii_lowercase(),
        o.name.as_deref().unwrap_or(""),
        one_line(e.message.as_deref().unwrap_or("")),
    )
}

/// Whitespace runs (newlines included) collapsed to one space.
pub(super) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_filtered_sorted_and_capped() {
        let ev = |name: &str, kind: &str, t: &str, reason: &str, ty: &str| -> Event {
            serde_yaml::from_str(&format!(
                "metadata: {{name: {name}.1}}\ninvolvedObject: {{kind: {kind}, name: {name}}}\nreason: {reason}\nmessage: \"{reason} happened\\n twice\"\ntype: {ty}\ncount: 2\nlastTimestamp: \"{t}\"\n"
            ))
            .unwrap()
        };
        let events = vec![
            ev(
                "api-7c9d-x1",
                "Pod",
                "2025-01-01T00:00:03Z",
                "Failed",
                "Warning",
            ),
            ev(
                "api",
                "Deployment",
                "2025-01-01T00:00:01Z",
                "ScalingReplicaSet",
                "Normal",
            ),
            ev(
                "unrelated",
                "Pod",
                "2025-01-01T00:00:02Z",
                "Killing",
                "Normal",
            ),
            ev(
                "api-7c9d",
                "ReplicaSet",
                "2025-01-01T00:00:02Z",
                "SuccessfulCreate",
                "Normal",
            ),
        ];
        let objects: BTreeSet<(String, String)> = [
            ("Deployment", "api"),
            ("ReplicaSet", "api-7c9d"),
            ("Pod", "api-7c9d-x1"),
        ]
        .iter()
        .map(|(k, n)| ((*k).to_owned(), (*n).to_owned()))
        .collect();
        let lines: Vec<String> = relevant_events(&events, &objects, 2)
            .into_iter()
            .map(event_line)
            .collect();
        assert_eq!(
            lines,
            [
                "Normal SuccessfulCreate replicaset/api-7c9d: SuccessfulCreate happened twice (x2)",
                "Warning Failed pod/api-7c9d-x1: Failed happened twice (x2)",
            ]
        );
    }
}
