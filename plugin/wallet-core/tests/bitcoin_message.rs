//! Bitcoin message signing: the BIP-322 test vectors (vectors/bitcoin/bip322.json),
//! and every signature checked by independent verifiers: the `bip322` crate
//! (rust-bitcoin based) for BIP-322 simple and full, rust-bitcoin's
//! `sign_message` for the legacy compact signature.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bitcoin::consensus::deserialize;
use proptest::prelude::*;
use serde_json::Value;
use wallet_core::Secp256k1PrivateKey;
use wallet_core::bitcoin::{
    AddressType, CompressedPublicKey, MessageEncoding, Network, address, bip322_message_hash,
    bip322_to_sign, bip322_to_spend, legacy_message_hash, script_from_address, sign_message_bip322,
    sign_message_legacy,
};

fn load() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/bitcoin/bip322.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn display_txid(internal: [u8; 32]) -> String {
    let mut b = internal;
    b.reverse();
    hex::encode(b)
}

fn wif_key(wif: &str) -> Secp256k1PrivateKey {
    let raw = bs58::decode(wif).with_check(None).into_vec().unwrap();
    // 0x80 || key || 0x01 (compressed).
    assert_eq!((raw[0], raw.len(), raw[33]), (0x80, 34, 0x01));
    Secp256k1PrivateKey::from_bytes(&raw[1..33].try_into().unwrap()).unwrap()
}

#[test]
fn bip322_vectors_message_hashes_transactions_and_signature() {
    let v = load();
    for m in v["message_hashes"].as_array().unwrap() {
        let msg = m["message"].as_str().unwrap();
        assert_eq!(
            hex::encode(bip322_message_hash(msg.as_bytes())),
            m["hash"].as_str().unwrap()
        );
    }
    let key = wif_key(v["private_key_wif"].as_str().unwrap());
    let addr = v["address"].as_str().unwrap();
    let (spk, _) = script_from_address(addr).unwrap();
    let public = CompressedPublicKey::from_slice(&key.public_key().to_compressed()).unwrap();
    assert_eq!(
        address(&public, AddressType::P2wpkh, Network::Bitcoin).unwrap(),
        addr
    );
    for s in v["signatures"].as_array().unwrap() {
        let msg = s["message"].as_str().unwrap().as_bytes();
        let to_spend = bip322_to_spend(&spk, msg);
        assert_eq!(
            display_txid(to_spend.txid_bytes()),
            s["to_spend_txid"].as_str().unwrap()
        );
        assert_eq!(
            display_txid(bip322_to_sign(&to_spend).txid_bytes()),
            s["to_sign_txid"].as_str().unwrap()
        );
        let sig = sign_message_bip322(&key, AddressType::P2wpkh, msg, &[0u8; 32]).unwrap();
        assert_eq!(sig.encoding, MessageEncoding::Bip322Simple);
        let ours = B64.encode(&sig.bytes);
        let published: Vec<&str> = s["simple"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        // RFC 6979 signatures are deterministic: ours is one of the BIP's.
        assert!(published.contains(&ours.as_str()), "{ours}");
    }
}

const TYPES: [AddressType; 4] = [
    AddressType::P2wpkh,
    AddressType::P2tr,
    AddressType::P2shP2wpkh,
    AddressType::P2pkh,
];

/// Verifies a BIP-322 signature of ours with the `bip322` crate.
fn bip322_verify(addr: &str, msg: &[u8], sig: &wallet_core::bitcoin::MessageSignature) {
    let a = bitcoin::Address::from_str(addr).unwrap().assume_checked();
    let r = match sig.encoding {
        MessageEncoding::Bip322Simple => {
            let w: bitcoin::Witness = deserialize(&sig.bytes).unwrap();
            bip322::verify_simple(&a, msg, w)
        }
        MessageEncoding::Bip322Full => {
            let tx: bitcoin::Transaction = deserialize(&sig.bytes).unwrap();
            bip322::verify_full(&a, msg, tx)
        }
        MessageEncoding::Legacy => panic!("not bip322"),
    };
    assert!(
        matches!(r, Ok(bip322::Verification::Valid { .. })),
        "{addr}: {r:?}"
    );
}

/// Recovers the key of a legacy signature with rust-bitcoin.
fn legacy_recover(msg: &[u8], sig: &[u8]) -> bitcoin::PublicKey {
    let s = bitcoin::sign_message::MessageSignature::from_slice(sig).unwrap();
    let hash = bitcoin::hashes::sha256d::Hash::from_byte_array(legacy_message_hash(msg));
    if let Ok(text) = std::str::from_utf8(msg) {
        // rust-bitcoin's own message hash agrees with ours.
        assert_eq!(bitcoin::sign_message::signed_msg_hash(text), hash);
    }
    s.recover_pubkey(&bitcoin::secp256k1::Secp256k1::verification_only(), hash)
        .unwrap()
}

use bitcoin::hashes::Hash as _;

fn check_all(seed: [u8; 32], msg: &[u8]) {
    let Ok(key) = Secp256k1PrivateKey::from_bytes(&seed) else {
        return;
    };
    let public = CompressedPublicKey::from_slice(&key.public_key().to_compressed()).unwrap();
    for t in TYPES {
        let addr = address(&public, t, Network::Bitcoin).unwrap();
        let sig = sign_message_bip322(&key, t, msg, &seed).unwrap();
        let expected = match t {
            AddressType::P2wpkh | AddressType::P2tr => MessageEncoding::Bip322Simple,
            _ => MessageEncoding::Bip322Full,
        };
        assert_eq!(sig.encoding, expected, "{t}");
        bip322_verify(&addr, msg, &sig);
        // A different message does not verify.
        let mut other = msg.to_vec();
        other.push(b'!');
        let a = bitcoin::Address::from_str(&addr).unwrap().assume_checked();
        let r = match sig.encoding {
            MessageEncoding::Bip322Simple => {
                bip322::verify_simple(&a, &other, deserialize(&sig.bytes).unwrap())
            }
            _ => bip322::verify_full(&a, &other, deserialize(&sig.bytes).unwrap()),
        };
        assert!(r.is_err(), "{t}: a changed message verified");
        if t != AddressType::P2tr {
            let legacy = sign_message_legacy(&key, t, msg).unwrap();
            let recovered = legacy_recover(msg, &legacy.bytes);
            assert_eq!(recovered.inner.serialize(), public.to_bytes(), "{t}");
        }
    }
    // The legacy P2PKH signature also verifies with the bip322 crate's
    // BIP-137 verifier (which accepts P2PKH only).
    if let Ok(text) = std::str::from_utf8(msg) {
        let addr = address(&public, AddressType::P2pkh, Network::Bitcoin).unwrap();
        let legacy = sign_message_legacy(&key, AddressType::P2pkh, msg).unwrap();
        bip322::verify_legacy_encoded(&addr, text, &B64.encode(&legacy.bytes)).unwrap();
    }
}

#[test]
fn every_address_type_verifies_with_independent_implementations() {
    check_all([0x11; 32], b"");
    check_all([0x22; 32], b"Hello World");
    check_all([0x33; 32], "proof of reserves \u{1F4B0}".as_bytes());
    check_all([0x44; 32], &[0xff, 0x00, 0xfe]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn random_keys_and_messages_verify(seed in any::<[u8; 32]>(), msg in proptest::collection::vec(any::<u8>(), 0..300)) {
        check_all(seed, &msg);
    }
}
