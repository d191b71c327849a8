//! Derivation paths (`m/44'/60'/0'/0/7`), BIP32 extended keys and BIP39
//! phrases, as the API receives them in `path`, `xpub`-style strings and
//! `mnemonic`.
//!
//! Properties: no panic; a parsed path prints back to a string that parses
//! to the same path, and a short one derives on both curves (ed25519 only
//! when every level is hardened, SLIP-0010); an extended key re-encodes to
//! a string that parses to the same key; a parsed mnemonic is canonical
//! (parsing its phrase again gives the same phrase).

#![no_main]

use std::str::FromStr;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vault_plugin_crypto::fuzzing::on_runtime_stack;
use wallet_core::hd::{ExtendedPrivateKey, ExtendedPublicKey};
use wallet_core::{DerivationPath, HdWallet, Mnemonic, Seed};

/// Deeper paths parse but are not derived: derivation costs one EC
/// multiplication per level and would dominate the run.
const MAX_DERIVED_DEPTH: usize = 8;

fn wallet() -> &'static HdWallet {
    static W: OnceLock<HdWallet> = OnceLock::new();
    W.get_or_init(|| HdWallet::from_seed(Seed::from_bytes(&[7u8; 32])).expect("seed"))
}

// On a thread with the runtime's 2 MiB stack: deep recursion overflows
// there, not only on libFuzzer's 8 MiB main thread.
fuzz_target!(|data: &[u8]| on_runtime_stack(|| run(data)));

fn run(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };

    if let Ok(path) = DerivationPath::from_str(s) {
        let printed = path.to_string();
        let again = DerivationPath::from_str(&printed).expect("a printed path parses");
        assert_eq!(again, path, "{printed:?}");
        if path.depth() <= MAX_DERIVED_DEPTH {
            wallet()
                .derive_secp256k1(&path)
                .expect("secp256k1 derivation");
            let all_hardened = path.levels().iter().all(|l| l.is_hardened());
            assert_eq!(
                wallet().derive_ed25519(&path).is_ok(),
                all_hardened,
                "{printed:?}"
            );
        }
    }

    if let Ok(key) = ExtendedPublicKey::parse(s) {
        let again = ExtendedPublicKey::parse(&key.encode()).expect("re-encoded xpub parses");
        assert_eq!(again, key);
    }

    if let Ok(key) = ExtendedPrivateKey::parse(s) {
        let encoded = key.expose_encoded();
        let again = ExtendedPrivateKey::parse(encoded.expose_str()).expect("re-encoded xprv");
        assert_eq!(again.expose_encoded().expose_str(), encoded.expose_str());
        assert_eq!(again.depth(), key.depth());
    }

    if let Ok(m) = Mnemonic::parse(s) {
        let again = Mnemonic::parse(m.expose_phrase()).expect("canonical phrase parses");
        assert_eq!(again.expose_phrase(), m.expose_phrase());
        assert_eq!(again.expose_entropy(), m.expose_entropy());
    }
}
