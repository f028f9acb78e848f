//! Independent set checks, without the renderer: the action files read back with
//! serde_yaml, the README tables with a table parser and the built binary's `--help` all
//! name exactly the inputs and outputs the binary declares.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use rust_ci_action::gates::GateKind;
use rust_ci_action::runner::inputs::env_key;
use rust_ci_action::spec::{COMMON_INPUTS, COMMON_OUTPUTS};
use serde_yaml::Value;

use super::{TABLES_END, TABLES_START, action_path};
use crate::common::repo_root;

fn names<'a>(it: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    it.into_iter().map(str::to_owned).collect()
}

/// Inputs the binary declares for a gate, common ones included (`gate` excluded).
fn spec_inputs(gate: GateKind) -> BTreeSet<String> {
    names(
        gate.inputs()
            .iter()
            .chain(COMMON_INPUTS)
            .map(|s| s.name)
            .filter(|n| *n != "gate"),
    )
}

fn spec_outputs(gate: GateKind) -> BTreeSet<String> {
    names(gate.outputs().iter().chain(COMMON_OUTPUTS).map(|o| o.name))
}

fn load_action(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn keys(v: &Value, field: &str) -> BTreeSet<String> {
    v[field]
        .as_mapping()
        .unwrap_or_else(|| panic!("no `{field}` mapping"))
        .keys()
        .map(|k| k.as_str().expect("string key").to_owned())
        .collect()
}

/// Check one action file: its inputs and outputs are `inputs`/`outputs`, every input is
/// mapped into `INPUT_<NAME>` by `env:` (and nothing else is), every output comes from the
/// step, no `${{` reaches `run:`.
fn check_action(
    path: &Path,
    gate: Option<GateKind>,
    inputs: &BTreeSet<String>,
    outputs: &BTreeSet<String>,
) {
    let doc = load_action(path);
    let shown = path.display();
    assert_eq!(&keys(&doc, "inputs"), inputs, "{shown}: inputs");
    assert_eq!(&keys(&doc, "outputs"), outputs, "{shown}: outputs");
    assert_eq!(doc["runs"]["using"].as_str(), Some("composite"), "{shown}");
    let steps = doc["runs"]["steps"].as_sequence().expect("steps");
    let step = steps
        .iter()
        .find(|s| s["id"].as_str() == Some("run"))
        .expect("a step with id `run`");
    let env: BTreeMap<String, String> = step["env"]
        .as_mapping()
        .expect("env")
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().expect("key").to_owned(),
                v.as_str().expect("value").to_owned(),
            )
        })
        .collect();
    let mut expected_env: BTreeMap<String, String> = inputs
        .iter()
        .map(|n| {
            (
                format!("INPUT_{}", env_key(n)),
                format!("${{{{ inputs.{n} }}}}"),
            )
        })
        .collect();
    if let Some(g) = gate {
        expected_env.insert("INPUT_GATE".into(), g.name().into());
    }
    assert_eq!(
        env, expected_env,
        "{shown}: env must map every input, and only inputs"
    );
    for (name, o) in doc["outputs"].as_mapping().expect("outputs") {
        let name = name.as_str().expect("name");
        assert_eq!(
            o["value"].as_str(),
            Some(format!("${{{{ steps.run.outputs.{name} }}}}").as_str()),
            "{shown}: output {name}"
        );
        assert!(
            o["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{shown}: output {name} has no description"
        );
    }
    for (name, i) in doc["inputs"].as_mapping().expect("inputs") {
        assert!(
            i["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{shown}: input {name:?} has no description"
        );
    }
    for st in steps {
        if let Some(run) = st["run"].as_str() {
            assert!(!run.contains("${{"), "{shown}: expression in run: {run}");
        }
    }
}

#[test]
fn action_files_declare_exactly_the_binary_inputs_and_outputs() {
    let mut all_in = names(["gate"]);
    let mut all_out = BTreeSet::new();
    for gate in GateKind::ALL {
        check_action(
            &action_path(Some(gate)),
            Some(gate),
            &spec_inputs(gate),
            &spec_outputs(gate),
        );
        all_in.extend(spec_inputs(gate));
        all_out.extend(spec_outputs(gate));
    }
    check_action(&action_path(None), None, &all_in, &all_out);

    // The names two gates share become one root input without a default.
    let root = load_action(&action_path(None));
    for shared in ["context", "image", "aws-region"] {
        let i = &root["inputs"][shared];
        assert!(
            i["default"].is_null(),
            "root input {shared} must have no default"
        );
        let d = i["description"].as_str().unwrap_or_default();
        assert!(
            d.contains("`image` gate") && d.contains("`rollout` gate"),
            "root input {shared}: {d}"
        );
    }
    assert_eq!(
        root["inputs"]["github-token"]["default"].as_str(),
        Some("${{ github.token }}")
    );
    assert_eq!(root["inputs"]["gate"]["required"].as_bool(), Some(true));
}

/// `(section heading, "Input"/"Output") -> names` from the README tables section.
fn readme_tables() -> BTreeMap<(String, String), BTreeSet<String>> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let start = readme.find(TABLES_START).expect("tables:start");
    let end = readme.find(TABLES_END).expect("tables:end");
    let mut out: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let (mut heading, mut kind) = (String::new(), String::new());
    for line in readme[start..end].lines() {
        if let Some(h) = line.strip_prefix("### ") {
            heading = h.to_owned();
        } else if let Some(row) = line.strip_prefix("| ") {
            let first = row.split(" | ").next().unwrap_or_default().trim();
            if first == "Input" || first == "Output" {
                kind = first.to_owned();
            } else if first != "---" {
                let name = first.trim_matches('`').to_owned();
                out.entry((heading.clone(), kind.clone()))
                    .or_default()
                    .insert(name);
            }
        }
    }
    out
}

#[test]
fn readme_tables_list_exactly_the_binary_inputs_and_outputs() {
    let tables = readme_tables();
    let get = |h: &str, k: &str| {
        tables
            .get(&(h.to_owned(), k.to_owned()))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(
        get("Every gate", "Input"),
        names(COMMON_INPUTS.iter().map(|s| s.name))
    );
    assert_eq!(
        get("Every gate", "Output"),
        names(COMMON_OUTPUTS.iter().map(|o| o.name))
    );
    for gate in GateKind::ALL {
        let h = format!(
            "`{0}` gate (`uses: org/rust-ci-action/{0}@v1`)",
            gate.name()
        );
        assert_eq!(
            get(&h, "Input"),
            names(gate.inputs().iter().map(|s| s.name)),
            "{h}"
        );
        assert_eq!(
            get(&h, "Output"),
            names(gate.outputs().iter().map(|o| o.name)),
            "{h}"
        );
    }
    assert_eq!(
        tables.len(),
        2 + 2 * GateKind::ALL.len(),
        "unexpected tables: {:?}",
        tables.keys()
    );
}

/// The built binary's own view: the `--flags` its `<gate> --help` lists are the per-gate
/// action's inputs (plus `--output`, `--help`).
#[test]
fn binary_flags_are_the_action_inputs() {
    for gate in GateKind::ALL {
        let out = Command::new(env!("CARGO_BIN_EXE_rust-ci-action"))
            .args([gate.name(), "--help"])
            .output()
            .expect("run --help");
        assert!(out.status.success(), "{} --help failed", gate.name());
        let help = String::from_utf8_lossy(&out.stdout);
        let flags: BTreeSet<String> = help
            .split_whitespace()
            .filter_map(|w| w.strip_prefix("--"))
            .map(|w| w.trim_end_matches([',', '.']).to_owned())
            .filter(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
            .filter(|w| w != "help" && w != "output")
            .collect();
        let action = load_action(&action_path(Some(gate)));
        assert_eq!(
            flags,
            keys(&action, "inputs"),
            "{} --help vs {}/action.yml",
            gate.name(),
            gate.name()
        );
    }
}
