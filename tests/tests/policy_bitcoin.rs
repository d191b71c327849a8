//! The bitcoin policy engine attacked through a real server (issue 11):
//! sighash types that sign less than the whole transaction, the fee as
//! spent value, amounts a witness UTXO can lie about (CVE-2020-14199), the
//! request's `network` as a way around recipient lists and daily counters,
//! and "change" at paths that are not the wallet's internal chain. Every
//! refusal is a 403 naming the rule; every positive control's signature is
//! verified with rust-bitcoin's sighash and libsecp256k1.

mod engine_common;

use base64::Engine as _;
use bitcoin::hashes::Hash;
use bitcoin::psbt::{Psbt, PsbtSighashType};
use bitcoin::secp256k1::{Message, Secp256k1};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::transaction::Version;
use bitcoin::{
    Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness, consensus,
};
use engine_common::{
    ABANDON, B64, Engine, PsbtBuilder, abandon_fp, expect_400_naming, expect_403_naming,
    foreign_address, script_for, secp_key, seed, st, verify_input,
};
use integration_tests::Reply;
use serde_json::{Value, json};

fn s() -> [u8; 64] {
    seed(ABANDON, "")
}

const IN0: &str = "m/84'/0'/0'/0/0";

/// Gives every input its full previous transaction (`PsbtBuilder` adds it
/// unless told `witness_utxo_only`); this rebuilds it independently, exactly
/// as `PsbtBuilder::input` makes it: version 2, lock time = index + 1, one
/// null input, the previous output; and asserts the txid matches the
/// outpoint.
fn prove(psbt: &mut Psbt, prevouts: &[TxOut]) {
    for (i, prevout) in prevouts.iter().enumerate() {
        let prev_tx = Transaction {
            version: Version::TWO,
            lock_time: bitcoin::absolute::LockTime::from_consensus(i as u32 + 1),
            input: vec![TxIn {
                previous_output: OutPoint::null(),
                script_sig: ScriptBuf::new(),
                sequence: Sequence::MAX,
                witness: Witness::new(),
            }],
            output: vec![prevout.clone()],
        };
        assert_eq!(
            prev_tx.compute_txid(),
            psbt.unsigned_tx.input[i].previous_output.txid,
            "rebuilt previous transaction of input {i}"
        );
        psbt.inputs[i].non_witness_utxo = Some(prev_tx);
    }
}

fn b64(p: &Psbt) -> String {
    B64.encode(p.serialize())
}

/// One p2wpkh input of `sats` at IN0 paying `pay` and, if `change > 0`,
/// change at m/84'/0'/0'/1/0; amounts proven when `proven`.
fn spend(pays: &[(&str, u64)], sats: u64, change: u64, proven: bool) -> (Psbt, Vec<TxOut>) {
    let seed = s();
    let b = if proven {
        PsbtBuilder::new()
    } else {
        PsbtBuilder::new().witness_utxo_only()
    };
    let mut b = b.input("p2wpkh", &seed, abandon_fp(), IN0, sats);
    for (a, v) in pays {
        b = b.pay(a, *v);
    }
    if change > 0 {
        b = b.change("p2wpkh", &seed, abandon_fp(), "m/84'/0'/0'/1/0", change);
    }
    let prevouts = b.prevouts.clone();
    let mut p = b.build();
    if proven {
        prove(&mut p, &prevouts);
    }
    (p, prevouts)
}

fn sign(e: &Engine, w: &str, body: Value) -> Reply {
    e.write(&format!("crypto/wallets/{w}/bitcoin/sign-psbt"), body)
}

fn check(e: &Engine, w: &str, body: Value) -> Value {
    let mut b = body;
    b["operation"] = json!("sign-psbt");
    let r = e.write(&format!("crypto/policies/{w}/bitcoin/check"), b);
    r.expect_status(200);
    r.data().clone()
}

fn set_policy(e: &Engine, w: &str, body: Value) {
    let r = e.write(&format!("crypto/policies/{w}/bitcoin"), body);
    assert!(matches!(r.status, 200 | 204), "policy of {w}: {}", r.body);
}

fn wallet(e: &Engine, w: &str, policy: Option<Value>) {
    e.abandon(w, json!({}));
    if let Some(p) = policy {
        set_policy(e, w, p);
    }
}

/// Asserts 200, finalizes, and verifies input 0 (p2wpkh at IN0, SIGHASH_ALL)
/// with rust-bitcoin.
#[track_caller]
fn signed_all(r: &Reply, prevouts: &[TxOut]) {
    r.expect_status(200);
    let d = r.data();
    let raw = hex::decode(st(d, "transaction")).expect("hex transaction");
    let tx: Transaction = consensus::deserialize(&raw).expect("transaction");
    verify_input(&tx, 0, prevouts, "p2wpkh", &secp_key(&s(), IN0).1);
    assert!(d["intent"].is_object(), "no intent in {d}");
}

/// Asserts 200 and that input 0's partial signature has sighash `ty` and
/// verifies over rust-bitcoin's BIP-143 sighash of that type.
#[track_caller]
fn signed_with(r: &Reply, prevouts: &[TxOut], ty: EcdsaSighashType) {
    r.expect_status(200);
    let p = Psbt::deserialize(&B64.decode(st(r.data(), "psbt")).expect("base64")).expect("psbt");
    let (_, pk) = secp_key(&s(), IN0);
    let bpk = bitcoin::PublicKey::new(pk);
    let sig = p.inputs[0]
        .partial_sigs
        .get(&bpk)
        .unwrap_or_else(|| panic!("no partial signature: {:?}", p.inputs[0]));
    assert_eq!(sig.sighash_type, ty);
    let (spk, _) = script_for("p2wpkh", &pk);
    let h = SighashCache::new(&p.unsigned_tx)
        .p2wpkh_signature_hash(0, &spk, prevouts[0].value, ty)
        .expect("sighash");
    Secp256k1::verification_only()
        .verify_ecdsa(&Message::from_digest(*h.as_ref()), &sig.signature, &pk)
        .expect("the signature verifies");
}

fn with_sighash(mut p: Psbt, ty: EcdsaSighashType) -> Psbt {
    p.inputs[0].sighash_type = Some(PsbtSighashType::from(ty));
    p
}

const PARTIAL: [(EcdsaSighashType, &str); 3] = [
    (EcdsaSighashType::None, "NONE"),
    (EcdsaSighashType::Single, "SINGLE"),
    (EcdsaSighashType::AllPlusAnyoneCanPay, "ALL|ANYONECANPAY"),
];

#[test]
fn sighash_types_other_than_all_need_the_request_without_a_policy() {
    let e = Engine::start();
    wallet(&e, "a", None);
    let payee = foreign_address(0);
    for (ty, name) in PARTIAL {
        let (p, prevouts) = spend(&[(payee.as_str(), 50_000)], 100_000, 49_000, false);
        let p = with_sighash(p, ty);
        expect_403_naming(&sign(&e, "a", json!({"psbt": b64(&p)})), "sighash");
        let d = check(&e, "a", json!({"psbt": b64(&p)}));
        assert_eq!(d["allowed"], false, "{name}: {d}");
        assert_eq!(d["rule"], "sighash", "{name}: {d}");
        assert_eq!(d["policy"], false, "{name}: {d}");
        // Another name in the request does not allow this one.
        let other = if name == "NONE" { "SINGLE" } else { "NONE" };
        expect_403_naming(
            &sign(
                &e,
                "a",
                json!({"psbt": b64(&p), "allowed_sighash_types": [other]}),
            ),
            "sighash",
        );
        let r = sign(
            &e,
            "a",
            json!({"psbt": b64(&p), "allowed_sighash_types": [name]}),
        );
        signed_with(&r, &prevouts, ty);
    }
    expect_400_naming(
        &sign(
            &e,
            "a",
            json!({"psbt": b64(&spend(&[(payee.as_str(), 1)], 10_000, 0, false).0),
                   "allowed_sighash_types": ["EVERYTHING"]}),
        ),
        "allowed_sighash_types",
    );
    // SIGHASH_ALL stated explicitly signs with no field.
    let (p, prevouts) = spend(&[(payee.as_str(), 50_000)], 100_000, 49_000, false);
    signed_with(
        &sign(
            &e,
            "a",
            json!({"psbt": b64(&with_sighash(p, EcdsaSighashType::All))}),
        ),
        &prevouts,
        EcdsaSighashType::All,
    );
}

#[test]
fn with_a_policy_only_the_policy_widens_the_sighash_types() {
    let e = Engine::start();
    let payee = foreign_address(0);
    wallet(
        &e,
        "p",
        Some(json!({"allowed_recipients": [payee.as_str()]})),
    );
    wallet(
        &e,
        "pn",
        Some(json!({"allowed_recipients": [payee.as_str()], "allowed_sighash_types": ["NONE"]})),
    );
    for (ty, name) in PARTIAL {
        let (p, prevouts) = spend(&[(payee.as_str(), 50_000)], 100_000, 49_000, false);
        let p = with_sighash(p, ty);
        // The request's field cannot widen the policy.
        for body in [
            json!({"psbt": b64(&p)}),
            json!({"psbt": b64(&p), "allowed_sighash_types": [name]}),
        ] {
            expect_403_naming(&sign(&e, "p", body.clone()), "allowed_sighash_types");
            if name != "NONE" {
                expect_403_naming(&sign(&e, "pn", body), "allowed_sighash_types");
            }
        }
        let d = check(
            &e,
            "p",
            json!({"psbt": b64(&p), "allowed_sighash_types": [name]}),
        );
        assert_eq!(d["allowed"], false, "{d}");
        assert_eq!(d["rule"], "allowed_sighash_types", "{d}");
        if name == "NONE" {
            signed_with(&sign(&e, "pn", json!({"psbt": b64(&p)})), &prevouts, ty);
        }
    }
    // The policy's other rules still apply to a NONE input it allows.
    let (p, _) = spend(
        &[(foreign_address(1).as_str(), 50_000)],
        100_000,
        49_000,
        false,
    );
    expect_403_naming(
        &sign(
            &e,
            "pn",
            json!({"psbt": b64(&with_sighash(p, EcdsaSighashType::None))}),
        ),
        "allowed_recipients",
    );
    let (p, prevouts) = spend(&[(payee.as_str(), 50_000)], 100_000, 49_000, false);
    signed_with(
        &sign(&e, "p", json!({"psbt": b64(&p), "finalize": false})),
        &prevouts,
        EcdsaSighashType::All,
    );
}

#[test]
fn the_fee_is_spent_value_and_has_its_own_limits() {
    let e = Engine::start();
    let payee = foreign_address(0);
    wallet(&e, "tx", Some(json!({"max_value_per_tx": "50000"})));
    wallet(&e, "day", Some(json!({"max_value_per_day": 30000})));
    wallet(&e, "fee", Some(json!({"max_fee": "1000"})));
    wallet(&e, "rate", Some(json!({"max_fee_rate": "2.5"})));
    let fin = |p: &Psbt| json!({"psbt": b64(p), "finalize": true});

    // 49 000 paid + 1 000 fee = 50 000: at the limit.
    let (p, prevouts) = spend(&[(payee.as_str(), 49_000)], 200_000, 150_000, true);
    let r = sign(&e, "tx", fin(&p));
    signed_all(&r, &prevouts);
    let intent = &r.data()["intent"];
    assert_eq!(intent["fee"], "1000", "{intent}");
    assert_eq!(intent["spent"], "50000", "{intent}");
    // One sat more of fee (change one sat smaller): 50 001.
    let (p, _) = spend(&[(payee.as_str(), 49_000)], 200_000, 149_999, true);
    expect_403_naming(&sign(&e, "tx", fin(&p)), "max_value_per_tx");
    // All of it as fee, nothing paid.
    let (p, _) = spend(&[], 200_000, 100_000, true);
    expect_403_naming(&sign(&e, "tx", fin(&p)), "max_value_per_tx");

    // Daily: 10 000 paid + 10 000 fee = 20 000 of 30 000.
    let (p, prevouts) = spend(&[(payee.as_str(), 10_000)], 100_000, 80_000, true);
    signed_all(&sign(&e, "day", fin(&p)), &prevouts);
    // 10 000 + 1 fee would be 30 001 (without the fee counted: 30 000).
    let (p, _) = spend(&[(payee.as_str(), 10_000)], 100_000, 89_999, true);
    expect_403_naming(&sign(&e, "day", fin(&p)), "max_value_per_day");
    let d = check(&e, "day", fin(&p));
    assert_eq!(d["allowed"], false, "{d}");
    assert_eq!(d["rule"], "max_value_per_day", "{d}");
    // The check path counts nothing: ask about 9 000 + 1 000 three times,
    // then spend it.
    let (p, prevouts) = spend(&[(payee.as_str(), 9_000)], 100_000, 90_000, true);
    for _ in 0..3 {
        let d = check(&e, "day", fin(&p));
        assert_eq!(d["allowed"], true, "{d}");
        assert_eq!(d["policy"], true, "{d}");
    }
    signed_all(&sign(&e, "day", fin(&p)), &prevouts);
    let (p, _) = spend(&[], 100_000, 99_999, true);
    expect_403_naming(&sign(&e, "day", fin(&p)), "max_value_per_day");

    let (p, _) = spend(&[(payee.as_str(), 1_000)], 100_000, 97_999, true);
    expect_403_naming(&sign(&e, "fee", fin(&p)), "max_fee");
    let (p, prevouts) = spend(&[(payee.as_str(), 1_000)], 100_000, 98_000, true);
    signed_all(&sign(&e, "fee", fin(&p)), &prevouts);

    // One p2wpkh input, two p2wpkh outputs: about 141 vbytes. 1 000 sats
    // is about 7 sat/vB; 300 about 2.1.
    let (p, _) = spend(&[(payee.as_str(), 1_000)], 100_000, 98_000, true);
    expect_403_naming(&sign(&e, "rate", fin(&p)), "max_fee_rate");
    let (p, prevouts) = spend(&[(payee.as_str(), 1_000)], 100_000, 98_700, true);
    signed_all(&sign(&e, "rate", fin(&p)), &prevouts);
    let r = e.get("crypto/policies/rate/bitcoin");
    r.expect_status(200);
    assert_eq!(r.data()["max_fee_rate"], "2.5", "{}", r.body);
}

#[test]
fn a_witness_utxo_alone_does_not_prove_an_amount_under_a_limit() {
    let e = Engine::start();
    let payee = foreign_address(0);
    wallet(&e, "lim", Some(json!({"max_value_per_tx": "1000000"})));
    wallet(
        &e,
        "open",
        Some(json!({"allowed_recipients": [payee.as_str()]})),
    );
    let (p, prevouts) = spend(&[(payee.as_str(), 10_000)], 100_000, 89_000, false);
    expect_403_naming(
        &sign(&e, "lim", json!({"psbt": b64(&p), "finalize": true})),
        "proven_amounts",
    );
    let d = check(&e, "lim", json!({"psbt": b64(&p)}));
    assert_eq!(d["rule"], "proven_amounts", "{d}");
    // A policy without amount limits needs no proof.
    signed_all(
        &sign(&e, "open", json!({"psbt": b64(&p), "finalize": true})),
        &prevouts,
    );
    let (p, prevouts) = spend(&[(payee.as_str(), 10_000)], 100_000, 89_000, true);
    signed_all(
        &sign(&e, "lim", json!({"psbt": b64(&p), "finalize": true})),
        &prevouts,
    );
    // A previous transaction that does not match the outpoint proves
    // nothing (the txid differs): refused, whatever it claims.
    let (mut p, _) = spend(&[(payee.as_str(), 10_000)], 100_000, 89_000, true);
    if let Some(prev) = p.inputs[0].non_witness_utxo.as_mut() {
        prev.output[0].value = Amount::from_sat(5_000_000);
    }
    let r = sign(&e, "lim", json!({"psbt": b64(&p), "finalize": true}));
    assert!(
        matches!(r.status, 400 | 403),
        "a previous transaction with another txid was accepted: {}",
        r.body
    );
    // A witness UTXO that contradicts the proven previous transaction.
    let (mut p, _) = spend(&[(payee.as_str(), 10_000)], 100_000, 89_000, true);
    if let Some(w) = p.inputs[0].witness_utxo.as_mut() {
        w.value = Amount::from_sat(50_000);
    }
    let r = sign(&e, "lim", json!({"psbt": b64(&p)}));
    assert!(
        matches!(r.status, 400 | 403),
        "a witness UTXO of 50 000 against a previous transaction of 100 000 was signed: {}",
        r.body
    );
    // Another party's input with only a witness UTXO: its amount, hence
    // the fee, is unproven even though ours is proven.
    let other = seed(
        "legal winner thank year wave sausage worth useful legal winner thank yellow",
        "",
    );
    let other_fp = bitcoin::bip32::Fingerprint::from([1, 2, 3, 4]);
    let b = PsbtBuilder::new()
        .input("p2wpkh", &s(), abandon_fp(), IN0, 100_000)
        .input("p2wpkh", &other, other_fp, "m/84'/0'/0'/0/0", 100_000)
        .pay(&payee, 150_000)
        .change("p2wpkh", &s(), abandon_fp(), "m/84'/0'/0'/1/0", 49_000);
    let prevouts = b.prevouts.clone();
    let mut p = b.build();
    prove(&mut p, &prevouts);
    let ours_only = {
        let mut q = p.clone();
        q.inputs[1].non_witness_utxo = None;
        q
    };
    expect_403_naming(
        &sign(&e, "lim", json!({"psbt": b64(&ours_only)})),
        "proven_amounts",
    );
    let r = sign(&e, "lim", json!({"psbt": b64(&p)}));
    r.expect_status(200);
    assert_eq!(r.data()["intent"]["fee"], "1000", "{}", r.body);
    // Taproot key-path signatures commit to every amount.
    let seed = s();
    let tr = "m/86'/0'/0'/0/0";
    let b = PsbtBuilder::new()
        .input("p2tr", &seed, abandon_fp(), tr, 100_000)
        .pay(&payee, 10_000)
        .change("p2tr", &seed, abandon_fp(), "m/86'/0'/0'/1/0", 89_000);
    let prevouts = b.prevouts.clone();
    let r = sign(&e, "lim", json!({"psbt": b.base64(), "finalize": true}));
    r.expect_status(200);
    let tx: Transaction =
        consensus::deserialize(&hex::decode(st(r.data(), "transaction")).expect("hex"))
            .expect("transaction");
    verify_input(&tx, 0, &prevouts, "p2tr", &secp_key(&seed, tr).1);
}

/// The same output script as a testnet address.
fn testnet_form(mainnet: &str) -> String {
    let a = mainnet
        .parse::<bitcoin::Address<bitcoin::address::NetworkUnchecked>>()
        .expect("address")
        .assume_checked();
    bitcoin::Address::from_script(&a.script_pubkey(), bitcoin::Network::Testnet)
        .expect("standard script")
        .to_string()
}

#[test]
fn the_requests_network_changes_neither_matching_nor_the_counter() {
    let e = Engine::start();
    let payee = foreign_address(0);
    let payee_tb = testnet_form(&payee);
    assert!(payee_tb.starts_with("tb1q"), "{payee_tb}");
    wallet(
        &e,
        "net",
        Some(json!({"allowed_recipients": [payee_tb.as_str()], "max_value_per_day": 15000})),
    );
    // A testnet allow-list entry matches the same script on mainnet.
    let (p, prevouts) = spend(&[(payee.as_str(), 9_000)], 10_000, 0, true);
    let d = check(&e, "net", json!({"psbt": b64(&p), "network": "bitcoin"}));
    assert_eq!(d["allowed"], true, "{d}");
    // Another recipient is refused on every network.
    let (other, _) = spend(&[(foreign_address(1).as_str(), 9_000)], 10_000, 0, true);
    for net in ["bitcoin", "testnet", "signet", "regtest"] {
        expect_403_naming(
            &sign(&e, "net", json!({"psbt": b64(&other), "network": net})),
            "allowed_recipients",
        );
    }
    // 10 000 leave the wallet on "testnet" ...
    let r = sign(
        &e,
        "net",
        json!({"psbt": b64(&p), "network": "testnet", "finalize": true}),
    );
    signed_all(&r, &prevouts);
    // ... and the same 10 000 on "regtest" count against the same 15 000.
    let (p2, _) = spend(&[(payee.as_str(), 9_000)], 10_001, 0, true);
    expect_403_naming(
        &sign(&e, "net", json!({"psbt": b64(&p2), "network": "regtest"})),
        "max_value_per_day",
    );
    expect_403_naming(
        &sign(&e, "net", json!({"psbt": b64(&p2), "network": "bitcoin"})),
        "max_value_per_day",
    );
    let (p3, prevouts3) = spend(&[(payee.as_str(), 4_000)], 5_000, 0, true);
    signed_all(
        &sign(
            &e,
            "net",
            json!({"psbt": b64(&p3), "network": "regtest", "finalize": true}),
        ),
        &prevouts3,
    );
}

#[test]
fn change_is_only_the_wallets_internal_chain_below_the_bound() {
    let e = Engine::start();
    let payee = foreign_address(0);
    wallet(
        &e,
        "ch",
        Some(json!({"allowed_recipients": [payee.as_str()]})),
    );
    wallet(&e, "val", Some(json!({"max_value_per_tx": "5000"})));
    let seed = s();
    let with_change = |kind: &str, path: &str| {
        let b = PsbtBuilder::new()
            .input("p2wpkh", &seed, abandon_fp(), IN0, 100_000)
            .pay(&payee, 1_000)
            .change(kind, &seed, abandon_fp(), path, 98_000);
        let prevouts = b.prevouts.clone();
        let mut p = b.build();
        prove(&mut p, &prevouts);
        (p, prevouts)
    };
    for (kind, path) in [
        ("p2wpkh", "m/84'/0'/0'/0/5"),
        ("p2wpkh", "m/84'/0'/0'/1/2000000"),
        ("p2wpkh", "m/84'/0'/0'/1/0/0"),
        ("p2wpkh", "m/84'/0'/0'/1'/0"),
        ("p2wpkh", "m/44'/0'/0'/1/0"),
        ("p2wpkh", "m/84'/0'/0'/2/0"),
        ("p2wpkh", "m/0/1"),
    ] {
        let (p, _) = with_change(kind, path);
        let r = sign(&e, "ch", json!({"psbt": b64(&p)}));
        assert_eq!(r.status, 403, "change at {path} was accepted: {}", r.body);
        expect_403_naming(&r, "allowed_recipients");
        // Counted as value leaving the wallet.
        expect_403_naming(
            &sign(&e, "val", json!({"psbt": b64(&p)})),
            "max_value_per_tx",
        );
    }
    // A key origin on the internal chain whose key is ours, but the output
    // pays someone else's script.
    let (mut p, _) = with_change("p2wpkh", "m/84'/0'/0'/1/0");
    let foreign = foreign_address(2)
        .parse::<bitcoin::Address<bitcoin::address::NetworkUnchecked>>()
        .expect("address")
        .assume_checked()
        .script_pubkey();
    p.unsigned_tx.output[1].script_pubkey = foreign;
    expect_403_naming(
        &sign(&e, "ch", json!({"psbt": b64(&p)})),
        "allowed_recipients",
    );
    // A taproot output whose internal key and origin are ours on the
    // internal chain, but whose output key commits to a script tree the
    // wallet does not know (someone else can spend it by script path).
    let tr_path = "m/86'/0'/0'/1/0";
    let b = PsbtBuilder::new()
        .input("p2wpkh", &seed, abandon_fp(), IN0, 100_000)
        .pay(&payee, 1_000)
        .change("p2tr", &seed, abandon_fp(), tr_path, 98_000);
    let prevouts = b.prevouts.clone();
    let mut p = b.build();
    prove(&mut p, &prevouts);
    let internal = bitcoin::XOnlyPublicKey::from(secp_key(&seed, tr_path).1);
    p.unsigned_tx.output[1].script_pubkey = ScriptBuf::new_p2tr(
        &Secp256k1::verification_only(),
        internal,
        Some(bitcoin::TapNodeHash::from_byte_array([7; 32])),
    );
    let r = sign(&e, "ch", json!({"psbt": b64(&p)}));
    assert_eq!(
        r.status, 403,
        "a taproot output with a hidden script tree passed as change: {}",
        r.body
    );
    expect_403_naming(&r, "allowed_recipients");
    // The same taproot change without a script tree is change.
    let b = PsbtBuilder::new()
        .input("p2wpkh", &seed, abandon_fp(), IN0, 100_000)
        .pay(&payee, 1_000)
        .change("p2tr", &seed, abandon_fp(), tr_path, 98_000);
    let prevouts = b.prevouts.clone();
    let mut p = b.build();
    prove(&mut p, &prevouts);
    signed_all(
        &sign(&e, "ch", json!({"psbt": b64(&p), "finalize": true})),
        &prevouts,
    );
    for path in ["m/84'/0'/0'/1/0", "m/84'/0'/5'/1/999999"] {
        let (p, prevouts) = with_change("p2wpkh", path);
        signed_all(
            &sign(&e, "ch", json!({"psbt": b64(&p), "finalize": true})),
            &prevouts,
        );
        signed_all(
            &sign(&e, "val", json!({"psbt": b64(&p), "finalize": true})),
            &prevouts,
        );
    }
}

/// Asserts a sign-hash reply is a 403 naming raw_signing; if it signed,
/// first shows that the signature is a valid ECDSA signature by `pk` over
/// `digest` (a spend the bitcoin policy refused), then fails.
#[track_caller]
fn refused_raw(r: &Reply, digest: &[u8; 32], pk: &bitcoin::secp256k1::PublicKey, what: &str) {
    if r.status == 200 {
        let raw = hex::decode(st(r.data(), "signature").trim_start_matches("0x")).expect("hex");
        let sig = bitcoin::secp256k1::ecdsa::Signature::from_compact(&raw[..64]).expect("sig");
        let usable = Secp256k1::verification_only()
            .verify_ecdsa(&Message::from_digest(*digest), &sig, pk)
            .is_ok();
        panic!(
            "{what}: sign-hash signed the BIP-143 sighash of a spend the bitcoin policy refuses \
             (signature valid for the bitcoin key: {usable}): {}",
            r.body
        );
    }
    expect_403_naming(r, "raw_signing");
}

/// sign-hash names a chain, but the key it signs with is chosen by `path`
/// (or, for a key wallet, is the one key of both secp256k1 chains): asking
/// for "ethereum" must not sign with a key the wallet's bitcoin policy
/// governs.
#[test]
fn sign_hash_under_another_chain_name_does_not_sign_with_a_governed_key() {
    let e = Engine::start();
    let evil = foreign_address(3);
    let (psbt, prevouts) = spend(&[(evil.as_str(), 99_000)], 100_000, 0, true);
    let (_, pk) = secp_key(&s(), IN0);
    let (spk, _) = script_for("p2wpkh", &pk);
    let sighash = SighashCache::new(&psbt.unsigned_tx)
        .p2wpkh_signature_hash(0, &spk, prevouts[0].value, EcdsaSighashType::All)
        .expect("sighash");
    let digest: [u8; 32] = *sighash.as_ref();
    let hash = format!("0x{}", hex::encode(digest));

    // An hd wallet with raw signing and a bitcoin policy.
    e.abandon("rh", json!({"allow_raw_signing": true}));
    set_policy(&e, "rh", json!({"max_value_per_tx": "1000"}));
    expect_403_naming(
        &sign(&e, "rh", json!({"psbt": b64(&psbt)})),
        "max_value_per_tx",
    );
    refused_raw(
        &e.write(
            "crypto/sign-hash/rh",
            json!({"chain": "bitcoin", "hash": hash}),
        ),
        &digest,
        &pk,
        "chain bitcoin",
    );
    refused_raw(
        &e.write(
            "crypto/sign-hash/rh",
            json!({"chain": "ethereum", "hash": hash, "path": IN0}),
        ),
        &digest,
        &pk,
        "chain ethereum with the bitcoin key's path",
    );

    // Control: without a policy, raw signing works on both names.
    e.abandon("free", json!({"allow_raw_signing": true}));
    for chain in ["bitcoin", "ethereum"] {
        e.write(
            "crypto/sign-hash/free",
            json!({"chain": chain, "hash": hash}),
        )
        .expect_status(200);
    }
}

/// The key-wallet form of the same: a secp256k1 key wallet has one key for
/// ethereum and bitcoin, so sign-hash with chain "ethereum" signs with the
/// key the bitcoin policy governs, no path needed.
#[test]
fn sign_hash_of_a_key_wallet_with_a_bitcoin_policy_is_refused_on_every_secp256k1_chain() {
    let e = Engine::start();
    let key = [0x31u8; 32];
    let kpk = bitcoin::secp256k1::SecretKey::from_slice(&key)
        .expect("key")
        .public_key(&Secp256k1::new());
    // The key-path spend of the key's own p2wpkh output.
    let (spk, _) = script_for("p2wpkh", &kpk);
    let tx = Transaction {
        version: Version::TWO,
        lock_time: bitcoin::absolute::LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint {
                txid: bitcoin::Txid::from_byte_array([9; 32]),
                vout: 0,
            },
            script_sig: ScriptBuf::new(),
            sequence: Sequence::MAX,
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value: Amount::from_sat(99_000),
            script_pubkey: foreign_address(3)
                .parse::<bitcoin::Address<bitcoin::address::NetworkUnchecked>>()
                .expect("address")
                .assume_checked()
                .script_pubkey(),
        }],
    };
    let digest: [u8; 32] = *SighashCache::new(&tx)
        .p2wpkh_signature_hash(0, &spk, Amount::from_sat(100_000), EcdsaSighashType::All)
        .expect("sighash")
        .as_ref();
    let hash = format!("0x{}", hex::encode(digest));
    e.import_key("kw", "secp256k1", &key, json!({"allow_raw_signing": true}));
    set_policy(&e, "kw", json!({"max_value_per_tx": "1000"}));
    refused_raw(
        &e.write(
            "crypto/sign-hash/kw",
            json!({"chain": "bitcoin", "hash": hash}),
        ),
        &digest,
        &kpk,
        "key wallet, chain bitcoin",
    );

    refused_raw(
        &e.write(
            "crypto/sign-hash/kw",
            json!({"chain": "ethereum", "hash": hash}),
        ),
        &digest,
        &kpk,
        "key wallet, chain ethereum",
    );
}
