//! Public key types.

use core::fmt;

/// A secp256k1 public key (always a valid curve point).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Secp256k1PublicKey(pub(crate) k256::ecdsa::VerifyingKey);

impl Secp256k1PublicKey {
    /// Parses a SEC1 encoding (33-byte compressed or 65-byte uncompressed).
    pub fn from_sec1_bytes(bytes: &[u8]) -> Result<Self, InvalidPublicKey> {
        k256::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
            .map(Secp256k1PublicKey)
            .map_err(|_| InvalidPublicKey)
    }

    /// The 33-byte SEC1 compressed encoding.
    pub fn to_compressed(&self) -> [u8; 33] {
        let point = self.0.to_encoded_point(true);
        let mut out = [0u8; 33];
        out.copy_from_slice(point.as_bytes());
        out
    }

    /// The 65-byte SEC1 uncompressed encoding (`04 || x || y`).
    pub fn to_uncompressed(&self) -> [u8; 65] {
        let point = self.0.to_encoded_point(false);
        let mut out = [0u8; 65];
        out.copy_from_slice(point.as_bytes());
        out
    }

    /// The underlying `k256` key, for callers that verify or build scripts.
    pub fn as_k256(&self) -> &k256::ecdsa::VerifyingKey {
        &self.0
    }
}

impl fmt::Debug for Secp256k1PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Secp256k1PublicKey({})",
            hex::encode(self.to_compressed())
        )
    }
}

/// An ed25519 public key: 32 bytes (the Solana address is its base58).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ed25519PublicKey(pub(crate) [u8; 32]);

impl Ed25519PublicKey {
    /// Wraps 32 bytes. Not checked to be a valid point: a Solana account key
    /// may be any 32 bytes (program-derived addresses are off the curve).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Ed25519PublicKey(bytes)
    }

    /// The 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// Verifies an ed25519 signature (strict RFC 8032 verification).
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&self.0) else {
            return false;
        };
        key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(signature))
            .is_ok()
    }
}

impl fmt::Debug for Ed25519PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ed25519PublicKey({})", hex::encode(self.0))
    }
}

/// The bytes are not a valid public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid public key")]
pub struct InvalidPublicKey;
