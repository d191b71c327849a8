//! EIP-712 typed data as the `ethereum/sign-typed-data` field carries it:
//! JSON text, parsed, validated, hashed and signed.
//!
//! Properties: no panic and no hang (the bounds on depth, values, types and
//! size hold); typed data that hashes signs, and the signature recovers to
//! the key over the signing hash; hashing is deterministic; the API form
//! (the object, or a string holding it) gives the same hashes.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use vault_plugin_crypto::fuzzing::on_runtime_stack;
use wallet_core::Secp256k1PrivateKey;
use wallet_core::ethereum::eip712::TypedData;
use wallet_core::ethereum::{Address, sign_typed_data};
use wallet_core::sign_hash::sign_digest_secp256k1;

fn key() -> &'static Secp256k1PrivateKey {
    static K: OnceLock<Secp256k1PrivateKey> = OnceLock::new();
    K.get_or_init(|| Secp256k1PrivateKey::from_bytes(&[0x42; 32]).expect("valid scalar"))
}

// On a thread with the runtime's 2 MiB stack: deep recursion overflows
// there, not only on libFuzzer's 8 MiB main thread.
fuzz_target!(|data: &[u8]| on_runtime_stack(|| run(data)));

fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(typed) = TypedData::from_json_str(text) else {
        return;
    };
    let _ = typed.domain_chain_id();
    let _ = typed.encode_type(typed.primary_type());
    let Ok(hashes) = typed.hash() else {
        return;
    };
    assert_eq!(
        typed.hash().ok(),
        Some(hashes.clone()),
        "hashing is deterministic"
    );

    // The API's two forms of the same typed data.
    let value: Value = serde_json::from_str(text).expect("parsed once already");
    let as_object = TypedData::from_api_value(&value).and_then(|t| t.hash());
    assert_eq!(as_object.ok(), Some(hashes.clone()));
    let as_string = TypedData::from_api_value(&Value::String(text.to_string()));
    assert_eq!(as_string.and_then(|t| t.hash()).ok(), Some(hashes.clone()));

    let (sig, signed_hashes) = sign_typed_data(key(), &typed).expect("hashed data signs");
    assert_eq!(signed_hashes, hashes);
    assert_eq!(sig.hash, hashes.signing_hash);
    assert_eq!(sig.address, Address::from_public_key(&key().public_key()));
    let again = sign_digest_secp256k1(key(), &hashes.signing_hash).expect("sign");
    assert_eq!(again.to_rsv_bytes(), sig.signature);
    assert_eq!(
        again.recover(&hashes.signing_hash),
        Some(key().public_key())
    );
}
