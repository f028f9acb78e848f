//! Safe re-runs: before `docker push`, what each tag already holds in the registry. A tag
//! that holds this very image (the same config digest, the image id) is not pushed again:
//! a notice, and its digest is verified like a pushed one. A tag holding another image is
//! pushed as before, unless the registry is known to refuse overwrites (an `IMMUTABLE`
//! ECR repository): then, and when a push is refused for that reason, a clear error names
//! the tag and both digests instead of "tag already exists"
//! (docker/build-push-action#1042).
//!
//! Reading the tags runs while the image builds; a registry that will not answer (no
//! credentials of ours, no pull permission) leaves the decision to the push, as before.

use super::buildah::Buildah;
use super::docker::{Docker, Section};
use super::error::Error;
use super::manifest;
use super::output;
use super::registry::{self, RegistryClient};
use crate::oci::{Digest, Tag};
use crate::runner::commands::Commands;

/// What a tag holds before the push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Existing {
    /// Nothing, or the registry would not say.
    Unknown,
    /// A manifest, and the config digest when it is an image manifest (not an index).
    Holds {
        /// The manifest digest.
        manifest: Digest,
        /// The config digest.
        config: Option<Digest>,
    },
}

/// What to do with one tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    /// Push it.
    Push,
    /// It already holds this image, at this manifest digest.
    Keep(Digest),
}

/// What each tag holds, in order. Never an error: a registry that will not answer only
/// means the push decides.
pub(super) async fn existing(
    client: &RegistryClient,
    repository: &str,
    tags: &[Tag],
) -> Vec<Existing> {
    let reads = tags.iter().map(|t| async move {
        match client.manifest(repository, t.as_str()).await {
            Ok(body) => Existing::Holds {
                manifest: Digest::of(&body),
                config: manifest::config_digest(&body),
            },
            Err(registry::Error::NotFound { .. }) => Existing::Unknown,
            Err(e) => {
                tracing::debug!(
                    "could not read {repository}:{t} before pushing: {}",
                    crate::error::error_chain(&e)
                );
                Existing::Unknown
            }
        }
    });
    futures::future::join_all(reads).await
}

/// The step for each reference; an error when a tag holds another image and the registry
/// refuses overwrites. Pure.
pub(super) fn plan(
    existing: &[Existing],
    refs: &[String],
    image_id: Option<&Digest>,
    immutable_tags: bool,
) -> Result<Vec<Step>, Error> {
    refs.iter()
        .enumerate()
        .map(|(i, reference)| match existing.get(i) {
            Some(Existing::Holds { manifest, config }) => {
                if config.is_some() && config.as_ref() == image_id {
                    Ok(Step::Keep(manifest.clone()))
                } else if immutable_tags {
                    Err(tag_exists(reference, manifest, image_id))
                } else {
                    Ok(Step::Push)
                }
            }
            _ => Ok(Step::Push),
        })
        .collect()
}

fn tag_exists(reference: &str, existing: &Digest, image_id: Option<&Digest>) -> Error {
    Error::TagExists {
        reference: reference.to_owned(),
        existing: existing.clone(),
        built: image_id.map_or_else(|| "unknown".to_owned(), ToString::to_string),
    }
}

/// Who pushes: docker or buildah.
pub(super) enum Pusher<'a> {
    /// `docker push`.
    Docker(&'a Docker),
    /// `buildah push`.
    Buildah(&'a Buildah),
}

impl Pusher<'_> {
    async fn push(&self, commands: &Commands, reference: &str, tag: &str) -> Result<Digest, Error> {
        match self {
            Self::Docker(d) => d.push(commands, reference, tag).await,
            Self::Buildah(b) => b.push(commands, reference).await,
        }
    }
}

/// Push each reference its step says to push; what each tag holds afterwards.
pub(super) async fn push(
    pusher: &Pusher<'_>,
    commands: &Commands,
    refs: &[String],
    tags: &[Tag],
    steps: &[Step],
    existing: &[Existing],
    image_id: Option<&Digest>,
) -> Result<Vec<(String, Digest)>, Error> {
    let mut pushed = Vec::with_capacity(refs.len());
    for (i, (reference, tag)) in refs.iter().zip(tags).enumerate() {
        let digest = match steps.get(i) {
            Some(Step::Keep(digest)) => {
                let _section = Section::open(commands, &format!("docker push {reference}"));
                commands.notice(
                    "already pushed",
                    &format!("{reference} already holds this image ({digest}): nothing to push"),
                );
                digest.clone()
            }
            _ => match pusher.push(commands, reference, tag.as_str()).await {
                Err(Error::Push { tail, .. }) if output::is_tag_refused(&tail) => {
                    return Err(match existing.get(i) {
                        Some(Existing::Holds { manifest, .. }) => {
                            tag_exists(reference, manifest, image_id)
                        }
                        _ => Error::TagRefused {
                            reference: reference.clone(),
                        },
                    });
                }
                other => other?,
            },
        };
        pushed.push((reference.clone(), digest));
    }
    Ok(pushed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_image_is_kept_another_is_pushed_or_refused() {
        let ours = Digest::of(b"config");
        let theirs = Digest::of(b"other config");
        let m1 = Digest::of(b"manifest 1");
        let m2 = Digest::of(b"manifest 2");
        let existing = vec![
            Existing::Holds {
                manifest: m1.clone(),
                config: Some(ours.clone()),
            },
            Existing::Unknown,
            Existing::Holds {
                manifest: m2.clone(),
                config: Some(theirs),
            },
            Existing::Holds {
                manifest: m2.clone(),
                config: None,
            },
        ];
        let refs: Vec<String> = ["r/a:v1", "r/a:v2", "r/a:v3", "r/a:v4"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            plan(&existing, &refs, Some(&ours), false).unwrap(),
            [Step::Keep(m1), Step::Push, Step::Push, Step::Push]
        );
        let err = plan(&existing, &refs, Some(&ours), true)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!(
                "r/a:v3 already holds {m2} and the registry does not overwrite tags; this build is a different image (config {ours}): push it under a new tag, or remove the old one"
            )
        );
        assert_eq!(
            plan(&existing[1..2], &refs[1..2], None, true).unwrap(),
            [Step::Push],
            "nothing there: nothing to refuse"
        );
        assert_eq!(
            plan(&existing[..1], &refs[..1], None, false).unwrap(),
            [Step::Push],
            "no image id: no claim of sameness"
        );
    }
}
