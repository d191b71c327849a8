//! The one error type of the Bitcoin module.

/// Everything that can go wrong in the Bitcoin module.
///
/// Messages are lower-case, name the offending field or structure, and never
/// contain key material: at most public data such as an input index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BitcoinError {
    /// The network name is not one of bitcoin, testnet, signet, regtest.
    #[error("unknown network {0:?}: expected bitcoin, testnet, signet or regtest")]
    UnknownNetwork(String),
    /// The address type name is not one we support.
    #[error("unknown address type {0:?}: expected p2wpkh, p2tr, p2sh-p2wpkh or p2pkh")]
    UnknownAddressType(String),
    /// A public key is not a valid 33-byte compressed secp256k1 point.
    #[error("invalid public key: expected a 33-byte compressed secp256k1 point")]
    InvalidPublicKey,
    /// An x-only public key is not a valid BIP-340 key.
    #[error("invalid x-only public key")]
    InvalidXOnlyKey,
    /// A derivation path element or value is out of range.
    #[error("invalid derivation path: {0}")]
    InvalidPath(&'static str),
    /// A descriptor string cannot be checksummed or built.
    #[error("invalid descriptor: {0}")]
    InvalidDescriptor(&'static str),
    /// The extended public key string is not plausible base58.
    #[error("invalid extended public key")]
    InvalidXpub,
    /// The input is larger than we accept.
    #[error("{what} too large: {len} bytes, at most {max}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The PSBT base64 text does not decode.
    #[error("invalid psbt: not valid base64")]
    InvalidBase64,
    /// The PSBT bytes are malformed.
    #[error("invalid psbt: {0}")]
    InvalidPsbt(String),
    /// A transaction inside the PSBT is malformed.
    #[error("invalid transaction: {0}")]
    InvalidTransaction(&'static str),
    /// An input's data are inconsistent, so it must not be signed.
    #[error("input {index}: {reason}")]
    InvalidInput {
        /// The input index.
        index: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// An input of ours asks for a sighash type the signer may not use
    /// (see `SignOptions::allowed_sighash`). Nothing was signed.
    #[error("input {index}: sighash type {} is not allowed", super::sighash::sighash_label(*.sighash))]
    SighashNotAllowed {
        /// The input index.
        index: usize,
        /// The sighash type it asks for.
        sighash: u32,
    },
    /// An address does not parse (bad checksum, variant, length, prefix or
    /// network). The address itself is not repeated.
    #[error("invalid address: {0}")]
    InvalidAddress(&'static str),
    /// No input of the PSBT can be signed by this key source.
    #[error("no input of the psbt can be signed by this wallet")]
    NothingToSign,
    /// The key source failed to derive a key.
    #[error("key derivation failed")]
    KeyDerivation,
    /// A signature could not be produced (practically unreachable).
    #[error("signing failed")]
    Signing,
    /// The legacy message format has no taproot form (use BIP-322).
    #[error("the legacy message format has no taproot (p2tr) form; use bip322")]
    LegacyTaproot,
}
