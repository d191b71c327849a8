//! Bitcoin: addresses (P2WPKH, P2SH-P2WPKH, P2PKH, P2TR key path) on every
//! network, default derivation paths, account descriptors with BIP-380
//! checksums, BIP-322 and legacy message signatures, and BIP-174 PSBT v0 signing with the legacy, BIP-143 and
//! BIP-341 signature hashes, on RustCrypto `k256` alone.
//!
//! Invariant: no I/O, no randomness of its own (BIP-340 aux randomness is an
//! argument), and no secret ever in an error or `Debug` output.

mod address;
mod descriptor;
mod error;
mod hash;
mod message;
mod multisig;
mod network;
mod psbt;
mod sighash;
mod sign;
mod tx;

pub use address::{
    CompressedPublicKey, MAX_ADDRESS_LEN, NetworkFamily, address, address_from_script,
    script_from_address, script_pubkey, taproot_tweak_public_key,
};
pub use descriptor::{account_descriptor, add_checksum, descriptor_checksum, verify_checksum};
pub use error::BitcoinError;
pub use message::{
    BIP322_TAG, LEGACY_PREFIX, MAX_MESSAGE_BYTES, MessageEncoding, MessageSignature,
    bip322_message_hash, bip322_to_sign, bip322_to_spend, legacy_message_hash, sign_message_bip322,
    sign_message_legacy,
};
pub use multisig::{
    MAX_MULTISIG_KEYS, Multisig, multisig_descriptor_key, multisig_script, p2sh_p2wsh_script,
    p2wsh_script, parse_multisig,
};
pub use network::{AddressType, HARDENED, Network, account_path, default_path, format_path};
pub use psbt::{MAX_PSBT_BYTES, Psbt};
pub use sighash::{
    Prevouts, SIGHASH_ALL, SIGHASH_ANYONECANPAY, SIGHASH_DEFAULT, SIGHASH_NONE, SIGHASH_SINGLE,
    legacy_sighash, parse_sighash_name, segwit_v0_sighash, sighash_name, taproot_key_spend_sighash,
    taproot_sigmsg,
};
pub use sign::{
    InputInfo, MAX_CHANGE_INDEX, MAX_DERIVATION_STEPS, MAX_TX_WEIGHT, MAX_XPUB_DERIVATIONS,
    MultisigInput, OutputInfo, PsbtSummary, Secp256k1KeySource, SignOptions, SignedPsbt, extract,
    sign_psbt, summarize_psbt,
};
pub use tx::{Transaction, TxIn, TxOut};

/// BIP-341 `taproot_tweak_seckey` exposed for known-answer tests: the
/// tweaked secret's 32 bytes are never returned, only its public x.
#[doc(hidden)]
pub fn taproot_tweaked_signing_key(
    sk: &k256::ecdsa::SigningKey,
    merkle_root: Option<&[u8; 32]>,
) -> Result<k256::schnorr::SigningKey, BitcoinError> {
    let pk = CompressedPublicKey::from_k256(&sk.verifying_key().into());
    sign::tweak_secret(sk, &pk.x_only(), merkle_root)
}
