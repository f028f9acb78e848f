//! Image manifests, the pure parts: the `Accept` header every manifest request sends, and
//! the bytes a manifest (or an index, through its platform manifests) points at.
//!
//! Every manifest request sends all four manifest media types in `Accept`: a registry that
//! gets none of them (distribution 2.8 does this) converts the manifest to schema 1 and
//! reports the digest of that conversion, which differs from what was pushed.

use crate::oci::Digest;

/// `Accept` for manifests: Docker v2 manifest and manifest list, OCI manifest and index.
pub(super) const MANIFEST_ACCEPT: &str = "application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.oci.image.index.v1+json";

/// The config digest of an image manifest (the image id docker prints); `None` for an
/// index or anything else.
pub(super) fn config_digest(body: &[u8]) -> Option<Digest> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v.pointer("/config/digest")
        .and_then(serde_json::Value::as_str)
        .and_then(|d| Digest::parse(d).ok())
}

/// Bytes an image manifest points at: its config plus its layers (compressed, as stored).
/// For an index, `None` and the child manifest digests to add up instead (attestation
/// manifests left out).
pub(super) fn manifest_size(body: &[u8]) -> Result<(Option<u64>, Vec<Digest>), String> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("manifest is not JSON ({e})"))?;
    let size = |d: &serde_json::Value| {
        d.get("size")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0)
    };
    if let Some(layers) = v.get("layers").and_then(|l| l.as_array()) {
        let config = v.get("config").map_or(0, size);
        return Ok((
            Some(config + layers.iter().map(size).sum::<u64>()),
            Vec::new(),
        ));
    }
    if let Some(children) = v.get("manifests").and_then(|m| m.as_array()) {
        let digests = children
            .iter()
            .filter(|c| {
                c.pointer("/annotations/vnd.docker.reference.type")
                    .and_then(|t| t.as_str())
                    != Some("attestation-manifest")
            })
            .filter_map(|c| {
                c.get("digest")
                    .and_then(|d| d.as_str())
                    .and_then(|d| Digest::parse(d).ok())
            })
            .collect();
        return Ok((None, digests));
    }
    Err("manifest has neither `layers` nor `manifests`".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        let m = br#"{"schemaVersion":2,"config":{"size":100,"digest":"sha256:x"},"layers":[{"size":1000},{"size":24}]}"#;
        assert_eq!(manifest_size(m).unwrap(), (Some(1124), vec![]));
        let d1 = "sha256:".to_owned() + &"1".repeat(64);
        let d2 = "sha256:".to_owned() + &"2".repeat(64);
        let idx = format!(
            r#"{{"manifests":[{{"digest":"{d1}","platform":{{"os":"linux"}}}},{{"digest":"{d2}","annotations":{{"vnd.docker.reference.type":"attestation-manifest"}}}}]}}"#
        );
        assert_eq!(
            manifest_size(idx.as_bytes()).unwrap(),
            (None, vec![Digest::parse(&d1).unwrap()])
        );
        assert!(manifest_size(b"{}").is_err());
        assert!(manifest_size(b"nope").is_err());
    }

    #[test]
    fn accept_has_all_four_types() {
        for t in [
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.oci.image.index.v1+json",
        ] {
            assert!(MANIFEST_ACCEPT.contains(t), "{t}");
        }
        assert!(!MANIFEST_ACCEPT.contains('\n'));
    }
}
