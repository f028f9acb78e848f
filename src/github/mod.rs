//! GitHub's REST API: the client with its retry policy ([`GitHub`], [`RetryPolicy`]), its
//! errors ([`ApiError`]), and one file per endpoint family we call (`checks`, `deployments`, `pulls`).
//!
//! This module speaks HTTP and JSON and nothing else: it knows no gate, renders no
//! markdown and reads no environment (the API URL and token are handed in). Gates and
//! `report/` both use it; it uses neither.

pub mod checks;
mod client;
pub mod deployments;
mod error;
pub mod pulls;

pub use client::{ApiResponse, GitHub, RetryDecision, RetryPolicy, classify, next_link};
pub use error::ApiError;
