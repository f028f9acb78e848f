//! A Kubernetes API error as a person needs it: [`ApiError`], made from a request's or a
//! watch's error, keeping the client's error whole. Pure.

use std::fmt;

use super::error::BoxError;

/// A Kubernetes API error as a person needs it: the server's message, or for a connection
/// failure its innermost cause (`Connection refused (os error 111)`).
///
/// The client's error is kept whole ([`ApiError::client_error`]) but is not this error's
/// `source`: kube's messages repeat their own sources and print the server's `Status` with
/// `{:?}` (`ApiError: ... (Status { .. })`), so a chain printed through them would say
/// everything two or three times. The chain a person reads ends at [`ApiError`]'s
/// message.
#[derive(Debug)]
pub struct ApiError(Box<ApiErrorParts>);

/// [`ApiError`]'s contents, boxed so that every [`Error`] stays small.
#[derive(Debug)]
struct ApiErrorParts {
    message: String,
    code: Option<u16>,
    connection: bool,
    client_error: BoxError,
}

impl ApiError {
    /// From a request's error.
    pub fn from_kube(e: kube::Error) -> Self {
        let (message, code, connection) = match &e {
            kube::Error::Api(s) => (
                if s.message.is_empty() {
                    format!("{} ({})", s.reason, s.code)
                } else {
                    s.message.clone()
                },
                Some(s.code),
                false,
            ),
            // The innermost cause says what happened (`Connection refused`); kube's own
            // wrappers only repeat it.
            kube::Error::HyperError(_) | kube::Error::Service(_) => {
                (innermost(&e).unwrap_or_else(|| e.to_string()), None, true)
            }
            other => (other.to_string(), None, false),
        };
        Self::new(message, code, connection, Box::new(e))
    }

    fn new(message: String, code: Option<u16>, connection: bool, client_error: BoxError) -> Self {
        Self(Box::new(ApiErrorParts {
            message,
            code,
            connection,
            client_error,
        }))
    }

    /// From a watch's error.
    pub fn from_watch(e: kube::runtime::watcher::Error) -> Self {
        use kube::runtime::watcher::Error as W;
        match e {
            W::InitialListFailed(k) | W::WatchStartFailed(k) | W::WatchFailed(k) => {
                Self::from_kube(k)
            }
            W::WatchError(s) => Self::new(
                format!("{} ({})", s.message, s.code),
                Some(s.code),
                false,
                Box::new(W::WatchError(s)),
            ),
            other => Self::new(other.to_string(), None, false, Box::new(other)),
        }
    }

    /// The HTTP status the server answered with, if it answered.
    pub fn code(&self) -> Option<u16> {
        self.0.code
    }

    /// Whether the server could not be reached at all.
    pub fn is_connection(&self) -> bool {
        self.0.connection
    }

    /// The client's error, whole.
    pub fn client_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self.0.client_error.as_ref()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for ApiError {}

/// The last of an error's sources, whose message is not already in an earlier one.
fn innermost(e: &dyn std::error::Error) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = e.source();
    while let Some(c) = cur {
        let s = c.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = c.source();
    }
    parts.pop()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16, message: &str) -> ApiError {
        ApiError::from_kube(kube::Error::Api(Box::new(
            kube::core::Status::failure(message, "Reason").with_code(code),
        )))
    }

    #[test]
    fn api_errors_keep_the_client_error_but_print_only_the_summary() {
        let e = api(403, "forbidden: no");
        assert_eq!(e.to_string(), "forbidden: no");
        assert_eq!(e.code(), Some(403));
        assert!(!e.is_connection());
        assert!(
            e.client_error().to_string().starts_with("ApiError: "),
            "the client's error is kept whole"
        );
        assert!(std::error::Error::source(&e).is_none());
    }

    #[test]
    fn watch_errors_read_like_request_errors() {
        use kube::runtime::watcher::Error as W;
        let status = || Box::new(kube::core::Status::failure("too old", "Expired").with_code(410));
        let e = ApiError::from_watch(W::WatchError(status()));
        assert_eq!(
            (e.to_string(), e.code()),
            ("too old (410)".to_owned(), Some(410))
        );
        let e = ApiError::from_watch(W::WatchFailed(kube::Error::Api(status())));
        assert_eq!(e.to_string(), "too old", "as the request error would read");
        let e = ApiError::from_watch(W::NoResourceVersion);
        assert!(e.to_string().contains("resourceVersion") && e.code().is_none());
    }

    #[test]
    fn a_connection_failure_reads_as_its_innermost_cause() {
        #[derive(Debug, thiserror::Error)]
        #[error("client error (Connect)")]
        struct Outer(#[source] std::io::Error);
        let io = std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused (os error 111)",
        );
        let e = ApiError::from_kube(kube::Error::Service(Box::new(Outer(io))));
        assert_eq!(e.to_string(), "Connection refused (os error 111)");
        assert!(e.is_connection() && e.code().is_none());
    }
}
