//! The image gate end to end against real parts: a private Docker engine, an htpasswd
//! registry (CNCF distribution) and moto for ECR, Secrets Manager and STS, all started by
//! `scripts/services/docker.sh` and `scripts/services/moto.sh`. A missing service
//! coordinate panics (never a skip). This file holds what the tests share; the tests sit
//! beside it by subject: `push` (what is pushed, tagged and labelled), `credentials` (each
//! way of authenticating, and secrets never leaking), `inputs` (bad inputs and a missing
//! docker), `results` (a build the change breaks against an error), `transcripts`
//! (snapshots of everything a person reads).
//!
//! Each test pushes its own repository, so tests can run in parallel. Every successful push
//! is checked against the registry itself (`HEAD` with the four manifest media types), every
//! run is scanned for secrets in all channels and in `/proc/*/cmdline` while it runs, and the
//! private `DOCKER_CONFIG` must be gone afterwards.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::common::{Harness, Run, repo_root, service_env};

mod buildah;
mod credentials;
mod inputs;
mod push;
mod reruns;
mod results;
mod secrets;
mod transcripts;

const ACCEPT: &str = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";
const SHA: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";

struct Registry {
    host: String,
    user: String,
    password: String,
}

fn registry() -> Registry {
    Registry {
        host: service_env("TEST_REGISTRY"),
        user: service_env("TEST_REGISTRY_USER"),
        password: service_env("TEST_REGISTRY_PASSWORD"),
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// The fixture context: the Dockerfile and a statically linked `hello`, built once.
fn context() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // Keep the folder for the whole test process.
        let dir = tempfile::Builder::new()
            .prefix("image-ctx-")
            .tempdir()
            .expect("temp")
            .keep();
        let src = repo_root().join("tests/fixtures/image");
        std::fs::copy(src.join("Dockerfile"), dir.join("Dockerfile")).expect("copy Dockerfile");
        let out = std::process::Command::new("gcc")
            .args(["-static", "-O2", "-o"])
            .arg(dir.join("hello"))
            .arg(src.join("hello.c"))
            .output()
            .expect("gcc");
        assert!(
            out.status.success(),
            "gcc -static failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
}

/// A context folder with this Dockerfile and nothing else (a build that cannot succeed).
fn broken_context(dockerfile: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("image-broken-")
        .tempdir()
        .expect("temp");
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).expect("Dockerfile");
    dir
}

/// A context whose Dockerfile starts `FROM` a busybox base (made once with `docker import`:
/// nothing can be pulled here) and goes on with `rest`, so `RUN` steps have a shell.
fn busybox_context(rest: &str) -> tempfile::TempDir {
    static BASE: OnceLock<()> = OnceLock::new();
    BASE.get_or_init(|| {
        assert_eq!(
            service_env("TEST_DOCKER_BRIDGE"),
            "1",
            "the engine has no bridge network, so RUN steps cannot start: see scripts/services/docker.sh"
        );
        let root = tempfile::tempdir().expect("temp");
        let bin = root.path().join("bin");
        std::fs::create_dir(&bin).expect("bin");
        std::fs::copy("/bin/busybox", bin.join("busybox")).expect("busybox-static is installed");
        for applet in ["sh", "echo", "false", "true", "cat", "ls", "sha256sum"] {
            std::os::unix::fs::symlink("busybox", bin.join(applet)).expect("applet");
        }
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "tar -C '{}' -c . | docker import --change 'ENV PATH=/bin' - {BUSYBOX}",
                root.path().display()
            ))
            .output()
            .expect("docker import");
        assert!(
            out.status.success(),
            "docker import: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
    broken_context(&format!("FROM {BUSYBOX}\n{rest}"))
}

/// The imported busybox base image.
const BUSYBOX: &str = "rust-ci-test/busybox:base";

/// A harness for the image gate with the runner's variables, a private RUNNER_TEMP and TMPDIR.
fn gate(image: &str) -> Harness {
    let h = Harness::new();
    std::fs::create_dir(h.path("tmp")).expect("tmp");
    std::fs::create_dir(h.path("systmp")).expect("systmp");
    let (tmp, systmp) = (h.path("tmp"), h.path("systmp"));
    // The private directory belongs in RUNNER_TEMP (the runner empties it after each job);
    // the sampler watches only that folder, so seeing it there proves the choice.
    h.env("RUNNER_TEMP", tmp.display().to_string())
        .env("TMPDIR", systmp.display().to_string())
        .env("GITHUB_SHA", SHA)
        .env("GITHUB_REPOSITORY", "octo/hello")
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_REF", "refs/heads/main")
        .env("GITHUB_REF_TYPE", "branch")
        .env("GITHUB_REF_NAME", "main")
        .input("gate", "image")
        .input("image", image)
        .input("context", context().display().to_string())
}

fn with_password(h: Harness, reg: &Registry) -> Harness {
    h.input("registry", &reg.host)
        .input("registry-username", &reg.user)
        .input("registry-password", &reg.password)
}

/// What a sampler saw while the binary ran.
#[derive(Default, Debug)]
struct Seen {
    /// Command lines (of any process) that held a secret.
    leaked_cmdlines: Vec<String>,
    /// Modes of the private directory, its `config/` and `config/config.json`, its
    /// `secrets/` and the first build secret's file.
    modes: BTreeSet<(String, u32)>,
    /// A `docker build`/`docker push` child was caught: proof the sampler was live.
    saw_docker: bool,
}

/// Run the harness while a thread samples `/proc/*/cmdline` for the secrets and records the
/// modes of the gate's private directory under the harness's TMPDIR.
fn run_watched(h: &Harness, secrets: &[String]) -> (Run, Seen) {
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let tmp = h.path("tmp");
    let sampler = {
        let (stop, seen, secrets) = (stop.clone(), seen.clone(), secrets.to_vec());
        std::thread::spawn(move || {
            use std::os::unix::fs::PermissionsExt;
            while !stop.load(Ordering::Relaxed) {
                if let Ok(procs) = std::fs::read_dir("/proc") {
                    for p in procs.flatten() {
                        let Ok(raw) = std::fs::read(p.path().join("cmdline")) else {
                            continue;
                        };
                        let line = String::from_utf8_lossy(&raw).replace('\0', " ");
                        if line.starts_with("docker build ") || line.starts_with("docker push ") {
                            seen.lock().unwrap().saw_docker = true;
                        }
                        if secrets.iter().any(|s| line.contains(s.as_str())) {
                            seen.lock().unwrap().leaked_cmdlines.push(line);
                        }
                    }
                }
                for d in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
                    let name = d.file_name().to_string_lossy().into_owned();
                    if !name.starts_with("rust-ci-image-") {
                        continue;
                    }
                    for (label, path) in [
                        ("dir", d.path()),
                        ("config", d.path().join("config")),
                        ("config.json", d.path().join("config/config.json")),
                        ("secrets", d.path().join("secrets")),
                        ("secret", d.path().join("secrets/0")),
                    ] {
                        if let Ok(m) = std::fs::metadata(&path) {
                            seen.lock()
                                .unwrap()
                                .modes
                                .insert((label.to_owned(), m.permissions().mode() & 0o777));
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let run = h.run();
    stop.store(true, Ordering::Relaxed);
    sampler.join().expect("sampler");
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    (run, seen)
}

/// Every form of a password that must never show up.
fn secret_forms(user: &str, password: &str) -> Vec<String> {
    vec![
        password.to_owned(),
        STANDARD.encode(password),
        STANDARD.encode(format!("{user}:{password}")),
    ]
}

/// No secret in stdout, stderr, outputs or summary (the `::add-mask::` lines that register
/// them with the runner aside).
#[track_caller]
fn assert_no_secrets(run: &Run, secrets: &[String]) {
    let text: String = run
        .all_text()
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n");
    for s in secrets {
        assert!(!text.contains(s.as_str()), "secret {s:?} leaked\n{run}");
    }
}

/// No secret in any channel or on any command line seen while the run went, and the
/// private folder gone.
#[track_caller]
fn assert_nothing_leaked(h: &Harness, run: &Run, seen: &Seen, secrets: &[String]) {
    assert_no_secrets(run, secrets);
    assert!(
        seen.leaked_cmdlines.is_empty(),
        "secret on a command line: {:?}",
        seen.leaked_cmdlines
    );
    assert_private_dir_gone(h);
}

#[track_caller]
fn assert_private_dir_gone(h: &Harness) {
    for dir in ["tmp", "systmp"] {
        let left: Vec<String> = std::fs::read_dir(h.path(dir))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("rust-ci-image-"))
            .collect();
        assert!(
            left.is_empty(),
            "private docker config left behind in {dir}: {left:?}"
        );
    }
}

/// The digest the registry serves for `image:tag`, asked the way docker asks.
fn served_digest(reg: &Registry, image: &str, tag: &str) -> Option<String> {
    rt().block_on(async {
        let r = reqwest::Client::new()
            .head(format!("http://{}/v2/{image}/manifests/{tag}", reg.host))
            .basic_auth(&reg.user, Some(&reg.password))
            .header("Accept", ACCEPT)
            .send()
            .await
            .expect("registry");
        r.status().is_success().then(|| {
            r.headers()["docker-content-digest"]
                .to_str()
                .unwrap()
                .to_owned()
        })
    })
}

/// Tags the registry has for `image` (empty when the repository does not exist).
fn registry_tags(reg: &Registry, image: &str) -> Vec<String> {
    rt().block_on(async {
        let r = reqwest::Client::new()
            .get(format!("http://{}/v2/{image}/tags/list", reg.host))
            .basic_auth(&reg.user, Some(&reg.password))
            .send()
            .await
            .expect("registry");
        if r.status() == reqwest::StatusCode::NOT_FOUND {
            return Vec::new();
        }
        let v: serde_json::Value = r.json().await.expect("tags json");
        let mut tags: Vec<String> = v["tags"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        tags.sort();
        tags
    })
}

fn docker_labels(reference: &str) -> serde_json::Value {
    let out = std::process::Command::new("docker")
        .args([
            "image",
            "inspect",
            "--format",
            "{{json .Config.Labels}}",
            reference,
        ])
        .output()
        .expect("docker inspect");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("labels json")
}

#[track_caller]
fn assert_one_error(run: &Run, needle: &str) {
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "exactly one ::error\n{run}");
    assert!(
        errors[0].contains(needle),
        "the error should say {needle:?}\n{run}"
    );
    assert_eq!(run.output("result"), Some("error"));
}

fn aws_config() -> aws_config::SdkConfig {
    service_env("AWS_ENDPOINT_URL");
    rt().block_on(aws_config::load_defaults(
        aws_config::BehaviorVersion::latest(),
    ))
}

/// Create the secret in moto, or give it this value when an earlier run made it.
fn create_secret(name: &str, value: &str) {
    let conf = aws_config();
    rt().block_on(async {
        let sm = aws_sdk_secretsmanager::Client::new(&conf);
        let created = sm
            .create_secret()
            .name(name)
            .secret_string(value)
            .send()
            .await;
        if created.is_err() {
            sm.put_secret_value()
                .secret_id(name)
                .secret_string(value)
                .send()
                .await
                .expect("create or update the secret in moto");
        }
    });
}
