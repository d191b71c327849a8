//! Solana transaction and message bytes (legacy and v0) through the parser,
//! the re-serializer and the signer.
//!
//! The signing key is fixed; the seeds in `seeds/solana_transaction/` list
//! its public key among the required signers, so signing is reached.
//!
//! Properties: no panic; a parsed transaction re-serializes to the input
//! (or, for a bare message, to empty signature slots followed by the
//! input) and that parses equal; when the key is a signer, the signature
//! lands in its slot, verifies over the message bytes, and nothing else of
//! the transaction changes.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vault_plugin_crypto::fuzzing::on_runtime_stack;
use wallet_core::Ed25519PrivateKey;
use wallet_core::solana::{SolanaError, parse_message, parse_transaction, sign_transaction};

fn key() -> &'static Ed25519PrivateKey {
    static K: OnceLock<Ed25519PrivateKey> = OnceLock::new();
    K.get_or_init(|| Ed25519PrivateKey::from_bytes(&[0x42; 32]))
}

// On a thread with the runtime's 2 MiB stack: deep recursion overflows
// there, not only on libFuzzer's 8 MiB main thread.
fuzz_target!(|data: &[u8]| on_runtime_stack(|| run(data)));

fn run(data: &[u8]) {
    let _ = parse_message(data);
    let Ok(tx) = parse_transaction(data) else {
        return;
    };
    let bytes = tx.serialize();
    if tx.was_bare_message {
        assert_eq!(&bytes[bytes.len() - data.len()..], data);
        assert!(tx.signatures.iter().all(|s| s == &[0u8; 64]));
    } else {
        assert_eq!(
            bytes, data,
            "a parsed transaction re-serializes to its bytes"
        );
    }
    let again = parse_transaction(&bytes).expect("a re-serialized transaction parses");
    assert_eq!(again.message, tx.message);
    assert_eq!(again.signatures, tx.signatures);
    assert_eq!(
        usize::from(tx.message.num_required_signatures),
        tx.signatures.len()
    );

    let signed = sign_transaction(key(), data);
    if std::env::var_os("FUZZ_VERBOSE").is_some() {
        eprintln!("{:?}", signed.as_ref().map(|s| s.signer_index));
    }
    match signed {
        Ok(signed) => {
            let public = key().public_key();
            assert_eq!(tx.message.signers()[signed.signer_index], public);
            assert!(public.verify(&tx.message_bytes, &signed.signature));
            let out = parse_transaction(&signed.transaction).expect("signed bytes parse");
            assert_eq!(out.message, tx.message);
            for (i, s) in out.signatures.iter().enumerate() {
                let want = if i == signed.signer_index {
                    &signed.signature
                } else {
                    &tx.signatures[i]
                };
                assert_eq!(s, want, "signature slot {i}");
            }
        }
        Err(SolanaError::NotASigner) => {
            assert!(!tx.message.signers().contains(&key().public_key()));
        }
        Err(e) => panic!("parsed, yet signing failed: {e}"),
    }
}
