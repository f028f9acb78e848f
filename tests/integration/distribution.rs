//! Distribution: the action files, the README tables and the binary's inputs agree; the
//! launcher downloads, verifies, caches and runs the binary; the container image runs a
//! gate the way the binary does.
//!
//! `action.yml`, `{coverage,image,rollout}/action.yml` and the README's inputs/outputs
//! tables are generated from the spec tables (`src/spec.rs`, `src/gates/*/mod.rs`), so
//! they cannot drift: `UPDATE_ACTION_FILES=1 cargo test --test integration distribution`
//! rewrites them; without it the tests fail on any difference. The set checks below read
//! the files back with serde_yaml and a table parser, independently of the renderer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use rust_ci_action::gates::GateKind;
use rust_ci_action::runner::inputs::env_key;
use rust_ci_action::runner::outputs::parse_output_file;
use rust_ci_action::spec::{COMMON_INPUTS, COMMON_OUTPUTS, InputSpec, OutputSpec};
use serde_yaml::{Mapping, Value};

use crate::common::{Harness, repo_root};

// ---------------------------------------------------------------------------------------
// Rendering from the spec
// ---------------------------------------------------------------------------------------

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
            "Coverage, image and rollout gates for GitHub Actions, in one binary".to_owned(),
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

// ---------------------------------------------------------------------------------------
// Compare or update
// ---------------------------------------------------------------------------------------

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

fn action_path(gate: Option<GateKind>) -> PathBuf {
    match gate {
        None => repo_root().join("action.yml"),
        Some(g) => repo_root().join(g.name()).join("action.yml"),
    }
}

const TABLES_START: &str = "<!-- tables:start -->\n";
const TABLES_END: &str = "<!-- tables:end -->";

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

// ---------------------------------------------------------------------------------------
// Independent set checks: action files (serde_yaml), README tables, the binary's flags
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// The launcher, end to end against a local release server
// ---------------------------------------------------------------------------------------

/// The Rust target triple the launcher picks on this machine, and the runner's names.
fn host_platform() -> (&'static str, &'static str, &'static str) {
    let os = match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "macOS",
        "windows" => "Windows",
        other => panic!("no launcher target for {other}"),
    };
    let (arch, target) = match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => ("X64", "x86_64-unknown-linux-gnu"),
        ("linux", "aarch64") => ("ARM64", "aarch64-unknown-linux-gnu"),
        ("macos", "x86_64") => ("X64", "x86_64-apple-darwin"),
        ("macos", "aarch64") => ("ARM64", "aarch64-apple-darwin"),
        ("windows", "x86_64") => ("X64", "x86_64-pc-windows-msvc"),
        other => panic!("no launcher target for {other:?}"),
    };
    (os, arch, target)
}

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A release server on 127.0.0.1: serves `files` under `/download/`, logs every request path.
struct ReleaseServer {
    url: String,
    files: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
    log: Arc<Mutex<Vec<String>>>,
    _runtime: tokio::runtime::Runtime,
}

impl ReleaseServer {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let files: Arc<Mutex<BTreeMap<String, Vec<u8>>>> = Arc::default();
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let (f, l) = (files.clone(), log.clone());
        let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
            let (f, l) = (f.clone(), l.clone());
            async move {
                let path = uri.path().to_owned();
                l.lock().expect("log").push(path.clone());
                match f
                    .lock()
                    .expect("files")
                    .get(path.trim_start_matches("/download/"))
                {
                    Some(body) => (axum::http::StatusCode::OK, body.clone()),
                    None => (axum::http::StatusCode::NOT_FOUND, b"not found".to_vec()),
                }
            }
        });
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let url = format!("http://{}/download", listener.local_addr().expect("addr"));
        runtime.spawn(async move { axum::serve(listener, app).await });
        Self {
            url,
            files,
            log,
            _runtime: runtime,
        }
    }

    fn put(&self, name: &str, body: Vec<u8>) {
        self.files
            .lock()
            .expect("files")
            .insert(name.to_owned(), body);
    }

    fn requests(&self) -> Vec<String> {
        self.log.lock().expect("log").clone()
    }
}

fn sha256_hex(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("digest")
        .to_owned()
}

/// A copy of the action as the runner lays it out: `Cargo.toml` (the version) and `dist/`
/// with the real launcher and a checksums file made for `asset_sha`.
fn action_checkout(dir: &Path, asset: &str, asset_sha: Option<&str>) -> PathBuf {
    let root = dir.join("action");
    std::fs::create_dir_all(root.join("dist")).expect("mkdir");
    std::fs::copy(repo_root().join("Cargo.toml"), root.join("Cargo.toml"))
        .expect("copy Cargo.toml");
    std::fs::copy(
        repo_root().join("dist/launcher.sh"),
        root.join("dist/launcher.sh"),
    )
    .expect("copy launcher");
    let mut sums = String::from("# test release\n# base-url: http://127.0.0.1:9/unused\n");
    if let Some(sha) = asset_sha {
        sums.push_str(&format!("{sha}  {asset}\n"));
    }
    std::fs::write(root.join("dist/checksums.txt"), sums).expect("write checksums");
    root
}

/// The finished launcher run.
struct LaunchRun {
    code: i32,
    stdout: String,
    stderr: String,
    outputs: Vec<(String, String)>,
}

impl std::fmt::Display for LaunchRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "--- exit {}\n--- stdout\n{}\n--- stderr\n{}\n--- outputs\n{:?}",
            self.code, self.stdout, self.stderr, self.outputs
        )
    }
}

/// Run `bash dist/launcher.sh` as the composite step would: a clean environment with the
/// runner's variables and the inputs as `INPUT_*`.
fn launch(root: &Path, env: &[(&str, String)], path_var: &str) -> LaunchRun {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("github_output");
    let summary = dir.path().join("summary");
    std::fs::write(&out, "").expect("output file");
    let (os, arch, _) = host_platform();
    let mut cmd = Command::new("bash");
    cmd.arg(root.join("dist/launcher.sh"))
        .env_clear()
        .env("PATH", path_var)
        .env("HOME", dir.path())
        .env("GITHUB_ACTIONS", "true")
        .env("RUNNER_OS", os)
        .env("RUNNER_ARCH", arch)
        .env("GITHUB_OUTPUT", &out)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().expect("run launcher");
    LaunchRun {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        outputs: parse_output_file(&std::fs::read_to_string(&out).unwrap_or_default()),
    }
}

/// A workspace with an LCOV report: 3 of 4 lines covered.
fn coverage_workspace(dir: &Path) -> PathBuf {
    let ws = dir.join("ws");
    std::fs::create_dir_all(ws.join("src")).expect("mkdir");
    std::fs::write(
        ws.join("src/lib.rs"),
        "fn a() {}\nfn b() {}\nfn c() {}\nfn d() {}\n",
    )
    .expect("source");
    std::fs::write(
        ws.join("lcov.info"),
        "TN:\nSF:src/lib.rs\nDA:1,1\nDA:2,1\nDA:3,4\nDA:4,0\nLF:4\nLH:3\nend_of_record\n",
    )
    .expect("report");
    ws
}

fn coverage_inputs(ws: &Path, threshold: &str) -> Vec<(&'static str, String)> {
    vec![
        ("GITHUB_WORKSPACE", ws.display().to_string()),
        ("INPUT_GATE", "coverage".into()),
        ("INPUT_FILES", "lcov.info".into()),
        ("INPUT_THRESHOLD", threshold.into()),
    ]
}

/// The same gate run directly through the harness, for comparison.
fn direct_coverage_run(ws: &Path, threshold: &str) -> crate::common::Run {
    let mut h = Harness::new()
        .cwd(ws)
        .env("GITHUB_WORKSPACE", ws.display().to_string());
    h = h
        .input("gate", "coverage")
        .input("files", "lcov.info")
        .input("threshold", threshold);
    h.run()
}

fn system_path() -> String {
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned()
}

#[test]
fn launcher_downloads_verifies_caches_and_runs_the_release_asset() {
    let (_, arch, target) = host_platform();
    let dir = tempfile::tempdir().expect("tempdir");
    let asset = format!("rust-ci-action-v{VERSION}-{target}");
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_rust-ci-action"));
    let server = ReleaseServer::start();
    server.put(
        &format!("v{VERSION}/{asset}"),
        std::fs::read(&binary).expect("read binary"),
    );
    let root = action_checkout(dir.path(), &asset, Some(&sha256_hex(&binary)));
    let ws = coverage_workspace(dir.path());
    let cache = dir.path().join("toolcache");
    let mut env = coverage_inputs(&ws, "70");
    env.push(("RUNNER_TOOL_CACHE", cache.display().to_string()));
    env.push(("RUST_CI_ACTION_DOWNLOAD_URL", server.url.clone()));

    // First run: one download, verified, cached, the gate runs and passes.
    let first = launch(&root, &env, &system_path());
    let direct = direct_coverage_run(&ws, "70");
    assert_eq!(first.code, 0, "{first}");
    assert_eq!(first.code, direct.code, "{first}\n{direct}");
    assert_eq!(
        first.outputs, direct.outputs,
        "launcher and binary outputs differ"
    );
    assert!(
        first
            .outputs
            .contains(&("line-coverage".into(), "75.00".into())),
        "{first}"
    );
    assert!(first.stderr.contains("verified sha256"), "{first}");
    let asset_path = format!("/download/v{VERSION}/{asset}");
    assert_eq!(server.requests(), vec![asset_path.clone()]);
    let cached = cache
        .join("rust-ci-action")
        .join(VERSION)
        .join(arch.to_lowercase())
        .join("rust-ci-action");
    assert_eq!(sha256_hex(&cached), sha256_hex(&binary));
    assert!(
        cache
            .join("rust-ci-action")
            .join(VERSION)
            .join(format!("{}.complete", arch.to_lowercase()))
            .is_file()
    );

    // Second run, with a threshold that fails: served from the cache (no request), and the
    // binary's exit code 1 comes through unchanged.
    let env_fail: Vec<_> = env
        .iter()
        .map(|(k, v)| {
            if *k == "INPUT_THRESHOLD" {
                (*k, "80".to_owned())
            } else {
                (*k, v.clone())
            }
        })
        .collect();
    let second = launch(&root, &env_fail, &system_path());
    let direct_fail = direct_coverage_run(&ws, "80");
    assert_eq!(second.code, 1, "{second}");
    assert_eq!(second.outputs, direct_fail.outputs);
    assert!(second.outputs.contains(&("result".into(), "fail".into())));
    assert!(!second.stderr.contains("downloading"), "{second}");
    assert_eq!(
        server.requests(),
        vec![asset_path],
        "the second run must not download"
    );
}

#[test]
fn launcher_refuses_a_tampered_asset() {
    let (_, arch, target) = host_platform();
    let dir = tempfile::tempdir().expect("tempdir");
    let asset = format!("rust-ci-action-v{VERSION}-{target}");
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_rust-ci-action"));
    let mut tampered = std::fs::read(&binary).expect("read binary");
    let last = tampered.len() - 1;
    tampered[last] ^= 0xff;
    let server = ReleaseServer::start();
    server.put(&format!("v{VERSION}/{asset}"), tampered);
    let root = action_checkout(dir.path(), &asset, Some(&sha256_hex(&binary)));
    let ws = coverage_workspace(dir.path());
    let cache = dir.path().join("toolcache");
    let mut env = coverage_inputs(&ws, "70");
    env.push(("RUNNER_TOOL_CACHE", cache.display().to_string()));
    env.push(("RUST_CI_ACTION_DOWNLOAD_URL", server.url.clone()));

    let run = launch(&root, &env, &system_path());
    assert_eq!(run.code, 2, "{run}");
    let errors: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error"))
        .collect();
    assert_eq!(errors.len(), 1, "{run}");
    assert!(
        errors[0].starts_with("::error title=rust-ci-action launcher::checksum mismatch for "),
        "{run}"
    );
    assert!(
        errors[0].contains(&sha256_hex(&binary)) && errors[0].contains("refusing to run it"),
        "{run}"
    );
    assert_eq!(run.outputs, vec![("result".to_owned(), "error".to_owned())]);
    let version_dir = cache.join("rust-ci-action").join(VERSION);
    assert!(
        !version_dir
            .join(format!("{}.complete", arch.to_lowercase()))
            .exists(),
        "a refused asset must not be cached"
    );
    assert!(
        !version_dir
            .join(arch.to_lowercase())
            .join("rust-ci-action")
            .exists()
    );
    let leftovers: Vec<_> = std::fs::read_dir(version_dir.join(arch.to_lowercase()))
        .expect("dir")
        .collect();
    assert!(
        leftovers.is_empty(),
        "temp download left behind: {leftovers:?}"
    );
}

#[test]
fn launcher_prefers_a_binary_in_dist_and_reports_missing_builds() {
    let (_, _, target) = host_platform();
    let dir = tempfile::tempdir().expect("tempdir");
    let asset = format!("rust-ci-action-v{VERSION}-{target}");
    let server = ReleaseServer::start();
    let ws = coverage_workspace(dir.path());
    let mut env = coverage_inputs(&ws, "70");
    env.push((
        "RUNNER_TOOL_CACHE",
        dir.path().join("toolcache").display().to_string(),
    ));
    env.push(("RUST_CI_ACTION_DOWNLOAD_URL", server.url.clone()));

    // No asset listed for this platform and no cargo on PATH: one clear error.
    let root = action_checkout(dir.path(), &asset, None);
    let run = launch(&root, &env, &system_path());
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stdout
            .contains(&format!("no prebuilt binary for {target} at v{VERSION}"))
            && run.stdout.contains("cargo is not installed"),
        "{run}"
    );

    // A binary in dist/bin is used as is: no download, no cache.
    let bin_dir = root.join("dist/bin");
    std::fs::create_dir_all(&bin_dir).expect("mkdir");
    std::fs::copy(
        env!("CARGO_BIN_EXE_rust-ci-action"),
        bin_dir.join(format!("rust-ci-action-{target}")),
    )
    .expect("copy");
    let run = launch(&root, &env, &system_path());
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.outputs.contains(&("result".into(), "pass".into())),
        "{run}"
    );
    assert!(server.requests().is_empty());
    assert!(!dir.path().join("toolcache").exists());
}

/// Without a prebuilt binary for the platform, the launcher builds the action's own source
/// with `cargo install --locked --path` into dist/bin and runs that; the next run uses it.
/// `cargo` here is a stand-in on PATH that logs its arguments and installs the test binary
/// (a real build of this crate takes minutes; the real cargo's flags are its own concern).
#[test]
fn launcher_builds_from_source_when_no_asset_is_listed() {
    let (_, _, target) = host_platform();
    let dir = tempfile::tempdir().expect("tempdir");
    let root = action_checkout(dir.path(), "none", None);
    let tools = dir.path().join("tools");
    std::fs::create_dir_all(&tools).expect("mkdir");
    let log = dir.path().join("cargo.log");
    let fake = format!(
        "#!/usr/bin/env bash\nprintf '%s\\n' \"$*\" >> '{log}'\n\
         while [ $# -gt 0 ]; do [ \"$1\" = --root ] && root=$2; shift; done\n\
         mkdir -p \"$root/bin\" && cp '{bin}' \"$root/bin/rust-ci-action\"\n",
        log = log.display(),
        bin = env!("CARGO_BIN_EXE_rust-ci-action"),
    );
    std::fs::write(tools.join("cargo"), fake).expect("fake cargo");
    assert!(
        Command::new("chmod")
            .arg("+x")
            .arg(tools.join("cargo"))
            .status()
            .expect("chmod")
            .success()
    );
    let ws = coverage_workspace(dir.path());
    let mut env = coverage_inputs(&ws, "70");
    env.push((
        "RUNNER_TOOL_CACHE",
        dir.path().join("toolcache").display().to_string(),
    ));
    let path = format!("{}:{}", tools.display(), system_path());

    for _ in 0..2 {
        let run = launch(&root, &env, &path);
        assert_eq!(run.code, 0, "{run}");
        assert!(
            run.outputs.contains(&("result".into(), "pass".into())),
            "{run}"
        );
    }
    let calls = std::fs::read_to_string(&log).expect("cargo was called");
    let dist = root.join("dist");
    assert_eq!(
        calls.lines().collect::<Vec<_>>(),
        vec![format!(
            "install --locked --quiet --path {}/.. --root {}/bin/.cargo-install.{} --bin rust-ci-action",
            dist.display(),
            dist.display(),
            calls
                .split(".cargo-install.")
                .nth(1)
                .and_then(|r| r.split(' ').next())
                .unwrap_or("?"),
        )],
        "one build, then the built binary is reused"
    );
    assert!(dist.join(format!("bin/rust-ci-action-{target}")).is_file());
    let leftovers: Vec<_> = std::fs::read_dir(dist.join("bin"))
        .expect("dist/bin")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "temporary install root left behind: {leftovers:?}"
    );
}

#[test]
fn launcher_maps_runner_platforms_to_release_targets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = action_checkout(dir.path(), "none", None);
    for (os, arch, target) in [
        ("Linux", "X64", Some("x86_64-unknown-linux-gnu")),
        ("Linux", "ARM64", Some("aarch64-unknown-linux-gnu")),
        ("macOS", "X64", Some("x86_64-apple-darwin")),
        ("macOS", "ARM64", Some("aarch64-apple-darwin")),
        ("Windows", "X64", Some("x86_64-pc-windows-msvc")),
        ("Linux", "ARM", None),
        ("FreeBSD", "X64", None),
    ] {
        let mut cmd = Command::new("bash");
        cmd.arg(root.join("dist/launcher.sh"))
            .env_clear()
            .env("PATH", system_path())
            .env("HOME", dir.path())
            .env("RUNNER_OS", os)
            .env("RUNNER_ARCH", arch)
            .env("RUNNER_TOOL_CACHE", dir.path().join("cache"));
        let out = cmd.output().expect("launcher");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{os}/{arch}: {stdout}");
        match target {
            Some(t) => assert!(
                stdout.contains(&format!("no prebuilt binary for {t} at")),
                "{os}/{arch}: {stdout}"
            ),
            None => assert!(
                stdout.contains("unsupported runner"),
                "{os}/{arch}: {stdout}"
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------
// The container image (needs the Docker engine from scripts/services/docker.sh)
// ---------------------------------------------------------------------------------------

#[cfg(feature = "services")]
mod container {
    use super::*;
    use crate::common::service_env;

    const STATIC_TARGET: &str = "x86_64-unknown-linux-gnu";
    const TAG: &str = "rust-ci-action:distribution-test";

    fn docker() -> Command {
        let mut c = Command::new(std::env::var("DOCKER").unwrap_or_else(|_| "docker".into()));
        c.env("DOCKER_BUILDKIT", "0");
        c
    }

    fn must(cmd: &mut Command, what: &str) -> String {
        let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            out.status.success(),
            "{what} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Build the statically linked release binary (incremental: a no-op when fresh), lay
    /// out docker/rootfs and build ./Dockerfile with it.
    fn build_image() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        must(
            Command::new(cargo)
                .current_dir(repo_root())
                .args([
                    "build",
                    "--release",
                    "--locked",
                    "--bin",
                    "rust-ci-action",
                    "--target",
                    STATIC_TARGET,
                ])
                .env("RUSTFLAGS", "-C target-feature=+crt-static"),
            "static release build",
        );
        let target_dir = std::env::var("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| repo_root().join("target"));
        let bin = target_dir
            .join(STATIC_TARGET)
            .join("release/rust-ci-action");
        must(
            Command::new(repo_root().join("docker/prepare-context.sh")).arg(&bin),
            "docker/prepare-context.sh",
        );
        must(
            docker()
                .current_dir(repo_root())
                .args(["build", "--quiet", "-t", TAG, "."]),
            "docker build",
        );
    }

    #[test]
    fn container_image_runs_the_coverage_gate_like_the_binary() {
        let host = service_env("DOCKER_HOST");
        build_image();
        let dir = tempfile::tempdir().expect("tempdir");
        let ws = coverage_workspace(dir.path());
        let files = dir.path().join("file_commands");
        std::fs::create_dir_all(&files).expect("mkdir");
        for threshold in ["70", "80"] {
            std::fs::write(files.join("output"), "").expect("output");
            std::fs::write(files.join("summary"), "").expect("summary");
            // As the runner starts a container action: workspace and file-command folders
            // mounted, inputs as INPUT_*, the socket mounted (here: unused by coverage).
            let out = docker()
                .args(["run", "--rm", "--network", "none"])
                .args(["-v", &format!("{}:/github/workspace", ws.display())])
                .args(["-v", &format!("{}:/github/file_commands", files.display())])
                .args(["-w", "/github/workspace"])
                .args([
                    "-e",
                    "GITHUB_ACTIONS=true",
                    "-e",
                    "GITHUB_WORKSPACE=/github/workspace",
                ])
                .args([
                    "-e",
                    "GITHUB_OUTPUT=/github/file_commands/output",
                    "-e",
                    "GITHUB_STEP_SUMMARY=/github/file_commands/summary",
                ])
                .args([
                    "-e",
                    "INPUT_GATE=coverage",
                    "-e",
                    "INPUT_FILES=lcov.info",
                    "-e",
                    &format!("INPUT_THRESHOLD={threshold}"),
                ])
                .arg(TAG)
                .output()
                .expect("docker run");
            let outputs =
                parse_output_file(&std::fs::read_to_string(files.join("output")).expect("outputs"));
            let direct = direct_coverage_run(&ws, threshold);
            assert_eq!(
                out.status.code(),
                Some(direct.code),
                "threshold {threshold}: {}\n{direct}",
                String::from_utf8_lossy(&out.stdout)
            );
            assert_eq!(
                outputs, direct.outputs,
                "threshold {threshold}: container and binary outputs differ"
            );
            assert!(outputs.iter().any(|(k, _)| k == "line-coverage"));
            let summary = std::fs::read_to_string(files.join("summary")).expect("summary");
            assert_eq!(
                summary, direct.summary,
                "threshold {threshold}: job summaries differ"
            );
        }
        // The image gate's claim: the bundled Docker CLI reaches the engine through the
        // socket the runner mounts at /var/run/docker.sock.
        let socket = host
            .strip_prefix("unix://")
            .unwrap_or_else(|| panic!("DOCKER_HOST={host} is not a unix socket"));
        let version = must(
            docker()
                .args([
                    "run",
                    "--rm",
                    "--network",
                    "none",
                    "-v",
                    &format!("{socket}:/var/run/docker.sock"),
                ])
                .args([
                    "--entrypoint",
                    "/usr/local/bin/docker",
                    TAG,
                    "version",
                    "--format",
                    "{{.Server.Version}}",
                ]),
            "docker CLI inside the image",
        );
        assert!(!version.trim().is_empty());
        let v = must(
            docker().args(["run", "--rm", "--network", "none", TAG, "--version"]),
            "--version",
        );
        assert_eq!(v.trim(), format!("rust-ci-action {VERSION}"));
    }
}
