//! What the host tells us through the environment (protocol.md §1.2).

use std::path::PathBuf;

use rustls::pki_types::CertificateDer;

/// go-plugin's magic cookie for Vault/OpenBao backend plugins.
pub const MAGIC_COOKIE_KEY: &str = "VAULT_BACKEND_PLUGIN";
pub const MAGIC_COOKIE_VALUE: &str = "6669da05-b1c8-4f49-97d9-c8e5bed98e20";

/// The parts of the environment the server needs.
#[derive(Debug, Clone)]
pub struct PluginEnv {
    pub host_cert: CertificateDer<'static>,
    pub socket_dir: Option<PathBuf>,
    pub socket_group: Option<String>,
    /// `PLUGIN_MULTIPLEX_GRPC` was set (the host asks about yamux brokering).
    pub multiplex_grpc_requested: bool,
    /// Exit if no host connects within this time (`CRYPTO_PLUGIN_CONNECT_TIMEOUT`
    /// seconds, 1–600; default 60).
    pub connect_timeout: std::time::Duration,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvError {
    #[error("magic cookie missing or wrong")]
    NotLaunchedByHost,
    #[error("the host offers plugin protocol versions {0:?}, this plugin speaks only 5")]
    ProtocolVersion(String),
    #[error("PLUGIN_CLIENT_CERT is missing: AutoMTLS is required")]
    NoClientCert,
    #[error("PLUGIN_CLIENT_CERT: {0}")]
    BadClientCert(String),
}

impl EnvError {
    /// What a person who ran the binary by hand should read.
    pub fn human_message(&self) -> String {
        match self {
            Self::NotLaunchedByHost => format!(
                "vault-plugin-crypto {}: this binary is a plugin for HashiCorp Vault and OpenBao \
                 and is not meant to be run directly.\n\
                 Copy it into the server's plugin_directory, register it with\n  \
                 vault plugin register -sha256=<sha256 of this file> -version={} secret vault-plugin-crypto\n\
                 and enable it with\n  \
                 vault secrets enable -path=crypto -plugin-version={} vault-plugin-crypto",
                super::plugin_version(),
                super::plugin_version(),
                super::plugin_version()
            ),
            other => format!("vault-plugin-crypto: cannot start: {other}"),
        }
    }
}

impl PluginEnv {
    /// Reads the environment. Takes the variables as an iterator so tests
    /// need not touch the process environment.
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, EnvError> {
        let vars: std::collections::HashMap<String, String> = vars.into_iter().collect();
        if vars.get(MAGIC_COOKIE_KEY).map(String::as_str) != Some(MAGIC_COOKIE_VALUE) {
            return Err(EnvError::NotLaunchedByHost);
        }
        let offered = vars
            .get("PLUGIN_PROTOCOL_VERSIONS")
            .cloned()
            .unwrap_or_default();
        let speaks_5 = offered
            .split(',')
            .any(|v| v.trim().parse::<u32>() == Ok(super::APP_PROTOCOL_VERSION));
        if !speaks_5 {
            return Err(EnvError::ProtocolVersion(offered));
        }
        let pem = vars
            .get("PLUGIN_CLIENT_CERT")
            .filter(|s| !s.trim().is_empty())
            .ok_or(EnvError::NoClientCert)?;
        let host_cert =
            super::tls::parse_host_cert(pem).map_err(|e| EnvError::BadClientCert(e.to_string()))?;
        let non_empty = |k: &str| vars.get(k).filter(|v| !v.is_empty()).cloned();
        Ok(Self {
            host_cert,
            socket_dir: non_empty("PLUGIN_UNIX_SOCKET_DIR").map(PathBuf::from),
            socket_group: non_empty("PLUGIN_UNIX_SOCKET_GROUP"),
            multiplex_grpc_requested: non_empty("PLUGIN_MULTIPLEX_GRPC").is_some(),
            connect_timeout: non_empty("CRYPTO_PLUGIN_CONNECT_TIMEOUT")
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|s| (1..=600).contains(s))
                .map(std::time::Duration::from_secs)
                .unwrap_or(super::CONNECT_TIMEOUT),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn a_cert_pem() -> String {
        crate::serve::tls::Identity::generate()
            .expect("cert")
            .cert_pem()
    }

    #[test]
    fn without_the_magic_cookie_the_binary_refuses_with_a_human_message() {
        let err = PluginEnv::from_vars(vars(&[])).expect_err("no cookie");
        assert_eq!(err, EnvError::NotLaunchedByHost);
        assert!(err.human_message().contains("not meant to be run directly"));
        // The database-plugin cookie used by the host's type probe is refused too.
        let err = PluginEnv::from_vars(vars(&[(
            "VAULT_DATABASE_PLUGIN",
            "926a0820-aea2-be28-51d6-83cdf00e8edb",
        )]))
        .expect_err("wrong cookie");
        assert_eq!(err, EnvError::NotLaunchedByHost);
    }

    #[test]
    fn the_legacy_v4_attempt_is_refused() {
        let err = PluginEnv::from_vars(vars(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "3,4"),
        ]))
        .expect_err("v4");
        assert_eq!(err, EnvError::ProtocolVersion("3,4".into()));
    }

    #[test]
    fn a_v5_launch_without_a_client_cert_is_refused() {
        let err = PluginEnv::from_vars(vars(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "5"),
        ]))
        .expect_err("no cert");
        assert_eq!(err, EnvError::NoClientCert);
    }

    #[test]
    fn a_v5_launch_is_accepted_and_socket_settings_are_read() {
        let pem = a_cert_pem();
        let env = PluginEnv::from_vars(vars(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "4,5"),
            ("PLUGIN_CLIENT_CERT", &pem),
            ("PLUGIN_UNIX_SOCKET_DIR", "/run/x"),
            ("PLUGIN_UNIX_SOCKET_GROUP", ""),
        ]))
        .expect("valid");
        assert_eq!(env.socket_dir, Some(PathBuf::from("/run/x")));
        assert_eq!(env.socket_group, None);
        assert!(!env.multiplex_grpc_requested);
    }

    /// Found by the `plugin_env` fuzz target: an empty PEM block was
    /// accepted as the host certificate (an empty DER), so the plugin
    /// started and failed only when the host connected.
    #[test]
    fn an_empty_certificate_block_is_refused_at_start() {
        let err = PluginEnv::from_vars(vars(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "5"),
            (
                "PLUGIN_CLIENT_CERT",
                "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
            ),
        ]))
        .expect_err("empty certificate");
        assert!(matches!(err, EnvError::BadClientCert(_)), "{err:?}");
    }

    #[test]
    fn a_pem_block_that_is_not_a_certificate_is_refused_at_start() {
        let err = PluginEnv::from_vars(vars(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "5"),
            (
                "PLUGIN_CLIENT_CERT",
                "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n",
            ),
        ]))
        .expect_err("not a certificate");
        let EnvError::BadClientCert(msg) = &err else {
            panic!("{err:?}");
        };
        assert!(msg.contains("not an X.509 certificate"), "{msg}");
    }

    #[test]
    fn garbage_in_the_client_cert_is_refused() {
        let err = PluginEnv::from_vars(vars(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "5"),
            ("PLUGIN_CLIENT_CERT", "not a pem"),
        ]))
        .expect_err("garbage");
        assert!(matches!(err, EnvError::BadClientCert(_)), "{err:?}");
    }
}
