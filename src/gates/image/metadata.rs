//! What the workflow run says about the image: the commit it is of, the default tags
//! (`sha-<short sha>`, plus the git tag on tag pushes), the `tags` templates, and the
//! standard OCI labels. Pure: values in, values out.
//!
//! The commit is the one the change is about, not the one the runner happens to check
//! out: on `pull_request` events `GITHUB_SHA` is GitHub's test merge commit, which is on
//! no branch, so tags and the `org.opencontainers.image.revision` label use the pull
//! request's head (docker/metadata-action#206, #414); `merge_group` runs use the group's
//! head. Every other event uses `GITHUB_SHA`.

use crate::oci::Tag;

/// Facts about the workflow run that go into default tags and labels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct RunInfo {
    /// `GITHUB_SERVER_URL`.
    pub server_url: Option<String>,
    /// `GITHUB_REPOSITORY`.
    pub repository: Option<String>,
    /// `GITHUB_SHA`.
    pub sha: Option<String>,
    /// `GITHUB_REF`, e.g. `refs/tags/v1.2.3`.
    pub git_ref: Option<String>,
    /// `GITHUB_REF_TYPE`, `branch` or `tag`.
    pub ref_type: Option<String>,
    /// `GITHUB_REF_NAME`.
    pub ref_name: Option<String>,
    /// `GITHUB_EVENT_NAME`.
    pub event_name: Option<String>,
    /// The head commit the event payload names (pull request head, merge group head).
    pub event_head_sha: Option<String>,
    /// The pull request number, on pull request events.
    pub pr_number: Option<u64>,
    /// The repository's default branch, from the event payload.
    pub default_branch: Option<String>,
    /// When the build started, RFC 3339.
    pub created: String,
}

impl RunInfo {
    /// The commit the image is of: the pull request's head on `pull_request` and
    /// `pull_request_target`, the group's head on `merge_group`, else `GITHUB_SHA`.
    pub(super) fn revision(&self) -> Option<&str> {
        let from_event = matches!(
            self.event_name.as_deref(),
            Some("pull_request" | "pull_request_target" | "merge_group")
        );
        match (&self.event_head_sha, from_event) {
            (Some(head), true) => Some(head),
            _ => self.sha.as_deref(),
        }
    }

    /// The first 7 characters of the revision, as `git rev-parse --short` prints by default.
    pub(super) fn short_sha(&self) -> Option<&str> {
        let sha = self.revision()?;
        (sha.len() >= 7 && sha.is_char_boundary(7)).then(|| &sha[..7])
    }

    /// The git tag name on tag pushes.
    pub(super) fn git_tag(&self) -> Option<&str> {
        if let Some(t) = self
            .git_ref
            .as_deref()
            .and_then(|r| r.strip_prefix("refs/tags/"))
        {
            return Some(t);
        }
        (self.ref_type.as_deref() == Some("tag"))
            .then_some(self.ref_name.as_deref())
            .flatten()
    }

    /// The branch name on branch pushes (not on pull requests, whose ref is `refs/pull/..`).
    pub(super) fn branch(&self) -> Option<&str> {
        if let Some(b) = self
            .git_ref
            .as_deref()
            .and_then(|r| r.strip_prefix("refs/heads/"))
        {
            return Some(b);
        }
        (self.git_ref.is_none() && self.ref_type.as_deref() == Some("branch"))
            .then_some(self.ref_name.as_deref())
            .flatten()
    }

    /// The git tag read as a semantic version (`v1.2.3`, `1.2.3-rc.1`).
    pub(super) fn version(&self) -> Option<Semver<'_>> {
        self.git_tag().and_then(Semver::parse)
    }
}

/// A semantic version from a git tag, `v` prefix allowed
/// (<https://semver.org/#backusnaur-form-grammar-for-valid-semver-versions>, leniently).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Semver<'a> {
    /// The version without the `v` (`1.2.3-rc.1`).
    pub full: &'a str,
    /// Major.
    pub major: u64,
    /// Minor.
    pub minor: u64,
    /// Patch.
    pub patch: u64,
    /// A `-pre.release` part is present.
    pub prerelease: bool,
}

impl<'a> Semver<'a> {
    /// Parse `[v]MAJOR.MINOR.PATCH[-pre][+build]`.
    pub(super) fn parse(tag: &'a str) -> Option<Self> {
        let full = tag.strip_prefix('v').unwrap_or(tag);
        let core_end = full.find(['-', '+']).unwrap_or(full.len());
        let mut numbers = full[..core_end].split('.').map(|n| {
            (!n.is_empty() && n.len() <= 19 && n.bytes().all(|b| b.is_ascii_digit()))
                .then(|| n.parse::<u64>().ok())
                .flatten()
        });
        let (major, minor, patch) = (numbers.next()??, numbers.next()??, numbers.next()??);
        if numbers.next().is_some() {
            return None;
        }
        Some(Self {
            full,
            major,
            minor,
            patch,
            prerelease: full[core_end..].starts_with('-'),
        })
    }
}

/// The placeholders a `tags` line may hold.
const PLACEHOLDERS: &[&str] = &[
    "sha", "branch", "tag", "version", "major", "minor", "patch", "pr",
];

/// The condition a `tags` line may end with.
const ON_DEFAULT_BRANCH: &str = " @default-branch";

/// One line of the `tags` input: a literal tag, or a template whose `{{placeholder}}`s
/// are filled from the run (see [`TagTemplate::expand`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TagTemplate {
    text: String,
    default_branch_only: bool,
}

impl TagTemplate {
    /// Parse one line; the error says what is wrong with it.
    pub(super) fn parse(line: &str) -> Result<Self, String> {
        let (text, default_branch_only) = match line.strip_suffix(ON_DEFAULT_BRANCH) {
            Some(t) => (t.trim_end(), true),
            None => (line, false),
        };
        let mut rest = text;
        let mut literal = String::new();
        while let Some(open) = rest.find("{{") {
            literal.push_str(&rest[..open]);
            let Some(close) = rest[open..].find("}}") else {
                return Err("expected `}}` after `{{`".into());
            };
            let name = &rest[open + 2..open + close];
            if !PLACEHOLDERS.contains(&name) {
                return Err(format!(
                    "unknown placeholder `{{{{{name}}}}}`: expected one of {}",
                    PLACEHOLDERS
                        .iter()
                        .map(|p| format!("`{{{{{p}}}}}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            literal.push('x');
            rest = &rest[open + close + 2..];
        }
        literal.push_str(rest);
        // What is left around the placeholders must be tag characters.
        Tag::parse(&literal).map_err(|e| e.to_string())?;
        Ok(Self {
            text: text.to_owned(),
            default_branch_only,
        })
    }

    /// The tag for this run, or `None` when the line does not apply: a placeholder with no
    /// value (`{{tag}}` on a branch push, `{{major}}` of a pre-release or alone of `0.x`, `{{pr}}`
    /// outside pull requests) or ` @default-branch` on another branch. Values that are not
    /// tag characters (a branch `feature/x`) become `-`.
    pub(super) fn expand(&self, run: &RunInfo) -> Option<Tag> {
        if self.default_branch_only
            && (run.branch().is_none() || run.branch() != run.default_branch.as_deref())
        {
            return None;
        }
        let version = run.version();
        let stable = version.filter(|v| !v.prerelease);
        // As metadata-action: `{{major}}` alone is not made for `0.x` (0 promises nothing),
        // `{{major}}.{{minor}}` is.
        let with_minor = self.text.contains("{{minor}}");
        let mut out = String::new();
        let mut rest = self.text.as_str();
        while let Some(open) = rest.find("{{") {
            out.push_str(&rest[..open]);
            let close = open + rest[open..].find("}}")?;
            let value = match &rest[open + 2..close] {
                "sha" => run.short_sha().map(str::to_owned),
                "branch" => run.branch().map(str::to_owned),
                "tag" => run.git_tag().map(str::to_owned),
                "version" => version.map(|v| v.full.to_owned()),
                "major" => stable
                    .filter(|v| v.major > 0 || with_minor)
                    .map(|v| v.major.to_string()),
                "minor" => stable.map(|v| v.minor.to_string()),
                "patch" => stable.map(|v| v.patch.to_string()),
                "pr" => run.pr_number.map(|n| n.to_string()),
                _ => None,
            }?;
            out.push_str(&value);
            rest = &rest[close + 2..];
        }
        out.push_str(rest);
        Tag::sanitize(&out)
    }
}

/// Tags when `tags` is not given: `sha-<short sha>`, plus the git tag (made a valid image
/// tag) on tag pushes. Empty when the run has no commit to name.
pub(super) fn default_tags(run: &RunInfo) -> Vec<Tag> {
    let mut tags: Vec<Tag> = run
        .short_sha()
        .and_then(|s| Tag::parse(&format!("sha-{s}")).ok())
        .into_iter()
        .collect();
    if let Some(t) = run.git_tag().and_then(Tag::sanitize)
        && !tags.contains(&t)
    {
        tags.push(t);
    }
    tags
}

/// The tags of the `tags` templates for this run, in order, without duplicates.
pub(super) fn expand_tags(templates: &[TagTemplate], run: &RunInfo) -> Vec<Tag> {
    let mut tags: Vec<Tag> = Vec::new();
    for t in templates.iter().filter_map(|t| t.expand(run)) {
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    tags
}

/// The standard OCI labels from the run
/// (<https://github.com/opencontainers/image-spec/blob/main/annotations.md>); missing facts
/// are left out rather than written empty. `version` is the git tag (without a semantic
/// version's `v`), else the short revision.
pub(super) fn oci_labels(run: &RunInfo) -> Vec<(String, String)> {
    let mut labels = Vec::new();
    if let Some(repo) = &run.repository {
        let server = run
            .server_url
            .as_deref()
            .unwrap_or("https://github.com")
            .trim_end_matches('/');
        labels.push((
            "org.opencontainers.image.source".to_owned(),
            format!("{server}/{repo}"),
        ));
    }
    if let Some(sha) = run.revision() {
        labels.push((
            "org.opencontainers.image.revision".to_owned(),
            sha.to_owned(),
        ));
    }
    if !run.created.is_empty() {
        labels.push((
            "org.opencontainers.image.created".to_owned(),
            run.created.clone(),
        ));
    }
    let version = run
        .version()
        .map(|v| v.full)
        .or_else(|| run.git_tag())
        .or_else(|| run.short_sha());
    if let Some(version) = version {
        labels.push((
            "org.opencontainers.image.version".to_owned(),
            version.to_owned(),
        ));
    }
    labels
}

/// The automatic labels overridden by the user's (a user label with the same key wins and
/// takes the automatic one's place), then the user's other labels in their order.
pub(super) fn merge_labels(
    automatic: &[(String, String)],
    user: &[(String, String)],
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = automatic
        .iter()
        .map(|(k, v)| {
            let v = user
                .iter()
                .rev()
                .find(|(uk, _)| uk == k)
                .map_or(v, |(_, uv)| uv);
            (k.clone(), v.clone())
        })
        .collect();
    for (k, v) in user {
        match out.iter_mut().find(|(ok, _)| ok == k) {
            Some(slot) => slot.1 = v.clone(),
            None => out.push((k.clone(), v.clone())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run() -> RunInfo {
        RunInfo {
            server_url: Some("https://github.com".into()),
            repository: Some("octo/hello".into()),
            sha: Some("ec26c3e57ca3a959ca5aad62de7213c562f8c821".into()),
            git_ref: Some("refs/heads/main".into()),
            ref_type: Some("branch".into()),
            ref_name: Some("main".into()),
            event_name: Some("push".into()),
            default_branch: Some("main".into()),
            created: "2026-01-02T03:04:05Z".into(),
            ..RunInfo::default()
        }
    }

    const HEAD: &str = "0123456789abcdef0123456789abcdef01234567";

    /// On pull requests and merge groups the head wins over `GITHUB_SHA` (the test merge
    /// commit); elsewhere the payload's head is not used.
    #[test]
    fn the_revision_is_the_commit_of_the_change() {
        let pr = |event: &str| RunInfo {
            event_name: Some(event.into()),
            event_head_sha: Some(HEAD.into()),
            git_ref: Some("refs/pull/7/merge".into()),
            pr_number: Some(7),
            ..run()
        };
        for event in ["pull_request", "pull_request_target", "merge_group"] {
            let r = pr(event);
            assert_eq!(r.revision(), Some(HEAD), "{event}");
            assert_eq!(
                default_tags(&r).iter().map(Tag::as_str).collect::<Vec<_>>(),
                ["sha-0123456"]
            );
            let labels = oci_labels(&r);
            assert_eq!(
                labels[1],
                ("org.opencontainers.image.revision".into(), HEAD.into())
            );
            assert_eq!(labels[3].1, "0123456");
        }
        for event in ["push", "workflow_run", "workflow_dispatch"] {
            assert_eq!(pr(event).revision(), run().sha.as_deref(), "{event}");
        }
        let no_payload = RunInfo {
            event_name: Some("pull_request".into()),
            ..run()
        };
        assert_eq!(no_payload.revision(), run().sha.as_deref());
    }

    #[test]
    fn semantic_versions() {
        let v = Semver::parse("v1.22.3-rc.1+build.5").unwrap();
        assert_eq!(
            (v.full, v.major, v.minor, v.patch, v.prerelease),
            ("1.22.3-rc.1+build.5", 1, 22, 3, true)
        );
        assert!(!Semver::parse("2.0.0+meta").unwrap().prerelease);
        for bad in ["v1.2", "1.2.3.4", "release-1", "v1..3", "va.b.c", ""] {
            assert_eq!(Semver::parse(bad), None, "{bad}");
        }
    }

    /// The metadata-action patterns people ask for, on each kind of run.
    #[test]
    fn tag_templates() {
        let templates: Vec<TagTemplate> = [
            "{{branch}}",
            "{{version}}",
            "{{major}}.{{minor}}",
            "{{major}}",
            "sha-{{sha}}",
            "pr-{{pr}}",
            "latest @default-branch",
            "edge",
        ]
        .iter()
        .map(|l| TagTemplate::parse(l).unwrap())
        .collect();
        let tags = |r: &RunInfo| {
            expand_tags(&templates, r)
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect::<Vec<_>>()
        };
        let tag_push = |t: &str| RunInfo {
            git_ref: Some(format!("refs/tags/{t}")),
            ref_type: Some("tag".into()),
            ref_name: Some(t.into()),
            ..run()
        };
        let cases: Vec<(RunInfo, &[&str])> = vec![
            (run(), &["main", "sha-ec26c3e", "latest", "edge"]),
            (
                RunInfo {
                    git_ref: Some("refs/heads/feature/login".into()),
                    ..run()
                },
                &["feature-login", "sha-ec26c3e", "edge"],
            ),
            (
                tag_push("v1.2.3"),
                &["1.2.3", "1.2", "1", "sha-ec26c3e", "edge"],
            ),
            (tag_push("v0.4.1"), &["0.4.1", "0.4", "sha-ec26c3e", "edge"]),
            (
                tag_push("v2.0.0-rc.1"),
                &["2.0.0-rc.1", "sha-ec26c3e", "edge"],
            ),
            (tag_push("nightly"), &["sha-ec26c3e", "edge"]),
            (
                RunInfo {
                    event_name: Some("pull_request".into()),
                    event_head_sha: Some(HEAD.into()),
                    git_ref: Some("refs/pull/7/merge".into()),
                    pr_number: Some(7),
                    ..run()
                },
                &["sha-0123456", "pr-7", "edge"],
            ),
        ];
        for (r, want) in cases {
            assert_eq!(tags(&r), want, "{:?}", r.git_ref);
        }
        let odd = RunInfo {
            default_branch: None,
            ..run()
        };
        assert!(
            !tags(&odd).contains(&"latest".to_owned()),
            "unknown default branch"
        );

        for (line, want) in [
            (
                "{{nope}}",
                "unknown placeholder `{{nope}}`: expected one of `{{sha}}`",
            ),
            ("v{{major", "expected `}}` after `{{`"),
            ("a b", "expected a tag of letters"),
        ] {
            let err = TagTemplate::parse(line).unwrap_err();
            assert!(err.starts_with(want), "{line}: {err}");
        }
    }

    #[test]
    fn default_tags_follow_the_run() {
        let tags = |r: &RunInfo| {
            default_tags(r)
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(tags(&run()), ["sha-ec26c3e"]);
        let tag_push = RunInfo {
            git_ref: Some("refs/tags/v1.2.3".into()),
            ref_type: Some("tag".into()),
            ref_name: Some("v1.2.3".into()),
            ..run()
        };
        assert_eq!(tags(&tag_push), ["sha-ec26c3e", "v1.2.3"]);
        let odd_tag = RunInfo {
            git_ref: Some("refs/tags/release/2.0".into()),
            ..run()
        };
        assert_eq!(tags(&odd_tag), ["sha-ec26c3e", "release-2.0"]);
        let only_type = RunInfo {
            git_ref: None,
            ref_type: Some("tag".into()),
            ref_name: Some("v9".into()),
            ..run()
        };
        assert_eq!(tags(&only_type), ["sha-ec26c3e", "v9"]);
        assert!(default_tags(&RunInfo::default()).is_empty());
    }

    #[test]
    fn oci_labels_and_user_labels_win() {
        let auto = oci_labels(&run());
        assert_eq!(
            auto,
            [
                (
                    "org.opencontainers.image.source".to_owned(),
                    "https://github.com/octo/hello".to_owned()
                ),
                (
                    "org.opencontainers.image.revision".to_owned(),
                    "ec26c3e57ca3a959ca5aad62de7213c562f8c821".to_owned()
                ),
                (
                    "org.opencontainers.image.created".to_owned(),
                    "2026-01-02T03:04:05Z".to_owned()
                ),
                (
                    "org.opencontainers.image.version".to_owned(),
                    "ec26c3e".to_owned()
                ),
            ]
        );
        let tagged = RunInfo {
            git_ref: Some("refs/tags/v2".into()),
            ..run()
        };
        assert_eq!(oci_labels(&tagged)[3].1, "v2");
        assert!(
            oci_labels(&RunInfo::default()).is_empty(),
            "nothing known, nothing invented"
        );

        let user = vec![
            ("team".to_owned(), "payments".to_owned()),
            (
                "org.opencontainers.image.version".to_owned(),
                "1.0.0".to_owned(),
            ),
            ("team".to_owned(), "billing".to_owned()),
        ];
        let merged = merge_labels(&auto, &user);
        assert_eq!(merged.len(), 5);
        assert_eq!(
            merged[3],
            (
                "org.opencontainers.image.version".to_owned(),
                "1.0.0".to_owned()
            )
        );
        assert_eq!(
            merged[4],
            ("team".to_owned(), "billing".to_owned()),
            "the last duplicate wins"
        );
    }
}
