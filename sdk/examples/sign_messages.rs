//! Prove address ownership with messages signed inside Vault: a BIP-322 signature for the
//! wallet's native segwit address, a legacy `Bitcoin Signed Message:` one for its P2PKH
//! address, and a Solana off-chain message. With a bitcoin policy, the policy must set
//! `allow_message_signing=true`.
//!
//! ```sh
//! VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=root cargo run -p vault-crypto-sdk --example sign_messages -- treasury
//! ```

use vault_crypto_sdk::bitcoin::{BitcoinSignMessage, MessageFormat};
use vault_crypto_sdk::solana::SolanaSignMessage;
use vault_crypto_sdk::{AddressType, Client};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let name = std::env::args().nth(1).unwrap_or_else(|| "treasury".into());
    let client = Client::from_env()?;
    let statement = "I control this address. Travel Rule check 2026-12-02.";

    let bip322 = client
        .bitcoin()
        .sign_message(&name, &BitcoinSignMessage::text(statement))
        .await?;
    println!(
        "BIP-322 ({}) by {}: {}",
        bip322.encoding, bip322.address, bip322.signature
    );

    let legacy = client
        .bitcoin()
        .sign_message(
            &name,
            &BitcoinSignMessage::text(statement)
                .address_type(AddressType::P2pkh)
                .format(MessageFormat::Legacy),
        )
        .await?;
    println!("legacy by {}: {}", legacy.address, legacy.signature);

    let sol = client
        .solana()
        .sign_message(&name, &SolanaSignMessage::offchain(statement))
        .await?;
    println!(
        "solana off-chain by {}: {} (envelope {})",
        sol.public_key,
        sol.signature,
        sol.envelope.unwrap_or_default()
    );
    Ok(())
}
