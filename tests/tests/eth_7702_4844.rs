//! EIP-7702 authorizations and type-4 transactions, EIP-4844 type-3
//! transactions, and their policy rules, through a real server (issue 14).
//! Every signature is checked with alloy (independent of the plugin): the
//! authorization hash is alloy's, the authority and the signer recover with
//! alloy, and every signed transaction decodes with alloy's EIP-2718
//! decoder. Each policy rule has a refusal (a 403 naming it) and a positive
//! control that signs.

mod engine_common;

use std::str::FromStr;
use std::time::Instant;

use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::{Transaction, TxEip4844Variant, TxEnvelope};
use alloy_eips::eip2718::Decodable2718;
use alloy_eips::eip7702::Authorization;
use alloy_primitives::{Address, B256, Signature, U256};
use engine_common::{Engine, expect_400_naming, expect_403_naming, st, unhex};
use integration_tests::Reply;
use serde_json::{Value, json};

/// m/44'/60'/0'/0/0 of the "abandon … about" mnemonic (engine_ethereum.rs).
const ETH0: &str = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94";

fn me() -> Address {
    Address::from_str(ETH0).expect("address")
}
/// The listed delegate contract.
fn delegate() -> Address {
    Address::repeat_byte(0xde)
}
/// A delegate nobody listed (an attacker's sweeper contract).
fn evil() -> Address {
    Address::repeat_byte(0xe7)
}
fn good() -> Address {
    Address::repeat_byte(0xa1)
}
fn low(a: Address) -> String {
    format!("0x{}", hex::encode(a))
}
fn blob_hash(n: u8) -> String {
    let mut h = [n; 32];
    h[0] = 1;
    format!("0x{}", hex::encode(h))
}

fn sign_auth(e: &Engine, w: &str, body: Value) -> Reply {
    e.write(
        &format!("crypto/wallets/{w}/ethereum/sign-authorization"),
        body,
    )
}
fn sign_tx(e: &Engine, w: &str, body: Value) -> Reply {
    e.write(
        &format!("crypto/wallets/{w}/ethereum/sign-transaction"),
        body,
    )
}
fn set_policy(e: &Engine, w: &str, body: Value) {
    let r = e.write(&format!("crypto/policies/{w}/ethereum"), body);
    assert!(matches!(r.status, 200 | 204), "policy of {w}: {}", r.body);
}
fn check(e: &Engine, w: &str, operation: &str, body: Value) -> Value {
    let mut b = body;
    b["operation"] = json!(operation);
    let r = e.write(&format!("crypto/policies/{w}/ethereum/check"), b);
    r.expect_status(200);
    r.data().clone()
}

/// Asserts a signed authorization response: alloy's hash, and the
/// signature recovers (with alloy) to `authority`. Returns the response.
#[track_caller]
fn authorized(r: &Reply, chain_id: u64, to: Address, nonce: u64, authority: Address) -> Value {
    r.expect_status(200);
    let d = r.data().clone();
    assert_eq!(d["chain_id"], chain_id.to_string(), "{d}");
    assert_eq!(
        Address::from_str(st(&d, "address")).expect("address"),
        to,
        "{d}"
    );
    assert_eq!(d["nonce"], nonce.to_string(), "{d}");
    let sig = unhex(st(&d, "signature"));
    assert_eq!(sig.len(), 65, "{d}");
    assert_eq!(sig[..32], unhex(st(&d, "r"))[..], "{d}");
    assert_eq!(sig[32..64], unhex(st(&d, "s"))[..], "{d}");
    assert_eq!(u64::from(sig[64]) - 27, d["y_parity"].as_u64().expect("y"));
    let theirs = Authorization {
        chain_id: U256::from(chain_id),
        address: to,
        nonce,
    };
    let signed = theirs.into_signed(Signature::from_raw(&sig).expect("sig"));
    assert_eq!(signed.recover_authority().expect("recover"), authority);
    assert_eq!(
        Address::from_str(st(&d, "authority")).expect("authority"),
        authority
    );
    assert_eq!(d["intent"]["kind"], "authorization", "{d}");
    assert_eq!(
        d["intent"]["delegate"].as_str().map(str::to_lowercase),
        Some(low(to))
    );
    d
}

/// Decodes a signed transaction with alloy; the signer must be the wallet.
#[track_caller]
fn decoded(r: &Reply) -> TxEnvelope {
    r.expect_status(200);
    let d = r.data();
    let raw = unhex(st(d, "signed_transaction"));
    let env = TxEnvelope::decode_2718_exact(&raw)
        .unwrap_or_else(|err| panic!("alloy cannot decode {}: {err}", d["signed_transaction"]));
    assert_eq!(env.recover_signer().expect("recover"), me());
    assert_eq!(
        unhex(st(d, "transaction_hash")),
        env.tx_hash().0.to_vec(),
        "{d}"
    );
    env
}

/// The six fields of a tuple, chain id and nonce as JSON numbers.
fn bare_tuple(d: &Value) -> Value {
    json!({"chain_id": st(d, "chain_id").parse::<u64>().expect("chain id"),
           "nonce": st(d, "nonce").parse::<u64>().expect("nonce"),
           "address": d["address"], "y_parity": d["y_parity"], "r": d["r"], "s": d["s"]})
}

fn type4(to: Address, list: Vec<Value>) -> Value {
    json!({"type": "eip7702", "chain_id": 1, "nonce": 7, "gas_limit": 100000,
           "max_fee_per_gas": "2000000000", "max_priority_fee_per_gas": "1000000000",
           "to": to.to_string(), "value": "0", "authorization_list": list})
}

fn type3(to: Address, hashes: Vec<String>, blob_fee: &str) -> Value {
    json!({"type": "eip4844", "chain_id": 1, "nonce": 3, "gas_limit": 21000,
           "max_fee_per_gas": "100", "max_priority_fee_per_gas": "1",
           "to": to.to_string(), "value": "5", "max_fee_per_blob_gas": blob_fee,
           "blob_versioned_hashes": hashes})
}

#[test]
fn authorizations_and_type_4_transactions_recover_with_alloy() {
    let e = Engine::start();
    e.abandon("w", json!({}));
    // Chain 1 and chain 0 (every chain), without a policy.
    let a = authorized(
        &sign_auth(
            &e,
            "w",
            json!({"chain_id": 1, "address": delegate().to_string(), "nonce": 8}),
        ),
        1,
        delegate(),
        8,
        me(),
    );
    authorized(
        &sign_auth(
            &e,
            "w",
            json!({"chain_id": "0", "address": low(delegate()), "nonce": "0x9"}),
        ),
        0,
        delegate(),
        9,
        me(),
    );
    // A sponsor's tuple: another key (index 1) of the wallet.
    let other = sign_auth(
        &e,
        "w",
        json!({"chain_id": 1, "address": delegate().to_string(), "nonce": 0, "index": 1}),
    );
    other.expect_status(200);
    let sponsor = Address::from_str(st(other.data(), "authority")).expect("authority");
    assert_ne!(sponsor, me());
    let sponsored = authorized(&other, 1, delegate(), 0, sponsor);
    // The whole response is accepted as a tuple (its extra fields ignored,
    // its authority and signature checked).
    let r = sign_tx(&e, "w", type4(good(), vec![a.clone(), sponsored]));
    let env = decoded(&r);
    let TxEnvelope::Eip7702(t) = &env else {
        panic!("not type 4: {env:?}")
    };
    assert_eq!(t.tx().to, good());
    let list = &t.tx().authorization_list;
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].recover_authority().expect("authority"), me());
    assert_eq!(list[1].recover_authority().expect("authority"), sponsor);
    assert_eq!(*list[0].address(), delegate());
    assert_eq!(list[0].nonce(), 8);
    assert_eq!(r.data()["type"], "eip7702");
    let intent = &r.data()["intent"];
    assert_eq!(intent["type"], "eip7702", "{intent}");
    assert_eq!(
        intent["authorizations"][1]["authority"]
            .as_str()
            .map(str::to_lowercase),
        Some(low(sponsor)),
        "{intent}"
    );
    // The six fields alone are enough.
    decoded(&sign_tx(&e, "w", type4(good(), vec![bare_tuple(&a)])));
}

#[test]
fn blob_transactions_are_signed_in_consensus_form_and_decode_with_alloy() {
    let e = Engine::start();
    e.abandon("w", json!({}));
    let hashes = vec![blob_hash(0xaa), blob_hash(0xbb)];
    let r = sign_tx(&e, "w", type3(good(), hashes.clone(), "7"));
    let env = decoded(&r);
    let raw = unhex(st(r.data(), "signed_transaction"));
    assert_eq!(raw[0], 3, "type byte");
    let TxEnvelope::Eip4844(signed) = &env else {
        panic!("not type 3: {env:?}")
    };
    // The consensus form: the bare transaction, no sidecar.
    let TxEip4844Variant::TxEip4844(t) = signed.tx() else {
        panic!("the signed transaction carries a sidecar")
    };
    assert_eq!(t.to, good());
    assert_eq!(t.value, U256::from(5));
    assert_eq!(t.max_fee_per_blob_gas, 7);
    assert_eq!(
        t.blob_versioned_hashes,
        hashes
            .iter()
            .map(|h| B256::from_str(h).expect("hash"))
            .collect::<Vec<_>>()
    );
    let intent = &r.data()["intent"];
    assert_eq!(intent["blobs"]["count"], 2, "{intent}");
    // 7 × 131072 × 2 on top of 21000 × 100.
    assert_eq!(intent["blobs"]["max_blob_fee"], "1835008", "{intent}");
    assert_eq!(intent["max_fee"], (2_100_000u64 + 1_835_008).to_string());
}

#[test]
fn malformed_requests_are_400s_naming_the_field_and_lists_are_bounded() {
    let e = Engine::start();
    e.abandon("w", json!({}));
    let d = sign_auth(
        &e,
        "w",
        json!({"chain_id": 1, "address": delegate().to_string(), "nonce": 1}),
    );
    d.expect_status(200);
    let tuple = d.data().clone();
    let bare = bare_tuple(&tuple);
    expect_400_naming(
        &sign_auth(&e, "w", json!({"chain_id": 1, "nonce": 1})),
        "address",
    );
    expect_400_naming(
        &sign_auth(
            &e,
            "w",
            json!({"chain_id": 1, "address": "0x01", "nonce": 1}),
        ),
        "address",
    );
    expect_400_naming(
        &sign_auth(
            &e,
            "w",
            json!({"chain_id": 1, "address": delegate().to_string(), "nonce": u64::MAX.to_string()}),
        ),
        "nonce",
    );
    // A tuple whose fields were changed after signing no longer recovers to
    // the authority it names.
    let mut forged = tuple.clone();
    forged["address"] = json!(evil().to_string());
    expect_400_naming(
        &sign_tx(&e, "w", type4(good(), vec![forged])),
        "authorization_list[0].authority",
    );
    let mut parity = tuple.clone();
    parity["y_parity"] = json!(2);
    expect_400_naming(
        &sign_tx(&e, "w", type4(good(), vec![parity])),
        "authorization_list[0].y_parity",
    );
    expect_400_naming(
        &sign_tx(&e, "w", type4(good(), vec![])),
        "authorization_list",
    );
    let mut no_to = type4(good(), vec![tuple.clone()]);
    no_to.as_object_mut().expect("obj").remove("to");
    expect_400_naming(&sign_tx(&e, "w", no_to), "to");
    // A huge authorization list: the host's JSON complexity limit refuses
    // 5000 tuples; 65 reach the engine, which refuses them by count before
    // any tuple is parsed or recovered.
    let r = sign_tx(&e, "w", type4(good(), vec![tuple.clone(); 5000]));
    r.expect_status(400);
    let started = Instant::now();
    expect_400_naming(
        &sign_tx(&e, "w", type4(good(), vec![bare.clone(); 65])),
        "at most 64",
    );
    eprintln!(
        "65-tuple authorization list refused in {:?}",
        started.elapsed()
    );
    // 64 tuples are signed (and alloy decodes them).
    let env = decoded(&sign_tx(&e, "w", type4(good(), vec![bare; 64])));
    assert_eq!(env.authorization_list().map(<[_]>::len), Some(64));
    // Blob hashes: version byte, size, count, presence; blob fields on
    // another type.
    let mut v2 = [7u8; 32];
    v2[0] = 2;
    expect_400_naming(
        &sign_tx(
            &e,
            "w",
            type3(good(), vec![format!("0x{}", hex::encode(v2))], "1"),
        ),
        "blob_versioned_hashes[0]",
    );
    expect_400_naming(
        &sign_tx(&e, "w", type3(good(), vec!["0x01".into()], "1")),
        "blob_versioned_hashes[0]",
    );
    expect_400_naming(
        &sign_tx(&e, "w", type3(good(), vec![blob_hash(1); 7], "1")),
        "blob_versioned_hashes",
    );
    expect_400_naming(
        &sign_tx(&e, "w", type3(good(), vec![], "1")),
        "blob_versioned_hashes",
    );
    let mut on_1559 = type3(good(), vec![blob_hash(1)], "1");
    on_1559["type"] = json!("eip1559");
    expect_400_naming(&sign_tx(&e, "w", on_1559), "max_fee_per_blob_gas");
    let mut on_1559 = type4(good(), vec![tuple]);
    on_1559["type"] = json!("eip1559");
    expect_400_naming(&sign_tx(&e, "w", on_1559), "authorization_list");
    expect_400_naming(
        &sign_tx(
            &e,
            "w",
            type3(
                good(),
                vec![blob_hash(1)],
                &(U256::from(u128::MAX) + U256::from(1)).to_string(),
            ),
        ),
        "max_fee_per_blob_gas",
    );
}

#[test]
fn authorization_rules_delegates_any_chain_and_chain_ids() {
    let e = Engine::start();
    e.abandon("p", json!({}));
    // A wallet with the same key and no policy, to obtain tuples by our own
    // account that the policy never saw.
    e.abandon("free", json!({}));
    set_policy(
        &e,
        "p",
        json!({"allowed_chain_ids": [1], "allowed_delegates": [delegate().to_string()]}),
    );
    let read = e.get("crypto/policies/p/ethereum");
    read.expect_status(200);
    assert_eq!(read.data()["allow_any_chain_authorization"], false);
    assert_eq!(
        read.data()["allowed_delegates"][0]
            .as_str()
            .map(str::to_lowercase),
        Some(low(delegate()))
    );
    let body =
        |chain: u64, to: Address| json!({"chain_id": chain, "address": to.to_string(), "nonce": 1});
    // allowed_delegates.
    expect_403_naming(&sign_auth(&e, "p", body(1, evil())), "allowed_delegates");
    let d = check(&e, "p", "sign-authorization", body(1, evil()));
    assert_eq!(d["allowed"], false, "{d}");
    assert_eq!(d["rule"], "allowed_delegates", "{d}");
    assert_eq!(d["intent"]["kind"], "authorization", "{d}");
    // The zero address (clears a delegation) is a delegate like any other.
    expect_403_naming(
        &sign_auth(&e, "p", body(1, Address::ZERO)),
        "allowed_delegates",
    );
    authorized(
        &sign_auth(&e, "p", body(1, delegate())),
        1,
        delegate(),
        1,
        me(),
    );
    assert_eq!(
        check(&e, "p", "sign-authorization", body(1, delegate()))["allowed"],
        true
    );
    // allowed_chain_ids applies to a non-zero authorization chain id.
    expect_403_naming(
        &sign_auth(&e, "p", body(5, delegate())),
        "allowed_chain_ids",
    );
    // chain id 0 needs allow_any_chain_authorization.
    expect_403_naming(
        &sign_auth(&e, "p", body(0, delegate())),
        "allow_any_chain_authorization",
    );
    set_policy(&e, "p", json!({"allow_any_chain_authorization": true}));
    authorized(
        &sign_auth(&e, "p", body(0, delegate())),
        0,
        delegate(),
        1,
        me(),
    );

    // Type 4: every tuple of the list is judged, whoever signed it.
    let tuple = |chain: u64, to: Address, index: u32| {
        let r = sign_auth(
            &e,
            "free",
            json!({"chain_id": chain, "address": to.to_string(), "nonce": 1, "index": index}),
        );
        r.expect_status(200);
        r.data().clone()
    };
    set_policy(
        &e,
        "p",
        json!({"allow_any_chain_authorization": false, "allowed_recipients": [good().to_string()]}),
    );
    // Our own account delegated to an unlisted contract, carried in a
    // transaction the policy would otherwise allow.
    let ours_evil = tuple(1, evil(), 0);
    expect_403_naming(
        &sign_tx(&e, "p", type4(good(), vec![ours_evil.clone()])),
        "allowed_delegates",
    );
    // Hidden behind a listed tuple.
    let ours_good = tuple(1, delegate(), 0);
    expect_403_naming(
        &sign_tx(
            &e,
            "p",
            type4(good(), vec![ours_good.clone(), ours_evil.clone()]),
        ),
        "allowed_delegates",
    );
    // A sponsor's tuple to an unlisted delegate.
    expect_403_naming(
        &sign_tx(&e, "p", type4(good(), vec![tuple(1, evil(), 3)])),
        "allowed_delegates",
    );
    expect_403_naming(
        &sign_tx(&e, "p", type4(good(), vec![tuple(0, delegate(), 0)])),
        "allow_any_chain_authorization",
    );
    expect_403_naming(
        &sign_tx(&e, "p", type4(good(), vec![tuple(10, delegate(), 0)])),
        "allowed_chain_ids",
    );
    let d = check(&e, "p", "sign-transaction", type4(good(), vec![ours_evil]));
    assert_eq!(d["rule"], "allowed_delegates", "{d}");
    // The EIP-1559 rules: recipient and chain id of the transaction.
    let mut pay_evil = type4(evil(), vec![ours_good.clone()]);
    pay_evil["value"] = json!("1");
    expect_403_naming(&sign_tx(&e, "p", pay_evil), "allowed_recipients");
    let mut chain5 = type4(good(), vec![ours_good.clone()]);
    chain5["chain_id"] = json!(5);
    expect_403_naming(&sign_tx(&e, "p", chain5), "allowed_chain_ids");
    // Calldata to an unlisted contract.
    let mut call = type4(good(), vec![ours_good.clone()]);
    call["data"] = json!("0xdeadbeef");
    expect_403_naming(&sign_tx(&e, "p", call), "allow_arbitrary_calldata");
    // Positive control.
    let r = sign_tx(
        &e,
        "p",
        type4(good(), vec![ours_good, tuple(1, delegate(), 2)]),
    );
    let env = decoded(&r);
    assert_eq!(env.authorization_list().map(<[_]>::len), Some(2));
}

#[test]
fn blob_fees_count_toward_max_fee_per_tx_and_have_their_own_cap() {
    let e = Engine::start();
    e.abandon("p", json!({}));
    // Gas alone: 21000 × 100 = 2 100 000 wei.
    set_policy(
        &e,
        "p",
        json!({"allowed_chain_ids": [1], "allowed_recipients": [good().to_string()],
               "max_fee_per_tx": "3000000", "max_fee_per_blob_gas": "10",
               "max_value_per_tx": "5"}),
    );
    let read = e.get("crypto/policies/p/ethereum");
    assert_eq!(read.data()["max_fee_per_blob_gas"], "10", "{}", read.body);
    // Positive control: 2 100 000 + 6 × 131072 × 1 = 2 886 432.
    let r = sign_tx(&e, "p", type3(good(), vec![blob_hash(1); 6], "1"));
    decoded(&r);
    // The blob fee cap.
    expect_403_naming(
        &sign_tx(&e, "p", type3(good(), vec![blob_hash(1)], "11")),
        "max_fee_per_blob_gas",
    );
    // Under the cap per blob gas, but the blob fee pushes the total over
    // max_fee_per_tx: 2 100 000 + 2 × 131072 × 4 = 3 148 576.
    expect_403_naming(
        &sign_tx(&e, "p", type3(good(), vec![blob_hash(1); 2], "4")),
        "max_fee_per_tx",
    );
    let d = check(
        &e,
        "p",
        "sign-transaction",
        type3(good(), vec![blob_hash(1); 2], "4"),
    );
    assert_eq!(d["rule"], "max_fee_per_tx", "{d}");
    assert_eq!(d["intent"]["max_fee"], "3148576", "{d}");
    assert_eq!(d["intent"]["blobs"]["count"], 2, "{d}");
    // The EIP-1559 rules apply to type 3 too.
    expect_403_naming(
        &sign_tx(&e, "p", type3(evil(), vec![blob_hash(1)], "1")),
        "allowed_recipients",
    );
    let mut big = type3(good(), vec![blob_hash(1)], "1");
    big["value"] = json!("6");
    expect_403_naming(&sign_tx(&e, "p", big), "max_value_per_tx");
    let mut chain5 = type3(good(), vec![blob_hash(1)], "1");
    chain5["chain_id"] = json!(5);
    expect_403_naming(&sign_tx(&e, "p", chain5), "allowed_chain_ids");
    let mut call = type3(good(), vec![blob_hash(1)], "1");
    call["data"] = json!("0xdeadbeef");
    expect_403_naming(&sign_tx(&e, "p", call), "allow_arbitrary_calldata");
    // A policy without the blob cap: max_fee_per_tx still counts blobs.
    set_policy(&e, "p", json!({"max_fee_per_blob_gas": ""}));
    expect_403_naming(
        &sign_tx(&e, "p", type3(good(), vec![blob_hash(1)], "1000")),
        "max_fee_per_tx",
    );
    // 2 100 000 + 6 × 131072 = 2 886 432.
    decoded(&sign_tx(&e, "p", type3(good(), vec![blob_hash(1)], "6")));
}
