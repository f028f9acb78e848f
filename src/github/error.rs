//! What can go wrong talking to GitHub's REST API, after any retries.
//!
//! Messages name the request (`POST /repos/o/r/check-runs`) and never carry the token.

use http::{Method, StatusCode};

/// A request to GitHub failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// GitHub answered with an error status (after any retries).
    #[error("{method} {path}: HTTP {status}: {message}")]
    Status {
        /// Method.
        method: Method,
        /// Path.
        path: String,
        /// Status code.
        status: StatusCode,
        /// GitHub's `message`.
        message: String,
    },
    /// No answer (connection, timeout), after any retries.
    #[error("{method} {path}: {reason}")]
    Transport {
        /// Method.
        method: Method,
        /// Path.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The answer was not the JSON we expected.
    #[error("{method} {path}: unexpected response: {reason}")]
    Decode {
        /// Method.
        method: Method,
        /// Path.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// The client could not be built.
    #[error("cannot build the GitHub client")]
    Build(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// The token may not do this (fork and Dependabot PRs get read-only tokens), or the
    /// token is not valid: reporting has to degrade rather than fail the gate.
    pub fn is_permission(&self) -> bool {
        matches!(self, ApiError::Status { status, .. }
            if *status == StatusCode::FORBIDDEN || *status == StatusCode::UNAUTHORIZED || *status == StatusCode::NOT_FOUND)
    }
}
