//! The one error type of the SDK.

use std::fmt;

/// Result alias used throughout the SDK.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to Vault/OpenBao.
///
/// Messages are lower-case and never contain the token or any secret the request carried.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a non-success status. `errors` are the messages of the
    /// server's `{"errors": [...]}` body (empty when the body had none).
    #[error("{}", api_message(*.status, .errors, .node))]
    Api {
        /// HTTP status code (400 bad input, 403 denied or policy refusal, 404 unknown, ...).
        status: u16,
        /// The server's `errors` messages.
        errors: Vec<String>,
        /// The node that answered.
        node: String,
    },
    /// No node could be reached (or every node answered 503/429) within the retry budget.
    #[error("no node answered after {attempts} attempt(s): {last}")]
    Unavailable {
        /// How many requests were sent.
        attempts: u32,
        /// The last failure seen.
        #[source]
        last: Box<Error>,
    },
    /// Transport failure (connection refused, TLS, timeout, ...).
    #[error("request to {node} failed: {source}")]
    Transport {
        /// The node the request went to.
        node: String,
        /// The underlying HTTP client error.
        #[source]
        source: reqwest::Error,
    },
    /// The response was not what the API contract says.
    #[error("unexpected response from {path}: {reason}")]
    Decode {
        /// API path.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// Invalid configuration (address, CA file, token, mount).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Invalid argument given to an SDK function (checked before any request is made).
    #[error("invalid argument `{field}`: {reason}")]
    InvalidArgument {
        /// The offending field.
        field: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// Local I/O (reading a CA file or a plugin binary).
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A registration/verification step across a cluster failed.
    #[error("registration: {0}")]
    Registration(String),
    /// A node answered with a redirect the client does not follow: to an address that is not
    /// one of the configured nodes, from https to http, a method-changing redirect (301, 302,
    /// 303), or one redirect too many. Nothing (no token, no body) was sent to its target.
    #[error("{node} redirected ({status}) to {target}, not followed: {reason}")]
    Redirect {
        /// The node that answered with the redirect.
        node: String,
        /// Its status (301, 302, 303, 307 or 308).
        status: u16,
        /// The redirect's target origin (`scheme://host:port`), or `"an invalid location"`.
        target: String,
        /// Why it was not followed.
        reason: &'static str,
    },
}

fn api_message(status: u16, errors: &[String], node: &str) -> String {
    let mut s = format!("server {node} answered {status}");
    if !errors.is_empty() {
        s.push_str(": ");
        s.push_str(&errors.join("; "));
    }
    s
}

impl Error {
    /// HTTP status of an [`Error::Api`] (also looks through [`Error::Unavailable`]).
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            Error::Unavailable { last, .. } => last.status(),
            _ => None,
        }
    }

    /// The server's `errors` messages, if any.
    pub fn server_messages(&self) -> &[String] {
        match self {
            Error::Api { errors, .. } => errors,
            Error::Unavailable { last, .. } => last.server_messages(),
            _ => &[],
        }
    }

    /// 404: unknown wallet (or path).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// A create of a name that exists (wallet or policy): a 400 saying so.
    pub fn is_already_exists(&self) -> bool {
        match self {
            Error::Api { status: 400, errors, .. } => {
                errors.iter().any(|e| e.contains("already exists"))
            }
            _ => false,
        }
    }

    /// 400: malformed or missing input; the message names the field.
    pub fn is_bad_request(&self) -> bool {
        self.status() == Some(400)
    }

    /// 403: permission denied, or a signing policy refused (the message names the rule).
    pub fn is_forbidden(&self) -> bool {
        self.status() == Some(403)
    }

    pub(crate) fn decode(path: &str, reason: impl fmt::Display) -> Self {
        Error::Decode {
            path: path.to_owned(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_message_carries_status_and_server_messages() {
        let e = Error::Api {
            status: 403,
            errors: vec!["policy: max_value_per_tx exceeded".into()],
            node: "http://127.0.0.1:8200".into(),
        };
        assert_eq!(
            e.to_string(),
            "server http://127.0.0.1:8200 answered 403: policy: max_value_per_tx exceeded"
        );
        assert!(e.is_forbidden());
        let wrapped = Error::Unavailable {
            attempts: 3,
            last: Box::new(e),
        };
        assert_eq!(wrapped.status(), Some(403));
        assert_eq!(wrapped.server_messages().len(), 1);
    }
}
