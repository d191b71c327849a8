//! PSBT v0 bytes (BIP-174) through the decoder, the re-encoder, the policy
//! summary and the signer (with and without finalizing).
//!
//! The key source answers every derivation path with one key under the
//! master fingerprint `FUZZ`, so an input is ours as soon as its
//! `bip32_derivation` (or `tap_bip32_derivation`) names that fingerprint and
//! that key: the seeds in `seeds/bitcoin_psbt/` do, one input of each
//! supported kind.
//!
//! Properties: no panic; a parsed PSBT re-encodes (bytes and base64) to a
//! PSBT that parses equal; a signed PSBT does too and lists only existing
//! inputs; an extracted transaction parses and has the reported txid.

#![no_main]

use std::sync::OnceLock;

use k256::ecdsa::SigningKey;
use libfuzzer_sys::fuzz_target;
use vault_plugin_crypto::fuzzing::on_runtime_stack;
use wallet_core::bitcoin::{
    BitcoinError, Network, Psbt, Secp256k1KeySource, SignOptions, Transaction, sign_psbt,
    summarize_psbt,
};

/// The master fingerprint the seeds name.
const FINGERPRINT: [u8; 4] = *b"FUZZ";

struct OneKey(SigningKey);

impl Secp256k1KeySource for OneKey {
    fn master_fingerprint(&self) -> [u8; 4] {
        FINGERPRINT
    }

    fn derive_signing_key(&self, _path: &[u32]) -> Result<SigningKey, BitcoinError> {
        Ok(self.0.clone())
    }
}

fn keys() -> &'static OneKey {
    static K: OnceLock<OneKey> = OnceLock::new();
    K.get_or_init(|| OneKey(SigningKey::from_slice(&[0x42; 32]).expect("valid scalar")))
}

// On a thread with the runtime's 2 MiB stack: deep recursion overflows
// there, not only on libFuzzer's 8 MiB main thread.
fuzz_target!(|data: &[u8]| on_runtime_stack(|| run(data)));

fn run(data: &[u8]) {
    let Ok(psbt) = Psbt::parse(data) else {
        return;
    };
    let again = Psbt::parse(&psbt.serialize()).expect("a re-encoded PSBT parses");
    assert_eq!(again, psbt, "re-encoding keeps every field");
    let again = Psbt::from_base64(&psbt.to_base64()).expect("base64 round trip");
    assert_eq!(again, psbt);
    let tx = psbt.unsigned_tx();
    assert_eq!(Transaction::parse(&tx.serialize()).as_ref(), Ok(tx));

    for network in [Network::Bitcoin, Network::Regtest] {
        let _ = summarize_psbt(&psbt, keys(), network);
    }

    for finalize in [false, true] {
        // Every sighash type allowed, so the fuzzer reaches every signer path.
        let options = SignOptions {
            finalize,
            aux_rand: [7; 32],
            allowed_sighash: vec![0x00, 0x01, 0x02, 0x03, 0x81, 0x82, 0x83],
        };
        let signed = sign_psbt(&psbt, keys(), &options);
        if std::env::var_os("FUZZ_VERBOSE").is_some() {
            eprintln!(
                "finalize {finalize}: {:?}",
                signed.as_ref().map(|s| &s.signed_inputs)
            );
        }
        let Ok(signed) = signed else {
            continue;
        };
        assert!(!signed.signed_inputs.is_empty());
        assert!(signed.signed_inputs.iter().all(|&i| i < psbt.input_count()));
        let again = Psbt::parse(&signed.psbt.serialize()).expect("a signed PSBT parses");
        assert_eq!(again, signed.psbt);
        match (&signed.transaction, &signed.txid) {
            (Some(raw), Some(txid)) => {
                assert!(finalize, "a transaction only when finalizing");
                let tx = Transaction::parse(raw).expect("the extracted transaction parses");
                assert_eq!(&tx.txid_hex(), txid);
            }
            (None, None) => {}
            _ => panic!("transaction and txid come together"),
        }
    }
}
