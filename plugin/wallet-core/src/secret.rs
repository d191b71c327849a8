//! Secret types.
//!
//! Every type here is zeroized on drop, prints `<redacted>` in `Debug`, has no
//! `Display` and no `Serialize`, and gives its content only through an
//! explicitly named `expose_*` accessor, so that a reviewer can find every
//! place where secret material leaves its type with one `grep expose_`.

use core::fmt;

use zeroize::{Zeroize, Zeroizing};

use crate::keys::{Ed25519PublicKey, Secp256k1PublicKey};

const REDACTED: &str = "<redacted>";

macro_rules! redacted_debug {
    ($($ty:ident),* $(,)?) => {$(
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($ty)).field(&format_args!("{REDACTED}")).finish()
            }
        }
    )*};
}

redacted_debug!(
    Mnemonic,
    Passphrase,
    Seed,
    Secp256k1PrivateKey,
    Ed25519PrivateKey,
    SecretString,
);

/// A validated BIP39 mnemonic (English), held in its normalized form: NFKD,
/// words separated by single ASCII spaces. Built by [`Mnemonic::parse`],
/// [`Mnemonic::generate`] or [`Mnemonic::from_entropy`] (see
/// [`crate::mnemonic`]).
#[derive(Clone)]
pub struct Mnemonic {
    pub(crate) phrase: Zeroizing<String>,
    pub(crate) words: usize,
}

impl Mnemonic {
    /// The normalized phrase. Secret: only for `export`.
    pub fn expose_phrase(&self) -> &str {
        &self.phrase
    }

    /// Number of words (12, 15, 18, 21 or 24).
    pub fn word_count(&self) -> usize {
        self.words
    }
}

/// A BIP39 passphrase ("25th word"). The empty passphrase is the default.
/// NFKD normalization is applied when the seed is derived.
#[derive(Clone, Default)]
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// Wraps a passphrase.
    pub fn new(passphrase: impl Into<String>) -> Self {
        Passphrase(Zeroizing::new(passphrase.into()))
    }

    /// The passphrase as given. Secret: only for `export`.
    pub fn expose_passphrase(&self) -> &str {
        &self.0
    }

    /// True for the empty passphrase.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A BIP32 seed (16 to 64 bytes; BIP39 seeds are 64 bytes).
#[derive(Clone)]
pub struct Seed(Zeroizing<Vec<u8>>);

impl Seed {
    /// Wraps seed bytes. The length is checked where the seed is used
    /// ([`crate::hd::HdWallet::from_seed`]).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Seed(Zeroizing::new(bytes.to_vec()))
    }

    /// The seed bytes. Secret.
    pub fn expose_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// A secp256k1 private key (a non-zero scalar below the group order).
#[derive(Clone)]
pub struct Secp256k1PrivateKey(pub(crate) k256::ecdsa::SigningKey);

impl Secp256k1PrivateKey {
    /// Builds a key from 32 big-endian bytes; fails for 0 and for values ≥ n.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, InvalidPrivateKey> {
        k256::ecdsa::SigningKey::from_bytes(bytes.into())
            .map(Secp256k1PrivateKey)
            .map_err(|_| InvalidPrivateKey)
    }

    /// The 32-byte big-endian scalar. Secret: only for `export`.
    pub fn expose_bytes(&self) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        let mut bytes = self.0.to_bytes();
        out.copy_from_slice(&bytes);
        bytes.zeroize();
        out
    }

    /// The public key.
    pub fn public_key(&self) -> Secp256k1PublicKey {
        Secp256k1PublicKey(*self.0.verifying_key())
    }

    pub(crate) fn signing_key(&self) -> &k256::ecdsa::SigningKey {
        &self.0
    }

    /// The `k256` signing key, for callers that implement
    /// [`crate::bitcoin::Secp256k1KeySource`]. The clone zeroizes on drop
    /// like this key.
    pub fn to_k256(&self) -> k256::ecdsa::SigningKey {
        self.0.clone()
    }
}

/// An ed25519 private key: the 32-byte seed of RFC 8032 (what SLIP-0010
/// derives and what Solana calls the first half of a keypair).
#[derive(Clone)]
pub struct Ed25519PrivateKey(pub(crate) ed25519_dalek::SigningKey);

impl Ed25519PrivateKey {
    /// Builds a key from its 32-byte seed. Every 32-byte value is valid.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        Ed25519PrivateKey(ed25519_dalek::SigningKey::from_bytes(bytes))
    }

    /// The 32-byte seed. Secret: only for `export`.
    pub fn expose_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The public key.
    pub fn public_key(&self) -> Ed25519PublicKey {
        Ed25519PublicKey(self.0.verifying_key().to_bytes())
    }

    pub(crate) fn signing_key(&self) -> &ed25519_dalek::SigningKey {
        &self.0
    }
}

/// A secret rendered as text (a hex private key, an `xprv`), zeroized on drop.
#[derive(Clone)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    pub(crate) fn new(s: String) -> Self {
        SecretString(Zeroizing::new(s))
    }

    /// The text. Secret: only for `export`.
    pub fn expose_str(&self) -> &str {
        &self.0
    }
}

/// The bytes are not a valid private key on this curve. Carries nothing of the
/// rejected value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid private key")]
pub struct InvalidPrivateKey;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Mnemonic>();
        check::<Passphrase>();
        check::<Seed>();
        check::<Secp256k1PrivateKey>();
        check::<Ed25519PrivateKey>();
        check::<SecretString>();
    }

    #[test]
    fn secp256k1_rejects_zero_and_order() {
        assert!(Secp256k1PrivateKey::from_bytes(&[0u8; 32]).is_err());
        let n = hex::decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
            .expect("hex");
        let n: [u8; 32] = n.try_into().expect("32 bytes");
        assert!(Secp256k1PrivateKey::from_bytes(&n).is_err());
        assert!(Secp256k1PrivateKey::from_bytes(&[1u8; 32]).is_ok());
    }
}
