//! An alloy app signing inside Vault: `VaultSigner` is an alloy `Signer` + `TxSigner`.
//!
//! ```sh
//! VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=root \
//!   cargo run -p vault-crypto-sdk --features alloy --example alloy_signer -- treasury
//! ```

use alloy_consensus::{SignableTransaction, TxEip1559};
use alloy_network::TxSigner;
use alloy_primitives::{Address, TxKind, U256};
use alloy_signer::Signer;
use vault_crypto_sdk::alloy::VaultSigner;
use vault_crypto_sdk::{Client, KeySelection};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let name = std::env::args().nth(1).unwrap_or_else(|| "treasury".into());
    let signer = VaultSigner::new(Client::from_env()?, &name, KeySelection::default())
        .await?
        .with_chain_id(Some(11_155_111));
    println!("signer {}", Signer::address(&signer));

    let sig = signer.sign_message(b"hello alloy").await?;
    println!(
        "message signature recovers to {}",
        sig.recover_address_from_msg(b"hello alloy")?
    );

    let mut tx = TxEip1559 {
        chain_id: 11_155_111,
        nonce: 0,
        gas_limit: 21_000,
        max_fee_per_gas: 30_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(Address::repeat_byte(0xde)),
        value: U256::from(1_000_000_000_000_000u64),
        ..Default::default()
    };
    let sig = signer.sign_transaction(&mut tx).await?;
    let signed = tx.into_signed(sig);
    println!("tx hash {}", signed.hash());
    Ok(())
}
