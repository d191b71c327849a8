//! The pure wallet core: key material, derivation and chain-specific signing.
//!
//! Invariant: this crate performs no I/O, knows nothing of protobuf, gRPC or
//! the host, and never logs. Every secret lives in a type that is zeroized on
//! drop and redacted in `Debug` (see [`secret`]); no error message of this
//! crate contains secret material.
//!
//! Map:
//! - [`secret`]: the secret types (mnemonic, passphrase, seed, private keys).
//! - [`mnemonic`]: BIP39 generation, import and seed derivation.
//! - [`hd`]: derivation paths, BIP32 (secp256k1), SLIP-0010 (ed25519),
//!   extended keys, [`hd::HdWallet`] and [`hd::KeyWallet`].
//! - [`keys`]: public key types.
//! - [`sign_hash`]: raw digest signing (secp256k1 recoverable ECDSA, ed25519).
//! - [`ethereum`]: addresses, transactions, EIP-191 and EIP-712.
//! - [`solana`]: addresses, message signing, transaction parsing and signing.
//! - [`bitcoin`]: addresses, descriptors and PSBT v0 signing.

pub mod base58;
pub mod bitcoin;
pub mod ethereum;
pub mod hd;
pub mod keys;
pub mod mnemonic;
pub mod secret;
pub mod sign_hash;
pub mod solana;

pub use hd::{Curve, DerivationPath, HdWallet, KeyWallet};
pub use keys::{Ed25519PublicKey, Secp256k1PublicKey};
pub use secret::{
    Ed25519PrivateKey, Mnemonic, Passphrase, Secp256k1PrivateKey, SecretString, Seed,
};
