//! Client configuration: addresses, token, TLS, namespace, mount, timeouts, retries.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Default mount path of the engine.
pub const DEFAULT_MOUNT: &str = "crypto";

/// A Vault/OpenBao token. Zeroized on drop; `Debug` never shows it.
#[derive(Clone)]
pub struct Token(Zeroizing<String>);

impl Token {
    /// Wrap a token string.
    pub fn new(token: impl Into<String>) -> Self {
        Token(Zeroizing::new(token.into()))
    }

    /// The token itself. Call sites that need it say so explicitly.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl From<String> for Token {
    fn from(s: String) -> Self {
        Token::new(s)
    }
}

impl From<&str> for Token {
    fn from(s: &str) -> Self {
        Token::new(s)
    }
}

/// Retry and fail-over behaviour.
///
/// A request moves to the next node on a connection failure (nothing was sent), on `503`
/// (sealed, or a standby that does not forward) and on `429` (rate limited, or a standby's
/// `sys/health` code). Every other answer, including timeouts after the request was sent, is
/// returned as is: a signing request is never replayed when it may have been processed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Upper bound on the number of requests sent for one call (at least 1).
    pub max_attempts: u32,
    /// Pause after every node has been tried once, doubled per round up to `max_backoff`.
    pub initial_backoff: Duration,
    /// Largest pause between rounds.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// No retries: one request to the first node.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Set the maximum number of requests per call.
    pub fn with_max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Set the backoff between rounds.
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }
}

/// Everything needed to build a [`Client`](crate::Client).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Node addresses, tried in order (`https://vault-1:8200`, ...).
    pub addresses: Vec<String>,
    /// The token sent as `X-Vault-Token`.
    pub token: Option<Token>,
    /// PEM file with the CA certificate(s) to trust *instead of* the system roots (Vault's
    /// `VAULT_CACERT` semantics).
    pub ca_cert: Option<PathBuf>,
    /// PEM bytes with CA certificates (alternative to `ca_cert`).
    pub ca_cert_pem: Option<Vec<u8>>,
    /// Namespace (`X-Vault-Namespace`), Vault Enterprise / OpenBao namespaces.
    pub namespace: Option<String>,
    /// Mount path of the engine (default `crypto`).
    pub mount: String,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// TCP/TLS connect timeout.
    pub connect_timeout: Duration,
    /// Retry and fail-over.
    pub retry: RetryPolicy,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addresses: vec!["https://127.0.0.1:8200".to_owned()],
            token: None,
            ca_cert: None,
            ca_cert_pem: None,
            namespace: None,
            mount: DEFAULT_MOUNT.to_owned(),
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
        }
    }
}

/// Read `BAO_<name>` first (OpenBao's convention), then `VAULT_<name>`; empty counts as unset.
fn env_var(name: &str) -> Option<String> {
    [format!("BAO_{name}"), format!("VAULT_{name}")]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.trim().is_empty())
}

/// Parse Vault's `VAULT_CLIENT_TIMEOUT` forms: `60`, `60s`, `2m`, `500ms`.
pub(crate) fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = num.parse().ok()?;
    match unit {
        "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" => Some(Duration::from_secs(n.checked_mul(60)?)),
        "h" => Some(Duration::from_secs(n.checked_mul(3600)?)),
        _ => None,
    }
}

impl Config {
    /// Configuration from the environment, like the `vault`/`bao` CLIs:
    ///
    /// | Variable | Meaning |
    /// |---|---|
    /// | `VAULT_ADDR` / `BAO_ADDR` | node address; a comma-separated list enables fail-over |
    /// | `VAULT_TOKEN` / `BAO_TOKEN` | token |
    /// | `VAULT_CACERT` / `BAO_CACERT` | PEM CA bundle trusted instead of the system roots |
    /// | `VAULT_NAMESPACE` / `BAO_NAMESPACE` | namespace |
    /// | `VAULT_CLIENT_TIMEOUT` / `BAO_CLIENT_TIMEOUT` | request timeout (`60`, `30s`, `2m`) |
    /// | `VAULT_MAX_RETRIES` / `BAO_MAX_RETRIES` | retries after the first attempt |
    /// | `VAULT_CRYPTO_MOUNT` | mount path of the engine (default `crypto`) |
    ///
    /// `BAO_*` wins when both are set (OpenBao's order).
    pub fn from_env() -> Result<Self> {
        let mut c = Config::default();
        if let Some(addr) = env_var("ADDR") {
            c.addresses = addr
                .split(',')
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty())
                .collect();
        }
        c.token = env_var("TOKEN").map(Token::new);
        c.ca_cert = env_var("CACERT").map(PathBuf::from);
        c.namespace = env_var("NAMESPACE");
        if let Some(t) = env_var("CLIENT_TIMEOUT") {
            c.timeout = parse_duration(&t).ok_or_else(|| {
                Error::Config(format!("VAULT_CLIENT_TIMEOUT {t:?} is not a duration"))
            })?;
        }
        if let Some(r) = env_var("MAX_RETRIES") {
            let n: u32 = r
                .trim()
                .parse()
                .map_err(|_| Error::Config(format!("VAULT_MAX_RETRIES {r:?} is not a number")))?;
            c.retry.max_attempts = n.saturating_add(1);
        }
        if let Ok(m) = std::env::var("VAULT_CRYPTO_MOUNT")
            && !m.trim().is_empty()
        {
            c.mount = m;
        }
        Ok(c)
    }

    /// A configuration for the given addresses, everything else default.
    pub fn new<I, S>(addresses: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Config {
            addresses: addresses.into_iter().map(Into::into).collect(),
            ..Config::default()
        }
    }

    /// Set the token.
    pub fn with_token(mut self, token: impl Into<Token>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Set the mount path (`crypto` by default). Leading/trailing slashes are ignored.
    pub fn with_mount(mut self, mount: impl Into<String>) -> Self {
        self.mount = mount.into();
        self
    }

    /// Set the namespace.
    pub fn with_namespace(mut self, ns: impl Into<String>) -> Self {
        self.namespace = Some(ns.into());
        self
    }

    /// Trust the CA certificate(s) in this PEM file instead of the system roots.
    pub fn with_ca_cert(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_cert = Some(path.into());
        self
    }

    /// Trust the CA certificate(s) in these PEM bytes instead of the system roots.
    pub fn with_ca_cert_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_cert_pem = Some(pem.into());
        self
    }

    /// Set the whole-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Set the connect timeout.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Set the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_debug_is_redacted() {
        let t = Token::new("s.supersecret");
        assert_eq!(format!("{t:?}"), "Token(<redacted>)");
        let c = Config::default().with_token("s.supersecret");
        assert!(!format!("{c:?}").contains("supersecret"));
        assert_eq!(t.expose_secret(), "s.supersecret");
    }

    #[test]
    fn durations_parse_like_vault_client_timeout() {
        assert_eq!(parse_duration("60"), Some(Duration::from_secs(60)));
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("abc"), None);
        assert_eq!(parse_duration("5d"), None);
    }
}
