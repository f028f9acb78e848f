//! A small Docker Registry HTTP API v2 client: checks credentials before a build, reads a
//! tag's digest with `HEAD /v2/<name>/manifests/<tag>`, and adds up an image's size.
//!
//! It follows the registry's `WWW-Authenticate` challenge as docker does: `Basic` gets the
//! credentials directly, `Bearer realm=...,service=...,scope=...` gets them exchanged for a
//! token at the realm (<https://distribution.github.io/distribution/spec/auth/token/>).
//! Connection failures, 5xx and 429 are retried with exponential backoff.
//!
//! Every manifest request sends all four manifest media types in `Accept` (`manifest.rs`
//! says why). The pure parts live beside this file (`challenge.rs`, `manifest.rs`); the
//! network parts run against a real registry in the service tests.

use std::time::Duration;

use reqwest::{Method, StatusCode, header};

use super::auth::Credentials;
use super::challenge::{Challenge, parse_challenge};
use super::host::Registry;
use super::manifest::{MANIFEST_ACCEPT, manifest_size};
use crate::oci::Digest;

/// The registry did not give us what we asked for.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No HTTP answer after retries.
    #[error("registry {registry} did not answer {what}")]
    Unreachable {
        /// Registry host.
        registry: String,
        /// The request.
        what: String,
        /// Transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The credentials were refused.
    #[error("registry {registry} refused the credentials (HTTP {status})")]
    AuthRefused {
        /// Registry host.
        registry: String,
        /// Status of the refusal.
        status: u16,
    },
    /// The registry wants credentials and none were given.
    #[error(
        "registry {registry} requires authentication and no credentials were given (registry-username/registry-password, registry-secret or ECR)"
    )]
    AuthRequired {
        /// Registry host.
        registry: String,
    },
    /// A challenge we cannot follow.
    #[error("registry {registry} sent an authentication challenge we cannot follow: {challenge}")]
    Challenge {
        /// Registry host.
        registry: String,
        /// The `WWW-Authenticate` value.
        challenge: String,
    },
    /// Unexpected status.
    #[error("registry {registry} answered HTTP {status} to {what}")]
    Status {
        /// Registry host.
        registry: String,
        /// The request.
        what: String,
        /// Status.
        status: u16,
    },
    /// The tag or digest does not exist.
    #[error("registry {registry} has no manifest {name}:{reference}")]
    NotFound {
        /// Registry host.
        registry: String,
        /// Repository.
        name: String,
        /// Tag or digest.
        reference: String,
    },
    /// A body or header we cannot read.
    #[error("registry {registry} sent an unreadable answer to {what}: {detail}")]
    Malformed {
        /// Registry host.
        registry: String,
        /// The request.
        what: String,
        /// What was wrong.
        detail: String,
    },
}

/// Backoff for transient failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Backoff {
    /// Attempts in all (1 = no retry).
    pub attempts: u32,
    /// First delay; doubled each retry.
    pub base: Duration,
    /// Largest delay.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            attempts: 5,
            base: Duration::from_millis(500),
            max: Duration::from_secs(8),
        }
    }
}

impl Backoff {
    /// Delay before retry number `n` (1-based).
    pub(super) fn delay(&self, n: u32) -> Duration {
        self.base
            .saturating_mul(1 << n.saturating_sub(1).min(16))
            .min(self.max)
    }
}

/// A client for one registry.
#[derive(Debug)]
pub(super) struct RegistryClient {
    http: reqwest::Client,
    registry: Registry,
    base: String,
    creds: Option<Credentials>,
    backoff: Backoff,
    auth_header: tokio::sync::Mutex<Option<String>>,
}

/// A response's useful parts.
struct Answer {
    status: StatusCode,
    headers: header::HeaderMap,
    body: Vec<u8>,
}

impl RegistryClient {
    /// A client; plain HTTP and no proxy for loopback registries (docker does the same).
    pub(super) fn new(
        registry: &Registry,
        creds: Option<Credentials>,
        backoff: Backoff,
    ) -> Result<Self, reqwest::Error> {
        let mut b = reqwest::Client::builder()
            .user_agent(concat!("rust-ci-action/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60));
        if registry.is_loopback() {
            b = b.no_proxy();
        }
        Ok(Self {
            http: b.build()?,
            registry: registry.clone(),
            base: registry.api_base(),
            creds,
            backoff,
            auth_header: tokio::sync::Mutex::new(None),
        })
    }

    fn reg(&self) -> String {
        self.registry.to_string()
    }

    /// Check the credentials (or that none are needed) with `GET /v2/`, before anything is
    /// built, so a wrong password fails fast and nothing is pushed.
    pub(super) async fn check_auth(&self, name: &str) -> Result<(), Error> {
        let scope = format!("repository:{name}:pull,push");
        let a = self
            .request(Method::GET, "/v2/", &scope, "GET /v2/")
            .await?;
        match a.status {
            s if s.is_success() => Ok(()),
            StatusCode::UNAUTHORIZED if self.creds.is_none() => Err(Error::AuthRequired {
                registry: self.reg(),
            }),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(Error::AuthRefused {
                registry: self.reg(),
                status: a.status.as_u16(),
            }),
            s => Err(Error::Status {
                registry: self.reg(),
                what: "GET /v2/".into(),
                status: s.as_u16(),
            }),
        }
    }

    /// The digest the registry serves for `name:reference` (`Docker-Content-Digest` of a
    /// `HEAD`; computed from a `GET` body when a registry leaves the header out).
    pub(super) async fn manifest_digest(
        &self,
        name: &str,
        reference: &str,
    ) -> Result<Digest, Error> {
        let what = format!("HEAD /v2/{name}/manifests/{reference}");
        let path = format!("/v2/{name}/manifests/{reference}");
        let scope = format!("repository:{name}:pull");
        let a = self.request(Method::HEAD, &path, &scope, &what).await?;
        self.expect_found(&a, name, reference, &what)?;
        if let Some(d) = a
            .headers
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
        {
            return Digest::parse(d.trim()).map_err(|_| Error::Malformed {
                registry: self.reg(),
                what,
                detail: format!("Docker-Content-Digest {d:?} is not a digest"),
            });
        }
        let body = self.manifest(name, reference).await?;
        Ok(Digest::of(&body))
    }

    /// The manifest bytes of `name:reference`.
    pub(super) async fn manifest(&self, name: &str, reference: &str) -> Result<Vec<u8>, Error> {
        let what = format!("GET /v2/{name}/manifests/{reference}");
        let path = format!("/v2/{name}/manifests/{reference}");
        let a = self
            .request(
                Method::GET,
                &path,
                &format!("repository:{name}:pull"),
                &what,
            )
            .await?;
        self.expect_found(&a, name, reference, &what)?;
        Ok(a.body)
    }

    /// Size of the image at `digest` (config plus layers, as stored; summed over the
    /// platforms of an index) and the number of platform manifests. The body is checked
    /// against the digest, so a registry cannot serve something else under it.
    pub(super) async fn image_size(
        &self,
        name: &str,
        digest: &Digest,
    ) -> Result<(u64, usize), Error> {
        let body = self.manifest(name, digest.as_str()).await?;
        self.check_body(&body, digest, name)?;
        let malformed = |detail: String| Error::Malformed {
            registry: self.reg(),
            what: format!("GET /v2/{name}/manifests/{digest}"),
            detail,
        };
        match manifest_size(&body).map_err(malformed)? {
            (Some(size), _) => Ok((size, 1)),
            (None, children) => {
                let mut total = 0;
                for child in &children {
                    let body = self.manifest(name, child.as_str()).await?;
                    self.check_body(&body, child, name)?;
                    let (size, _) = manifest_size(&body).map_err(|d| Error::Malformed {
                        registry: self.reg(),
                        what: format!("GET /v2/{name}/manifests/{child}"),
                        detail: d,
                    })?;
                    total += size.unwrap_or(0);
                }
                Ok((total, children.len()))
            }
        }
    }

    fn check_body(&self, body: &[u8], digest: &Digest, name: &str) -> Result<(), Error> {
        let got = Digest::of(body);
        if &got == digest {
            Ok(())
        } else {
            Err(Error::Malformed {
                registry: self.reg(),
                what: format!("GET /v2/{name}/manifests/{digest}"),
                detail: format!("the body's digest is {got}"),
            })
        }
    }

    fn expect_found(
        &self,
        a: &Answer,
        name: &str,
        reference: &str,
        what: &str,
    ) -> Result<(), Error> {
        match a.status {
            s if s.is_success() => Ok(()),
            StatusCode::NOT_FOUND => Err(Error::NotFound {
                registry: self.reg(),
                name: name.to_owned(),
                reference: reference.to_owned(),
            }),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN if self.creds.is_some() => {
                Err(Error::AuthRefused {
                    registry: self.reg(),
                    status: a.status.as_u16(),
                })
            }
            StatusCode::UNAUTHORIZED => Err(Error::AuthRequired {
                registry: self.reg(),
            }),
            s => Err(Error::Status {
                registry: self.reg(),
                what: what.to_owned(),
                status: s.as_u16(),
            }),
        }
    }

    /// Send with retries; on a 401 follow the challenge once and send again.
    async fn request(
        &self,
        method: Method,
        path: &str,
        scope: &str,
        what: &str,
    ) -> Result<Answer, Error> {
        let url = format!("{}{path}", self.base);
        let mut challenged = false;
        loop {
            let auth = self.auth_header.lock().await.clone();
            let answer = self
                .send(what, || {
                    let req = self
                        .http
                        .request(method.clone(), &url)
                        .header(header::ACCEPT, MANIFEST_ACCEPT);
                    match &auth {
                        Some(a) => req.header(header::AUTHORIZATION, a),
                        None => req,
                    }
                })
                .await?;
            if answer.status == StatusCode::UNAUTHORIZED && !challenged && self.creds.is_some() {
                challenged = true;
                let challenge = answer
                    .headers
                    .get(header::WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                let new = self.authorize(&challenge, scope).await?;
                *self.auth_header.lock().await = Some(new);
                continue;
            }
            return Ok(answer);
        }
    }

    /// Send what `build` makes, retrying dropped connections, 5xx and 429 with backoff.
    async fn send(
        &self,
        what: &str,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Answer, Error> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = async {
                let resp = build().send().await?;
                let status = resp.status();
                let headers = resp.headers().clone();
                let body = resp.bytes().await?.to_vec();
                Ok::<_, reqwest::Error>(Answer {
                    status,
                    headers,
                    body,
                })
            }
            .await;
            let retry = attempt < self.backoff.attempts;
            match result {
                Ok(a)
                    if retry
                        && (a.status.is_server_error()
                            || a.status == StatusCode::TOO_MANY_REQUESTS) =>
                {
                    tracing::debug!("{what}: HTTP {}; retrying", a.status);
                }
                Ok(a) => return Ok(a),
                Err(e) if retry => tracing::debug!("{what}: {e}; retrying"),
                Err(source) => {
                    return Err(Error::Unreachable {
                        registry: self.reg(),
                        what: what.to_owned(),
                        source,
                    });
                }
            }
            tokio::time::sleep(self.backoff.delay(attempt)).await;
        }
    }

    /// The `Authorization` value answering a challenge.
    async fn authorize(&self, challenge: &str, scope: &str) -> Result<String, Error> {
        let Some(creds) = &self.creds else {
            return Err(Error::AuthRequired {
                registry: self.reg(),
            });
        };
        let unfollowable = || Error::Challenge {
            registry: self.reg(),
            challenge: challenge.to_owned(),
        };
        let basic = format!("Basic {}", creds.basic().expose());
        let (realm, service, given) = match parse_challenge(challenge).ok_or_else(unfollowable)? {
            Challenge::Basic => return Ok(basic),
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => (realm, service, scope),
        };
        let scope = given.unwrap_or_else(|| scope.to_owned());
        let mut query: Vec<(&str, &str)> = vec![("scope", scope.as_str())];
        if let Some(s) = &service {
            query.push(("service", s.as_str()));
        }
        let what = format!("the token request to {realm}");
        let url = reqwest::Url::parse_with_params(&realm, &query).map_err(|_| unfollowable())?;
        let answer = self
            .send(&what, || {
                self.http
                    .get(url.clone())
                    .header(header::AUTHORIZATION, &basic)
            })
            .await?;
        match answer.status {
            s if s.is_success() => {}
            s @ (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => {
                return Err(Error::AuthRefused {
                    registry: self.reg(),
                    status: s.as_u16(),
                });
            }
            s => {
                return Err(Error::Status {
                    registry: self.reg(),
                    what,
                    status: s.as_u16(),
                });
            }
        }
        let malformed = |detail: String| Error::Malformed {
            registry: self.reg(),
            what: what.clone(),
            detail,
        };
        let v: serde_json::Value =
            serde_json::from_slice(&answer.body).map_err(|e| malformed(e.to_string()))?;
        let token = v
            .get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .ok_or_else(|| malformed("no `token` in the answer".into()))?;
        Ok(format!("Bearer {token}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let b = Backoff::default();
        assert_eq!(b.delay(1), Duration::from_millis(500));
        assert_eq!(b.delay(2), Duration::from_secs(1));
        assert_eq!(b.delay(10), Duration::from_secs(8));
    }

    /// A registry that answers with a Bearer challenge, a token service that wants Basic
    /// credentials, one 503 before the manifest: the client must follow the challenge, retry,
    /// send all four media types and read the digest.
    #[tokio::test]
    async fn follows_bearer_challenges_and_retries() {
        use axum::http::{HeaderMap, StatusCode as S};
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::{Arc, Mutex};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let digest = Digest::of(b"manifest");
        let calls = Arc::new(AtomicUsize::new(0));
        let scopes: Arc<Mutex<Vec<String>>> = Arc::default();
        let challenge = format!(r#"Bearer realm="http://{addr}/token",service="mock""#);
        let bearer_ok = |h: &HeaderMap| h.get("authorization").is_some_and(|v| v == "Bearer t0k3n");
        let app = axum::Router::new()
            .route(
                "/token",
                axum::routing::get({
                    let scopes = scopes.clone();
                    move |q: axum::extract::Query<std::collections::HashMap<String, String>>,
                          h: HeaderMap| {
                        let scopes = scopes.clone();
                        async move {
                            // base64("u:p")
                            if h.get("authorization").is_none_or(|v| v != "Basic dTpw") {
                                return Err(S::UNAUTHORIZED);
                            }
                            scopes
                                .lock()
                                .unwrap()
                                .push(format!("{}|{}", q["service"], q["scope"]));
                            Ok(axum::Json(serde_json::json!({"token": "t0k3n"})))
                        }
                    }
                }),
            )
            .route(
                "/v2/",
                axum::routing::get({
                    let challenge = challenge.clone();
                    move |h: HeaderMap| async move {
                        if bearer_ok(&h) {
                            (S::OK, [("www-authenticate", String::new())])
                        } else {
                            (S::UNAUTHORIZED, [("www-authenticate", challenge)])
                        }
                    }
                }),
            )
            .route(
                "/v2/team/api/manifests/v1",
                axum::routing::head({
                    let (calls, digest) = (calls.clone(), digest.clone());
                    move |h: HeaderMap| async move {
                        if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                            return (
                                S::SERVICE_UNAVAILABLE,
                                [("docker-content-digest", String::new())],
                            );
                        }
                        let accept = h.get("accept").and_then(|v| v.to_str().ok()).unwrap_or("");
                        if !bearer_ok(&h)
                            || !accept.contains("application/vnd.oci.image.index.v1+json")
                        {
                            return (S::UNAUTHORIZED, [("docker-content-digest", String::new())]);
                        }
                        (S::OK, [("docker-content-digest", digest.to_string())])
                    }
                }),
            );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let reg = Registry::parse(&addr.to_string()).unwrap();
        let fast = Backoff {
            attempts: 3,
            base: Duration::from_millis(5),
            max: Duration::from_millis(20),
        };
        let good = Credentials {
            username: "u".into(),
            password: crate::secret::Secret::new("p".into()),
        };
        let client = RegistryClient::new(&reg, Some(good.clone()), fast).unwrap();
        client.check_auth("team/api").await.unwrap();
        assert_eq!(
            client.manifest_digest("team/api", "v1").await.unwrap(),
            digest
        );
        assert_eq!(calls.load(Ordering::SeqCst), 2, "one 503, then success");
        assert_eq!(
            scopes.lock().unwrap()[0],
            "mock|repository:team/api:pull,push"
        );

        let bad = Credentials {
            password: crate::secret::Secret::new("wrong".into()),
            ..good
        };
        let client = RegistryClient::new(&reg, Some(bad), fast).unwrap();
        let err = client.check_auth("team/api").await.unwrap_err();
        assert!(
            matches!(err, Error::AuthRefused { status: 401, .. }),
            "{err}"
        );
        let anonymous = RegistryClient::new(&reg, None, fast).unwrap();
        let err = anonymous.check_auth("team/api").await.unwrap_err();
        assert!(matches!(err, Error::AuthRequired { .. }), "{err}");
    }
}
