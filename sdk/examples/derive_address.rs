//! Derive addresses of a wallet on every chain, and the bitcoin account descriptor.
//!
//! ```sh
//! VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=root cargo run -p vault-crypto-sdk --example derive_address -- treasury
//! ```

use vault_crypto_sdk::addresses::{AddressRequest, XpubRequest};
use vault_crypto_sdk::{AddressType, Chain, Client};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let name = std::env::args().nth(1).unwrap_or_else(|| "treasury".into());
    let client = Client::from_env()?;
    for chain in [Chain::Ethereum, Chain::Bitcoin, Chain::Solana] {
        let a = client
            .addresses()
            .get(&name, chain, &AddressRequest::index(0))
            .await?;
        println!(
            "{chain:<8} {} {}",
            a.address,
            a.path.as_deref().unwrap_or("-")
        );
    }
    let five = client
        .addresses()
        .get(
            &name,
            Chain::Ethereum,
            &AddressRequest::index(0).with_count(5),
        )
        .await?;
    for e in &five.addresses {
        println!("ethereum #{:?} {}", e.index, e.address);
    }
    let x = client
        .addresses()
        .xpub(
            &name,
            &XpubRequest::chain(Chain::Bitcoin).with_address_type(AddressType::P2tr),
        )
        .await?;
    println!("descriptor {}", x.descriptor.as_deref().unwrap_or("-"));
    Ok(())
}
