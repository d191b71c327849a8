//! Raw signing helpers shared by the chains and by the `sign-hash` path.
//!
//! secp256k1: RFC 6979 deterministic ECDSA over a 32-byte digest, normalized
//! to low-S (BIP-62 / EIP-2), returned with its recovery id.
//! ed25519: RFC 8032 signatures over arbitrary bytes.

use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};

use crate::keys::Secp256k1PublicKey;
use crate::secret::{Ed25519PrivateKey, Secp256k1PrivateKey};

/// Errors of raw signing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The digest is not exactly 32 bytes.
    #[error("hash must be exactly 32 bytes, got {0}")]
    DigestLength(usize),
    /// The signer failed (practically unreachable with a valid key).
    #[error("signing failed")]
    Signing,
    /// The signature's recovery id marks an x-coordinate above the group order
    /// (probability about 2^-127), which Ethereum's `v` cannot express.
    #[error("signature not expressible with a one-bit recovery id")]
    UnrepresentableRecoveryId,
}

/// A recoverable secp256k1 ECDSA signature with low S.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoverableSignature {
    /// `r`, 32 bytes big-endian.
    pub r: [u8; 32],
    /// `s`, 32 bytes big-endian, at most n/2.
    pub s: [u8; 32],
    /// The y-parity of the nonce point R: 0 or 1.
    pub y_parity: u8,
}

impl RecoverableSignature {
    /// `r || s || v` with `v = 27 + recovery id` (Ethereum `eth_sign` style).
    pub fn to_rsv_bytes(&self) -> [u8; 65] {
        let mut out = [0u8; 65];
        out[..32].copy_from_slice(&self.r);
        out[32..64].copy_from_slice(&self.s);
        out[64] = 27 + self.y_parity;
        out
    }

    /// Recovers the public key that made this signature over `digest`.
    pub fn recover(&self, digest: &[u8; 32]) -> Option<Secp256k1PublicKey> {
        let sig = Signature::from_scalars(self.r, self.s).ok()?;
        let recid = RecoveryId::from_byte(self.y_parity)?;
        VerifyingKey::recover_from_prehash(digest, &sig, recid)
            .ok()
            .map(Secp256k1PublicKey)
    }
}

/// Signs a 32-byte digest with recoverable, low-S ECDSA (RFC 6979 nonces).
pub fn sign_digest_secp256k1(
    key: &Secp256k1PrivateKey,
    digest: &[u8; 32],
) -> Result<RecoverableSignature, SignError> {
    let (mut sig, mut recid) = key
        .signing_key()
        .sign_prehash_recoverable(digest)
        .map_err(|_| SignError::Signing)?;
    // k256 already returns low-S; normalizing again is free and makes the
    // invariant local. Negating s mirrors R, so the y-parity flips.
    if let Some(normalized) = sig.normalize_s() {
        sig = normalized;
        recid = RecoveryId::new(!recid.is_y_odd(), recid.is_x_reduced());
    }
    if recid.is_x_reduced() {
        return Err(SignError::UnrepresentableRecoveryId);
    }
    let (r, s) = sig.split_bytes();
    Ok(RecoverableSignature {
        r: r.into(),
        s: s.into(),
        y_parity: u8::from(recid.is_y_odd()),
    })
}

/// `sign-hash` for secp256k1: the digest must be exactly 32 bytes; returns
/// 65 bytes `r || s || v` with low S and `v = 27 + recovery id`.
pub fn sign_hash_secp256k1(
    key: &Secp256k1PrivateKey,
    digest: &[u8],
) -> Result<[u8; 65], SignError> {
    let digest: &[u8; 32] = digest
        .try_into()
        .map_err(|_| SignError::DigestLength(digest.len()))?;
    Ok(sign_digest_secp256k1(key, digest)?.to_rsv_bytes())
}

/// ed25519 signature (RFC 8032) over `message`.
pub fn sign_ed25519(key: &Ed25519PrivateKey, message: &[u8]) -> [u8; 64] {
    use ed25519_dalek::Signer;
    key.signing_key().sign(message).to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_hash_rejects_wrong_length() {
        let key = Secp256k1PrivateKey::from_bytes(&[7u8; 32]).expect("key");
        assert_eq!(
            sign_hash_secp256k1(&key, &[0u8; 31]),
            Err(SignError::DigestLength(31))
        );
        assert_eq!(
            sign_hash_secp256k1(&key, &[0u8; 33]),
            Err(SignError::DigestLength(33))
        );
    }

    #[test]
    fn sign_hash_recovers_to_signer() {
        let key = Secp256k1PrivateKey::from_bytes(&[7u8; 32]).expect("key");
        let digest = [0x42u8; 32];
        let sig = sign_digest_secp256k1(&key, &digest).expect("sign");
        assert_eq!(sig.recover(&digest), Some(key.public_key()));
        let rsv = sign_hash_secp256k1(&key, &digest).expect("sign");
        assert!(rsv[64] == 27 || rsv[64] == 28);
    }
}
