//! Rendering errors for people: an error and its sources on one line.
//!
//! Pure: no I/O, and no knowledge of which error it is given. Where errors are written
//! (the `::error` line, the job summary, the check run) is decided by the caller.

/// An error and its sources on one line, each once.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
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

/// An error as people read it: a few words for titles, the whole chain once, and what to
/// do about it when there is something to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    /// A few words (the check run's title, the summary's lead).
    pub title: String,
    /// The error and its sources, each once ([`error_chain`]).
    pub message: String,
    /// What the user can do.
    pub help: Option<String>,
}

impl Described {
    /// An error described with a title and help of the caller's choosing.
    pub fn new(title: &str, e: &dyn std::error::Error, help: Option<&str>) -> Self {
        Self {
            title: title.to_owned(),
            message: error_chain(e),
            help: help.map(str::to_owned),
        }
    }
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
