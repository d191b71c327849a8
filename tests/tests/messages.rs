//! Bitcoin message signing (BIP-322 simple and full, legacy) and Solana
//! off-chain messages through a real server (issue 14).
//!
//! Independent checks: the `bip322` crate (built on rust-bitcoin) verifies
//! BIP-322 signatures and BIP-137 P2PKH legacy ones; rust-bitcoin's
//! `sign_message` recovers the key of every legacy signature; addresses
//! are derived here with rust-bitcoin's BIP32; Agave's
//! `solana-offchain-message` crate serializes the envelope we compare the
//! engine's with, and ed25519-dalek verifies the signature over it.

mod engine_common;

use std::str::FromStr;

use base64::Engine as _;
use bitcoin::hashes::Hash as _;
use bitcoin::secp256k1::{Message, Secp256k1};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use engine_common::{ABANDON, B64, Engine, expect_403_naming, secp_key, seed, st};
use integration_tests::Reply;
use serde_json::{Value, json};

const SOL0: &str = "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk";

fn btc_sign(e: &Engine, w: &str, body: Value) -> Reply {
    e.write(&format!("crypto/wallets/{w}/bitcoin/sign-message"), body)
}

fn ok(r: &Reply) -> Value {
    r.expect_status(200);
    r.data().clone()
}

fn expect_400_naming(r: &Reply, field: &str) {
    r.expect_status(400);
    assert!(
        r.errors().contains(&format!("\"{field}\"")),
        "the 400 does not name {field}: {}",
        r.body
    );
}

/// The address rust-bitcoin derives for the abandon mnemonic at the
/// default path of an address type.
fn expected_address(address_type: &str, network: bitcoin::Network) -> (String, [u8; 33]) {
    let coin = if network == bitcoin::Network::Bitcoin {
        0
    } else {
        1
    };
    let purpose = match address_type {
        "p2wpkh" => 84,
        "p2tr" => 86,
        "p2sh-p2wpkh" => 49,
        _ => 44,
    };
    let (_, pk) = secp_key(&seed(ABANDON, ""), &format!("m/{purpose}'/{coin}'/0'/0/0"));
    let cpk = bitcoin::CompressedPublicKey(pk);
    let secp = Secp256k1::verification_only();
    let a = match address_type {
        "p2wpkh" => bitcoin::Address::p2wpkh(&cpk, network),
        "p2tr" => bitcoin::Address::p2tr(&secp, pk.x_only_public_key().0, None, network),
        "p2sh-p2wpkh" => bitcoin::Address::p2shwpkh(&cpk, network),
        _ => bitcoin::Address::p2pkh(cpk, network),
    };
    (a.to_string(), pk.serialize())
}

fn legacy_key(sig_b64: &str, hash: [u8; 32]) -> [u8; 33] {
    let bytes = B64.decode(sig_b64).expect("base64");
    let sig = bitcoin::sign_message::MessageSignature::from_slice(&bytes).expect("65 bytes");
    sig.recover_pubkey(
        &Secp256k1::verification_only(),
        bitcoin::hashes::sha256d::Hash::from_byte_array(hash),
    )
    .expect("recovers")
    .inner
    .serialize()
}

/// `sha256d("\x18Bitcoin Signed Message:\n" || varint(len) || m)`, written here.
fn legacy_hash(m: &[u8]) -> [u8; 32] {
    let mut pre = b"\x18Bitcoin Signed Message:\n".to_vec();
    bitcoin::consensus::encode::VarInt(m.len() as u64)
        .consensus_encode(&mut pre)
        .expect("vec");
    pre.extend_from_slice(m);
    bitcoin::hashes::sha256d::Hash::hash(&pre).to_byte_array()
}

use bitcoin::consensus::Encodable as _;

#[test]
fn bitcoin_bip322_and_legacy_signatures_verify_with_independent_implementations() {
    let e = Engine::start();
    e.abandon("w", json!({}));
    let cases = [
        ("p2wpkh", "simple"),
        ("p2tr", "simple"),
        ("p2sh-p2wpkh", "full"),
        ("p2pkh", "full"),
    ];
    for network in [bitcoin::Network::Bitcoin, bitcoin::Network::Testnet] {
        let net = if network == bitcoin::Network::Bitcoin {
            "bitcoin"
        } else {
            "testnet"
        };
        for (ty, encoding) in cases {
            let (addr, public) = expected_address(ty, network);
            for msg in ["Hello World", "", "proof of reserves \u{1F4B0}"] {
                let d = ok(&btc_sign(
                    &e,
                    "w",
                    json!({"message": msg, "address_type": ty, "network": net}),
                ));
                assert_eq!(st(&d, "address"), addr, "{ty} {net}");
                assert_eq!(st(&d, "format"), "bip322");
                assert_eq!(st(&d, "encoding"), encoding, "{ty}");
                let sig = st(&d, "signature");
                let v = if encoding == "simple" {
                    bip322::verify_simple_encoded(&addr, msg, sig)
                } else {
                    bip322::verify_full_encoded(&addr, msg, sig)
                };
                assert!(
                    matches!(v, Ok(bip322::Verification::Valid { .. })),
                    "{ty} {net} {msg:?}: {v:?}"
                );
                // The same signature does not prove another message.
                let other = if encoding == "simple" {
                    bip322::verify_simple_encoded(&addr, "Hello World!", sig)
                } else {
                    bip322::verify_full_encoded(&addr, "Hello World!", sig)
                };
                assert!(other.is_err(), "{ty}: verified for another message");
                let intent = &d["intent"];
                assert_eq!(intent["kind"], "message");
                assert_eq!(intent["format"], "bip322");
                assert_eq!(intent["address"], json!(addr));
                assert_eq!(intent["message_length"], json!(msg.len()));
                assert_eq!(
                    intent["message_sha256"],
                    json!(hex::encode(bitcoin::hashes::sha256::Hash::hash(
                        msg.as_bytes()
                    )))
                );

                if ty == "p2tr" {
                    continue;
                }
                let d = ok(&btc_sign(
                    &e,
                    "w",
                    json!({"message": msg, "address_type": ty, "network": net, "format": "legacy"}),
                ));
                let sig = st(&d, "signature");
                assert_eq!(st(&d, "encoding"), "legacy");
                let header = B64.decode(sig).expect("base64")[0];
                let base = match ty {
                    "p2pkh" => 31,
                    "p2sh-p2wpkh" => 35,
                    _ => 39,
                };
                assert!((base..base + 4).contains(&header), "{ty}: header {header}");
                assert_eq!(
                    legacy_hash(msg.as_bytes()),
                    bitcoin::sign_message::signed_msg_hash(msg).to_byte_array()
                );
                assert_eq!(legacy_key(sig, legacy_hash(msg.as_bytes())), public, "{ty}");
                if ty == "p2pkh" {
                    bip322::verify_legacy_encoded(&addr, msg, sig).expect("BIP-137 verifies");
                }
            }
        }
    }
    // Bytes that are not UTF-8, through message_hex (with and without 0x).
    let (addr, public) = expected_address("p2wpkh", bitcoin::Network::Bitcoin);
    let raw = [0xffu8, 0x00, 0xc3, 0x28];
    for hex_text in [hex::encode(raw), format!("0x{}", hex::encode(raw))] {
        let d = ok(&btc_sign(&e, "w", json!({"message_hex": hex_text})));
        let a = bitcoin::Address::from_str(&addr)
            .expect("address")
            .assume_checked();
        let w: bitcoin::Witness =
            bitcoin::consensus::deserialize(&B64.decode(st(&d, "signature")).expect("b64"))
                .expect("witness");
        assert!(matches!(
            bip322::verify_simple(&a, raw, w),
            Ok(bip322::Verification::Valid { .. })
        ));
        let d = ok(&btc_sign(
            &e,
            "w",
            json!({"message_hex": hex_text, "format": "legacy"}),
        ));
        assert_eq!(legacy_key(st(&d, "signature"), legacy_hash(&raw)), public);
    }
    e.assert_no_secret_leaked();
}

#[test]
fn bitcoin_sign_message_refuses_bad_input_naming_the_field() {
    let e = Engine::start();
    e.abandon("w", json!({}));
    expect_400_naming(&btc_sign(&e, "w", json!({})), "message");
    expect_400_naming(
        &btc_sign(&e, "w", json!({"message": "a", "message_hex": "61"})),
        "message",
    );
    // The bound: 64 KiB is signed, one byte more is refused, either field.
    let max = 64 * 1024;
    ok(&btc_sign(&e, "w", json!({"message": "a".repeat(max)})));
    expect_400_naming(
        &btc_sign(&e, "w", json!({"message": "a".repeat(max + 1)})),
        "message",
    );
    expect_400_naming(
        &btc_sign(&e, "w", json!({"message_hex": "61".repeat(max + 1)})),
        "message_hex",
    );
    for bad in ["6", "zz", "0x6"] {
        expect_400_naming(
            &btc_sign(&e, "w", json!({"message_hex": bad})),
            "message_hex",
        );
    }
    expect_400_naming(
        &btc_sign(
            &e,
            "w",
            json!({"message": "x", "address_type": "p2tr", "format": "legacy"}),
        ),
        "format",
    );
    expect_400_naming(
        &btc_sign(&e, "w", json!({"message": "x", "format": "bip137"})),
        "format",
    );
    expect_400_naming(
        &btc_sign(&e, "w", json!({"message": "x", "address_type": "p2wsh"})),
        "address_type",
    );
    // An ed25519 key wallet cannot sign bitcoin.
    e.import_key("ed", "ed25519", &[9u8; 32], json!({}));
    btc_sign(&e, "ed", json!({"message": "x"})).expect_status(400);
}

/// A transaction spending a P2WPKH output of the wallet's key, and its
/// BIP-143 sighash and preimage (rust-bitcoin).
fn victim_sighash(public: [u8; 33]) -> ([u8; 32], Vec<u8>) {
    use bitcoin::sighash::{EcdsaSighashType, SighashCache};
    let cpk = bitcoin::CompressedPublicKey::from_slice(&public).expect("key");
    let spk = bitcoin::ScriptBuf::new_p2wpkh(&cpk.wpubkey_hash());
    let tx = bitcoin::Transaction {
        version: bitcoin::transaction::Version(2),
        lock_time: bitcoin::absolute::LockTime::ZERO,
        input: vec![bitcoin::TxIn {
            previous_output: bitcoin::OutPoint {
                txid: bitcoin::Txid::from_byte_array([7u8; 32]),
                vout: 0,
            },
            script_sig: bitcoin::ScriptBuf::new(),
            sequence: bitcoin::Sequence::MAX,
            witness: bitcoin::Witness::new(),
        }],
        output: vec![bitcoin::TxOut {
            value: bitcoin::Amount::from_sat(99_000_000),
            script_pubkey: bitcoin::ScriptBuf::new_op_return([0x42u8; 4]),
        }],
    };
    let mut cache = SighashCache::new(&tx);
    let amount = bitcoin::Amount::from_sat(100_000_000);
    let sighash = cache
        .p2wpkh_signature_hash(0, &spk, amount, EcdsaSighashType::All)
        .expect("sighash");
    let mut preimage = Vec::new();
    cache
        .segwit_v0_encode_signing_data_to(
            &mut preimage,
            0,
            &spk.p2wpkh_script_code().expect("code"),
            amount,
            EcdsaSighashType::All,
        )
        .expect("preimage");
    (sighash.to_byte_array(), preimage)
}

/// Attacker angle: `message_hex` set to a real transaction's sighash, or
/// its preimage, never yields a signature valid for that transaction: the
/// legacy digest carries the "Bitcoin Signed Message" prefix, and BIP-322
/// signs a sighash of its own virtual transaction.
#[test]
fn message_hex_cannot_produce_a_transaction_signature() {
    let e = Engine::start();
    e.abandon("w", json!({}));
    let (_, public) = expected_address("p2wpkh", bitcoin::Network::Bitcoin);
    let pk = bitcoin::secp256k1::PublicKey::from_slice(&public).expect("key");
    let (sighash, preimage) = victim_sighash(public);
    let secp = Secp256k1::verification_only();
    let target = Message::from_digest(sighash);
    for payload in [sighash.to_vec(), preimage.clone()] {
        let hx = hex::encode(&payload);
        // Legacy: a compact signature; as ECDSA it verifies only for its
        // prefixed digest.
        let d = ok(&btc_sign(
            &e,
            "w",
            json!({"message_hex": hx, "format": "legacy"}),
        ));
        let bytes = B64.decode(st(&d, "signature")).expect("b64");
        let sig = bitcoin::secp256k1::ecdsa::Signature::from_compact(&bytes[1..]).expect("compact");
        assert!(secp.verify_ecdsa(&target, &sig, &pk).is_err());
        let own = Message::from_digest(legacy_hash(&payload));
        secp.verify_ecdsa(&own, &sig, &pk)
            .expect("verifies for the prefixed digest");
        // BIP-322 simple: the witness signature is not valid for the sighash.
        let d = ok(&btc_sign(&e, "w", json!({"message_hex": hx})));
        let w: bitcoin::Witness =
            bitcoin::consensus::deserialize(&B64.decode(st(&d, "signature")).expect("b64"))
                .expect("witness");
        let der = w.nth(0).expect("signature");
        let sig =
            bitcoin::secp256k1::ecdsa::Signature::from_der(&der[..der.len() - 1]).expect("der");
        assert!(secp.verify_ecdsa(&target, &sig, &pk).is_err());
    }
}

#[test]
fn bitcoin_policy_refuses_message_signing_unless_allowed() {
    let e = Engine::start();
    e.abandon("pol", json!({}));
    e.abandon("eth-only", json!({}));
    policy(
        &e,
        "crypto/policies/pol/bitcoin",
        json!({"max_fee": "1000"}),
    );
    policy(
        &e,
        "crypto/policies/eth-only/ethereum",
        json!({"allow_message_signing": false}),
    );
    // The default on bitcoin is false, and reading the policy says so.
    let p = ok(&e.get("crypto/policies/pol/bitcoin"));
    assert_eq!(p["allow_message_signing"], false, "{p}");
    let secret_text = "attestation 7f3a9c: this text must not be echoed";
    for format in ["bip322", "legacy"] {
        let body = json!({"message": secret_text, "format": format});
        expect_403_naming(&btc_sign(&e, "pol", body.clone()), "allow_message_signing");
        let mut c = body.clone();
        c["operation"] = json!("sign-message");
        let d = ok(&e.write("crypto/policies/pol/bitcoin/check", c.clone()));
        assert_eq!(d["allowed"], false, "{d}");
        assert_eq!(d["rule"], "allow_message_signing", "{d}");
        assert_eq!(d["intent"]["format"], format);
        assert_eq!(d["intent"]["message_length"], json!(secret_text.len()));
        assert!(!d.to_string().contains("7f3a9c"), "{d}");
        // A policy on another chain does not govern bitcoin messages.
        ok(&btc_sign(&e, "eth-only", body.clone()));
    }
    // Positive control: allowed explicitly.
    policy(
        &e,
        "crypto/policies/pol/bitcoin",
        json!({"allow_message_signing": true}),
    );
    for format in ["bip322", "legacy"] {
        let body = json!({"message": secret_text, "format": format});
        let d = ok(&btc_sign(&e, "pol", body.clone()));
        assert!(!d.to_string().contains("7f3a9c"), "echoed: {d}");
        let mut c = body;
        c["operation"] = json!("sign-message");
        let d = ok(&e.write("crypto/policies/pol/bitcoin/check", c));
        assert_eq!(d["allowed"], true, "{d}");
    }
    // Explicitly false refuses again.
    policy(
        &e,
        "crypto/policies/pol/bitcoin",
        json!({"allow_message_signing": false}),
    );
    expect_403_naming(
        &btc_sign(&e, "pol", json!({"message": "x"})),
        "allow_message_signing",
    );
}

fn policy(e: &Engine, path: &str, body: Value) {
    let r = e.write(path, body);
    assert!(matches!(r.status, 200 | 204), "{path}: {}", r.body);
}

fn sol_sign(e: &Engine, w: &str, body: Value) -> Reply {
    e.write(&format!("crypto/wallets/{w}/solana/sign-message"), body)
}

fn sol_verify(bytes: &[u8], sig_b58: &str) -> bool {
    let sig = bs58::decode(sig_b58).into_vec().expect("base58");
    let key: [u8; 32] = bs58::decode(SOL0)
        .into_vec()
        .expect("base58")
        .try_into()
        .expect("32");
    VerifyingKey::from_bytes(&key)
        .expect("key")
        .verify(bytes, &Signature::from_bytes(&sig.try_into().expect("64")))
        .is_ok()
}

#[test]
fn solana_offchain_messages_match_agave_and_verify_over_the_envelope() {
    let e = Engine::start();
    e.abandon("w", json!({}));
    let long = "z".repeat(2000);
    let cases: [(&[u8], &str); 4] = [
        (b"Sign in to example.com", "restricted-ascii"),
        ("Тестовое сообщение".as_bytes(), "limited-utf8"),
        (b"line one\nline two", "limited-utf8"),
        (long.as_bytes(), "extended-utf8"),
    ];
    for (msg, fmt) in cases {
        let d = ok(&sol_sign(
            &e,
            "w",
            json!({"message": B64.encode(msg), "format": "offchain"}),
        ));
        let envelope = B64.decode(st(&d, "envelope")).expect("b64");
        let agave = solana_offchain_message::OffchainMessage::new(0, msg)
            .expect("agave accepts")
            .serialize()
            .expect("serialize");
        assert_eq!(envelope, agave, "{fmt}");
        assert_eq!(st(&d, "message_format"), fmt);
        assert_eq!(st(&d, "format"), "offchain");
        assert_eq!(d["version"], 0);
        assert!(sol_verify(&envelope, st(&d, "signature")), "{fmt}");
        assert!(!sol_verify(msg, st(&d, "signature")));
        assert_eq!(d["intent"]["format"], "offchain");
        assert_eq!(d["intent"]["message_length"], json!(msg.len()));
    }
    // raw stays the default and signs the bytes themselves.
    let d = ok(&sol_sign(&e, "w", json!({"message": B64.encode(b"hi")})));
    assert_eq!(st(&d, "format"), "raw");
    assert!(d.get("envelope").is_none());
    assert!(sol_verify(b"hi", st(&d, "signature")));
    // Refusals: empty, not UTF-8, too long, application_domain, bad format.
    let off = |m: &[u8]| {
        sol_sign(
            &e,
            "w",
            json!({"message": B64.encode(m), "format": "offchain"}),
        )
    };
    expect_400_naming(&off(b""), "message");
    expect_400_naming(&off(&[0x61, 0xff, 0x62]), "message");
    ok(&off(&vec![b'a'; 65515]));
    expect_400_naming(&off(&vec![b'a'; 65516]), "message");
    expect_400_naming(
        &sol_sign(
            &e,
            "w",
            json!({"message": B64.encode(b"x"), "format": "offchain",
                   "application_domain": bs58::encode([1u8; 32]).into_string()}),
        ),
        "application_domain",
    );
    expect_400_naming(
        &sol_sign(
            &e,
            "w",
            json!({"message": B64.encode(b"x"), "format": "v1"}),
        ),
        "format",
    );
}

#[test]
fn solana_policy_governs_raw_and_offchain_messages() {
    let e = Engine::start();
    e.abandon("quiet", json!({}));
    policy(
        &e,
        "crypto/policies/quiet/solana",
        json!({"allow_message_signing": false}),
    );
    for format in ["raw", "offchain"] {
        let body = json!({"message": B64.encode(b"hello"), "format": format});
        expect_403_naming(
            &sol_sign(&e, "quiet", body.clone()),
            "allow_message_signing",
        );
        let mut c = body;
        c["operation"] = json!("sign-message");
        let d = ok(&e.write("crypto/policies/quiet/solana/check", c));
        assert_eq!(d["allowed"], false, "{d}");
        assert_eq!(d["rule"], "allow_message_signing");
        assert_eq!(d["intent"]["format"], format);
        assert_eq!(d["intent"]["address"], SOL0);
    }
    // Positive control.
    policy(
        &e,
        "crypto/policies/quiet/solana",
        json!({"allow_message_signing": true}),
    );
    for format in ["raw", "offchain"] {
        let d = ok(&sol_sign(
            &e,
            "quiet",
            json!({"message": B64.encode(b"hello"), "format": format}),
        ));
        let signed = match format {
            "raw" => b"hello".to_vec(),
            _ => B64.decode(st(&d, "envelope")).expect("b64"),
        };
        assert!(sol_verify(&signed, st(&d, "signature")));
    }
}
