//! The local command line: `rust-ci-action <gate> --<input-name> value ...`, flags 1:1
//! with the action inputs (built from [`crate::spec`], so they cannot drift).
//! Without a subcommand the binary runs as an action, reading `INPUT_*`.

use clap::{Arg, ArgAction, Command};

use crate::gates::GateKind;
use crate::spec::{COMMON_INPUTS, InputSpec};

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// No subcommand: read `INPUT_*` as an action step.
    Action,
    /// A gate with inputs given as flags.
    Local {
        /// The gate.
        gate: GateKind,
        /// `(input name, value)`; repeated flags of multi-line inputs joined by newlines.
        inputs: Vec<(String, String)>,
        /// `--output json`: print the outputs as one JSON object.
        json: bool,
    },
}

fn input_arg(spec: &InputSpec) -> Arg {
    let mut help = spec.description.to_owned();
    if let Some(d) = spec.default {
        help.push_str(&format!(" [default: {d}]"));
    }
    if spec.secret {
        help.push_str(
            " Prefer the INPUT_ environment variable: flags are visible in process listings.",
        );
    }
    let arg = Arg::new(spec.name)
        .long(spec.name)
        .value_name("VALUE")
        .help(help);
    if spec.multiline {
        arg.action(ArgAction::Append)
    } else {
        arg.action(ArgAction::Set)
    }
}

/// The clap command.
pub fn command() -> Command {
    let mut cmd = Command::new("rust-ci-action")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Coverage, image, rollout and tests gates for GitHub Actions. Without a subcommand, runs as an action step and reads INPUT_* variables.")
        .subcommand_required(false);
    for gate in GateKind::ALL {
        let mut sub = Command::new(gate.name()).about(gate.about());
        for spec in gate
            .inputs()
            .iter()
            .chain(COMMON_INPUTS.iter().filter(|s| s.name != "gate"))
        {
            sub = sub.arg(input_arg(spec));
        }
        sub = sub.arg(
            Arg::new("output")
                .long("output")
                .value_parser(["text", "json"])
                .default_value("text")
                .help("`json` prints the outputs as one JSON object on stdout"),
        );
        cmd = cmd.subcommand(sub);
    }
    cmd
}

/// Parse arguments (clap prints help/version/usage errors and exits 2 on bad usage).
pub fn parse<I, T>(args: I) -> Result<Invocation, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let m = command().try_get_matches_from(args)?;
    let Some((name, sub)) = m.subcommand() else {
        return Ok(Invocation::Action);
    };
    let gate: GateKind = name
        .parse()
        .map_err(|e: String| clap::Error::raw(clap::error::ErrorKind::InvalidSubcommand, e))?;
    let mut inputs = vec![("gate".to_owned(), gate.name().to_owned())];
    for spec in gate.inputs().iter().chain(COMMON_INPUTS.iter()) {
        if let Some(values) = sub.try_get_many::<String>(spec.name).ok().flatten() {
            let joined: Vec<&str> = values.map(String::as_str).collect();
            inputs.push((spec.name.to_owned(), joined.join("\n")));
        }
    }
    let json = sub.get_one::<String>("output").map(String::as_str) == Some("json");
    Ok(Invocation::Local { gate, inputs, json })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_map_to_inputs() {
        let inv = parse([
            "rust-ci-action",
            "coverage",
            "--files",
            "a.xml",
            "--files",
            "b.info",
            "--threshold",
            "80",
            "--output",
            "json",
        ])
        .unwrap();
        assert_eq!(
            inv,
            Invocation::Local {
                gate: GateKind::Coverage,
                inputs: vec![
                    ("gate".into(), "coverage".into()),
                    ("files".into(), "a.xml\nb.info".into()),
                    ("threshold".into(), "80".into()),
                ],
                json: true,
            }
        );
        assert_eq!(parse(["rust-ci-action"]).unwrap(), Invocation::Action);
    }

    #[test]
    fn every_input_is_a_flag_and_unknown_flags_are_refused() {
        command().debug_assert();
        for gate in GateKind::ALL {
            let sub = command().find_subcommand(gate.name()).cloned().unwrap();
            for spec in gate.inputs() {
                assert!(
                    sub.get_arguments().any(|a| a.get_long() == Some(spec.name)),
                    "{}",
                    spec.name
                );
            }
        }
        let err = parse(["rust-ci-action", "coverage", "--thresold", "1"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }
}
