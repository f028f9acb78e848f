//! Each way of authenticating (an ECR token from moto, a Secrets Manager secret, a role
//! assumed with the workflow's OIDC token, a refused password), with every form of each
//! secret kept out of every channel and off every command line.

use std::sync::{Arc, Mutex};

use super::*;

#[test]
fn ecr_token_from_moto_pushes_and_creates_the_repository() {
    let reg = registry();
    let ecr_password = service_env("TEST_ECR_PASSWORD");
    let image = "it/ecr";
    let h = gate(image)
        .input("registry", &reg.host)
        .input("ecr", "true")
        .input("create-repository", "true")
        .input("tags", "v1");
    let secrets = secret_forms("AWS", &ecr_password);
    let (run, seen) = run_watched(&h, &secrets);
    run.assert_code(0);
    let digest = run.output("digest").unwrap();
    assert_eq!(served_digest(&reg, image, "v1").as_deref(), Some(digest));
    assert!(
        run.summary.contains("Amazon ECR token (us-east-1)"),
        "{run}"
    );
    assert!(
        run.stdout.contains(&format!("::add-mask::{ecr_password}")),
        "the ECR password is masked\n{run}"
    );
    assert_nothing_leaked(&h, &run, &seen, &secrets);

    let conf = aws_config();
    let repo = rt().block_on(async {
        aws_sdk_ecr::Client::new(&conf)
            .describe_repositories()
            .repository_names(image)
            .send()
            .await
            .expect("repository created in moto")
    });
    let r = &repo.repositories()[0];
    assert_eq!(r.repository_name(), Some(image));
    assert_eq!(
        r.image_scanning_configuration().map(|c| c.scan_on_push()),
        Some(true)
    );
}

#[test]
fn secrets_manager_credentials_push() {
    let reg = registry();
    let image = "it/secret";
    let id = "ci/registry-ok";
    create_secret(
        id,
        &serde_json::json!({"username": reg.user, "password": reg.password}).to_string(),
    );
    let h = gate(image)
        .input("registry", &reg.host)
        .input("registry-secret", id)
        .input("tags", "v1");
    let secrets = secret_forms(&reg.user, &reg.password);
    let (run, seen) = run_watched(&h, &secrets);
    run.assert_code(0);
    assert_eq!(
        served_digest(&reg, image, "v1").as_deref(),
        run.output("digest")
    );
    assert!(
        run.summary
            .contains("AWS Secrets Manager secret `ci/registry-ok`"),
        "{run}"
    );
    assert_nothing_leaked(&h, &run, &seen, &secrets);
}

#[test]
fn role_arn_assumes_the_role_with_the_oidc_token() {
    use axum::extract::Query;
    use axum::http::HeaderMap;
    let reg = registry();
    let image = "it/oidc";
    const REQUEST_TOKEN: &str = "ghs_oidcRequestToken0123456789";
    const ID_TOKEN: &str =
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm9jdG8vaGVsbG8ifQ.c2lnbmF0dXJlLW9pZGMtdGVzdA";
    let seen_audience: Arc<Mutex<Vec<String>>> = Arc::default();
    let server_rt = tokio::runtime::Runtime::new().unwrap();
    let addr = {
        let seen_audience = seen_audience.clone();
        server_rt.block_on(async move {
            let app = axum::Router::new().route(
                "/token",
                axum::routing::get(
                    move |q: Query<std::collections::HashMap<String, String>>,
                          headers: HeaderMap| {
                        let seen = seen_audience.clone();
                        async move {
                            let auth = headers
                                .get("authorization")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("");
                            if !auth.eq_ignore_ascii_case(&format!("bearer {REQUEST_TOKEN}")) {
                                return Err(axum::http::StatusCode::UNAUTHORIZED);
                            }
                            seen.lock()
                                .unwrap()
                                .push(q.get("audience").cloned().unwrap_or_default());
                            Ok(axum::Json(
                                serde_json::json!({"count": 1, "value": ID_TOKEN}),
                            ))
                        }
                    },
                ),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
            addr
        })
    };
    let h = gate(image)
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            format!("http://{addr}/token?api-version=2.0"),
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN)
        .input("registry", &reg.host)
        .input("ecr", "true")
        .input("aws-role-arn", "arn:aws:iam::123456789012:role/ci-push")
        .input("tags", "v1");
    let mut secrets = secret_forms("AWS", &service_env("TEST_ECR_PASSWORD"));
    secrets.extend([REQUEST_TOKEN.to_owned(), ID_TOKEN.to_owned()]);
    let (run, seen) = run_watched(&h, &secrets);
    run.assert_code(0);
    assert_eq!(*seen_audience.lock().unwrap(), ["sts.amazonaws.com"]);
    assert!(
        run.summary
            .contains("role `arn:aws:iam::123456789012:role/ci-push` assumed"),
        "{run}"
    );
    assert_eq!(
        served_digest(&reg, image, "v1").as_deref(),
        run.output("digest")
    );
    assert_nothing_leaked(&h, &run, &seen, &secrets);
    drop(server_rt);
}

#[test]
fn wrong_password_is_refused_and_nothing_is_pushed() {
    let reg = registry();
    let image = "it/wrong-password";
    let wrong = "not-the-password-0123456789";
    let h = gate(image)
        .input("registry", &reg.host)
        .input("registry-username", &reg.user)
        .input("registry-password", wrong)
        .input("tags", "v1");
    let secrets = secret_forms(&reg.user, wrong);
    let (run, seen) = run_watched(&h, &secrets);
    run.assert_code(2);
    assert_one_error(&run, "refused the credentials");
    assert!(registry_tags(&reg, image).is_empty(), "nothing pushed");
    assert_nothing_leaked(&h, &run, &seen, &secrets);
}

#[test]
fn secret_not_found() {
    let reg = registry();
    let h = gate("it/bad")
        .input("registry", &reg.host)
        .input("registry-secret", "ci/does-not-exist");
    let run = h.run();
    run.assert_code(2);
    assert_one_error(
        &run,
        "AWS Secrets Manager secret `ci/does-not-exist` not found",
    );
    assert_private_dir_gone(&h);
}

#[test]
fn secret_not_json() {
    let reg = registry();
    let id = "ci/registry-not-json";
    let value = "hunter2-plain-text-password";
    create_secret(id, value);
    let h = gate("it/bad")
        .input("registry", &reg.host)
        .input("registry-secret", id);
    let run = h.run();
    run.assert_code(2);
    assert_one_error(&run, "secret `ci/registry-not-json` is not JSON");
    assert_no_secrets(&run, &[value.to_owned()]);
    assert_private_dir_gone(&h);
}
