//! `solana/sign-message` and `solana/sign-transaction` through a real server
//! (docs/api.md "Signing"): transactions built byte by byte from the Solana
//! wire format, signatures verified with ed25519-dalek.

mod engine_common;

use base64::Engine as _;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use engine_common::{
    ABANDON, B64, Engine, expect_400_naming, seed, slip10_ed25519, solana_address, st,
};
use serde_json::json;

const SOL0: &str = "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk";

fn engine() -> Engine {
    let e = Engine::start();
    e.abandon("a", json!({}));
    e
}

fn pubkey(addr: &str) -> [u8; 32] {
    bs58::decode(addr)
        .into_vec()
        .expect("base58")
        .try_into()
        .expect("32 bytes")
}

fn sig_from_b58(s: &str) -> Signature {
    let b: [u8; 64] = bs58::decode(s)
        .into_vec()
        .expect("base58")
        .try_into()
        .expect("64-byte signature");
    Signature::from_bytes(&b)
}

fn compact_u16(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let mut b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return out;
        }
        b |= 0x80;
        out.push(b);
    }
}

/// A System Program transfer message with `signers` (the first pays) and
/// one writable recipient; `v0` adds the version prefix and an empty
/// address-table-lookup list.
fn transfer_message(signers: &[[u8; 32]], recipient: [u8; 32], lamports: u64, v0: bool) -> Vec<u8> {
    let mut m = Vec::new();
    if v0 {
        m.push(0x80);
    }
    // Header: required signatures, read-only signed, read-only unsigned
    // (the System Program).
    m.extend_from_slice(&[signers.len() as u8, 0, 1]);
    let n_accounts = signers.len() + 2;
    m.extend(compact_u16(n_accounts));
    for s in signers {
        m.extend_from_slice(s);
    }
    m.extend_from_slice(&recipient);
    m.extend_from_slice(&[0u8; 32]); // System Program
    m.extend_from_slice(&[0x42; 32]); // recent blockhash
    m.extend(compact_u16(1));
    m.push((n_accounts - 1) as u8); // program id index
    m.extend(compact_u16(2));
    m.extend_from_slice(&[0, signers.len() as u8]);
    let mut data = vec![2, 0, 0, 0];
    data.extend_from_slice(&lamports.to_le_bytes());
    m.extend(compact_u16(data.len()));
    m.extend(data);
    if v0 {
        m.extend(compact_u16(0));
    }
    m
}

fn transaction(n_sigs: usize, message: &[u8]) -> Vec<u8> {
    let mut t = compact_u16(n_sigs);
    t.extend(std::iter::repeat_n(0u8, 64 * n_sigs));
    t.extend_from_slice(message);
    t
}

/// Splits a serialized transaction into its signatures and message.
fn split(tx: &[u8]) -> (Vec<[u8; 64]>, Vec<u8>) {
    assert!(tx[0] < 0x80, "more than 127 signatures");
    let n = tx[0] as usize;
    let sigs = (0..n)
        .map(|i| tx[1 + 64 * i..1 + 64 * (i + 1)].try_into().expect("64"))
        .collect();
    (sigs, tx[1 + 64 * n..].to_vec())
}

#[test]
fn sign_message_verifies_with_ed25519_against_the_address() {
    let e = engine();
    let vk = VerifyingKey::from_bytes(&pubkey(SOL0)).expect("key");
    let all_bytes: Vec<u8> = (0..=255u8).collect();
    for msg in [b"hello solana".to_vec(), all_bytes, vec![0u8]] {
        let r = e.write(
            "crypto/wallets/a/solana/sign-message",
            json!({"message": B64.encode(&msg)}),
        );
        r.expect_status(200);
        let d = r.data();
        assert_eq!(d["public_key"], SOL0);
        assert_eq!(d["path"], "m/44'/501'/0'/0'");
        let sig = sig_from_b58(st(d, "signature"));
        vk.verify(&msg, &sig).expect("the signature verifies");
    }
    let p = "crypto/wallets/a/solana/sign-message";
    expect_400_naming(&e.write(p, json!({})), "message");
    expect_400_naming(&e.write(p, json!({"message": "%%% not base64"})), "message");
}

#[test]
fn sign_transaction_places_the_signature_in_slot_0_of_a_legacy_transaction() {
    let e = engine();
    let me = pubkey(SOL0);
    let vk = VerifyingKey::from_bytes(&me).expect("key");
    let msg = transfer_message(&[me], [9; 32], 1_000_000, false);
    let r = e.write(
        "crypto/wallets/a/solana/sign-transaction",
        json!({"transaction": B64.encode(transaction(1, &msg))}),
    );
    r.expect_status(200);
    let d = r.data();
    let tx = B64.decode(st(d, "transaction")).expect("base64");
    let (sigs, message) = split(&tx);
    assert_eq!(sigs.len(), 1);
    assert_eq!(message, msg, "the message must not change");
    let sig = Signature::from_bytes(&sigs[0]);
    vk.verify(&msg, &sig)
        .expect("slot 0 verifies over the message");
    assert_eq!(st(d, "signature"), bs58::encode(sigs[0]).into_string());
    // Every signing response names the signer.
    assert_eq!(d["public_key"], SOL0);
    assert_eq!(d["path"], "m/44'/501'/0'/0'");
}

#[test]
fn sign_transaction_accepts_a_bare_message_and_a_v0_message() {
    let e = engine();
    let me = pubkey(SOL0);
    let vk = VerifyingKey::from_bytes(&me).expect("key");
    for (label, msg, input) in [
        {
            let m = transfer_message(&[me], [8; 32], 5, false);
            ("bare legacy message", m.clone(), m)
        },
        {
            let m = transfer_message(&[me], [8; 32], 5, true);
            ("v0 transaction", m.clone(), transaction(1, &m))
        },
        {
            let m = transfer_message(&[me], [8; 32], 5, true);
            ("bare v0 message", m.clone(), m)
        },
    ] {
        let r = e.write(
            "crypto/wallets/a/solana/sign-transaction",
            json!({"transaction": B64.encode(&input)}),
        );
        r.expect_status(200);
        let tx = B64.decode(st(r.data(), "transaction")).expect("base64");
        let (sigs, message) = split(&tx);
        assert_eq!(sigs.len(), 1, "{label}");
        assert_eq!(message, msg, "{label}");
        vk.verify(&msg, &Signature::from_bytes(&sigs[0]))
            .unwrap_or_else(|err| panic!("{label}: {err}"));
        assert_eq!(
            st(r.data(), "signature"),
            bs58::encode(sigs[0]).into_string()
        );
    }
}

#[test]
fn with_two_signers_only_the_wallets_slot_is_filled() {
    let e = engine();
    let s = seed(ABANDON, "");
    let k1 = slip10_ed25519(&s, "m/44'/501'/1'/0'");
    let me1 = pubkey(&solana_address(&k1));
    let payer = [5u8; 32];
    let msg = transfer_message(&[payer, me1], [9; 32], 42, false);
    let mut input = transaction(2, &msg);
    // The payer's slot already holds something; it must be kept.
    input[1..65].copy_from_slice(&[0xab; 64]);
    let r = e.write(
        "crypto/wallets/a/solana/sign-transaction",
        json!({"transaction": B64.encode(&input), "index": 1}),
    );
    r.expect_status(200);
    let tx = B64.decode(st(r.data(), "transaction")).expect("base64");
    let (sigs, message) = split(&tx);
    assert_eq!(message, msg);
    assert_eq!(sigs[0], [0xab; 64], "another signer's slot was changed");
    VerifyingKey::from_bytes(&me1)
        .expect("key")
        .verify(&msg, &Signature::from_bytes(&sigs[1]))
        .expect("slot 1 verifies");
    assert_eq!(r.data()["path"], "m/44'/501'/1'/0'");
}

#[test]
fn a_transaction_the_wallet_does_not_sign_and_garbage_are_400s() {
    let e = engine();
    let me = pubkey(SOL0);
    // The wallet is only the (unsigned) recipient.
    let msg = transfer_message(&[[5; 32]], me, 1, false);
    let r = e.write(
        "crypto/wallets/a/solana/sign-transaction",
        json!({"transaction": B64.encode(transaction(1, &msg))}),
    );
    r.expect_status(400);
    let p = "crypto/wallets/a/solana/sign-transaction";
    expect_400_naming(&e.write(p, json!({})), "transaction");
    expect_400_naming(&e.write(p, json!({"transaction": "***"})), "transaction");
    expect_400_naming(
        &e.write(p, json!({"transaction": B64.encode([1u8, 2, 3])})),
        "transaction",
    );
    // Truncated: the message stops inside the account keys.
    let full = transaction(1, &transfer_message(&[me], [9; 32], 1, false));
    expect_400_naming(
        &e.write(p, json!({"transaction": B64.encode(&full[..100])})),
        "transaction",
    );
}

#[test]
fn key_wallets_sign_with_their_ed25519_key_and_secp256k1_key_wallets_are_refused() {
    let e = Engine::start();
    let key = [0x21u8; 32];
    e.import_key("ke", "ed25519", &key, json!({}));
    let addr = solana_address(&key);
    let r = e.write(
        "crypto/wallets/ke/solana/sign-message",
        json!({"message": B64.encode(b"key wallet")}),
    );
    r.expect_status(200);
    assert_eq!(r.data()["public_key"], addr.as_str());
    VerifyingKey::from_bytes(&pubkey(&addr))
        .expect("key")
        .verify(b"key wallet", &sig_from_b58(st(r.data(), "signature")))
        .expect("verifies");
    let msg = transfer_message(&[pubkey(&addr)], [1; 32], 7, false);
    let r = e.write(
        "crypto/wallets/ke/solana/sign-transaction",
        json!({"transaction": B64.encode(&msg)}),
    );
    r.expect_status(200);
    e.import_key("ks", "secp256k1", &[0x22; 32], json!({}));
    e.write(
        "crypto/wallets/ks/solana/sign-message",
        json!({"message": B64.encode(b"x")}),
    )
    .expect_status(400);
}

#[test]
fn the_cli_signs_a_solana_message() {
    let e = engine();
    let msg = B64.encode(b"from the cli");
    let v = e.cli_json(
        "write",
        &[
            "crypto/wallets/a/solana/sign-message",
            &format!("message={msg}"),
        ],
    );
    VerifyingKey::from_bytes(&pubkey(SOL0))
        .expect("key")
        .verify(b"from the cli", &sig_from_b58(st(&v["data"], "signature")))
        .expect("verifies");
}
