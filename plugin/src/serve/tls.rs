//! AutoMTLS (protocol.md §3): our own self-signed certificate per process,
//! and verifiers that pin the host's certificate *and* check the handshake
//! signature made with its key.
//!
//! Why custom verifiers: the host's certificate is self-signed with
//! `CA:TRUE`, which webpki refuses as an end-entity (`CaUsedAsEndEntity`);
//! and pinning the DER alone would accept anyone who copied the public
//! certificate out of the environment — the signature check is the proof
//! that the peer holds the key.
//!
//! The aws-lc-rs provider is required: the Go host signs with P-521, which
//! ring cannot verify.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, DistinguishedName, Error, ServerConfig,
    SignatureScheme,
};

/// The ALPN protocol grpc-go (≥1.67) insists on.
pub const ALPN_H2: &[u8] = b"h2";

/// The name the Go host uses for TLS (`ServerName`) and `:authority`.
pub const PEER_NAME: &str = "localhost";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsSetupError {
    #[error("PLUGIN_CLIENT_CERT holds no PEM certificate")]
    NoClientCert,
    #[error("PLUGIN_CLIENT_CERT is not valid PEM: {0}")]
    BadPem(String),
    #[error("PLUGIN_CLIENT_CERT is not an X.509 certificate: {0}")]
    BadCert(String),
    #[error("generating the plugin certificate: {0}")]
    CertGen(#[from] rcgen::Error),
    #[error("building the TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The provider every config in this process uses.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Our certificate and its key, made fresh for this process.
pub struct Identity {
    pub cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("key", &"<redacted>")
            .finish()
    }
}

impl Identity {
    /// The certificate as PEM (what a host puts in `PLUGIN_CLIENT_CERT`).
    pub fn cert_pem(&self) -> String {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(self.cert.as_ref());
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            lines.join("\n")
        )
    }

    /// A P-256 self-signed certificate shaped like go-plugin's own: SAN
    /// `localhost`, `CA:TRUE` (the host uses it as the root that verifies
    /// it), and both serverAuth and clientAuth, because we present the same
    /// certificate as a client when dialling the host's broker listeners.
    pub fn generate() -> Result<Self, TlsSetupError> {
        use rcgen::{
            BasicConstraints, CertificateParams, DistinguishedName as Dn, DnType,
            ExtendedKeyUsagePurpose as Eku, IsCa, KeyPair, KeyUsagePurpose as Ku,
        };
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::new(vec![PEER_NAME.to_string()])?;
        let mut dn = Dn::new();
        dn.push(DnType::OrganizationName, "vault-plugin-crypto");
        dn.push(DnType::CommonName, PEER_NAME);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            Ku::DigitalSignature,
            Ku::KeyEncipherment,
            Ku::KeyAgreement,
            Ku::KeyCertSign,
        ];
        params.extended_key_usages = vec![Eku::ServerAuth, Eku::ClientAuth];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::seconds(30);
        // The process is short-lived; a year is far beyond its lifetime.
        params.not_after = now + time::Duration::days(365);
        let cert = params.self_signed(&key)?;
        Ok(Self {
            cert: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }

    /// Our private key (DER). Only the TLS configs and tests use it.
    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key.clone_key())
    }
}

/// Parses the host certificate handed to us in `PLUGIN_CLIENT_CERT`.
///
/// The DER must parse as an X.509 certificate now: the handshake checks the
/// host's signature with its key, and a block that is empty or not a
/// certificate would otherwise be accepted here and fail only when the host
/// connects — after the connect timeout, with a less clear error.
pub fn parse_host_cert(pem: &str) -> Result<CertificateDer<'static>, TlsSetupError> {
    use rustls_pki_types::pem::PemObject;
    let mut certs = CertificateDer::pem_slice_iter(pem.as_bytes());
    let cert = match certs.next() {
        Some(Ok(c)) => c,
        Some(Err(e)) => return Err(TlsSetupError::BadPem(e.to_string())),
        None => return Err(TlsSetupError::NoClientCert),
    };
    rustls::server::ParsedCertificate::try_from(&cert)
        .map_err(|e| TlsSetupError::BadCert(format!("{e:?}")))?;
    Ok(cert)
}

/// Accepts exactly one certificate (by DER) and checks the handshake
/// signature against it. Used in both directions.
#[derive(Debug)]
pub struct PinnedPeer {
    expected: CertificateDer<'static>,
    provider: Arc<CryptoProvider>,
}

impl PinnedPeer {
    pub fn new(expected: CertificateDer<'static>, provider: Arc<CryptoProvider>) -> Self {
        Self { expected, provider }
    }

    fn check(&self, presented: &CertificateDer<'_>) -> Result<(), Error> {
        if presented.as_ref() == self.expected.as_ref() {
            Ok(())
        } else {
            Err(Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn tls12(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn tls13(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

impl ClientCertVerifier for PinnedPeer {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        self.check(end_entity)
            .map(|()| ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes()
    }
}

impl ServerCertVerifier for PinnedPeer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        self.check(end_entity)
            .map(|()| ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes()
    }
}

/// The server side: the host dials our socket and must present its
/// certificate (client auth mandatory) and negotiate `h2`.
pub fn server_config(
    identity: &Identity,
    host_cert: CertificateDer<'static>,
) -> Result<ServerConfig, TlsSetupError> {
    let provider = provider();
    let verifier = Arc::new(PinnedPeer::new(host_cert, provider.clone()));
    let mut cfg = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![identity.cert.clone()], identity.key_der())?;
    cfg.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(cfg)
}

/// The client side: we dial the host's broker listeners, which serve the
/// host certificate and require ours as the client certificate.
pub fn client_config(
    identity: &Identity,
    host_cert: CertificateDer<'static>,
) -> Result<ClientConfig, TlsSetupError> {
    let provider = provider();
    let verifier = Arc::new(PinnedPeer::new(host_cert, provider.clone()));
    let mut cfg = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_auth_cert(vec![identity.cert.clone()], identity.key_der())?;
    cfg.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(cfg)
}
