//! In-process benchmarks of the wallet core (criterion).
//!
//! `cargo bench -p wallet-core` (or `make bench`). Figures only: nothing
//! here asserts a speed.

use std::hint::black_box;
use std::str::FromStr;

use bitcoin::bip32::{DerivationPath as BtcPath, Fingerprint};
use bitcoin::hashes::Hash as _;
use criterion::{Criterion, criterion_group, criterion_main};
use wallet_core::bitcoin::{BitcoinError, Psbt, Secp256k1KeySource, SignOptions, sign_psbt};
use wallet_core::ethereum::{self, TransactionRequest, TxType, U256};
use wallet_core::hd::{DerivationPath, HdWallet};
use wallet_core::secret::{Mnemonic, Passphrase};
use wallet_core::{sign_hash, solana};

/// The BIP39 test mnemonic (BIP39 vectors; also BIP-84's example wallet).
const ABANDON: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

fn wallet() -> HdWallet {
    let m = Mnemonic::parse(ABANDON).expect("mnemonic");
    HdWallet::from_mnemonic(&m, &Passphrase::default()).expect("wallet")
}

/// An HD wallet as the PSBT signer's key source, deriving on demand as the
/// plugin does on a cold derived-key cache.
struct HdSource(HdWallet);

impl Secp256k1KeySource for HdSource {
    fn master_fingerprint(&self) -> [u8; 4] {
        self.0.master_fingerprint()
    }
    fn derive_signing_key(&self, path: &[u32]) -> Result<k256::ecdsa::SigningKey, BitcoinError> {
        let pairs: Vec<(u32, bool)> = path
            .iter()
            .map(|r| (r & 0x7fff_ffff, r & 0x8000_0000 != 0))
            .collect();
        let path = DerivationPath::from_pairs(&pairs).map_err(|_| BitcoinError::KeyDerivation)?;
        self.0
            .derive_secp256k1(&path)
            .map(|k| k.to_k256())
            .map_err(|_| BitcoinError::KeyDerivation)
    }
}

/// A PSBT spending two P2WPKH outputs of the wallet (m/84'/0'/0'/0/0 and
/// /1) to one external output, built with rust-bitcoin.
fn two_input_p2wpkh_psbt(w: &HdWallet) -> Psbt {
    use bitcoin::{
        Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid, Witness,
        absolute::LockTime, psbt, transaction::Version,
    };
    let fp = Fingerprint::from(w.master_fingerprint());
    let keys: Vec<(bitcoin::secp256k1::PublicKey, BtcPath)> = (0..2)
        .map(|i| {
            let text = format!("m/84'/0'/0'/0/{i}");
            let ours = DerivationPath::from_str(&text).expect("path");
            let pk = w.derive_secp256k1(&ours).expect("key").public_key();
            let pk = bitcoin::secp256k1::PublicKey::from_slice(&pk.to_compressed()).expect("pk");
            (pk, BtcPath::from_str(&text).expect("path"))
        })
        .collect();
    let tx = Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: (0..2u8)
            .map(|i| TxIn {
                previous_output: OutPoint::new(Txid::from_byte_array([i + 1; 32]), 0),
                script_sig: ScriptBuf::new(),
                sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
                witness: Witness::new(),
            })
            .collect(),
        output: vec![TxOut {
            value: Amount::from_sat(150_000),
            script_pubkey: ScriptBuf::new_p2wpkh(&bitcoin::WPubkeyHash::from_byte_array(
                [0xaa; 20],
            )),
        }],
    };
    let mut p = psbt::Psbt::from_unsigned_tx(tx).expect("psbt");
    for (input, (pk, path)) in p.inputs.iter_mut().zip(keys) {
        let cpk = bitcoin::CompressedPublicKey(pk);
        input.witness_utxo = Some(TxOut {
            value: Amount::from_sat(100_000),
            script_pubkey: ScriptBuf::new_p2wpkh(&cpk.wpubkey_hash()),
        });
        input.bip32_derivation.insert(pk, (fp, path));
    }
    Psbt::parse(&p.serialize()).expect("our parser reads rust-bitcoin's PSBT")
}

fn benches(c: &mut Criterion) {
    let mnemonic = Mnemonic::parse(ABANDON).expect("mnemonic");
    let w = wallet();
    let depth5: DerivationPath = "m/44'/60'/0'/0/7".parse().expect("path");
    let sol5: DerivationPath = "m/44'/501'/0'/0'/7'".parse().expect("path");
    let eth_key = w
        .derive_secp256k1(&DerivationPath::ethereum(0, 0).expect("path"))
        .expect("key");
    let sol_key = w
        .derive_ed25519(&DerivationPath::solana(0).expect("path"))
        .expect("key");
    let typed: serde_json::Value =
        serde_json::from_str(include_str!("../tests/vectors/eip712_mail.json")).expect("json");
    let typed = ethereum::eip712::TypedData::from_json(&typed["typed_data"]).expect("typed");
    let to = ethereum::Address::parse_field("0x000000000000000000000000000000000000dEaD", "to")
        .expect("address");
    let digest = [7u8; 32];
    let signature = sign_hash::sign_digest_secp256k1(&eth_key, &digest).expect("sign");
    let psbt = two_input_p2wpkh_psbt(&w);
    let source = HdSource(wallet());
    let options = SignOptions::default();

    c.bench_function("bip39 mnemonic to seed (PBKDF2, 2048 rounds)", |b| {
        b.iter(|| mnemonic.to_seed(black_box(&Passphrase::default())))
    });
    c.bench_function("bip32 secp256k1 derivation, depth 5", |b| {
        b.iter(|| w.derive_secp256k1(black_box(&depth5)))
    });
    c.bench_function("slip-0010 ed25519 derivation, depth 5", |b| {
        b.iter(|| w.derive_ed25519(black_box(&sol5)))
    });
    c.bench_function("secp256k1 sign hash (recoverable, low-S)", |b| {
        b.iter(|| sign_hash::sign_hash_secp256k1(&eth_key, black_box(&digest)))
    });
    c.bench_function("secp256k1 recover", |b| {
        b.iter(|| black_box(&signature).recover(black_box(&digest)))
    });
    c.bench_function("ed25519 sign (32 bytes)", |b| {
        b.iter(|| sign_hash::sign_ed25519(&sol_key, black_box(&digest)))
    });
    c.bench_function("solana sign-message (32 bytes)", |b| {
        b.iter(|| solana::sign_message(&sol_key, black_box(&digest)))
    });
    c.bench_function("ethereum personal_sign", |b| {
        b.iter(|| ethereum::sign_personal_message(&eth_key, black_box(b"hello")))
    });
    c.bench_function("eip-712 hash + sign (Mail example)", |b| {
        b.iter(|| ethereum::sign_typed_data(&eth_key, black_box(&typed)))
    });
    c.bench_function("eip-1559 build + encode + sign", |b| {
        b.iter(|| {
            TransactionRequest {
                tx_type: Some(TxType::Eip1559),
                chain_id: Some(1),
                nonce: Some(0),
                gas_limit: Some(21_000),
                to: Some(to),
                value: Some(U256::from(1_000_000_000_000_000u64)),
                max_fee_per_gas: Some(U256::from(30_000_000_000u64)),
                max_priority_fee_per_gas: Some(U256::from(1_000_000_000u64)),
                ..Default::default()
            }
            .build()
            .and_then(|tx| tx.sign(&eth_key))
        })
    });
    c.bench_function("psbt sign, 2 p2wpkh inputs (derivation included)", |b| {
        b.iter(|| sign_psbt(black_box(&psbt), &source, &options))
    });
}

criterion_group!(core, benches);
criterion_main!(core);
