//! Sign an EIP-1559 transaction and an EIP-191 message inside Vault. The engine never
//! touches the network: nonce and fees come from the caller (here: fixed numbers).
//!
//! ```sh
//! VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=root cargo run -p vault-crypto-sdk --example sign_ethereum -- treasury
//! ```

use vault_crypto_sdk::Client;
use vault_crypto_sdk::ethereum::{SignMessage, SignTransaction};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let name = std::env::args().nth(1).unwrap_or_else(|| "treasury".into());
    let client = Client::from_env()?;

    // 0.001 ether to 0x…dEaD on Sepolia (chain id 11155111), nonce 0.
    let tx = SignTransaction::eip1559(11_155_111, 0, 21_000, 30_000_000_000u64, 1_000_000_000u64)
        .to("0x000000000000000000000000000000000000dEaD")
        .value(1_000_000_000_000_000u64);
    let signed = client.ethereum().sign_transaction(&name, &tx).await?;
    println!("from    {}", signed.from);
    println!("tx hash {}", signed.transaction_hash);
    println!("raw     {}", signed.signed_transaction);

    let msg = client
        .ethereum()
        .sign_message(&name, &SignMessage::text("hello from vault"))
        .await?;
    println!("personal_sign {} by {}", msg.signature, msg.address);
    Ok(())
}
