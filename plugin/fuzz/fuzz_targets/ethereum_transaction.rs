//! Ethereum transaction fields as the `ethereum/sign-transaction` body
//! carries them (a JSON object), through wallet-core's field parsers, the
//! type rules of `TransactionRequest::build`, validation, RLP encoding and
//! signing.
//!
//! Properties: no panic; a transaction that builds signs; its signature
//! recovers to the signing key over `signing_hash`; `v` follows EIP-155
//! (legacy) or is the y-parity (typed); the signed bytes are the type byte
//! (typed only) and one RLP list spanning the rest (EIP-2718).

#![no_main]

use std::str::FromStr;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use vault_plugin_crypto::fuzzing::on_runtime_stack;
use wallet_core::Secp256k1PrivateKey;
use wallet_core::ethereum::eip7702::signed_authorization_from_json;
use wallet_core::ethereum::{
    Address, Transaction, TransactionRequest, TxType, access_list_from_json, keccak256, parse_b256,
    parse_hex_bytes, u64_from_json, u256_from_json,
};
use wallet_core::sign_hash::sign_digest_secp256k1;

fn key() -> &'static Secp256k1PrivateKey {
    static K: OnceLock<Secp256k1PrivateKey> = OnceLock::new();
    K.get_or_init(|| Secp256k1PrivateKey::from_bytes(&[0x42; 32]).expect("valid scalar"))
}

/// The request as the API's fields give it, or `None` at the first field
/// a parser refuses (the plugin answers that with a 400).
fn request(obj: &serde_json::Map<String, Value>) -> Option<TransactionRequest> {
    let str_of = |k: &str| obj.get(k).and_then(Value::as_str);
    let u64_of = |k: &'static str| obj.get(k).map(|v| u64_from_json(v, k)).transpose();
    let u256_of = |k: &'static str| obj.get(k).map(|v| u256_from_json(v, k)).transpose();
    Some(TransactionRequest {
        tx_type: str_of("type").map(TxType::from_str).transpose().ok()?,
        chain_id: u64_of("chain_id").ok()?,
        nonce: u64_of("nonce").ok()?,
        gas_limit: u64_of("gas_limit").ok()?,
        to: match str_of("to").map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(Address::parse_field(s, "to").ok()?),
        },
        value: u256_of("value").ok()?,
        data: match str_of("data") {
            None => Vec::new(),
            Some(s) => parse_hex_bytes(s.trim(), "data").ok()?,
        },
        gas_price: u256_of("gas_price").ok()?,
        max_fee_per_gas: u256_of("max_fee_per_gas").ok()?,
        max_priority_fee_per_gas: u256_of("max_priority_fee_per_gas").ok()?,
        access_list: obj
            .get("access_list")
            .map(access_list_from_json)
            .transpose()
            .ok()?,
        max_fee_per_blob_gas: u256_of("max_fee_per_blob_gas").ok()?,
        // Lists one past the API's bounds (6 blobs, 64 authorizations), so the
        // builder's own bounds are reached.
        blob_versioned_hashes: match obj.get("blob_versioned_hashes") {
            None => None,
            Some(v) => Some(
                v.as_array()?
                    .iter()
                    .take(7)
                    .map(|h| h.as_str().and_then(|s| parse_b256(s, "h").ok()))
                    .collect::<Option<Vec<_>>>()?,
            ),
        },
        authorization_list: match obj.get("authorization_list") {
            None => None,
            Some(v) => Some(
                v.as_array()?
                    .iter()
                    .take(65)
                    .map(|a| signed_authorization_from_json(a, "a").ok())
                    .collect::<Option<Vec<_>>>()?,
            ),
        },
    })
}

/// Length of the RLP list at the start of `b` (header + payload), if `b`
/// starts with a well-formed list header.
fn rlp_list_len(b: &[u8]) -> Option<usize> {
    match *b.first()? {
        p @ 0xc0..=0xf7 => Some(1 + usize::from(p - 0xc0)),
        p @ 0xf8..=0xff => {
            let n = usize::from(p - 0xf7);
            let len_bytes = b.get(1..1 + n)?;
            if len_bytes[0] == 0 {
                return None; // not minimal
            }
            let len = len_bytes.iter().try_fold(0usize, |acc, &x| {
                acc.checked_mul(256)?.checked_add(usize::from(x))
            })?;
            (len > 55).then_some(1 + n + len)
        }
        _ => None,
    }
}

// On a thread with the runtime's 2 MiB stack: deep recursion overflows
// there, not only on libFuzzer's 8 MiB main thread.
fuzz_target!(|data: &[u8]| on_runtime_stack(|| run(data)));

fn run(data: &[u8]) {
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Some(req) = request(&obj) else {
        return;
    };
    let Ok(tx) = req.build() else {
        return;
    };
    tx.validate().expect("a built transaction is valid");
    let signed = tx.sign(key()).expect("a valid transaction signs");

    let hash = tx.signing_hash();
    let sig = sign_digest_secp256k1(key(), &hash).expect("sign");
    assert_eq!(
        (sig.r, sig.s),
        (signed.r, signed.s),
        "RFC 6979 is deterministic"
    );
    assert_eq!(sig.recover(&hash), Some(key().public_key()));
    assert_eq!(signed.from, Address::from_public_key(&key().public_key()));
    assert_eq!(signed.tx_type, tx.tx_type());
    let parity = u64::from(sig.y_parity);
    let body = match &tx {
        Transaction::Legacy(t) => {
            assert_eq!(signed.v, t.chain_id * 2 + 35 + parity, "EIP-155 v");
            &signed.raw[..]
        }
        _ => {
            assert_eq!(signed.v, parity);
            assert_eq!(signed.raw[0], tx.tx_type().type_byte());
            &signed.raw[1..]
        }
    };
    assert_eq!(rlp_list_len(body), Some(body.len()), "one RLP list");
    assert_eq!(signed.hash, keccak256(&signed.raw));
}
