//! GitHub's REST API: the client with its retry policy ([`GitHub`], [`RetryPolicy`]), its
//! errors ([`ApiError`]), and one file per endpoint family we call (`checks`, `deployments`, `pulls`,
//! `commits`, `comments`, `actions`).
//!
//! This module speaks HTTP and JSON and nothing else: it knows no gate, renders no
//! markdown and reads no environment (the API URL and token are handed in). Gates and
//! `report/` both use it; it uses neither.

pub mod actions;
pub mod checks;
mod client;
pub mod comments;
pub mod commits;
pub mod deployments;
mod error;
pub mod pulls;

pub use client::{ApiResponse, GitHub, RetryDecision, RetryPolicy, classify, next_link};
pub use error::ApiError;

/// `text` percent-encoded for a path segment or query value: everything but RFC 3986's
/// unreserved characters is escaped (a check name such as `ci / coverage` holds spaces
/// and a slash).
pub fn query_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
