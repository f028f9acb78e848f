//! AWS for the image gate: the SDK configuration (loaded once per run, only when AWS is
//! needed), assuming `aws-role-arn` with the workflow's OIDC token (STS), the ECR
//! authorization token and repository, and the Secrets Manager secret holding registry
//! credentials.
//!
//! Every secret is masked the moment it arrives, before anything could log it. The OIDC
//! request URL and token come from [`RunnerEnv`]; this file never reads the process
//! environment (the SDK's own credential chain does, as the SDK documents).

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_ecr::error::ProvideErrorMetadata;

use super::auth::{self, Credentials};
use super::error::Error;
use super::login::mask;
use crate::runner::commands::Commands;
use crate::runner::env::RunnerEnv;
use crate::secret::Secret;

/// The AWS configuration of one run.
#[derive(Debug)]
pub(super) struct Aws {
    config: SdkConfig,
}

impl Aws {
    /// The standard chain (environment, profile, web identity) with the SDK's standard
    /// retry mode; `region` when given, else the chain's.
    pub(super) async fn load(region: Option<&str>) -> Self {
        use aws_config::{BehaviorVersion, Region, retry::RetryConfig};
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(4));
        if let Some(r) = region {
            loader = loader.region(Region::new(r.to_owned()));
        }
        Self {
            config: loader.load().await,
        }
    }

    /// Whether the chain yields credentials (for `ecr: auto` without a registry).
    pub(super) async fn has_credentials(&self) -> bool {
        use aws_credential_types::provider::ProvideCredentials;
        match self.config.credentials_provider() {
            Some(p) => tokio::time::timeout(Duration::from_secs(10), p.provide_credentials())
                .await
                .is_ok_and(|r| r.is_ok()),
            None => false,
        }
    }

    /// The configuration ready for calls: a region is required, and with `role` the
    /// credentials become that role's, assumed with the workflow's OIDC token (so no
    /// separate credentials step is needed).
    pub(super) async fn ready(
        self,
        role: Option<&str>,
        env: &RunnerEnv,
        commands: &Commands,
    ) -> Result<Self, Error> {
        self.region()?;
        let Some(role) = role else {
            return Ok(self);
        };
        let token = oidc_token(env, commands).await?;
        let session = format!(
            "rust-ci-action-{}",
            env.run_id.as_deref().unwrap_or("local")
        );
        let action = || format!("sts:AssumeRoleWithWebIdentity for {role}");
        let out = aws_sdk_sts::Client::new(&self.config)
            .assume_role_with_web_identity()
            .role_arn(role)
            .role_session_name(session)
            .web_identity_token(token.expose())
            .send()
            .await
            .map_err(|e| Error::Aws {
                action: action(),
                detail: sdk_detail(&e),
            })?;
        let c = out.credentials().ok_or_else(|| Error::Aws {
            action: action(),
            detail: "no credentials in the answer".into(),
        })?;
        commands.add_mask(c.secret_access_key());
        commands.add_mask(c.session_token());
        let expiry = std::time::SystemTime::try_from(*c.expiration()).ok();
        let creds = aws_credential_types::Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            expiry,
            "rust-ci-action-oidc",
        );
        tracing::info!("assumed {role} with the workflow's OIDC token");
        let provider = aws_credential_types::provider::SharedCredentialsProvider::new(creds);
        Ok(Self {
            config: self
                .config
                .into_builder()
                .credentials_provider(provider)
                .build(),
        })
    }

    /// The region calls go to.
    pub(super) fn region(&self) -> Result<String, Error> {
        self.config
            .region()
            .map(ToString::to_string)
            .ok_or(Error::NoRegion)
    }

    /// Registry credentials from a Secrets Manager secret holding
    /// `{"username": ..., "password": ...}`.
    pub(super) async fn registry_secret(
        &self,
        id: &str,
        commands: &Commands,
    ) -> Result<Credentials, Error> {
        let out = aws_sdk_secretsmanager::Client::new(&self.config)
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .map_err(|e| match e.code() {
                Some("ResourceNotFoundException") => Error::SecretNotFound { id: id.to_owned() },
                _ => Error::Aws {
                    action: format!("secretsmanager:GetSecretValue for `{id}`"),
                    detail: sdk_detail(&e),
                },
            })?;
        let text = Secret::new(
            out.secret_string()
                .ok_or_else(|| Error::SecretNotString { id: id.to_owned() })?
                .to_owned(),
        );
        // Mask before parsing, so a parse error can never echo it unmasked.
        commands.add_mask(text.expose());
        let creds = auth::parse_secret_json(id, text.expose())?;
        mask(commands, &creds);
        Ok(creds)
    }

    /// ECR credentials (`AWS` and a 12-hour password) and the registry endpoint the token
    /// is for.
    pub(super) async fn ecr_login(
        &self,
        commands: &Commands,
    ) -> Result<(Credentials, String), Error> {
        let out = self
            .ecr()
            .get_authorization_token()
            .send()
            .await
            .map_err(|e| ecr_error("GetAuthorizationToken", &e))?;
        let data = out.authorization_data().first().ok_or_else(|| Error::Aws {
            action: "ecr:GetAuthorizationToken".into(),
            detail: "no authorization data in the answer".into(),
        })?;
        let token = Secret::new(data.authorization_token().unwrap_or_default().to_owned());
        commands.add_mask(token.expose());
        let creds = auth::decode_ecr_token(token.expose())?;
        mask(commands, &creds);
        Ok((creds, data.proxy_endpoint().unwrap_or_default().to_owned()))
    }

    /// Create the ECR repository (scan on push) when it does not exist.
    pub(super) async fn ensure_repository(&self, name: &str) -> Result<(), Error> {
        let ecr = self.ecr();
        match ecr
            .describe_repositories()
            .repository_names(name)
            .send()
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if e.code() == Some("RepositoryNotFoundException") => {}
            Err(e) => return Err(ecr_error("DescribeRepositories", &e)),
        }
        let scan = aws_sdk_ecr::types::ImageScanningConfiguration::builder()
            .scan_on_push(true)
            .build();
        ecr.create_repository()
            .repository_name(name)
            .image_scanning_configuration(scan)
            .send()
            .await
            .map_err(|e| ecr_error("CreateRepository", &e))?;
        tracing::info!("created ECR repository {name} (scan on push)");
        Ok(())
    }

    /// Whether the ECR repository refuses to overwrite tags (`imageTagMutability`
    /// `IMMUTABLE`, or `IMMUTABLE_WITH_EXCLUSION`, treated alike); `false` when it cannot be
    /// read (a missing repository, a role without `ecr:DescribeRepositories`): the push then
    /// says so itself.
    pub(super) async fn tags_immutable(&self, name: &str) -> bool {
        match self
            .ecr()
            .describe_repositories()
            .repository_names(name)
            .send()
            .await
        {
            Ok(out) => out.repositories().first().is_some_and(|r| {
                r.image_tag_mutability()
                    .is_some_and(|m| m.as_str().starts_with("IMMUTABLE"))
            }),
            Err(e) => {
                tracing::debug!("ecr:DescribeRepositories: {}", sdk_detail(&e));
                false
            }
        }
    }

    fn ecr(&self) -> aws_sdk_ecr::Client {
        aws_sdk_ecr::Client::new(&self.config)
    }
}

/// The GitHub OIDC token for audience `sts.amazonaws.com`
/// (<https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect>).
/// The runner offers it only to jobs with `permissions: id-token: write`.
async fn oidc_token(env: &RunnerEnv, commands: &Commands) -> Result<Secret<String>, Error> {
    let (Some(url), Some(bearer)) = (&env.id_token_request_url, &env.id_token_request_token) else {
        return Err(Error::Oidc {
            detail: "ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN are not set: give the job `permissions: id-token: write`".into(),
        });
    };
    commands.add_mask(bearer.expose());
    let oidc = |detail: String| Error::Oidc { detail };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| oidc(e.to_string()))?;
    let mut url = reqwest::Url::parse(url)
        .map_err(|e| oidc(format!("ACTIONS_ID_TOKEN_REQUEST_URL is not a URL ({e})")))?;
    url.query_pairs_mut()
        .append_pair("audience", "sts.amazonaws.com");
    let resp = client
        .get(url)
        .bearer_auth(bearer.expose())
        .send()
        .await
        .map_err(|e| oidc(crate::error::error_chain(&e)))?;
    if !resp.status().is_success() {
        return Err(oidc(format!(
            "the token service answered HTTP {}",
            resp.status().as_u16()
        )));
    }
    let v: serde_json::Value = resp.json().await.map_err(|e| oidc(e.to_string()))?;
    let token = v
        .get("value")
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| oidc("no `value` in the token service's answer".into()))?;
    commands.add_mask(token);
    Ok(Secret::new(token.to_owned()))
}

fn ecr_error<E, R>(action: &'static str, e: &aws_sdk_ecr::error::SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if e.code() == Some("AccessDeniedException") {
        Error::EcrAccessDenied {
            action,
            detail: sdk_detail(e),
        }
    } else {
        Error::Aws {
            action: format!("ecr:{action}"),
            detail: sdk_detail(e),
        }
    }
}

/// `Code: message` for a service error, else the transport error chain (the SDK's own
/// `Display` says only "service error" or "dispatch failure").
fn sdk_detail<E, R>(e: &aws_sdk_ecr::error::SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if let Some(code) = e.code() {
        return match e.message() {
            Some(m) => format!("{code}: {m}"),
            None => code.to_owned(),
        };
    }
    crate::error::error_chain(e)
}
