//! Independent cross-checks: alloy (a dev-dependency, not our code) decodes
//! our signed transactions, recovers their signer, and computes EIP-191 and
//! EIP-712 hashes for comparison, over random inputs.

use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::{Transaction as _, TxEnvelope};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{B256, Signature};
use proptest::prelude::*;
use serde_json::{Value, json};
use wallet_core::ethereum::{
    self, AccessListItem, Address, Eip1559Transaction, Eip2930Transaction, LegacyTransaction,
    Transaction, U256, eip712::TypedData,
};
use wallet_core::{Secp256k1PrivateKey, sign_hash};

fn key_strategy() -> impl Strategy<Value = Secp256k1PrivateKey> {
    any::<[u8; 32]>().prop_filter_map("valid scalar", |b| Secp256k1PrivateKey::from_bytes(&b).ok())
}

fn u256_strategy() -> impl Strategy<Value = U256> {
    prop_oneof![
        Just(U256::ZERO),
        any::<u64>().prop_map(U256::from),
        any::<[u8; 32]>().prop_map(U256::from_be_bytes),
    ]
}

fn access_list_strategy() -> impl Strategy<Value = Vec<AccessListItem>> {
    prop::collection::vec(
        (
            any::<[u8; 20]>(),
            prop::collection::vec(any::<[u8; 32]>(), 0..3),
        )
            .prop_map(|(a, keys)| AccessListItem {
                address: Address(a),
                storage_keys: keys,
            }),
        0..3,
    )
}

#[derive(Debug, Clone)]
struct Common {
    chain_id: u64,
    nonce: u64,
    gas_limit: u64,
    to: Option<Address>,
    value: U256,
    data: Vec<u8>,
}

fn common_strategy() -> impl Strategy<Value = Common> {
    (
        prop_oneof![1u64..100_000, 1u64..=((u64::MAX - 36) / 2)],
        any::<u64>(),
        any::<u64>(),
        prop::option::of(any::<[u8; 20]>().prop_map(Address)),
        u256_strategy(),
        prop::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(|(chain_id, nonce, gas_limit, to, value, data)| Common {
            chain_id,
            nonce,
            gas_limit,
            to,
            value,
            data,
        })
}

fn fee_strategy() -> impl Strategy<Value = U256> {
    prop_oneof![
        Just(U256::ZERO),
        any::<u64>().prop_map(U256::from),
        any::<u128>().prop_map(U256::from),
    ]
}

fn tx_strategy() -> impl Strategy<Value = Transaction> {
    (
        0u8..3,
        common_strategy(),
        fee_strategy(),
        fee_strategy(),
        access_list_strategy(),
    )
        .prop_map(|(kind, c, a, b, access_list)| match kind {
            0 => Transaction::Legacy(LegacyTransaction {
                chain_id: c.chain_id,
                nonce: c.nonce,
                gas_price: a,
                gas_limit: c.gas_limit,
                to: c.to,
                value: c.value,
                data: c.data,
            }),
            1 => Transaction::Eip2930(Eip2930Transaction {
                chain_id: c.chain_id,
                nonce: c.nonce,
                gas_price: a,
                gas_limit: c.gas_limit,
                to: c.to,
                value: c.value,
                data: c.data,
                access_list,
            }),
            _ => Transaction::Eip1559(Eip1559Transaction {
                chain_id: c.chain_id,
                nonce: c.nonce,
                max_priority_fee_per_gas: a.min(b),
                max_fee_per_gas: a.max(b),
                gas_limit: c.gas_limit,
                to: c.to,
                value: c.value,
                data: c.data,
                access_list,
            }),
        })
}

fn alloy_addr(a: &Address) -> alloy_primitives::Address {
    alloy_primitives::Address::from(a.0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn alloy_decodes_our_signed_transactions_and_recovers_the_signer(
        key in key_strategy(),
        tx in tx_strategy(),
    ) {
        let signed = tx.sign(&key).expect("sign");
        let env = TxEnvelope::decode_2718(&mut signed.raw.as_slice()).expect("alloy decodes");
        prop_assert_eq!(env.recover_signer().expect("recover"), alloy_addr(&signed.from));
        prop_assert_eq!(signed.from, ethereum::address(&key.public_key()));
        prop_assert_eq!(env.tx_hash().0, signed.hash);
        prop_assert_eq!(env.chain_id(), Some(tx.chain_id()));
        prop_assert_eq!(env.to(), tx.to().as_ref().map(alloy_addr));
        prop_assert_eq!(env.value(), tx.value());
        prop_assert_eq!(u8::from(env.tx_type()), tx.tx_type().type_byte());
        match &tx {
            Transaction::Legacy(t) => {
                prop_assert_eq!(env.nonce(), t.nonce);
                prop_assert_eq!(env.gas_limit(), t.gas_limit);
                prop_assert_eq!(env.gas_price(), Some(t.gas_price.to::<u128>()));
                prop_assert_eq!(env.input().as_ref(), t.data.as_slice());
                // EIP-155: v = chain_id * 2 + 35 + parity.
                prop_assert!(signed.v == t.chain_id * 2 + 35 || signed.v == t.chain_id * 2 + 36);
            }
            Transaction::Eip2930(t) => {
                prop_assert_eq!(env.nonce(), t.nonce);
                prop_assert_eq!(env.gas_limit(), t.gas_limit);
                prop_assert_eq!(env.gas_price(), Some(t.gas_price.to::<u128>()));
                prop_assert_eq!(env.input().as_ref(), t.data.as_slice());
                prop_assert_eq!(env.access_list().map(|l| l.0.len()), Some(t.access_list.len()));
                prop_assert!(signed.v <= 1);
            }
            Transaction::Eip1559(t) => {
                prop_assert_eq!(env.nonce(), t.nonce);
                prop_assert_eq!(env.gas_limit(), t.gas_limit);
                prop_assert_eq!(env.max_fee_per_gas(), t.max_fee_per_gas.to::<u128>());
                prop_assert_eq!(env.max_priority_fee_per_gas(), Some(t.max_priority_fee_per_gas.to::<u128>()));
                prop_assert_eq!(env.input().as_ref(), t.data.as_slice());
                prop_assert_eq!(env.access_list().map(|l| l.0.len()), Some(t.access_list.len()));
                prop_assert!(signed.v <= 1);
            }
            // Types 3 and 4: tests/eip7702_4844_crosscheck.rs.
            Transaction::Eip4844(_) | Transaction::Eip7702(_) => unreachable!("not generated here"),
        }
        // Low S (EIP-2): s <= n/2.
        let half_n = U256::from_str_radix("7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0", 16).expect("n/2");
        prop_assert!(U256::from_be_bytes(signed.s) <= half_n);
    }

    #[test]
    fn personal_sign_matches_alloy_and_recovers(
        key in key_strategy(),
        msg in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let sig = ethereum::sign_personal_message(&key, &msg).expect("sign");
        prop_assert_eq!(alloy_primitives::eip191_hash_message(&msg).0, sig.hash);
        prop_assert!(sig.signature[64] == 27 || sig.signature[64] == 28);
        let alloy_sig = Signature::from_raw(&sig.signature).expect("parse");
        prop_assert_eq!(alloy_sig.recover_address_from_msg(&msg).expect("recover"), alloy_addr(&sig.address));
    }

    #[test]
    fn sign_hash_recovers_with_alloy(key in key_strategy(), digest in any::<[u8; 32]>()) {
        let rsv = sign_hash::sign_hash_secp256k1(&key, &digest).expect("sign");
        let alloy_sig = Signature::from_raw(&rsv).expect("parse");
        prop_assert!(!alloy_sig.s().gt(&(alloy_primitives::U256::from_str_radix("7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0", 16).expect("n/2"))));
        let recovered = alloy_sig.recover_address_from_prehash(&B256::from(digest)).expect("recover");
        prop_assert_eq!(recovered, alloy_addr(&ethereum::address(&key.public_key())));
    }
}

fn assert_same_as_alloy(v: &Value) {
    let ours = TypedData::from_json(v)
        .expect("ours parses")
        .hash()
        .expect("ours hashes");
    let theirs: alloy_dyn_abi::TypedData = serde_json::from_value(v.clone()).expect("alloy parses");
    assert_eq!(
        theirs.eip712_signing_hash().expect("alloy hashes").0,
        ours.signing_hash,
        "{v}"
    );
    assert_eq!(theirs.domain().separator().0, ours.domain_separator);
    let ours_td = TypedData::from_json(v).expect("ours");
    assert_eq!(
        theirs.encode_type().expect("alloy type"),
        ours_td
            .encode_type(ours_td.primary_type())
            .expect("ours type")
    );
}

#[test]
fn eip712_mail_matches_alloy() {
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{}/tests/vectors/eip712_mail.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("read"),
    )
    .expect("json");
    assert_same_as_alloy(&v["typed_data"]);
}

fn order_types() -> Value {
    json!({
        "EIP712Domain": [
            {"name": "name", "type": "string"},
            {"name": "version", "type": "string"},
            {"name": "chainId", "type": "uint256"},
            {"name": "verifyingContract", "type": "address"},
            {"name": "salt", "type": "bytes32"}
        ],
        "Asset": [
            {"name": "token", "type": "address"},
            {"name": "amount", "type": "uint256"},
            {"name": "tag", "type": "bytes4"}
        ],
        "Inner": [
            {"name": "label", "type": "string"},
            {"name": "value", "type": "uint128"},
            {"name": "sub", "type": "Asset"}
        ],
        "Order": [
            {"name": "maker", "type": "address"},
            {"name": "assets", "type": "Asset[]"},
            {"name": "pair", "type": "Asset[2]"},
            {"name": "deltas", "type": "int64[]"},
            {"name": "matrix", "type": "uint8[2][]"},
            {"name": "flags", "type": "bool[3]"},
            {"name": "note", "type": "string"},
            {"name": "blob", "type": "bytes"},
            {"name": "big", "type": "int256"},
            {"name": "small", "type": "int8"},
            {"name": "ids", "type": "uint32[]"},
            {"name": "inner", "type": "Inner"},
            {"name": "names", "type": "string[]"}
        ]
    })
}

fn hexs(b: &[u8]) -> Value {
    Value::String(format!("0x{}", hex::encode(b)))
}

fn asset_strategy() -> impl Strategy<Value = Value> {
    (any::<[u8; 20]>(), any::<[u8; 32]>(), any::<[u8; 4]>()).prop_map(|(a, amt, tag)| {
        json!({"token": hexs(&a), "amount": U256::from_be_bytes(amt).to_string(), "tag": hexs(&tag)})
    })
}

fn order_strategy() -> impl Strategy<Value = Value> {
    (
        (
            any::<[u8; 20]>(),
            prop::collection::vec(asset_strategy(), 0..3),
            prop::collection::vec(asset_strategy(), 2..=2),
            prop::collection::vec(any::<i64>(), 0..4),
            prop::collection::vec(any::<[u8; 2]>(), 0..3),
            any::<[bool; 3]>(),
        ),
        (
            ".{0,20}",
            prop::collection::vec(any::<u8>(), 0..40),
            any::<[u8; 32]>(),
            any::<i8>(),
            prop::collection::vec(any::<u32>(), 0..4),
            (".{0,10}", any::<u128>(), asset_strategy()),
            prop::collection::vec(".{0,8}", 0..3),
        ),
        (any::<u64>(), any::<[u8; 20]>(), any::<[u8; 32]>()),
    )
        .prop_map(
            |(
                (maker, assets, pair, deltas, matrix, flags),
                (note, blob, big, small, ids, inner, names),
                (chain, vc, salt),
            )| {
                // A random 256-bit two's complement value as a signed decimal.
                let big_u = U256::from_be_bytes(big);
                let big_s = if big[0] & 0x80 != 0 {
                    format!("-{}", big_u.wrapping_neg())
                } else {
                    big_u.to_string()
                };
                json!({
                    "types": order_types(),
                    "primaryType": "Order",
                    "domain": {"name": "Exchange", "version": "2", "chainId": chain,
                        "verifyingContract": hexs(&vc), "salt": hexs(&salt)},
                    "message": {
                        "maker": hexs(&maker),
                        "assets": assets,
                        "pair": pair,
                        "deltas": deltas,
                        "matrix": matrix.iter().map(|m| json!([m[0], m[1]])).collect::<Vec<_>>(),
                        "flags": flags,
                        "note": note,
                        "blob": hexs(&blob),
                        "big": big_s,
                        "small": small,
                        "ids": ids,
                        "inner": {"label": inner.0, "value": inner.1.to_string(), "sub": inner.2},
                        "names": names
                    }
                })
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn eip712_hash_matches_alloy_for_random_nested_data(v in order_strategy()) {
        assert_same_as_alloy(&v);
    }

    #[test]
    fn eip712_signature_recovers_with_alloy(key in key_strategy(), v in order_strategy()) {
        let td = TypedData::from_json(&v).expect("typed data");
        let (sig, hashes) = ethereum::sign_typed_data(&key, &td).expect("sign");
        let alloy_sig = Signature::from_raw(&sig.signature).expect("parse");
        let recovered = alloy_sig.recover_address_from_prehash(&B256::from(hashes.signing_hash)).expect("recover");
        prop_assert_eq!(recovered, alloy_addr(&sig.address));
    }
}
