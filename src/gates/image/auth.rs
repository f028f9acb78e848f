//! Registry credentials, the pure parts: the private `config.json` docker reads them from,
//! the strings to mask, Amazon ECR's `AWS:<password>` token and the Secrets Manager JSON.
//!
//! No I/O here: `aws.rs` fetches tokens and secrets, `workdir.rs` writes the file. Error messages never
//! quote the secret text they failed to read.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::host::Registry;
use crate::secret::Secret;

/// A user name and password for a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Credentials {
    /// User name (not secret).
    pub username: String,
    /// Password or token.
    pub password: Secret<String>,
}

impl Credentials {
    /// `base64(user:password)`, the `auth` field of `config.json` and the HTTP Basic value.
    pub(super) fn basic(&self) -> Secret<String> {
        Secret::new(STANDARD.encode(format!("{}:{}", self.username, self.password.expose())))
    }

    /// Every form of the secret that could show up in a log: the password, its base64 form
    /// and the base64 `user:password` string.
    pub(super) fn mask_values(&self) -> Vec<String> {
        let p = self.password.expose();
        vec![p.clone(), STANDARD.encode(p), self.basic().expose().clone()]
    }
}

/// Credentials that could not be read from a token or secret.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    /// The ECR authorization token is not base64 of `AWS:<password>`.
    #[error("the ECR authorization token is not base64 of `user:password`")]
    EcrToken,
    /// The secret string is not JSON.
    #[error("secret `{id}` is not JSON: expected an object with `username` and `password`")]
    SecretNotJson {
        /// Secret id.
        id: String,
    },
    /// The secret is JSON but lacks a field (or the field is not a non-empty string).
    #[error(
        "secret `{id}` has no string `{field}`: expected an object with `username` and `password`"
    )]
    SecretField {
        /// Secret id.
        id: String,
        /// `username` or `password`.
        field: &'static str,
    },
}

/// The key docker looks credentials up under: the host, except Docker Hub's historical key.
pub(super) fn config_key(registry: &Registry) -> String {
    if registry.is_docker_hub() {
        "https://index.docker.io/v1/".to_owned()
    } else {
        registry.as_str().to_owned()
    }
}

/// The content of the private `config.json`: `auths` with one entry and no `credsStore`
/// or `credHelpers`, so docker uses the inline credentials and never hands them to a
/// helper. `current_context` keeps a user's `docker context use` choice.
pub(super) fn docker_config_json(
    registry: &Registry,
    creds: Option<&Credentials>,
    current_context: Option<&str>,
) -> Secret<String> {
    let mut root = serde_json::Map::new();
    let mut auths = serde_json::Map::new();
    if let Some(c) = creds {
        auths.insert(
            config_key(registry),
            serde_json::json!({ "auth": c.basic().expose() }),
        );
    }
    root.insert("auths".into(), serde_json::Value::Object(auths));
    if let Some(ctx) = current_context {
        root.insert(
            "currentContext".into(),
            serde_json::Value::String(ctx.to_owned()),
        );
    }
    Secret::new(serde_json::Value::Object(root).to_string())
}

/// The `currentContext` of a user's docker `config.json`, if any (nothing else is kept).
pub(super) fn current_context(config_json: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(config_json).ok()?;
    v.get("currentContext")?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Decode an ECR `authorizationToken`: base64 of `AWS:<password>`
/// (<https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_AuthorizationData.html>).
pub(super) fn decode_ecr_token(token: &str) -> Result<Credentials, AuthError> {
    let bytes = STANDARD
        .decode(token.trim())
        .map_err(|_| AuthError::EcrToken)?;
    let text = String::from_utf8(bytes).map_err(|_| AuthError::EcrToken)?;
    let (user, pass) = text.split_once(':').ok_or(AuthError::EcrToken)?;
    if user.is_empty() || pass.is_empty() {
        return Err(AuthError::EcrToken);
    }
    Ok(Credentials {
        username: user.to_owned(),
        password: Secret::new(pass.to_owned()),
    })
}

/// Read `{"username": ..., "password": ...}` from a Secrets Manager secret string.
pub(super) fn parse_secret_json(id: &str, text: &str) -> Result<Credentials, AuthError> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|_| AuthError::SecretNotJson { id: id.to_owned() })?;
    if !v.is_object() {
        return Err(AuthError::SecretNotJson { id: id.to_owned() });
    }
    let field = |name: &'static str| {
        v.get(name)
            .and_then(|f| f.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or(AuthError::SecretField {
                id: id.to_owned(),
                field: name,
            })
    };
    Ok(Credentials {
        username: field("username")?,
        password: Secret::new(field("password")?),
    })
}

/// How the gate authenticated, for the summary (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum AuthUsed {
    /// `registry-username`/`registry-password`.
    Password {
        /// User name.
        username: String,
    },
    /// A Secrets Manager secret.
    SecretsManager {
        /// Secret id.
        secret_id: String,
        /// User name found in it.
        username: String,
    },
    /// An ECR authorization token.
    Ecr {
        /// Region the token came from.
        region: String,
        /// Whether a role was assumed with the workflow's OIDC token.
        role: Option<String>,
    },
    /// No credentials.
    Anonymous,
}

impl std::fmt::Display for AuthUsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthUsed::Password { username } => write!(
                f,
                "`registry-username`/`registry-password` (user `{username}`)"
            ),
            AuthUsed::SecretsManager {
                secret_id,
                username,
            } => {
                write!(
                    f,
                    "AWS Secrets Manager secret `{secret_id}` (user `{username}`)"
                )
            }
            AuthUsed::Ecr { region, role: None } => write!(f, "Amazon ECR token ({region})"),
            AuthUsed::Ecr {
                region,
                role: Some(r),
            } => write!(
                f,
                "Amazon ECR token ({region}), role `{r}` assumed with the workflow's OIDC token"
            ),
            AuthUsed::Anonymous => f.write_str("anonymous (no credentials)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(u: &str, p: &str) -> Credentials {
        Credentials {
            username: u.into(),
            password: Secret::new(p.into()),
        }
    }

    #[test]
    fn config_json_has_only_inline_auth() {
        let reg = Registry::parse("127.0.0.1:5000").unwrap();
        let json = docker_config_json(&reg, Some(&creds("ci", "s3cret")), None);
        let v: serde_json::Value = serde_json::from_str(json.expose()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"auths": {"127.0.0.1:5000": {"auth": "Y2k6czNjcmV0"}}})
        );
        assert_eq!(format!("{json:?}"), "***");
        let hub = Registry::parse("docker.io").unwrap();
        let v: serde_json::Value =
            serde_json::from_str(docker_config_json(&hub, None, Some("ci")).expose()).unwrap();
        assert_eq!(v, serde_json::json!({"auths": {}, "currentContext": "ci"}));
        assert_eq!(config_key(&hub), "https://index.docker.io/v1/");
    }

    #[test]
    fn masks_cover_every_form() {
        let m = creds("ci", "s3cret").mask_values();
        assert!(m.contains(&"s3cret".to_owned()));
        assert!(m.contains(&"czNjcmV0".to_owned()), "base64 of the password");
        assert!(
            m.contains(&"Y2k6czNjcmV0".to_owned()),
            "base64 of user:password"
        );
    }

    #[test]
    fn ecr_tokens() {
        let c = decode_ecr_token("QVdTOjEyMzQ1Njc4OTAxMi1hdXRoLXRva2Vu").unwrap();
        assert_eq!(c.username, "AWS");
        assert_eq!(c.password.expose(), "123456789012-auth-token");
        for bad in ["!!!", "bm9jb2xvbg==", "OnBhc3M="] {
            assert_eq!(decode_ecr_token(bad), Err(AuthError::EcrToken), "{bad}");
        }
    }

    #[test]
    fn secret_json() {
        let c =
            parse_secret_json("ci/reg", r#"{"username":"u","password":"p@ss","extra":1}"#).unwrap();
        assert_eq!(
            (c.username.as_str(), c.password.expose().as_str()),
            ("u", "p@ss")
        );
        let cases = [
            (
                "hunter2",
                "secret `ci/reg` is not JSON: expected an object with `username` and `password`",
            ),
            (
                r#"["hunter2"]"#,
                "secret `ci/reg` is not JSON: expected an object with `username` and `password`",
            ),
            (
                r#"{"username":"u"}"#,
                "secret `ci/reg` has no string `password`: expected an object with `username` and `password`",
            ),
            (
                r#"{"user":"u","password":"hunter2"}"#,
                "secret `ci/reg` has no string `username`: expected an object with `username` and `password`",
            ),
            (
                r#"{"username":"u","password":42}"#,
                "secret `ci/reg` has no string `password`: expected an object with `username` and `password`",
            ),
        ];
        for (text, want) in cases {
            let err = parse_secret_json("ci/reg", text).unwrap_err().to_string();
            assert_eq!(err, want);
            assert!(!err.contains("hunter2"), "never echo the secret");
        }
    }

    #[test]
    fn auth_used_never_shows_secrets() {
        assert_eq!(
            AuthUsed::SecretsManager {
                secret_id: "ci/reg".into(),
                username: "u".into()
            }
            .to_string(),
            "AWS Secrets Manager secret `ci/reg` (user `u`)"
        );
        assert_eq!(
            current_context(r#"{"auths":{"x":{"auth":"y"}},"currentContext":"remote"}"#).as_deref(),
            Some("remote")
        );
        assert_eq!(current_context("{}"), None);
    }
}
