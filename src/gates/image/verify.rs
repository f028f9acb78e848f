//! The registry confirms what was pushed: every tag serves the digest its push reported,
//! and all tags the same one; then the image's size as stored. Network only through the
//! registry client.

use super::error::Error;
use super::registry::RegistryClient;
use crate::oci::{Digest, Tag};

/// What the registry confirmed.
#[derive(Debug, Default)]
pub(super) struct Verified {
    /// The digest every tag serves.
    pub digest: Option<Digest>,
    /// Compressed size and platform count (`None` when the registry would not tell: a
    /// warning, not an error).
    pub size: Option<(u64, usize)>,
}

/// Check each `(reference, pushed digest)` (in the order of `tags`) against what the
/// registry serves for `repository:tag`.
pub(super) async fn verify(
    client: &RegistryClient,
    repository: &str,
    pushed: &[(String, Digest)],
    tags: &[Tag],
) -> Result<Verified, Error> {
    let mut verified: Option<Digest> = None;
    for ((reference, pushed_digest), tag) in pushed.iter().zip(tags) {
        let served = client.manifest_digest(repository, tag.as_str()).await?;
        // What this tag must serve: what its push reported, and what the first tag served.
        let expected = match &verified {
            Some(first) if &served == pushed_digest => first,
            _ => pushed_digest,
        };
        if &served != expected {
            return Err(Error::DigestMismatch {
                reference: reference.clone(),
                pushed: expected.clone(),
                served,
            });
        }
        tracing::info!("{reference}: {served} (confirmed by the registry)");
        verified = Some(served);
    }
    let mut size = None;
    if let Some(d) = &verified {
        match client.image_size(repository, d).await {
            Ok(s) => size = Some(s),
            Err(e) => tracing::warn!(
                "could not read the image size: {}",
                crate::error::error_chain(&e)
            ),
        }
    }
    Ok(Verified {
        digest: verified,
        size,
    })
}
