//! `ethereum/sign-transaction`, `sign-message` and `sign-typed-data` through
//! a real server (docs/api.md "Signing"), verified with alloy: the signed
//! bytes decode, the signer recovers to the wallet's address, every field
//! round-trips.

mod engine_common;

use std::str::FromStr;

use alloy_consensus::{Signed, Transaction, TxEnvelope};
use alloy_dyn_abi::TypedData;
use alloy_eips::eip2718::Decodable2718;
use alloy_eips::eip2930::{AccessList, AccessListItem};
use alloy_primitives::{
    Address, B256, Bytes, Signature, TxKind, U256, eip191_hash_message, keccak256,
};
use engine_common::{
    ABANDON, Engine, eth_address, expect_400_naming, num, secp_key, seed, st, unhex,
};
use serde_json::{Value, json};

const ETH0: &str = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94";
const TO: &str = "0x3535353535353535353535353535353535353535";
const SIGN_TX: &str = "crypto/wallets/a/ethereum/sign-transaction";

/// Half the secp256k1 group order: low-S signatures have s <= this.
fn half_n() -> U256 {
    U256::from_str_radix(
        "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0",
        16,
    )
    .expect("n/2")
}

fn addr(s: &str) -> Address {
    Address::from_str(s).expect("address")
}

fn engine() -> Engine {
    let e = Engine::start();
    e.abandon("a", json!({}));
    e
}

/// Checks the response's common fields and decodes `signed_transaction`.
#[track_caller]
fn decode(d: &Value, want_from: &str) -> TxEnvelope {
    let raw = unhex(st(d, "signed_transaction"));
    let env = TxEnvelope::decode_2718_exact(&raw)
        .unwrap_or_else(|e| panic!("alloy cannot decode {}: {e}", d["signed_transaction"]));
    let hash = unhex(st(d, "transaction_hash"));
    assert_eq!(
        hash,
        keccak256(&raw).to_vec(),
        "transaction_hash != keccak(bytes)"
    );
    assert_eq!(hash, env.tx_hash().to_vec());
    let signer = match &env {
        TxEnvelope::Legacy(s) => s.recover_signer(),
        TxEnvelope::Eip2930(s) => s.recover_signer(),
        TxEnvelope::Eip1559(s) => s.recover_signer(),
        other => panic!("unexpected transaction type {other:?}"),
    }
    .expect("recover");
    assert_eq!(signer, addr(want_from), "recovered signer");
    assert_eq!(addr(st(d, "from")), signer);
    assert!(d["path"].is_string(), "no path: {d}");
    assert!(d["public_key"].is_string(), "no public_key: {d}");
    let sig = *env.signature();
    assert_eq!(num(&d["r"]), sig.r(), "r");
    assert_eq!(num(&d["s"]), sig.s(), "s");
    assert!(sig.s() <= half_n(), "high S");
    env
}

fn check_sig_v<T>(d: &Value, signed: &Signed<T>, legacy_chain: Option<u64>) {
    let parity = u64::from(signed.signature().v());
    let want = match legacy_chain {
        Some(c) => c * 2 + 35 + parity,
        None => parity,
    };
    assert_eq!(num(&d["v"]), U256::from(want), "v");
}

#[test]
fn a_legacy_transaction_is_signed_with_eip155_and_round_trips_through_alloy() {
    let e = engine();
    for chain_id in [1u64, 11_155_111] {
        let r = e.write(
            SIGN_TX,
            json!({
                "type": "legacy",
                "chain_id": chain_id,
                "nonce": 9,
                "gas_limit": 21000,
                "gas_price": "20000000000",
                "to": TO,
                "value": "1000000000000000000",
            }),
        );
        r.expect_status(200);
        let d = r.data();
        assert_eq!(d["type"], "legacy");
        assert_eq!(d["path"], "m/44'/60'/0'/0/0");
        let env = decode(d, ETH0);
        let TxEnvelope::Legacy(signed) = &env else {
            panic!("not legacy: {env:?}")
        };
        let tx = signed.tx();
        assert_eq!(tx.chain_id, Some(chain_id), "EIP-155 replay protection");
        assert_eq!(tx.nonce, 9);
        assert_eq!(tx.gas_limit, 21000);
        assert_eq!(tx.gas_price, 20_000_000_000);
        assert_eq!(tx.to, TxKind::Call(addr(TO)));
        assert_eq!(tx.value, U256::from(10u64).pow(U256::from(18)));
        assert!(tx.input.is_empty());
        check_sig_v(d, signed, Some(chain_id));
    }
    // Without max_fee_per_gas and without `type`, the default is legacy.
    let r = e.write(
        SIGN_TX,
        json!({"chain_id": 1, "nonce": 0, "gas_limit": 21000, "gas_price": 1, "to": TO}),
    );
    r.expect_status(200);
    assert_eq!(r.data()["type"], "legacy");
    assert!(matches!(decode(r.data(), ETH0), TxEnvelope::Legacy(_)));
}

fn access_list_json() -> Value {
    json!([
        {"address": "0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe",
         "storage_keys": [
            "0x0000000000000000000000000000000000000000000000000000000000000003",
            "0x0000000000000000000000000000000000000000000000000000000000000007"]},
        {"address": "0xbb9bc244d798123fde783fcc1c72d3bb8c189413", "storage_keys": []}
    ])
}

fn access_list() -> AccessList {
    AccessList(vec![
        AccessListItem {
            address: addr("0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe"),
            storage_keys: vec![B256::with_last_byte(3), B256::with_last_byte(7)],
        },
        AccessListItem {
            address: addr("0xbb9bc244d798123fde783fcc1c72d3bb8c189413"),
            storage_keys: vec![],
        },
    ])
}

#[test]
fn an_eip2930_transaction_keeps_its_access_list_and_data() {
    let e = engine();
    let r = e.write(
        SIGN_TX,
        json!({
            "type": "eip2930",
            "chain_id": 5,
            "nonce": "0x10",
            "gas_limit": 100000,
            "gas_price": "0x3b9aca00",
            "to": TO,
            "value": 0,
            "data": "0xa9059cbb00000000000000000000000035353535353535353535353535353535353535350000000000000000000000000000000000000000000000000000000000000064",
            "access_list": access_list_json(),
        }),
    );
    r.expect_status(200);
    let d = r.data();
    assert_eq!(d["type"], "eip2930");
    let env = decode(d, ETH0);
    let TxEnvelope::Eip2930(signed) = &env else {
        panic!("not eip2930: {env:?}")
    };
    let tx = signed.tx();
    assert_eq!(tx.chain_id, 5);
    assert_eq!(tx.nonce, 16);
    assert_eq!(tx.gas_limit, 100_000);
    assert_eq!(tx.gas_price, 1_000_000_000);
    assert_eq!(tx.to, TxKind::Call(addr(TO)));
    assert_eq!(tx.value, U256::ZERO);
    assert_eq!(tx.input.len(), 68);
    assert_eq!(&tx.input[..4], &[0xa9, 0x05, 0x9c, 0xbb]);
    assert_eq!(tx.access_list, access_list());
    assert_eq!(raw_type(d), 0x01);
    check_sig_v(d, signed, None);
}

fn raw_type(d: &Value) -> u8 {
    unhex(st(d, "signed_transaction"))[0]
}

#[test]
fn an_eip1559_transaction_round_trips_fees_access_list_and_is_the_default_with_max_fee() {
    let e = engine();
    let big = "1267650600228229401496703205376"; // 2^100 wei
    let r = e.write(
        SIGN_TX,
        json!({
            "chain_id": "137",
            "nonce": 42,
            "gas_limit": "0x5208",
            "max_fee_per_gas": "30000000000",
            "max_priority_fee_per_gas": 2000000000u64,
            "to": "0x3535353535353535353535353535353535353535",
            "value": big,
            "data": "0xdeadbeef",
            "access_list": access_list_json(),
        }),
    );
    r.expect_status(200);
    let d = r.data();
    assert_eq!(d["type"], "eip1559", "the default with max_fee_per_gas");
    assert_eq!(raw_type(d), 0x02);
    let env = decode(d, ETH0);
    let TxEnvelope::Eip1559(signed) = &env else {
        panic!("not eip1559: {env:?}")
    };
    let tx = signed.tx();
    assert_eq!(tx.chain_id, 137);
    assert_eq!(tx.nonce, 42);
    assert_eq!(tx.gas_limit, 21000);
    assert_eq!(tx.max_fee_per_gas, 30_000_000_000);
    assert_eq!(tx.max_priority_fee_per_gas, 2_000_000_000);
    assert_eq!(tx.to, TxKind::Call(addr(TO)));
    assert_eq!(tx.value, U256::from(1u64) << 100);
    assert_eq!(tx.input, Bytes::from(vec![0xde, 0xad, 0xbe, 0xef]));
    assert_eq!(tx.access_list, access_list());
    check_sig_v(d, signed, None);
    assert_eq!(env.value(), U256::from_str(big).expect("big"));
}

#[test]
fn a_transaction_without_to_is_a_contract_creation() {
    let e = engine();
    for to in [None, Some("")] {
        let mut body = json!({
            "chain_id": 1, "nonce": 1, "gas_limit": 500000,
            "max_fee_per_gas": 100, "max_priority_fee_per_gas": 1,
            "data": "0x6080604052",
        });
        if let Some(t) = to {
            body["to"] = json!(t);
        }
        let r = e.write(SIGN_TX, body);
        r.expect_status(200);
        let env = decode(r.data(), ETH0);
        assert_eq!(env.kind(), TxKind::Create, "to={to:?}");
        assert_eq!(env.input().as_ref(), &[0x60, 0x80, 0x60, 0x40, 0x52]);
    }
}

#[test]
fn integers_are_accepted_as_json_numbers_decimal_strings_and_hex_strings() {
    let e = engine();
    let mut hashes = Vec::new();
    for value in [json!(1_000_000u64), json!("1000000"), json!("0xf4240")] {
        let r = e.write(
            SIGN_TX,
            json!({"chain_id": 1, "nonce": 3, "gas_limit": 21000, "gas_price": "0x1",
                   "to": TO, "value": value}),
        );
        r.expect_status(200);
        let env = decode(r.data(), ETH0);
        assert_eq!(env.value(), U256::from(1_000_000u64));
        hashes.push(r.data()["transaction_hash"].clone());
    }
    // The same transaction in every notation.
    assert_eq!(hashes[0], hashes[1]);
    assert_eq!(hashes[1], hashes[2]);
}

#[test]
fn key_selection_picks_the_signer_and_key_wallets_sign_with_their_key() {
    let e = engine();
    let s = seed(ABANDON, "");
    for (extra, path) in [
        (json!({"index": 1}), "m/44'/60'/0'/0/1"),
        (json!({"account": 2, "index": 3}), "m/44'/60'/2'/0/3"),
        (json!({"path": "m/44'/60'/0'/0/7"}), "m/44'/60'/0'/0/7"),
    ] {
        let mut body =
            json!({"chain_id": 1, "nonce": 0, "gas_limit": 21000, "gas_price": 1, "to": TO});
        for (k, v) in extra.as_object().expect("obj") {
            body[k] = v.clone();
        }
        let r = e.write(SIGN_TX, body);
        r.expect_status(200);
        let (_, pk) = secp_key(&s, path);
        let want = eth_address(&pk).to_checksum(None);
        decode(r.data(), &want);
        assert_eq!(r.data()["path"], path);
        assert_eq!(
            r.data()["public_key"],
            format!("0x{}", hex::encode(pk.serialize())).as_str()
        );
    }
    let key: [u8; 32] =
        hex::decode("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
            .expect("hex")
            .try_into()
            .expect("32");
    e.import_key("k", "secp256k1", &key, json!({}));
    let r = e.write(
        "crypto/wallets/k/ethereum/sign-transaction",
        json!({"chain_id": 1, "nonce": 0, "gas_limit": 21000, "gas_price": 1, "to": TO}),
    );
    r.expect_status(200);
    decode(r.data(), "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23");
    e.import_key("ed", "ed25519", &[3; 32], json!({}));
    let r = e.write(
        "crypto/wallets/ed/ethereum/sign-transaction",
        json!({"chain_id": 1, "nonce": 0, "gas_limit": 21000, "gas_price": 1, "to": TO}),
    );
    r.expect_status(400);
    let r = e.write(
        "crypto/wallets/ed/ethereum/sign-message",
        json!({"message": "hi"}),
    );
    r.expect_status(400);
}

#[test]
fn malformed_transactions_are_400s_naming_the_field() {
    let e = engine();
    let base = json!({"chain_id": 1, "nonce": 0, "gas_limit": 21000, "gas_price": 1, "to": TO});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let without = |k: &str| {
        let mut b = base.clone();
        b.as_object_mut().expect("obj").remove(k);
        b
    };
    let cases: Vec<(Value, &str)> = vec![
        (without("chain_id"), "chain_id"),
        (without("nonce"), "nonce"),
        (without("gas_limit"), "gas_limit"),
        (with("chain_id", json!("one")), "chain_id"),
        (with("nonce", json!(-1)), "nonce"),
        (
            with("to", json!("0x35353535353535353535353535353535353535")),
            "to",
        ),
        (with("to", json!("not an address")), "to"),
        (with("value", json!("-1")), "value"),
        (with("value", json!("1.5")), "value"),
        (
            with("value", json!("0x1".to_string() + &"0".repeat(64))),
            "value",
        ),
        (with("data", json!("0xzz")), "data"),
        (with("data", json!("0x123")), "data"),
        (with("type", json!("eip4848")), "type"),
        (with("gas_price", json!("lots")), "gas_price"),
        (
            with(
                "access_list",
                json!([{"address": "0x12", "storage_keys": []}]),
            ),
            "access_list",
        ),
        (
            with(
                "access_list",
                json!([{"address": TO, "storage_keys": ["0x01"]}]),
            ),
            "access_list",
        ),
        (
            json!({"type": "eip1559", "chain_id": 1, "nonce": 0, "gas_limit": 21000, "to": TO,
                   "max_priority_fee_per_gas": 1}),
            "max_fee_per_gas",
        ),
    ];
    for (body, field) in cases {
        let r = e.write(SIGN_TX, body.clone());
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert!(
            r.errors().contains(field),
            "{body}: the 400 does not name {field}: {}",
            r.body
        );
    }
}

#[test]
fn personal_sign_recovers_to_the_wallet_address_for_text_and_bytes() {
    let e = engine();
    for (body, msg) in [
        (json!({"message": "hello world"}), b"hello world".to_vec()),
        (
            json!({"message": "ünïcødé ✓"}),
            "ünïcødé ✓".as_bytes().to_vec(),
        ),
        (
            json!({"message_hex": "0xdeadbeef00ff"}),
            vec![0xde, 0xad, 0xbe, 0xef, 0x00, 0xff],
        ),
    ] {
        let r = e.write("crypto/wallets/a/ethereum/sign-message", body.clone());
        r.expect_status(200);
        let d = r.data();
        let sig_bytes = unhex(st(d, "signature"));
        assert_eq!(sig_bytes.len(), 65);
        assert!(matches!(sig_bytes[64], 27 | 28), "v = {}", sig_bytes[64]);
        let want_hash = eip191_hash_message(&msg);
        assert_eq!(unhex(st(d, "hash")), want_hash.to_vec(), "{body}");
        let sig = Signature::from_raw(&sig_bytes).expect("signature");
        assert!(sig.s() <= half_n());
        assert_eq!(
            sig.recover_address_from_msg(&msg).expect("recover"),
            addr(ETH0)
        );
        assert_eq!(addr(st(d, "address")), addr(ETH0));
        assert_eq!(d["path"], "m/44'/60'/0'/0/0");
    }
    expect_400_naming(
        &e.write("crypto/wallets/a/ethereum/sign-message", json!({})),
        "message",
    );
    expect_400_naming(
        &e.write(
            "crypto/wallets/a/ethereum/sign-message",
            json!({"message_hex": "0xnothex"}),
        ),
        "message_hex",
    );
}

/// The `Mail` example of EIP-712.
fn mail() -> Value {
    json!({
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"}
            ],
            "Person": [
                {"name": "name", "type": "string"},
                {"name": "wallet", "type": "address"}
            ],
            "Mail": [
                {"name": "from", "type": "Person"},
                {"name": "to", "type": "Person"},
                {"name": "contents", "type": "string"}
            ]
        },
        "primaryType": "Mail",
        "domain": {
            "name": "Ether Mail",
            "version": "1",
            "chainId": 1,
            "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"
        },
        "message": {
            "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
            "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
            "contents": "Hello, Bob!"
        }
    })
}

#[test]
fn eip712_typed_data_has_the_mail_example_hash_and_recovers() {
    let e = engine();
    let td: TypedData = serde_json::from_value(mail()).expect("typed data");
    let hash = td.eip712_signing_hash().expect("hash");
    // The values published with EIP-712's example.
    assert_eq!(
        hash,
        B256::from_str("0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2")
            .expect("b256")
    );
    let separator = td.domain().separator();
    assert_eq!(
        separator,
        B256::from_str("0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f")
            .expect("b256")
    );
    for typed_data in [mail(), Value::String(mail().to_string())] {
        let r = e.write(
            "crypto/wallets/a/ethereum/sign-typed-data",
            json!({ "typed_data": typed_data }),
        );
        r.expect_status(200);
        let d = r.data();
        assert_eq!(unhex(st(d, "hash")), hash.to_vec());
        assert_eq!(unhex(st(d, "domain_separator")), separator.to_vec());
        let sig_bytes = unhex(st(d, "signature"));
        assert_eq!(sig_bytes.len(), 65);
        assert!(matches!(sig_bytes[64], 27 | 28));
        let sig = Signature::from_raw(&sig_bytes).expect("sig");
        assert_eq!(
            sig.recover_address_from_prehash(&hash).expect("recover"),
            addr(ETH0)
        );
        assert_eq!(addr(st(d, "address")), addr(ETH0));
    }
    let path = "crypto/wallets/a/ethereum/sign-typed-data";
    expect_400_naming(&e.write(path, json!({})), "typed_data");
    let mut broken = mail();
    broken["primaryType"] = json!("Letter");
    expect_400_naming(
        &e.write(path, json!({ "typed_data": broken })),
        "typed_data",
    );
    expect_400_naming(
        &e.write(path, json!({ "typed_data": "{not json" })),
        "typed_data",
    );
    let mut bad_value = mail();
    bad_value["message"]["from"]["wallet"] = json!("0x1234");
    expect_400_naming(
        &e.write(path, json!({ "typed_data": bad_value })),
        "typed_data",
    );
}

#[test]
fn the_cli_signs_a_transaction_and_a_message_with_bao_write() {
    let e = engine();
    let v = e.cli_json(
        "write",
        &[
            SIGN_TX,
            "chain_id=1",
            "nonce=5",
            "gas_limit=21000",
            "gas_price=1000000000",
            &format!("to={TO}"),
            "value=12345",
        ],
    );
    let d = &v["data"];
    let env = decode(d, ETH0);
    assert_eq!(env.nonce(), 5);
    assert_eq!(env.value(), U256::from(12345));
    assert_eq!(env.chain_id(), Some(1));
    let v = e.cli_json(
        "write",
        &[
            "crypto/wallets/a/ethereum/sign-message",
            "message=hello from the cli",
        ],
    );
    let sig = Signature::from_raw(&unhex(st(&v["data"], "signature"))).expect("sig");
    assert_eq!(
        sig.recover_address_from_msg("hello from the cli")
            .expect("recover"),
        addr(ETH0)
    );
    // A refused request fails the CLI with the field named.
    let (ok, _out, err) = e.cli(&["write", SIGN_TX, "nonce=1", "gas_limit=21000"]);
    assert!(!ok);
    assert!(err.contains("chain_id"), "{err}");
}
