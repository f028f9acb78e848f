//! Rendering errors for people: an error and its sources on one line.
//!
//! Pure: no I/O, and no knowledge of which error it is given. Where errors are written
//! (the `::error` line, the job summary, the check run) is decided by the caller.

/// An error and its sources on one line, each once.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut src = e.source();
    while let Some(s) = src {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        src = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{msg}")]
    struct E {
        msg: &'static str,
        #[source]
        source: Option<Box<E>>,
    }

    fn chain(msgs: &[&'static str]) -> E {
        msgs.iter()
            .rev()
            .fold(None, |source, msg| {
                Some(E {
                    msg,
                    source: source.map(Box::new),
                })
            })
            .unwrap()
    }

    #[test]
    fn joins_sources_and_drops_repeats() {
        let cases: &[(&[&str], &str)] = &[
            (&["alone"], "alone"),
            (
                &["reading a.xml", "permission denied"],
                "reading a.xml: permission denied",
            ),
            (
                &["request failed: connection refused", "connection refused"],
                "request failed: connection refused",
            ),
            (&["a", "b", "c"], "a: b: c"),
        ];
        for (msgs, want) in cases {
            assert_eq!(error_chain(&chain(msgs)), *want, "{msgs:?}");
        }
    }
}
