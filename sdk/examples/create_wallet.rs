//! Create a wallet (generated 24-word mnemonic, safe defaults) and print its public facts.
//!
//! ```sh
//! make dev   # in another terminal: dev server with the plugin at crypto/
//! VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=root cargo run -p vault-crypto-sdk --example create_wallet -- treasury
//! ```

use vault_crypto_sdk::Client;
use vault_crypto_sdk::wallets::CreateWallet;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let name = std::env::args().nth(1).unwrap_or_else(|| "treasury".into());
    let client = Client::from_env()?;
    let w = match client.wallets().read(&name).await {
        Ok(w) => w,
        Err(e) if e.is_not_found() => {
            client
                .wallets()
                .create(&name, &CreateWallet::generate(24))
                .await?
        }
        Err(e) => return Err(e.into()),
    };
    println!(
        "wallet {} type={} fingerprint={} words={:?} exportable={}",
        w.name,
        w.wallet_type,
        w.fingerprint.as_deref().unwrap_or("-"),
        w.words,
        w.exportable
    );
    println!("all wallets: {:?}", client.wallets().list().await?);
    Ok(())
}
