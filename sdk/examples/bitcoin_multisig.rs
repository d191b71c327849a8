//! Co-sign a multisig PSBT: export this wallet's BIP-48 account key for the
//! multisig descriptor, then add this wallet's signature to a PSBT (base64
//! on stdin) and finalize it when it has reached the threshold.
//!
//! ```sh
//! VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=root \
//!   cargo run -p vault-crypto-sdk --example bitcoin_multisig -- treasury < tx.psbt
//! ```

use std::io::Read as _;

use vault_crypto_sdk::addresses::XpubRequest;
use vault_crypto_sdk::bitcoin::SignPsbt;
use vault_crypto_sdk::{AddressType, BitcoinNetwork, Client};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let name = std::env::args().nth(1).unwrap_or_else(|| "treasury".into());
    let client = Client::from_env()?;
    // m/48'/0'/0'/2': give this key to the coordinator, e.g. in
    // wsh(sortedmulti(2,<this>,<cosigner 2>,<cosigner 3>)).
    let account = client
        .addresses()
        .xpub(
            &name,
            &XpubRequest::multisig(AddressType::P2wshMultisig, BitcoinNetwork::Bitcoin, 0),
        )
        .await?;
    println!(
        "descriptor key {}",
        account.descriptor_key.as_deref().unwrap_or("-")
    );

    let mut psbt = String::new();
    std::io::stdin().read_to_string(&mut psbt)?;
    if psbt.trim().is_empty() {
        return Ok(());
    }
    let signed = client
        .bitcoin()
        .sign_psbt(&name, &SignPsbt::new(psbt.trim()).finalize(true))
        .await?;
    for m in &signed.multisig {
        println!(
            "input {}: {} of {} signatures ({})",
            m.input, m.valid_signatures, m.threshold, m.status
        );
    }
    match &signed.transaction {
        Some(tx) => println!("transaction {tx}"),
        None => println!("psbt {}", signed.psbt),
    }
    Ok(())
}
