//! The EKS bearer token, built the way `aws eks get-token` and aws-iam-authenticator build
//! it, so no aws CLI is needed: a presigned STS `GetCallerIdentity` URL whose signature
//! covers the `x-k8s-aws-id: <cluster>` header, `X-Amz-Expires=60`, then
//! `k8s-aws-v1.` + unpadded URL-safe base64 of that URL.
//!
//! The cluster accepts the token for 15 minutes from its `X-Amz-Date` (the 60 s expiry is
//! what the authenticator sets and ignores), see
//! <https://github.com/kubernetes-sigs/aws-iam-authenticator#api-authorization-from-outside-a-cluster>.
//! Pure given credentials and a clock: `cluster.rs` fetches credentials and refreshes.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use base64::Engine as _;

use crate::secret::Secret;

/// Prefix of every EKS token.
pub(super) const TOKEN_PREFIX: &str = "k8s-aws-v1.";
/// The header that binds the token to one cluster.
pub(super) const CLUSTER_HEADER: &str = "x-k8s-aws-id";
/// How long the cluster accepts a token.
pub(super) const TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// How often a fresh token is written. kube re-reads a token file at least once a minute,
/// so a token is at most this plus a minute old when used: well inside [`TOKEN_LIFETIME`].
pub(super) const REFRESH_EVERY: Duration = Duration::from_secs(10 * 60);
const _: () = assert!(REFRESH_EVERY.as_secs() + 60 < TOKEN_LIFETIME.as_secs());

/// The token could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EksError {
    /// The cluster name cannot be sent as a header.
    #[error("cluster name `{0}` is not a valid header value")]
    ClusterName(String),
    /// The region cannot be part of a host name.
    #[error("region `{0}` is not a valid AWS region name")]
    Region(String),
    /// Signing failed.
    #[error("could not presign the STS request")]
    Sign(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The regional STS endpoint (`sts.<region>.amazonaws.com`, `.com.cn` in China).
pub(super) fn sts_host(region: &str) -> Result<String, EksError> {
    let ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok {
        return Err(EksError::Region(region.to_owned()));
    }
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    Ok(format!("sts.{region}.{suffix}"))
}

/// The presigned `GetCallerIdentity` URL.
pub(super) fn presigned_url(
    cluster: &str,
    region: &str,
    credentials: &Credentials,
    now: SystemTime,
) -> Result<String, EksError> {
    if cluster.is_empty() || !cluster.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(EksError::ClusterName(cluster.to_owned()));
    }
    let url = format!(
        "https://{}/?Action=GetCallerIdentity&Version=2011-06-15",
        sts_host(region)?
    );
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(60));
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| EksError::Sign(Box::new(e)))?
        .into();
    let headers = [(CLUSTER_HEADER, cluster)];
    let signable = SignableRequest::new(
        "GET",
        url.as_str(),
        headers.into_iter(),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| EksError::Sign(Box::new(e)))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| EksError::Sign(Box::new(e)))?
        .into_parts();
    let mut request = http::Request::builder()
        .method("GET")
        .uri(url.as_str())
        .body(())
        .map_err(|e| EksError::Sign(Box::new(e)))?;
    instructions.apply_to_request_http1x(&mut request);
    Ok(request.uri().to_string())
}

/// The bearer token (`k8s-aws-v1.…`) for `cluster`, accepted for [`TOKEN_LIFETIME`] from
/// `now`.
pub(super) fn token(
    cluster: &str,
    region: &str,
    credentials: &Credentials,
    now: SystemTime,
) -> Result<Secret<String>, EksError> {
    let url = presigned_url(cluster, region, credentials, now)?;
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url.as_bytes());
    Ok(Secret::new(format!("{TOKEN_PREFIX}{encoded}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(session: Option<&str>) -> Credentials {
        Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            session.map(str::to_owned),
            None,
            "test",
        )
    }

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn query(url: &str) -> Vec<(String, String)> {
        let q = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
        q.split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (k.to_owned(), v.to_owned())
            })
            .collect()
    }

    #[test]
    fn presigned_url_has_the_shape_the_authenticator_checks() {
        // 2024-01-02T03:04:05Z
        let url =
            presigned_url("prod-cluster", "eu-west-1", &creds(None), at(1_704_164_645)).unwrap();
        assert!(
            url.starts_with("https://sts.eu-west-1.amazonaws.com/?"),
            "{url}"
        );
        let q = query(&url);
        let get = |k: &str| q.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        assert_eq!(get("Action"), Some("GetCallerIdentity"));
        assert_eq!(get("Version"), Some("2011-06-15"));
        assert_eq!(get("X-Amz-Algorithm"), Some("AWS4-HMAC-SHA256"));
        assert_eq!(get("X-Amz-Expires"), Some("60"));
        assert_eq!(get("X-Amz-Date"), Some("20240102T030405Z"));
        assert_eq!(
            get("X-Amz-Credential"),
            Some("AKIDEXAMPLE%2F20240102%2Feu-west-1%2Fsts%2Faws4_request")
        );
        assert_eq!(get("X-Amz-SignedHeaders"), Some("host%3Bx-k8s-aws-id"));
        let sig = get("X-Amz-Signature").unwrap();
        assert_eq!(sig.len(), 64);
        assert!(sig.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(get("X-Amz-Security-Token"), None);
    }

    #[test]
    fn the_signature_is_deterministic_and_binds_cluster_and_time() {
        let a = presigned_url("c1", "us-east-1", &creds(None), at(1_700_000_000)).unwrap();
        assert_eq!(
            a,
            presigned_url("c1", "us-east-1", &creds(None), at(1_700_000_000)).unwrap()
        );
        assert_ne!(
            a,
            presigned_url("c2", "us-east-1", &creds(None), at(1_700_000_000)).unwrap()
        );
        assert_ne!(
            a,
            presigned_url("c1", "us-east-1", &creds(None), at(1_700_000_001)).unwrap()
        );
    }

    #[test]
    fn session_tokens_travel_in_the_query() {
        let url = presigned_url(
            "c",
            "us-east-1",
            &creds(Some("FwoGZXIvYXdzEJr//session")),
            at(1_700_000_000),
        )
        .unwrap();
        let q = query(&url);
        let tok = q
            .iter()
            .find(|(k, _)| k == "X-Amz-Security-Token")
            .map(|(_, v)| v.as_str());
        assert_eq!(tok, Some("FwoGZXIvYXdzEJr%2F%2Fsession"));
    }

    #[test]
    fn token_is_prefixed_unpadded_urlsafe_base64_of_the_url() {
        let now = at(1_704_164_645);
        let t = token("prod-cluster", "eu-west-1", &creds(None), now).unwrap();
        let text = t.expose();
        let body = text.strip_prefix(TOKEN_PREFIX).unwrap();
        assert!(
            !body.contains('=') && !body.contains('+') && !body.contains('/'),
            "{body}"
        );
        let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .unwrap();
        assert_eq!(
            String::from_utf8(decoded).unwrap(),
            presigned_url("prod-cluster", "eu-west-1", &creds(None), now).unwrap()
        );
        assert_eq!(format!("{t:?}"), "***");
    }

    #[test]
    fn hosts_and_bad_names() {
        assert_eq!(
            sts_host("cn-north-1").unwrap(),
            "sts.cn-north-1.amazonaws.com.cn"
        );
        assert!(sts_host("evil.com/x").is_err());
        assert!(presigned_url("bad name", "us-east-1", &creds(None), at(0)).is_err());
        assert!(presigned_url("", "us-east-1", &creds(None), at(0)).is_err());
    }
}
