//! `bitcoin/sign-psbt` through a real server (docs/api.md "Signing"): PSBTs
//! built with rust-bitcoin, the signed result verified with rust-bitcoin's
//! sighash and libsecp256k1.

mod engine_common;

use std::str::FromStr;

use base64::Engine as _;
use bitcoin::bip32::Fingerprint;
use bitcoin::psbt::Psbt;
use bitcoin::secp256k1::Secp256k1;
use bitcoin::{Transaction, consensus};
use engine_common::{
    ABANDON, B64, Engine, PsbtBuilder, abandon_fp, expect_400_naming, foreign_address, secp_key,
    seed, st, verify_input,
};
use serde_json::{Value, json};

const SIGN: &str = "crypto/wallets/a/bitcoin/sign-psbt";

fn engine() -> Engine {
    let e = Engine::start();
    e.abandon("a", json!({}));
    e
}

fn s() -> [u8; 64] {
    seed(ABANDON, "")
}

fn decode_psbt(b64: &str) -> Psbt {
    Psbt::deserialize(&B64.decode(b64).expect("base64")).expect("psbt")
}

fn decode_tx(d: &Value) -> Transaction {
    let raw = hex::decode(st(d, "transaction")).expect("hex transaction");
    let tx: Transaction = consensus::deserialize(&raw).expect("transaction");
    assert_eq!(st(d, "txid"), tx.compute_txid().to_string(), "txid");
    tx
}

fn signed_inputs(d: &Value) -> Vec<u64> {
    d["signed_inputs"]
        .as_array()
        .unwrap_or_else(|| panic!("no signed_inputs: {d}"))
        .iter()
        .map(|v| v.as_u64().expect("index"))
        .collect()
}

#[test]
fn a_p2wpkh_input_is_signed_and_finalized_into_a_transaction_that_verifies() {
    let e = engine();
    let seed = s();
    let path = "m/84'/0'/0'/0/0";
    let b = PsbtBuilder::new()
        .input("p2wpkh", &seed, abandon_fp(), path, 100_000)
        .pay(&foreign_address(0), 60_000)
        .change("p2wpkh", &seed, abandon_fp(), "m/84'/0'/0'/1/0", 39_000);
    let prevouts = b.prevouts.clone();
    let unsigned = b.build();
    let r = e.write(
        SIGN,
        json!({"psbt": B64.encode(unsigned.serialize()), "finalize": true}),
    );
    r.expect_status(200);
    let d = r.data();
    assert_eq!(signed_inputs(d), vec![0]);
    // Every signing response names the signer.
    assert_eq!(d["address"], "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu");
    assert_eq!(d["path"], path);
    assert_eq!(
        d["public_key"],
        hex::encode(secp_key(&seed, path).1.serialize()).as_str()
    );
    let tx = decode_tx(d);
    assert_eq!(
        tx.compute_txid(),
        unsigned.unsigned_tx.compute_txid(),
        "same transaction"
    );
    assert_eq!(tx.output, unsigned.unsigned_tx.output);
    let (_, pk) = secp_key(&seed, path);
    verify_input(&tx, 0, &prevouts, "p2wpkh", &pk);
    // The returned PSBT is the finalized one.
    let signed = decode_psbt(st(d, "psbt"));
    assert!(
        signed.inputs[0].final_script_witness.is_some(),
        "{signed:?}"
    );
    assert_eq!(
        signed.clone().extract_tx().expect("extract").compute_txid(),
        tx.compute_txid()
    );
}

#[test]
fn without_finalize_the_psbt_carries_a_partial_signature_and_no_transaction() {
    let e = engine();
    let seed = s();
    let path = "m/84'/0'/0'/0/3";
    let b = PsbtBuilder::new()
        .input("p2wpkh", &seed, abandon_fp(), path, 50_000)
        .pay(&foreign_address(0), 49_000);
    let prevouts = b.prevouts.clone();
    let r = e.write(SIGN, json!({"psbt": b.base64()}));
    r.expect_status(200);
    let d = r.data();
    assert_eq!(signed_inputs(d), vec![0]);
    assert!(d.get("transaction").is_none_or(Value::is_null), "{d}");
    let mut signed = decode_psbt(st(d, "psbt"));
    let (_, pk) = secp_key(&seed, path);
    let sig = signed.inputs[0]
        .partial_sigs
        .get(&bitcoin::PublicKey::new(pk))
        .copied()
        .unwrap_or_else(|| panic!("no partial signature: {:?}", signed.inputs[0]));
    // Finalize it ourselves and verify the transaction.
    signed.inputs[0].final_script_witness = Some(bitcoin::Witness::p2wpkh(&sig, &pk));
    signed.inputs[0].partial_sigs.clear();
    let tx = signed.extract_tx().expect("extract");
    verify_input(&tx, 0, &prevouts, "p2wpkh", &pk);
}

#[test]
fn every_supported_input_type_is_signed_and_verifies() {
    let e = engine();
    let seed = s();
    let inputs = [
        ("p2wpkh", "m/84'/0'/0'/0/1"),
        ("p2sh-p2wpkh", "m/49'/0'/0'/0/0"),
        ("p2pkh", "m/44'/0'/0'/0/0"),
        ("p2tr", "m/86'/0'/0'/0/0"),
    ];
    let mut b = PsbtBuilder::new();
    for (kind, path) in inputs {
        b = b.input(kind, &seed, abandon_fp(), path, 30_000);
    }
    let b = b.pay(&foreign_address(0), 100_000);
    let prevouts = b.prevouts.clone();
    let r = e.write(SIGN, json!({"psbt": b.base64(), "finalize": true}));
    r.expect_status(200);
    let d = r.data();
    assert_eq!(signed_inputs(d), vec![0, 1, 2, 3]);
    let tx = decode_tx(d);
    for (i, (kind, path)) in inputs.iter().enumerate() {
        let (_, pk) = secp_key(&seed, path);
        verify_input(&tx, i, &prevouts, kind, &pk);
    }
}

#[test]
fn inputs_of_other_wallets_are_left_untouched_and_the_transaction_is_not_finalized() {
    let e = engine();
    let seed = s();
    let other_seed = engine_common::seed(
        "legal winner thank year wave sausage worth useful legal winner thank yellow",
        "",
    );
    let other_fp = {
        let m = bitcoin::bip32::Xpriv::new_master(bitcoin::NetworkKind::Main, &other_seed)
            .expect("master");
        m.fingerprint(&Secp256k1::new())
    };
    assert_ne!(other_fp, abandon_fp());
    let b = PsbtBuilder::new()
        .input("p2wpkh", &other_seed, other_fp, "m/84'/0'/0'/0/0", 10_000)
        .input("p2wpkh", &seed, abandon_fp(), "m/84'/0'/0'/0/0", 20_000)
        .input("p2tr", &seed, abandon_fp(), "m/86'/0'/0'/0/5", 20_000)
        .pay(&foreign_address(0), 45_000);
    let unsigned = b.build();
    let r = e.write(
        SIGN,
        json!({"psbt": B64.encode(unsigned.serialize()), "finalize": true}),
    );
    r.expect_status(200);
    let d = r.data();
    assert_eq!(signed_inputs(d), vec![1, 2]);
    assert!(
        d.get("transaction").is_none_or(Value::is_null),
        "an incomplete PSBT must not produce a transaction: {d}"
    );
    let signed = decode_psbt(st(d, "psbt"));
    assert_eq!(
        signed.inputs[0], unsigned.inputs[0],
        "the foreign input was modified"
    );
    assert_eq!(signed.unsigned_tx, unsigned.unsigned_tx);
    let signed1 = &signed.inputs[1];
    assert!(
        !signed1.partial_sigs.is_empty() || signed1.final_script_witness.is_some(),
        "input 1 not signed: {signed1:?}"
    );
    let signed2 = &signed.inputs[2];
    assert!(
        signed2.tap_key_sig.is_some() || signed2.final_script_witness.is_some(),
        "input 2 not signed: {signed2:?}"
    );
}

#[test]
fn a_testnet_psbt_is_signed_with_the_coin_type_1_key() {
    let e = engine();
    let seed = s();
    let path = "m/84'/1'/0'/0/0";
    let b = PsbtBuilder::new()
        .input("p2wpkh", &seed, abandon_fp(), path, 10_000)
        .pay("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", 9_000);
    let prevouts = b.prevouts.clone();
    let r = e.write(
        SIGN,
        json!({"psbt": b.base64(), "network": "testnet", "finalize": true}),
    );
    r.expect_status(200);
    let tx = decode_tx(r.data());
    verify_input(&tx, 0, &prevouts, "p2wpkh", &secp_key(&seed, path).1);
}

#[test]
fn a_psbt_with_no_input_for_this_wallet_and_malformed_psbts_are_400s() {
    let e = engine();
    let other_seed = engine_common::seed(
        "legal winner thank year wave sausage worth useful legal winner thank yellow",
        "",
    );
    let foreign = PsbtBuilder::new()
        .input(
            "p2wpkh",
            &other_seed,
            Fingerprint::from_str("deadbeef").expect("fp"),
            "m/84'/0'/0'/0/0",
            10_000,
        )
        .pay(&foreign_address(0), 9_000)
        .base64();
    let r = e.write(SIGN, json!({"psbt": foreign, "finalize": true}));
    r.expect_status(400);
    assert!(!r.errors().is_empty(), "{}", r.body);
    expect_400_naming(&e.write(SIGN, json!({})), "psbt");
    expect_400_naming(&e.write(SIGN, json!({"psbt": "not base64!!"})), "psbt");
    expect_400_naming(
        &e.write(SIGN, json!({"psbt": B64.encode(b"definitely not a psbt")})),
        "psbt",
    );
    let ok = PsbtBuilder::new()
        .input("p2wpkh", &s(), abandon_fp(), "m/84'/0'/0'/0/0", 10_000)
        .pay(&foreign_address(0), 9_000)
        .base64();
    expect_400_naming(
        &e.write(SIGN, json!({"psbt": ok, "network": "moon"})),
        "network",
    );
    expect_400_naming(
        &e.write(SIGN, json!({"psbt": ok, "finalize": "perhaps"})),
        "finalize",
    );
}

#[test]
fn the_cli_signs_a_psbt_with_bao_write() {
    let e = engine();
    let seed = s();
    let path = "m/84'/0'/0'/0/0";
    let b = PsbtBuilder::new()
        .input("p2wpkh", &seed, abandon_fp(), path, 100_000)
        .pay(&foreign_address(0), 90_000);
    let prevouts = b.prevouts.clone();
    let psbt = b.base64();
    let v = e.cli_json("write", &[SIGN, &format!("psbt={psbt}"), "finalize=true"]);
    let tx = decode_tx(&v["data"]);
    verify_input(&tx, 0, &prevouts, "p2wpkh", &secp_key(&seed, path).1);
}
