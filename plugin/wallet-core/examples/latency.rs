//! Prints the in-process latency of the wallet core's main operations.
//!
//! `cargo run --release -p wallet-core --example latency`
//!
//! Figures only: nothing here asserts a speed (benchmarks are not tests).

use std::hint::black_box;
use std::time::{Duration, Instant};

use wallet_core::ethereum::{self, TransactionRequest, TxType, U256};
use wallet_core::hd::{DerivationPath, HdWallet};
use wallet_core::secret::Mnemonic;
use wallet_core::secret::Passphrase;
use wallet_core::{sign_hash, solana};

const ABANDON: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

fn time<T>(name: &str, iterations: u32, mut f: impl FnMut() -> T) {
    // Warm up, then measure.
    for _ in 0..iterations.min(10) {
        black_box(f());
    }
    let start = Instant::now();
    for _ in 0..iterations {
        black_box(f());
    }
    let per = start.elapsed() / iterations;
    println!("{name:<44} {:>10.1} µs", as_micros(per));
}

fn as_micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mnemonic = Mnemonic::parse(ABANDON)?;
    let wallet = HdWallet::from_mnemonic(&mnemonic, &Passphrase::default())?;
    let eth_path = DerivationPath::ethereum(0, 0)?;
    let sol_path = DerivationPath::solana(0)?;
    let depth5: DerivationPath = "m/44'/60'/0'/0/7".parse()?;
    let eth_key = wallet.derive_secp256k1(&eth_path)?;
    let sol_key = wallet.derive_ed25519(&sol_path)?;
    let typed: serde_json::Value =
        serde_json::from_str(include_str!("../tests/vectors/eip712_mail.json"))?;
    let typed = ethereum::eip712::TypedData::from_json(&typed["typed_data"])?;
    let to = ethereum::Address::parse_field("0x000000000000000000000000000000000000dEaD", "to")?;

    println!("wallet-core in-process latency (per operation, one thread)");
    time("BIP39 mnemonic -> seed (PBKDF2 2048 rounds)", 50, || {
        mnemonic.to_seed(&Passphrase::default())
    });
    time("BIP32 secp256k1 derivation, depth 5", 500, || {
        wallet.derive_secp256k1(&depth5)
    });
    time("SLIP-0010 ed25519 derivation, depth 4", 500, || {
        wallet.derive_ed25519(&sol_path)
    });
    time("secp256k1 sign-hash (recoverable, low-S)", 2000, || {
        sign_hash::sign_hash_secp256k1(&eth_key, &[7u8; 32])
    });
    time("ed25519 sign (32 bytes)", 5000, || {
        sign_hash::sign_ed25519(&sol_key, &[7u8; 32])
    });
    time("EIP-191 personal_sign", 2000, || {
        ethereum::sign_personal_message(&eth_key, b"hello")
    });
    time("EIP-712 hash + sign (Mail example)", 1000, || {
        ethereum::sign_typed_data(&eth_key, &typed)
    });
    time("EIP-1559 build + encode + sign", 1000, || {
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
    });
    time("Solana message sign", 5000, || {
        solana::sign_message(&sol_key, b"hello")
    });
    Ok(())
}
