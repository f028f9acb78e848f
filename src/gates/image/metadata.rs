//! What the workflow run says about the image: the default tags (`sha-<short sha>`, plus
//! the git tag on tag pushes) and the standard OCI labels. Pure: values in, values out.

use crate::oci::Tag;

/// Facts about the workflow run that go into default tags and labels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunInfo {
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
    /// When the build started, RFC 3339.
    pub created: String,
}

impl RunInfo {
    /// The first 7 characters of the commit, as `git rev-parse --short` prints by default.
    pub fn short_sha(&self) -> Option<&str> {
        let sha = self.sha.as_deref()?;
        (sha.len() >= 7 && sha.is_char_boundary(7)).then(|| &sha[..7])
    }

    /// The git tag name on tag pushes.
    pub fn git_tag(&self) -> Option<&str> {
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
}

/// Tags when `tags` is not given: `sha-<short sha>`, plus the git tag (made a valid image
/// tag) on tag pushes. Empty when the run has no commit to name.
pub fn default_tags(run: &RunInfo) -> Vec<Tag> {
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

/// The standard OCI labels from the run
/// (<https://github.com/opencontainers/image-spec/blob/main/annotations.md>); missing facts
/// are left out rather than written empty.
pub fn oci_labels(run: &RunInfo) -> Vec<(String, String)> {
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
    if let Some(sha) = &run.sha {
        labels.push(("org.opencontainers.image.revision".to_owned(), sha.clone()));
    }
    if !run.created.is_empty() {
        labels.push((
            "org.opencontainers.image.created".to_owned(),
            run.created.clone(),
        ));
    }
    if let Some(version) = run.git_tag().or_else(|| run.short_sha()) {
        labels.push((
            "org.opencontainers.image.version".to_owned(),
            version.to_owned(),
        ));
    }
    labels
}

/// The automatic labels overridden by the user's (a user label with the same key wins and
/// takes the automatic one's place), then the user's other labels in their order.
pub fn merge_labels(
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
            created: "2026-01-02T03:04:05Z".into(),
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
