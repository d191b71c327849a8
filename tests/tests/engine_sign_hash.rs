//! `sign-hash` through a real server (docs/api.md "sign-hash"): refused
//! unless `allow_raw_signing`; secp256k1 signatures recovered with alloy,
//! ed25519 verified with ed25519-dalek.

mod engine_common;

use std::str::FromStr;

use alloy_primitives::{Address, B256, Signature, U256};
use ed25519_dalek::{Verifier, VerifyingKey};
use engine_common::{
    ABANDON, Engine, expect_400_naming, secp_key, seed, slip10_ed25519, solana_address, st, unhex,
};
use serde_json::json;

const ETH0: &str = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94";
const P: &str = "crypto/sign-hash/a";

fn hash() -> String {
    format!("0x{}", "5a".repeat(32))
}

#[test]
fn sign_hash_is_a_403_unless_the_wallet_allows_raw_signing() {
    let e = Engine::start();
    e.abandon("a", json!({}));
    for chain in ["ethereum", "bitcoin", "solana"] {
        let r = e.write(P, json!({"chain": chain, "hash": hash()}));
        r.expect_status(403);
        assert!(r.errors().contains("allow_raw_signing"), "{}", r.body);
    }
    e.write("crypto/wallets/a", json!({"allow_raw_signing": true}))
        .expect_status(200);
    e.write(P, json!({"chain": "ethereum", "hash": hash()}))
        .expect_status(200);
    // Turning it off again refuses again.
    e.write("crypto/wallets/a", json!({"allow_raw_signing": false}))
        .expect_status(200);
    e.write(P, json!({"chain": "ethereum", "hash": hash()}))
        .expect_status(403);
}

#[test]
fn secp256k1_signatures_are_low_s_recoverable_with_v_27_or_28() {
    let e = Engine::start();
    e.abandon("a", json!({"allow_raw_signing": true}));
    let half_n = U256::from_str_radix(
        "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0",
        16,
    )
    .expect("n/2");
    let s = seed(ABANDON, "");
    let mut parities = std::collections::BTreeSet::new();
    for i in 0..8u8 {
        let h = B256::repeat_byte(i.wrapping_mul(37).wrapping_add(1));
        let r = e.write(P, json!({"chain": "ethereum", "hash": h.to_string()}));
        r.expect_status(200);
        let d = r.data();
        let raw = unhex(st(d, "signature"));
        assert_eq!(raw.len(), 65);
        assert!(matches!(raw[64], 27 | 28), "v = {}", raw[64]);
        parities.insert(raw[64]);
        let sig = Signature::from_raw(&raw).expect("sig");
        assert!(sig.s() <= half_n, "high S");
        assert_eq!(
            sig.recover_address_from_prehash(&h).expect("recover"),
            Address::from_str(ETH0).expect("addr")
        );
        assert_eq!(d["path"], "m/44'/60'/0'/0/0");
        assert!(d["public_key"].is_string(), "no public_key: {d}");
        assert_eq!(
            d.get("address").or(d.get("from")).and_then(|a| a.as_str()),
            Some(ETH0),
            "no signer address: {d}"
        );
    }
    assert!(!parities.is_empty());
    // Bitcoin: the default p2wpkh key, recovered to its public key.
    let h = B256::repeat_byte(0x77);
    let r = e.write(
        P,
        json!({"chain": "bitcoin", "hash": h.to_string(), "index": 2}),
    );
    r.expect_status(200);
    let sig = Signature::from_raw(&unhex(st(r.data(), "signature"))).expect("sig");
    let vk = sig.recover_from_prehash(&h).expect("recover");
    let (_, pk) = secp_key(&s, "m/84'/0'/0'/0/2");
    assert_eq!(
        vk.to_encoded_point(true).as_bytes(),
        pk.serialize().as_slice(),
        "bitcoin m/84'/0'/0'/0/2"
    );
    assert_eq!(r.data()["path"], "m/84'/0'/0'/0/2");
}

#[test]
fn ed25519_signatures_verify_over_the_bytes() {
    let e = Engine::start();
    e.abandon("a", json!({"allow_raw_signing": true}));
    let key = slip10_ed25519(&seed(ABANDON, ""), "m/44'/501'/0'/0'");
    let addr = solana_address(&key);
    for bytes in [vec![0x5a; 32], vec![1, 2, 3], vec![0xee; 64]] {
        let r = e.write(
            P,
            json!({"chain": "solana", "hash": format!("0x{}", hex::encode(&bytes))}),
        );
        r.expect_status(200);
        let sig: [u8; 64] = bs58::decode(st(r.data(), "signature"))
            .into_vec()
            .expect("base58")
            .try_into()
            .expect("64 bytes");
        let vk = VerifyingKey::from_bytes(
            &bs58::decode(&addr)
                .into_vec()
                .expect("b58")
                .try_into()
                .expect("32"),
        )
        .expect("key");
        vk.verify(&bytes, &ed25519_dalek::Signature::from_bytes(&sig))
            .expect("verifies");
    }
}

#[test]
fn malformed_sign_hash_requests_are_400s_naming_the_field() {
    let e = Engine::start();
    e.abandon("a", json!({"allow_raw_signing": true}));
    for (body, field) in [
        (json!({"hash": hash()}), "chain"),
        (json!({"chain": "dogecoin", "hash": hash()}), "chain"),
        (json!({"chain": "ethereum"}), "hash"),
        (
            json!({"chain": "ethereum", "hash": format!("0x{}", "5a".repeat(31))}),
            "hash",
        ),
        (
            json!({"chain": "ethereum", "hash": format!("0x{}", "5a".repeat(33))}),
            "hash",
        ),
        (json!({"chain": "bitcoin", "hash": "0xnothex"}), "hash"),
        (
            json!({"chain": "ethereum", "hash": hash(), "index": -1}),
            "index",
        ),
    ] {
        expect_400_naming(&e.write(P, body), field);
    }
}

#[test]
fn key_wallets_sign_raw_hashes_on_their_own_curve_only() {
    let e = Engine::start();
    let key: [u8; 32] =
        hex::decode("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
            .expect("hex")
            .try_into()
            .expect("32");
    e.import_key("k", "secp256k1", &key, json!({"allow_raw_signing": true}));
    let h = B256::repeat_byte(3);
    let r = e.write(
        "crypto/sign-hash/k",
        json!({"chain": "ethereum", "hash": h.to_string()}),
    );
    r.expect_status(200);
    let sig = Signature::from_raw(&unhex(st(r.data(), "signature"))).expect("sig");
    assert_eq!(
        sig.recover_address_from_prehash(&h).expect("recover"),
        Address::from_str("0x2c7536E3605D9C16a7a3D7b1898e529396a65c23").expect("addr")
    );
    e.write(
        "crypto/sign-hash/k",
        json!({"chain": "solana", "hash": h.to_string()}),
    )
    .expect_status(400);
    e.write(
        "crypto/sign-hash/k",
        json!({"chain": "ethereum", "hash": h.to_string(), "index": 1}),
    )
    .expect_status(400);
}
