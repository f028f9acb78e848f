//! `action.yml`, `{coverage,image,rollout,tests}/action.yml` and the README's inputs/outputs
//! tables are generated from the spec tables (`src/spec.rs`, `src/gates/*/mod.rs`), so they
//! cannot drift: `UPDATE_ACTION_FILES=1 cargo test --test integration distribution`
//! rewrites them; without it these tests fail on any difference.

use std::collections::BTreeMap;
use std::path::Path;

use rust_ci_action::gates::GateKind;
use rust_ci_action::runner::inputs::env_key;
use rust_ci_action::spec::{COMMON_INPUTS, COMMON_OUTPUTS, InputSpec, OutputSpec};
use serde_yaml::{Mapping, Value};

use super::{TABLES_END, TABLES_START, action_path};
use crate::common::repo_root;

const GENERATED: &str = "# Generated from the input and output tables in src/spec.rs and src/gates/*/mod.rs.\n\
# Do not edit: change the tables, then run\n\
#   UPDATE_ACTION_FILES=1 cargo test --test integration distribution\n";

/// An input as an action file declares it.
#[derive(Debug, Clone)]
struct ActionInput {
    name: &'static str,
    description: String,
    default: Option<&'static str>,
    required: bool,
}

/// A spec input's description with the binary's default appended. `action.yml` carries
/// only `action_default` as `default:`: the binary applies its own defaults per gate, and
/// several are descriptions (`<context>/Dockerfile`), not values; in the root action a
/// value meant for one gate would also reach the others.
fn describe(spec: &InputSpec) -> String {
    match spec.default {
        Some(d) => format!("{} Default: `{d}`.", spec.description),
        None => spec.description.to_owned(),
    }
}

/// Inputs of the root action: the common ones, then every gate's, with the names two
/// gates share (`context`, `image`, `aws-region`) merged into one input whose description
/// covers each meaning and which has no default.
fn root_inputs() -> Vec<ActionInput> {
    let mut out: Vec<ActionInput> = COMMON_INPUTS
        .iter()
        .map(|s| ActionInput {
            name: s.name,
            description: describe(s),
            default: s.action_default,
            required: s.name == "gate",
        })
        .collect();
    let mut owners: BTreeMap<&str, Vec<(GateKind, &InputSpec)>> = BTreeMap::new();
    let mut order = Vec::new();
    for gate in GateKind::ALL {
        for spec in gate.inputs() {
            if !owners.contains_key(spec.name) {
                order.push(spec.name);
            }
            owners.entry(spec.name).or_default().push((gate, spec));
        }
    }
    for name in order {
        let specs = &owners[name];
        let description = specs
            .iter()
            .map(|(g, s)| format!("`{}` gate: {}", g.name(), describe(s)))
            .collect::<Vec<_>>()
            .join(" ");
        let default = match specs.as_slice() {
            [(_, s)] => s.action_default,
            _ => None,
        };
        out.push(ActionInput {
            name,
            description,
            default,
            required: false,
        });
    }
    out
}

/// Inputs of a per-gate action: the gate's own, then the common ones except `gate`.
fn gate_inputs(gate: GateKind) -> Vec<ActionInput> {
    gate.inputs()
        .iter()
        .chain(COMMON_INPUTS.iter().filter(|s| s.name != "gate"))
        .map(|s| ActionInput {
            name: s.name,
            description: describe(s),
            default: s.action_default,
            required: false,
        })
        .collect()
}

/// Outputs of the root action: every gate's (merged by name), then the common ones.
fn root_outputs() -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    for gate in GateKind::ALL {
        for o in gate.outputs() {
            let text = format!("`{}` gate: {}", gate.name(), o.description);
            match out.iter_mut().find(|(n, _)| *n == o.name) {
                Some((_, d)) => {
                    d.push(' ');
                    d.push_str(&text);
                }
                None => out.push((o.name, text)),
            }
        }
    }
    out.extend(
        COMMON_OUTPUTS
            .iter()
            .map(|o| (o.name, o.description.to_owned())),
    );
    out
}

fn gate_outputs(gate: GateKind) -> Vec<(&'static str, String)> {
    gate.outputs()
        .iter()
        .chain(COMMON_OUTPUTS)
        .map(|o| (o.name, o.description.to_owned()))
        .collect()
}

fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

/// One action file. Composite steps receive no `INPUT_*` variables, so the step maps every
/// input into the variable `@actions/core` would read (`INPUT_` + name upper-cased,
/// hyphens kept), through `env:` only: an input interpolated into `run:` would be script
/// injection (<https://docs.github.com/en/actions/security-for-github-actions/security-guides/security-hardening-for-github-actions#understanding-the-risk-of-script-injections>).
fn render_action(gate: Option<GateKind>) -> String {
    let (name, description, inputs, outputs, launcher) = match gate {
        None => (
            "rust-ci-action".to_owned(),
            "Coverage, image, rollout and tests gates for GitHub Actions, in one binary".to_owned(),
            root_inputs(),
            root_outputs(),
            "$GITHUB_ACTION_PATH/dist/launcher.sh",
        ),
        Some(g) => (
            format!("rust-ci-action {}", g.name()),
            format!("{} (the `{}` gate of rust-ci-action)", g.about(), g.name()),
            gate_inputs(g),
            gate_outputs(g),
            "$GITHUB_ACTION_PATH/../dist/launcher.sh",
        ),
    };
    let mut doc = Mapping::new();
    doc.insert(s("name"), s(&name));
    doc.insert(s("description"), s(&description));
    doc.insert(s("author"), s("rust-ci-action contributors"));
    let mut branding = Mapping::new();
    branding.insert(s("icon"), s("check-circle"));
    branding.insert(s("color"), s("green"));
    doc.insert(s("branding"), Value::Mapping(branding));

    let mut ins = Mapping::new();
    let mut env = Mapping::new();
    if let Some(g) = gate {
        env.insert(s("INPUT_GATE"), s(g.name()));
    }
    for i in &inputs {
        let mut m = Mapping::new();
        m.insert(s("description"), s(&i.description));
        m.insert(s("required"), Value::Bool(i.required));
        if let Some(d) = i.default {
            m.insert(s("default"), s(d));
        }
        ins.insert(s(i.name), Value::Mapping(m));
        env.insert(
            s(&format!("INPUT_{}", env_key(i.name))),
            s(&format!("${{{{ inputs.{} }}}}", i.name)),
        );
    }
    doc.insert(s("inputs"), Value::Mapping(ins));

    let mut outs = Mapping::new();
    for (n, d) in &outputs {
        let mut m = Mapping::new();
        m.insert(s("description"), s(d));
        m.insert(s("value"), s(&format!("${{{{ steps.run.outputs.{n} }}}}")));
        outs.insert(s(n), Value::Mapping(m));
    }
    doc.insert(s("outputs"), Value::Mapping(outs));

    let mut step = Mapping::new();
    step.insert(s("id"), s("run"));
    step.insert(s("name"), s(&name));
    step.insert(s("shell"), s("bash"));
    step.insert(s("env"), Value::Mapping(env));
    step.insert(s("run"), s(&format!("bash \"{launcher}\"")));
    let mut runs = Mapping::new();
    runs.insert(s("using"), s("composite"));
    runs.insert(s("steps"), Value::Sequence(vec![Value::Mapping(step)]));
    doc.insert(s("runs"), Value::Mapping(runs));

    let body = serde_yaml::to_string(&Value::Mapping(doc)).expect("render yaml");
    format!("{GENERATED}{body}")
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn input_table(specs: &[&InputSpec]) -> String {
    let mut t = String::from("| Input | Description | Default |\n| --- | --- | --- |\n");
    for spec in specs {
        let default = spec
            .action_default
            .or(spec.default)
            .map(|d| format!("`{d}`"))
            .unwrap_or_default();
        t.push_str(&format!(
            "| `{}` | {} | {} |\n",
            spec.name,
            cell(spec.description),
            cell(&default)
        ));
    }
    t
}

fn output_table(specs: &[&OutputSpec]) -> String {
    let mut t = String::from("| Output | Description |\n| --- | --- |\n");
    for o in specs {
        t.push_str(&format!("| `{}` | {} |\n", o.name, cell(o.description)));
    }
    t
}

/// The README section between `<!-- tables:start -->` and `<!-- tables:end -->`.
fn render_tables() -> String {
    let mut t = String::from(
        "<!-- Generated from src/spec.rs and src/gates/*/mod.rs: UPDATE_ACTION_FILES=1 cargo test --test integration distribution -->\n\n",
    );
    t.push_str("### Every gate\n\n");
    t.push_str(
        "`gate` is an input of the root action only (`uses: org/rust-ci-action@v1`); the per-gate actions (`org/rust-ci-action/<gate>@v1`) set it. \
         In the root action, `context`, `image` and `aws-region` are one input each, read by whichever gate runs.\n\n",
    );
    t.push_str(&input_table(&COMMON_INPUTS.iter().collect::<Vec<_>>()));
    t.push('\n');
    t.push_str(&output_table(&COMMON_OUTPUTS.iter().collect::<Vec<_>>()));
    for gate in GateKind::ALL {
        t.push_str(&format!(
            "\n### `{0}` gate (`uses: org/rust-ci-action/{0}@v1`)\n\n",
            gate.name()
        ));
        t.push_str(&input_table(&gate.inputs().iter().collect::<Vec<_>>()));
        t.push('\n');
        t.push_str(&output_table(&gate.outputs().iter().collect::<Vec<_>>()));
    }
    t
}

fn updating() -> bool {
    std::env::var_os("UPDATE_ACTION_FILES").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Compare `path` with `expected`, or write it in update mode.
fn check_generated(path: &Path, expected: &str) {
    let current = std::fs::read_to_string(path).unwrap_or_default();
    if current == expected {
        return;
    }
    if updating() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create dir");
        }
        std::fs::write(path, expected).expect("write generated file");
        return;
    }
    let first = current
        .lines()
        .zip(expected.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(0);
    panic!(
        "{} is out of date with the spec tables (first difference at line {}):\n  found:    {:?}\n  expected: {:?}\n\
         run `UPDATE_ACTION_FILES=1 cargo test --test integration distribution` to regenerate it",
        path.display(),
        first + 1,
        current.lines().nth(first).unwrap_or(""),
        expected.lines().nth(first).unwrap_or(""),
    );
}

/// The README with its tables section replaced by `tables`.
fn readme_with_tables(readme: &str, tables: &str) -> String {
    let start = readme
        .find(TABLES_START)
        .expect("README has <!-- tables:start -->")
        + TABLES_START.len();
    let end = readme
        .find(TABLES_END)
        .expect("README has <!-- tables:end -->");
    assert!(start <= end, "README markers out of order");
    format!("{}{}{}", &readme[..start], tables, &readme[end..])
}

#[test]
fn action_files_are_generated_from_the_spec() {
    for gate in std::iter::once(None).chain(GateKind::ALL.map(Some)) {
        check_generated(&action_path(gate), &render_action(gate));
    }
}

#[test]
fn readme_tables_are_generated_from_the_spec() {
    let path = repo_root().join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    check_generated(&path, &readme_with_tables(&readme, &render_tables()));
}
