//! The GitHub REST client bound to one repository: octocrab over reqwest (so
//! `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` are honoured), with our own retry policy and a
//! timeout on every request.
//!
//! octocrab's own retry layer is switched off: it cannot see `Retry-After` or tell a
//! secondary rate limit (403 with a "secondary rate limit" message) from a permission
//! error. We retry 5xx, 429, secondary-rate-limit 403s and exhausted primary limits
//! (`x-ratelimit-remaining: 0`), honouring `Retry-After` and `x-ratelimit-reset`
//! (<https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#handle-rate-limit-errors-appropriately>),
//! with exponential backoff and full jitter, inside a bounded total wait. Other 4xx are
//! final.
//!
//! This file knows how to send a request and page through a list; what each endpoint
//! takes and returns lives beside it (`checks.rs`, `pulls.rs`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, Method, StatusCode};
use octocrab::Octocrab;
use rand::Rng;
use serde::Serialize;
use serde_json::Value;

use super::ApiError;
use crate::error::error_chain;
use crate::secret::Secret;

/// When and how often to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// First backoff step; doubles each retry (full jitter below it).
    pub base_delay: Duration,
    /// Longest single wait.
    pub max_delay: Duration,
    /// Longest total time spent waiting between attempts.
    pub max_total_wait: Duration,
    /// Timeout of each request.
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_total_wait: Duration::from_secs(90),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// A successful answer.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body as JSON (`Null` when empty).
    pub body: Value,
}

/// A GitHub REST client bound to one repository.
#[derive(Clone)]
pub struct GitHub {
    octo: Octocrab,
    owner: String,
    repo: String,
    policy: RetryPolicy,
    /// For binary downloads: follows no redirect by itself (see [`GitHub::download`]).
    raw: reqwest::Client,
    api_url: String,
    token: Secret<String>,
}

impl std::fmt::Debug for GitHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHub")
            .field("owner", &self.owner)
            .field("repo", &self.repo)
            .finish_non_exhaustive()
    }
}

/// What to do with a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Final.
    Stop,
    /// Retry after backoff.
    Backoff,
    /// Retry after exactly this long (from `Retry-After` or `x-ratelimit-reset`).
    After(Duration),
}

/// Decide whether a status is worth retrying, from the status, headers and body message.
pub fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    message: &str,
    now_epoch: u64,
) -> RetryDecision {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let retry_after = header("retry-after").and_then(|v| v.parse::<u64>().ok());
    let reset_wait = || {
        header("x-ratelimit-reset")
            .and_then(|v| v.parse::<u64>().ok())
            .map(|reset| Duration::from_secs(reset.saturating_sub(now_epoch) + 1))
    };
    let limited = status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::FORBIDDEN
            && (retry_after.is_some()
                || header("x-ratelimit-remaining") == Some("0")
                || message.to_ascii_lowercase().contains("rate limit")));
    if limited {
        if let Some(secs) = retry_after {
            return RetryDecision::After(Duration::from_secs(secs));
        }
        if header("x-ratelimit-remaining") == Some("0")
            && let Some(wait) = reset_wait()
        {
            return RetryDecision::After(wait);
        }
        // Secondary limits without headers: GitHub asks for at least a minute; the
        // backoff grows toward it within the total budget.
        return RetryDecision::Backoff;
    }
    if status.is_server_error() {
        return match retry_after {
            Some(secs) => RetryDecision::After(Duration::from_secs(secs)),
            None => RetryDecision::Backoff,
        };
    }
    RetryDecision::Stop
}

fn now_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl GitHub {
    /// A client for `owner/repo` at `api_url` (honours GitHub Enterprise Server URLs).
    pub fn new(
        api_url: &str,
        token: &Secret<String>,
        owner: &str,
        repo: &str,
        policy: RetryPolicy,
    ) -> Result<Self, ApiError> {
        // reqwest reads HTTP_PROXY/HTTPS_PROXY/NO_PROXY (and lower-case forms) itself.
        let http = reqwest::Client::builder()
            .user_agent(concat!("rust-ci-action/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(policy.request_timeout)
            .build()
            .map_err(|e| ApiError::Build(Box::new(e)))?;
        let raw = reqwest::Client::builder()
            .user_agent(concat!("rust-ci-action/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(policy.request_timeout.max(Duration::from_secs(120)))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ApiError::Build(Box::new(e)))?;
        let octo = Octocrab::builder()
            .base_uri(api_url)
            .map_err(|e| ApiError::Build(Box::new(e)))?
            .personal_token(token.expose().clone())
            .add_retry_config(octocrab::service::middleware::retry::RetryConfig::None)
            .build_with_reqwest(http)
            .map_err(|e| ApiError::Build(Box::new(e)))?;
        Ok(Self {
            octo,
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            policy,
            raw,
            api_url: api_url.trim_end_matches('/').to_owned(),
            token: token.clone(),
        })
    }

    /// GET a binary body (an artifact's zip), at most `max_bytes`. GitHub answers such
    /// downloads with a redirect to a short-lived signed URL on another host; the token is
    /// sent to the API only, never to that host (the URL carries its own authorisation).
    /// <https://docs.github.com/en/rest/actions/artifacts#download-an-artifact>
    pub async fn download(&self, path: &str, max_bytes: u64) -> Result<Vec<u8>, ApiError> {
        let fail = |reason: String| ApiError::Transport {
            method: Method::GET,
            path: path.to_owned(),
            reason,
        };
        let resp = self
            .raw
            .get(format!("{}{path}", self.api_url))
            .bearer_auth(self.token.expose())
            .header("accept", "application/vnd.github+json")
            .send()
            .await
            .map_err(|e| fail(error_chain(&e)))?;
        let resp = if resp.status().is_redirection() {
            let to = resp
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| fail("a redirect without a location".into()))?
                .to_owned();
            self.raw
                .get(to)
                .send()
                .await
                .map_err(|e| fail(error_chain(&e)))?
        } else {
            resp
        };
        let status = resp.status();
        if !status.is_success() {
            return Err(ApiError::Status {
                method: Method::GET,
                path: path.to_owned(),
                status,
                message: status.canonical_reason().unwrap_or("").to_owned(),
            });
        }
        let mut body = Vec::new();
        let mut resp = resp;
        while let Some(chunk) = resp.chunk().await.map_err(|e| fail(error_chain(&e)))? {
            if body.len() as u64 + chunk.len() as u64 > max_bytes {
                return Err(fail(format!("larger than {max_bytes} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// `/repos/{owner}/{repo}` + `rest`.
    pub fn repo_path(&self, rest: &str) -> String {
        format!("/repos/{}/{}{rest}", self.owner, self.repo)
    }

    /// Send one request with retries; `path` is relative to the API base.
    pub async fn send<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<ApiResponse, ApiError> {
        let mut waited = Duration::ZERO;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let result =
                tokio::time::timeout(self.policy.request_timeout, self.once(&method, path, body))
                    .await;
            let decision;
            let error = match result {
                Ok(Ok(resp)) if resp.status.is_success() => return Ok(resp),
                Ok(Ok(resp)) => {
                    let message = resp
                        .body
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or_else(|| resp.status.canonical_reason().unwrap_or(""))
                        .to_owned();
                    decision = classify(resp.status, &resp.headers, &message, now_epoch());
                    ApiError::Status {
                        method: method.clone(),
                        path: path.to_owned(),
                        status: resp.status,
                        message,
                    }
                }
                Ok(Err(e)) => {
                    decision = RetryDecision::Backoff;
                    e
                }
                Err(_) => {
                    decision = RetryDecision::Backoff;
                    ApiError::Transport {
                        method: method.clone(),
                        path: path.to_owned(),
                        reason: format!("no answer within {:?}", self.policy.request_timeout),
                    }
                }
            };
            let wait = match decision {
                RetryDecision::Stop => return Err(error),
                RetryDecision::After(d) => d,
                RetryDecision::Backoff => {
                    let cap = self
                        .policy
                        .base_delay
                        .saturating_mul(1 << (attempt - 1).min(16))
                        .min(self.policy.max_delay);
                    let ms = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
                    // Full jitter, never below a quarter of the step.
                    Duration::from_millis(rand::rng().random_range(ms / 4..=ms.max(1)))
                }
            };
            if attempt >= self.policy.max_attempts || waited + wait > self.policy.max_total_wait {
                tracing::debug!(%error, attempt, "giving up");
                return Err(error);
            }
            tracing::warn!(
                "{error}; retrying in {:.1}s (attempt {attempt} of {})",
                wait.as_secs_f64(),
                self.policy.max_attempts
            );
            tokio::time::sleep(wait).await;
            waited += wait;
        }
    }

    async fn once<B: Serialize + ?Sized>(
        &self,
        method: &Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<ApiResponse, ApiError> {
        let transport = |e: octocrab::Error| ApiError::Transport {
            method: method.clone(),
            path: path.to_owned(),
            reason: error_chain(&e),
        };
        let resp = match *method {
            Method::GET => self.octo._get(path).await,
            Method::POST => self.octo._post(path, body).await,
            Method::PATCH => self.octo._patch(path, body).await,
            Method::PUT => self.octo._put(path, body).await,
            Method::DELETE => self.octo._delete(path, body).await,
            _ => {
                return Err(ApiError::Transport {
                    method: method.clone(),
                    path: path.to_owned(),
                    reason: "unsupported method".into(),
                });
            }
        }
        .map_err(transport)?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = self.octo.body_to_string(resp).await.map_err(transport)?;
        let body = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok(ApiResponse {
            status,
            headers,
            body,
        })
    }

    /// GET every page of a list endpoint (following `Link: rel="next"`), up to `max_pages`.
    pub async fn get_all_pages(
        &self,
        first: &str,
        max_pages: usize,
    ) -> Result<Vec<Value>, ApiError> {
        let mut items = Vec::new();
        let mut next = Some(first.to_owned());
        let mut pages = 0;
        while let Some(path) = next.take() {
            let resp = self.send::<()>(Method::GET, &path, None).await?;
            pages += 1;
            match resp.body {
                Value::Array(a) => items.extend(a),
                other => {
                    return Err(ApiError::Decode {
                        method: Method::GET,
                        path,
                        reason: format!("expected a JSON array, got {}", kind(&other)),
                    });
                }
            }
            if pages < max_pages {
                next = next_link(&resp.headers).map(|url| self.relative(&url));
            }
        }
        Ok(items)
    }

    fn relative(&self, url: &str) -> String {
        // Link headers carry absolute URLs; octocrab prefixes the base again for paths,
        // so strip scheme and host (and a GHES `/api/v3` prefix the base already has).
        let after_scheme = url.split_once("://").map_or(url, |(_, r)| r);
        let path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
        path.strip_prefix("/api/v3").unwrap_or(path).to_owned()
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The `rel="next"` URL of a `Link` header.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn retry_classification() {
        let none = HeaderMap::new();
        let cases: Vec<(StatusCode, HeaderMap, &str, RetryDecision)> = vec![
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                none.clone(),
                "",
                RetryDecision::Backoff,
            ),
            (
                StatusCode::BAD_GATEWAY,
                headers(&[("retry-after", "3")]),
                "",
                RetryDecision::After(Duration::from_secs(3)),
            ),
            (
                StatusCode::TOO_MANY_REQUESTS,
                headers(&[("retry-after", "7")]),
                "",
                RetryDecision::After(Duration::from_secs(7)),
            ),
            (
                StatusCode::TOO_MANY_REQUESTS,
                none.clone(),
                "",
                RetryDecision::Backoff,
            ),
            (
                StatusCode::FORBIDDEN,
                none.clone(),
                "You have exceeded a secondary rate limit. Please wait a few minutes",
                RetryDecision::Backoff,
            ),
            (
                StatusCode::FORBIDDEN,
                headers(&[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "1010"),
                ]),
                "API rate limit exceeded",
                RetryDecision::After(Duration::from_secs(11)),
            ),
            (
                StatusCode::FORBIDDEN,
                none.clone(),
                "Resource not accessible by integration",
                RetryDecision::Stop,
            ),
            (
                StatusCode::NOT_FOUND,
                none.clone(),
                "Not Found",
                RetryDecision::Stop,
            ),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                none.clone(),
                "Validation Failed",
                RetryDecision::Stop,
            ),
        ];
        for (status, h, msg, want) in cases {
            assert_eq!(classify(status, &h, msg, 1000), want, "{status} {msg}");
        }
    }

    #[test]
    fn link_header_next() {
        let h = headers(&[(
            "link",
            "<https://api.github.com/repositories/1/pulls/2/files?page=2>; rel=\"next\", <https://api.github.com/repositories/1/pulls/2/files?page=5>; rel=\"last\"",
        )]);
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://api.github.com/repositories/1/pulls/2/files?page=2")
        );
        assert_eq!(next_link(&headers(&[("link", "<x>; rel=\"prev\"")])), None);
    }
}
