//! `rust-version` in each manifest of the workspace is the true floor: the highest of what
//! the crate's own code needs and what every crate it builds with (normal and build
//! dependencies, transitively, as locked) declares. Raise a dependency past it and this
//! fails; the other half, std APIs newer than `rust-version`, is clippy's
//! `incompatible_msrv` (it reads the same field; `-D warnings` in CI).
//!
//! What the code itself needs cannot be proven without the old toolchain, so it is written
//! down here with the feature that sets it.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

use crate::common::repo_root;

/// Per workspace member: the floor set by the language features its own code uses.
const LANGUAGE_FLOORS: &[(&str, &str, &str)] = &[
    (
        "rust-ci-action",
        "1.88",
        "let-chains (`if let ... && let ...`)",
    ),
    ("fake-kube", "1.85", "edition 2024"),
];

type Version = (u64, u64, u64);

fn version(text: &str) -> Version {
    let mut parts = text.split('.').map(|p| {
        p.parse::<u64>()
            .unwrap_or_else(|e| panic!("version {text}: {e}"))
    });
    let mut next = || parts.next().unwrap_or(0);
    (next(), next(), next())
}

fn show((major, minor, patch): Version) -> String {
    format!("{major}.{minor}.{patch}")
}

fn host_triple() -> String {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("rustc -vV");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("host line in rustc -vV")
        .to_owned()
}

fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(repo_root())
        .args(["metadata", "--format-version", "1", "--locked"])
        .args(["--filter-platform", &host_triple()])
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("metadata JSON")
}

/// The highest `rust-version` among the crates `root` is built with (dev-dependencies
/// left out), and which crate declares it.
fn dependency_floor(meta: &Value, root: &str) -> (Version, String) {
    let packages: BTreeMap<&str, &Value> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| (p["id"].as_str().expect("id"), p))
        .collect();
    let nodes: BTreeMap<&str, &Value> = meta["resolve"]["nodes"]
        .as_array()
        .expect("resolve nodes")
        .iter()
        .map(|n| (n["id"].as_str().expect("id"), n))
        .collect();
    let mut seen = BTreeSet::new();
    let mut stack = vec![root];
    let mut floor = ((0, 0, 0), String::from("nothing"));
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        let package = packages[id];
        if id != root
            && let Some(rv) = package["rust_version"].as_str()
            && version(rv) > floor.0
        {
            let name = package["name"].as_str().unwrap_or("?");
            let v = package["version"].as_str().unwrap_or("?");
            floor = (version(rv), format!("{name} {v}"));
        }
        for dep in nodes[id]["deps"].as_array().expect("deps") {
            let built_with = dep["dep_kinds"]
                .as_array()
                .expect("dep_kinds")
                .iter()
                .any(|k| k["kind"].as_str() != Some("dev"));
            if built_with {
                stack.push(dep["pkg"].as_str().expect("pkg"));
            }
        }
    }
    floor
}

#[test]
fn rust_version_is_the_true_floor_of_every_workspace_crate() {
    let meta = metadata();
    let members: Vec<&str> = meta["workspace_members"]
        .as_array()
        .expect("workspace_members")
        .iter()
        .map(|m| m.as_str().expect("member id"))
        .collect();
    let mut checked = BTreeSet::new();
    for package in meta["packages"].as_array().expect("packages") {
        let id = package["id"].as_str().expect("id");
        if !members.contains(&id) {
            continue;
        }
        let name = package["name"].as_str().expect("name");
        let &(_, language, feature) = LANGUAGE_FLOORS
            .iter()
            .find(|(n, _, _)| *n == name)
            .unwrap_or_else(|| panic!("{name}: add its language floor to LANGUAGE_FLOORS"));
        let declared = package["rust_version"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no rust-version in its Cargo.toml"));
        let (deps, because) = dependency_floor(&meta, id);
        let (floor, why) = if version(language) >= deps {
            (version(language), format!("its own code uses {feature}"))
        } else {
            (deps, format!("{because} needs it"))
        };
        assert_eq!(
            version(declared),
            floor,
            "{name}: rust-version is {declared}, but the floor is {} ({why})",
            show(floor)
        );
        checked.insert(name);
    }
    assert_eq!(
        checked,
        LANGUAGE_FLOORS.iter().map(|(n, _, _)| *n).collect(),
        "every workspace member checked"
    );
}
