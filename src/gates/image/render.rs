//! What people read from the image gate, as markdown and outputs: the title, the summary
//! table (image, digest, size, durations, auth), the tag list, and the step outputs; for a
//! build the change broke, docker's last lines. Pure: values in, an [`Outcome`] out.
//! Docker's words reach markdown only through [`crate::untrusted`].

use std::time::Duration;

use super::auth::AuthUsed;
use super::host::Registry;
use crate::oci::{Digest, Reference};
use crate::outcome::{Annotation, Level, Outcome, Verdict};
use crate::untrusted;

/// What the outcome is made of.
pub(super) struct Report<'a> {
    /// The repository pushed to.
    pub target: &'a Reference,
    /// The registry, as the `registry` output names it.
    pub registry: &'a Registry,
    /// Full references tagged.
    pub refs: &'a [String],
    /// The verified digest, when pushed.
    pub digest: Option<&'a Digest>,
    /// The local image id.
    pub image_id: Option<&'a Digest>,
    /// Compressed size and platform count, when the registry told.
    pub size: Option<(u64, usize)>,
    /// Which builder built.
    pub builder: &'a str,
    /// How long the build took.
    pub build_time: Duration,
    /// How long pushing took (`None`: during the build, or not pushed).
    pub push_time: Option<Duration>,
    /// How the gate authenticated.
    pub auth: &'a AuthUsed,
}

/// The outcome: title, summary table, tag list, outputs.
pub(super) fn outcome(r: &Report<'_>) -> Outcome {
    let repo = r.target.name();
    let image_ref = r
        .digest
        .map(|d| r.target.clone().with_digest(d.clone()).to_string())
        .unwrap_or_default();
    let title = match r.digest {
        Some(d) => format!(
            "Pushed {repo}@{} ({} tag{})",
            d.short(),
            r.refs.len(),
            if r.refs.len() == 1 { "" } else { "s" }
        ),
        None => format!("Built {repo} (not pushed)"),
    };
    let mut summary = String::from("| | |\n|---|---|\n");
    summary.push_str(&format!("| Image | `{repo}` |\n"));
    summary.push_str(&format!(
        "| Digest | {} |\n",
        r.digest
            .map_or("not pushed".to_owned(), |d| format!("`{d}`"))
    ));
    if let Some((bytes, platforms)) = r.size {
        let plat = if platforms > 1 {
            format!(" over {platforms} platforms")
        } else {
            String::new()
        };
        summary.push_str(&format!(
            "| Size | {} (compressed{plat}) |\n",
            human_size(bytes)
        ));
    }
    summary.push_str(&format!(
        "| Build | {} ({}) |\n",
        seconds(r.build_time),
        r.builder
    ));
    match r.push_time {
        Some(t) => summary.push_str(&format!("| Push | {} |\n", seconds(t))),
        None if r.digest.is_some() => summary.push_str("| Push | during the build |\n"),
        None => {}
    }
    summary.push_str(&format!("| Auth | {} |\n", r.auth));
    if let Some(id) = r.image_id {
        summary.push_str(&format!("| Image id | `{id}` |\n"));
    }
    let mut text = String::from("| Tag | Verified digest |\n|---|---|\n");
    for reference in r.refs {
        let d = r
            .digest
            .map_or("not pushed".to_owned(), |d| format!("`{d}`"));
        text.push_str(&format!("| `{reference}` | {d} |\n"));
    }
    Outcome {
        verdict: Verdict::Pass,
        title,
        summary,
        text,
        record: None,
        long_text: None,
        annotations: Vec::new(),
        outputs: vec![
            (
                "digest".into(),
                r.digest.map(ToString::to_string).unwrap_or_default(),
            ),
            ("image-ref".into(), image_ref),
            ("tags".into(), r.refs.join("\n")),
            ("registry".into(), r.registry.to_string()),
            (
                "image-id".into(),
                r.image_id.map(ToString::to_string).unwrap_or_default(),
            ),
        ],
    }
}

/// A build the change broke.
pub(super) struct Failed<'a> {
    /// The repository it was for.
    pub target: &'a Reference,
    /// The registry, as the `registry` output names it.
    pub registry: &'a Registry,
    /// Which builder ran.
    pub builder: &'a str,
    /// How long it ran.
    pub build_time: Duration,
    /// Its exit status.
    pub status: &'a str,
    /// Docker's last error line (untrusted).
    pub reason: &'a str,
    /// Docker's last lines (untrusted).
    pub tail: &'a str,
    /// How the gate authenticated.
    pub auth: &'a AuthUsed,
}

/// The outcome of a build the change broke: the gate fails, nothing was pushed.
pub(super) fn failed(f: &Failed<'_>) -> Outcome {
    let repo = f.target.name();
    let mut summary = String::from("| | |\n|---|---|\n");
    summary.push_str(&format!("| Image | `{repo}` |\n"));
    summary.push_str(&format!(
        "| Build | failed after {} ({}, {}) |\n",
        seconds(f.build_time),
        f.builder,
        f.status
    ));
    summary.push_str(&format!("| Auth | {} |\n\n", f.auth));
    summary.push_str(
        "The Dockerfile or the build context does not build; nothing was pushed. Docker's last lines:\n\n",
    );
    summary.push_str(&untrusted::md_block(f.tail));
    Outcome {
        verdict: Verdict::Fail,
        title: format!("{repo} does not build"),
        summary,
        text: String::new(),
        record: None,
        long_text: None,
        annotations: vec![Annotation::general(
            Level::Failure,
            "docker build failed",
            f.reason,
        )],
        outputs: vec![
            ("digest".into(), String::new()),
            ("image-ref".into(), String::new()),
            ("tags".into(), String::new()),
            ("registry".into(), f.registry.to_string()),
            ("image-id".into(), String::new()),
        ],
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gates::image::config::ImageConfig;
    use crate::runner::inputs::RawInputs;

    #[test]
    fn outcome_reports_without_secrets() {
        let raw = RawInputs::from_named([
            ("image", "team/api"),
            ("registry", "127.0.0.1:5000"),
            ("registry-username", "ci"),
            ("registry-password", "hunter2"),
        ]);
        let cfg = ImageConfig::try_from(&raw).unwrap();
        let registry = cfg.registry.clone().unwrap();
        let target = super::super::plan::target(&registry, &cfg.image);
        let d = Digest::of(b"manifest");
        let id = Digest::of(b"config");
        let refs = vec![
            "127.0.0.1:5000/team/api:v1".to_owned(),
            "127.0.0.1:5000/team/api:latest".to_owned(),
        ];
        let used = AuthUsed::Password {
            username: "ci".into(),
        };
        let o = outcome(&Report {
            target: &target,
            registry: &registry,
            refs: &refs,
            digest: Some(&d),
            image_id: Some(&id),
            size: Some((1_572_864, 1)),
            builder: "docker build",
            build_time: Duration::from_millis(1234),
            push_time: Some(Duration::from_millis(250)),
            auth: &used,
        });
        assert_eq!(o.verdict, Verdict::Pass);
        assert_eq!(o.outputs[0], ("digest".to_owned(), d.to_string()));
        assert_eq!(o.outputs[1].1, format!("127.0.0.1:5000/team/api@{d}"));
        // What the rollout gate's `image` input reads back.
        let image_ref = crate::oci::Reference::parse(&o.outputs[1].1).unwrap();
        assert_eq!(image_ref, target.clone().with_digest(d.clone()));
        assert_eq!(
            o.outputs[2].1,
            "127.0.0.1:5000/team/api:v1\n127.0.0.1:5000/team/api:latest"
        );
        let all = format!("{}{}{}{:?}", o.title, o.summary, o.text, o.outputs);
        assert!(!all.contains("hunter2"));
        let redacted = o
            .summary
            .replace(d.as_str(), "<digest>")
            .replace(id.as_str(), "<id>");
        insta::assert_snapshot!(redacted, @r"
        | | |
        |---|---|
        | Image | `127.0.0.1:5000/team/api` |
        | Digest | `<digest>` |
        | Size | 1.5 MiB (compressed) |
        | Build | 1.2 s (docker build) |
        | Push | 0.2 s |
        | Auth | `registry-username`/`registry-password` (user `ci`) |
        | Image id | `<id>` |
        ");
        let not_pushed = outcome(&Report {
            digest: None,
            size: None,
            push_time: None,
            ..Report {
                target: &target,
                registry: &registry,
                refs: &refs,
                digest: None,
                image_id: Some(&id),
                size: None,
                builder: "docker build",
                build_time: Duration::ZERO,
                push_time: None,
                auth: &used,
            }
        });
        assert_eq!(
            not_pushed.title,
            "Built 127.0.0.1:5000/team/api (not pushed)"
        );
        assert_eq!(not_pushed.outputs[0].1, "");
        assert_eq!(not_pushed.outputs[1].1, "");
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(2048), "2.0 KiB");
        assert_eq!(human_size(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }

    #[test]
    fn a_broken_build_fails_with_dockers_words_fenced() {
        let registry = Registry::parse("127.0.0.1:5000").unwrap();
        let repo = crate::oci::Repository::parse("team/api").unwrap();
        let target = super::super::plan::target(&registry, &repo);
        let tail = "#5 0.3 ```\n#5 0.3 <img src=x> @octocat #1\nexecutor failed running [/bin/sh -c x]: exit code: 3";
        let o = failed(&Failed {
            target: &target,
            registry: &registry,
            builder: "docker build",
            build_time: Duration::from_millis(1500),
            status: "exit status: 1",
            reason: "executor failed running [/bin/sh -c x]: exit code: 3",
            tail,
            auth: &AuthUsed::Anonymous,
        });
        assert_eq!(o.verdict, Verdict::Fail);
        assert_eq!(o.title, "127.0.0.1:5000/team/api does not build");
        assert_eq!(o.annotations.len(), 1);
        assert_eq!(
            o.outputs
                .iter()
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>(),
            ["", "", "", "127.0.0.1:5000", ""]
        );
        insta::assert_snapshot!(o.summary, @r"
        | | |
        |---|---|
        | Image | `127.0.0.1:5000/team/api` |
        | Build | failed after 1.5 s (docker build, exit status: 1) |
        | Auth | anonymous (no credentials) |

        The Dockerfile or the build context does not build; nothing was pushed. Docker's last lines:

        ````text
        #5 0.3 ```
        #5 0.3 <img src=x> @octocat #1
        executor failed running [/bin/sh -c x]: exit code: 3
        ````
        ");
    }
}
