//! Thin shell: panic hook, command line, logging, runtime, [`rust_ci_action::app::run`],
//! exit code. The only place besides `runner::commands` that writes to stdout.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;

use rust_ci_action::app;
use rust_ci_action::cli::{self, Invocation};
use rust_ci_action::crash;
use rust_ci_action::github::RetryPolicy;
use rust_ci_action::logging;
use rust_ci_action::report::render;
use rust_ci_action::runner::commands::{Commands, MaskingWriter, Style, format_command};
use rust_ci_action::runner::env::{RunnerEnv, process_cwd, process_pairs};
use rust_ci_action::runner::inputs::RawInputs;

fn main() -> ExitCode {
    let pairs = process_pairs();
    let env = RunnerEnv::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .in_dir(process_cwd());
    let style = if env.on_actions() {
        Style::Actions
    } else {
        Style::Human
    };
    let commands = Commands::stdout(style);
    crash::install(env.clone(), commands.clone());
    // Test hook: proves the panic hook's contract end to end (tests/integration/foundation.rs).
    // Only test builds have it (the `crash-test` feature, see Cargo.toml).
    #[cfg(feature = "crash-test")]
    if env.crash_test.as_deref() == Some("1") {
        panic!("crash test requested");
    }

    let invocation = match cli::parse(std::env::args_os()) {
        Ok(i) => i,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    let (raw, json) = match &invocation {
        Invocation::Action => (
            RawInputs::from_env(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            false,
        ),
        Invocation::Local { inputs, json, .. } => (
            RawInputs::from_named(inputs.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            *json,
        ),
    };
    if invocation == Invocation::Action && raw.get("gate").is_none() && !env.on_actions() {
        let _ = cli::command().print_help();
        return ExitCode::from(app::EXIT_ERROR);
    }

    let directives = logging::directives(env.debug(), env.rust_log.as_deref());
    // On a runner, logs share stdout with workflow commands so groups enclose them;
    // locally stdout is kept for the summary and `--output json`. Masked values are
    // scrubbed from logs as well.
    let writer = MaskingWriter::new(commands.masks(), style == Style::Actions);
    logging::init(app::log_format(&raw), &directives, writer);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            println!(
                "{}",
                format_command(
                    "error",
                    &[("title", "rust-ci-action could not start".into())],
                    &e.to_string()
                )
            );
            return ExitCode::from(app::EXIT_ERROR);
        }
    };
    let result = runtime.block_on(app::run(env.clone(), raw, commands, RetryPolicy::default()));
    // The run is over. Dropping the runtime would wait for each idle thread to wind down
    // (3 ms of the 100 MB report's 109, in 30 interleaved runs); the exit ends them at
    // once. A task still alive here would not be dropped (a `kill_on_drop` child not
    // killed) unless a worker got to it first, but the gates join or drop each of theirs,
    // and its process, before they return.
    runtime.shutdown_background();

    if !env.on_actions() {
        if json {
            let map: serde_json::Map<String, serde_json::Value> = result
                .outputs
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            println!("{}", serde_json::Value::Object(map));
        } else {
            print!("{}", render::terminal(&result.summary));
        }
    }
    ExitCode::from(result.exit_code)
}
