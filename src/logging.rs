//! Log setup: `tracing` without timestamps (the runner adds them), `info` by default,
//! `debug` with `RUNNER_DEBUG=1`, `RUST_LOG` overrides; JSON lines on request.

use tracing_subscriber::EnvFilter;

/// Text or JSON lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(()),
        }
    }
}

/// The filter directives for a run.
pub fn directives(debug: bool, rust_log: Option<&str>) -> String {
    if let Some(r) = rust_log.filter(|r| !r.trim().is_empty()) {
        return r.to_owned();
    }
    // Our crate at the chosen level; HTTP internals stay quiet unless RUST_LOG asks.
    let ours = if debug { "debug" } else { "info" };
    format!("warn,rust_ci_action={ours},fake_kube=warn,octocrab=off")
}

/// Install the global subscriber writing to `writer`.
pub fn init<W>(format: LogFormat, directives: &str, writer: W)
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .without_time()
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(false).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        assert!(directives(false, None).contains("rust_ci_action=info"));
        assert!(directives(true, None).contains("rust_ci_action=debug"));
        assert_eq!(directives(true, Some("trace")), "trace");
        assert!(directives(false, Some(" ")).contains("=info"));
    }
}
