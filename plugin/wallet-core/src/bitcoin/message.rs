//! Bitcoin message signing: BIP-322 ("simple" and "full") and the legacy
//! `Bitcoin Signed Message:` compact signature (BIP-137 header bytes).
//!
//! BIP-322 (bitcoin/bips `bip-0322.mediawiki`): the message is committed to
//! by `message_hash = sha256_tag("BIP0322-signed-message", m)` inside a
//! virtual transaction `to_spend` (version 0, one input spending
//! `000…000:0xFFFFFFFF` with scriptSig `OP_0 PUSH32[message_hash]`, sequence
//! 0, one output of 0 sats paying the address's scriptPubKey), and the
//! signature is an ordinary SIGHASH_ALL (taproot: DEFAULT) input signature
//! of `to_sign` (version 0, lock time 0, one input spending `to_spend:0`
//! with sequence 0, one output of 0 sats to `OP_RETURN`). Both sighashes
//! come from our own sighash module (BIP-143 with amount 0, BIP-341 key
//! path with the BIP-86 tweak, legacy).
//!
//! Encodings: "simple" is the witness stack, consensus encoded (P2WPKH and
//! P2TR); "full" is the whole signed `to_sign` (P2SH-P2WPKH, whose
//! scriptSig a witness alone cannot carry, and P2PKH, which has no
//! witness).
//!
//! Legacy: `sha256d("\x18Bitcoin Signed Message:\n" || varint(len) || m)`,
//! signed with recoverable ECDSA, 65 bytes `header || r || s` where the
//! header is 27 + recovery id + 4 (compressed P2PKH, 31–34), + 8
//! (P2SH-P2WPKH, 35–38) or + 12 (P2WPKH, 39–42), the BIP-137 / Trezor
//! convention. Taproot has no legacy form.
//!
//! Neither form can sign something usable on chain: the BIP-322 digest is
//! a sighash of a transaction spending a 0-sat output of a transaction
//! whose only input is the null outpoint, and the legacy digest's preimage
//! begins with a fixed 25-byte prefix that no transaction serialization or
//! BIP-143/341 preimage a caller could choose begins with.

use k256::ecdsa::Signature;

use super::address::{CompressedPublicKey, p2pkh_script, p2sh_script, p2wpkh_script};
use super::hash::{hash160, sha256d, tagged_hash};
use super::sighash::{Prevouts, legacy_sighash, segwit_v0_sighash, taproot_key_spend_sighash};
use super::tx::{Transaction, TxIn, TxOut, write_compact_size, write_var_bytes};
use super::{AddressType, BitcoinError, SIGHASH_ALL, SIGHASH_DEFAULT, script_pubkey};
use crate::secret::Secp256k1PrivateKey;
use crate::sign_hash::sign_digest_secp256k1;

/// The largest message accepted (64 KiB): a proof-of-ownership or
/// proof-of-reserves statement is a few hundred bytes; the bound keeps the
/// hashing and the (audited) request small.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// The BIP-340 tag of BIP-322 message hashes.
pub const BIP322_TAG: &str = "BIP0322-signed-message";

/// The prefix of legacy signed messages (its first byte is its length, 24).
pub const LEGACY_PREFIX: &[u8] = b"\x18Bitcoin Signed Message:\n";

/// How a message signature is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageEncoding {
    /// BIP-322 simple: the consensus-encoded witness stack.
    Bip322Simple,
    /// BIP-322 full: the consensus-encoded signed `to_sign` transaction.
    Bip322Full,
    /// The 65-byte compact recoverable signature.
    Legacy,
}

impl MessageEncoding {
    /// The name used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageEncoding::Bip322Simple => "simple",
            MessageEncoding::Bip322Full => "full",
            MessageEncoding::Legacy => "legacy",
        }
    }
}

/// A message signature: its bytes (the API shows them in base64).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSignature {
    pub encoding: MessageEncoding,
    pub bytes: Vec<u8>,
}

fn check_len(message: &[u8]) -> Result<(), BitcoinError> {
    if message.len() > MAX_MESSAGE_BYTES {
        return Err(BitcoinError::TooLarge {
            what: "message",
            len: message.len(),
            max: MAX_MESSAGE_BYTES,
        });
    }
    Ok(())
}

/// `sha256_tag("BIP0322-signed-message", message)`.
pub fn bip322_message_hash(message: &[u8]) -> [u8; 32] {
    tagged_hash(BIP322_TAG, &[message])
}

/// The BIP-322 `to_spend` transaction for a scriptPubKey and a message.
pub fn bip322_to_spend(script_pubkey: &[u8], message: &[u8]) -> Transaction {
    let mut script_sig = Vec::with_capacity(34);
    script_sig.push(0x00); // OP_0
    script_sig.push(0x20); // PUSH32
    script_sig.extend_from_slice(&bip322_message_hash(message));
    Transaction {
        version: 0,
        inputs: vec![TxIn {
            prev_txid: [0u8; 32],
            prev_vout: 0xFFFF_FFFF,
            script_sig,
            sequence: 0,
            witness: Vec::new(),
        }],
        outputs: vec![TxOut {
            value: 0,
            script_pubkey: script_pubkey.to_vec(),
        }],
        lock_time: 0,
    }
}

/// The unsigned BIP-322 `to_sign` transaction spending `to_spend:0`.
pub fn bip322_to_sign(to_spend: &Transaction) -> Transaction {
    Transaction {
        version: 0,
        inputs: vec![TxIn {
            prev_txid: to_spend.txid_bytes(),
            prev_vout: 0,
            script_sig: Vec::new(),
            sequence: 0,
            witness: Vec::new(),
        }],
        outputs: vec![TxOut {
            value: 0,
            script_pubkey: vec![0x6a], // OP_RETURN
        }],
        lock_time: 0,
    }
}

/// DER ECDSA signature with the sighash byte, from our low-S signer.
fn ecdsa_sig(key: &Secp256k1PrivateKey, digest: &[u8; 32]) -> Result<Vec<u8>, BitcoinError> {
    let sig = sign_digest_secp256k1(key, digest).map_err(|_| BitcoinError::Signing)?;
    let sig = Signature::from_scalars(sig.r, sig.s).map_err(|_| BitcoinError::Signing)?;
    let mut out = sig.to_der().as_bytes().to_vec();
    out.push(SIGHASH_ALL as u8);
    Ok(out)
}

fn push(script: &mut Vec<u8>, data: &[u8]) {
    // Signatures (≤ 73 bytes), keys (33) and redeem scripts (22) are all
    // direct pushes (below 76 bytes).
    script.push(data.len() as u8);
    script.extend_from_slice(data);
}

/// Signs `message` for the address of `key` with `address_type` (BIP-322):
/// simple for P2WPKH and P2TR, full for P2SH-P2WPKH and P2PKH. `aux_rand`
/// is the BIP-340 auxiliary randomness (taproot only).
pub fn sign_message_bip322(
    key: &Secp256k1PrivateKey,
    address_type: AddressType,
    message: &[u8],
    aux_rand: &[u8; 32],
) -> Result<MessageSignature, BitcoinError> {
    check_len(message)?;
    let public = CompressedPublicKey::from_slice(&key.public_key().to_compressed())?;
    let spk = script_pubkey(&public, address_type);
    let to_spend = bip322_to_spend(&spk, message);
    let mut to_sign = bip322_to_sign(&to_spend);
    let spent = TxOut {
        value: 0,
        script_pubkey: spk.clone(),
    };
    let key_hash = hash160(&public.to_bytes());
    match address_type {
        AddressType::P2wpkh | AddressType::P2shP2wpkh => {
            let digest = segwit_v0_sighash(&to_sign, 0, &p2pkh_script(&key_hash), 0, SIGHASH_ALL)
                .ok_or(BitcoinError::Signing)?;
            let sig = ecdsa_sig(key, &digest)?;
            to_sign.inputs[0].witness = vec![sig, public.to_bytes().to_vec()];
            if address_type == AddressType::P2wpkh {
                return Ok(MessageSignature {
                    encoding: MessageEncoding::Bip322Simple,
                    bytes: encode_witness(&to_sign.inputs[0].witness),
                });
            }
            let mut script_sig = Vec::with_capacity(23);
            push(&mut script_sig, &p2wpkh_script(&key_hash));
            to_sign.inputs[0].script_sig = script_sig;
            debug_assert_eq!(spk, p2sh_script(&hash160(&p2wpkh_script(&key_hash))));
        }
        AddressType::P2tr => {
            let digest = taproot_key_spend_sighash(
                &to_sign,
                0,
                Prevouts::All(std::slice::from_ref(&spent)),
                SIGHASH_DEFAULT as u8,
            )
            .ok_or(BitcoinError::Signing)?;
            let tweaked = super::sign::tweak_secret(&key.to_k256(), &public.x_only(), None)?;
            let sig = tweaked
                .sign_raw(&digest, aux_rand)
                .map_err(|_| BitcoinError::Signing)?;
            let witness = vec![sig.to_bytes().to_vec()];
            return Ok(MessageSignature {
                encoding: MessageEncoding::Bip322Simple,
                bytes: encode_witness(&witness),
            });
        }
        AddressType::P2pkh => {
            let digest = legacy_sighash(&to_sign, 0, &spk, SIGHASH_ALL);
            let sig = ecdsa_sig(key, &digest)?;
            let mut script_sig = Vec::with_capacity(108);
            push(&mut script_sig, &sig);
            push(&mut script_sig, &public.to_bytes());
            to_sign.inputs[0].script_sig = script_sig;
        }
    }
    Ok(MessageSignature {
        encoding: MessageEncoding::Bip322Full,
        bytes: to_sign.serialize(),
    })
}

/// A witness stack, consensus encoded (the BIP-322 simple signature).
fn encode_witness(items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    write_compact_size(&mut out, items.len() as u64);
    for i in items {
        write_var_bytes(&mut out, i);
    }
    out
}

/// `sha256d("\x18Bitcoin Signed Message:\n" || varint(len) || message)`.
pub fn legacy_message_hash(message: &[u8]) -> [u8; 32] {
    let mut pre = Vec::with_capacity(LEGACY_PREFIX.len() + 9 + message.len());
    pre.extend_from_slice(LEGACY_PREFIX);
    write_var_bytes(&mut pre, message);
    sha256d(&pre)
}

/// The legacy compact signature: 65 bytes `header || r || s` with the
/// BIP-137 header of the address type. Taproot has none (a 400 upstream).
pub fn sign_message_legacy(
    key: &Secp256k1PrivateKey,
    address_type: AddressType,
    message: &[u8],
) -> Result<MessageSignature, BitcoinError> {
    check_len(message)?;
    let base = match address_type {
        AddressType::P2pkh => 31,
        AddressType::P2shP2wpkh => 35,
        AddressType::P2wpkh => 39,
        AddressType::P2tr => return Err(BitcoinError::LegacyTaproot),
    };
    let sig = sign_digest_secp256k1(key, &legacy_message_hash(message))
        .map_err(|_| BitcoinError::Signing)?;
    let mut bytes = Vec::with_capacity(65);
    bytes.push(base + sig.y_parity);
    bytes.extend_from_slice(&sig.r);
    bytes.extend_from_slice(&sig.s);
    Ok(MessageSignature {
        encoding: MessageEncoding::Legacy,
        bytes,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn oversized_messages_are_refused_before_hashing() {
        let key = Secp256k1PrivateKey::from_bytes(&[7u8; 32]).unwrap();
        let big = vec![b'a'; MAX_MESSAGE_BYTES + 1];
        for t in [AddressType::P2wpkh, AddressType::P2tr, AddressType::P2pkh] {
            assert!(matches!(
                sign_message_bip322(&key, t, &big, &[0u8; 32]),
                Err(BitcoinError::TooLarge { .. })
            ));
        }
        assert!(matches!(
            sign_message_legacy(&key, AddressType::P2pkh, &big),
            Err(BitcoinError::TooLarge { .. })
        ));
        let max = vec![b'a'; MAX_MESSAGE_BYTES];
        assert!(sign_message_legacy(&key, AddressType::P2pkh, &max).is_ok());
    }

    #[test]
    fn legacy_taproot_is_an_error_and_headers_follow_bip137() {
        let key = Secp256k1PrivateKey::from_bytes(&[7u8; 32]).unwrap();
        assert_eq!(
            sign_message_legacy(&key, AddressType::P2tr, b"x"),
            Err(BitcoinError::LegacyTaproot)
        );
        for (t, lo) in [
            (AddressType::P2pkh, 31u8),
            (AddressType::P2shP2wpkh, 35),
            (AddressType::P2wpkh, 39),
        ] {
            let s = sign_message_legacy(&key, t, b"x").unwrap();
            assert_eq!(s.bytes.len(), 65);
            assert!((lo..lo + 2).contains(&s.bytes[0]), "{t}: {}", s.bytes[0]);
        }
    }
}
