//! EIP-7702 and EIP-4844 signed inside Vault with the alloy signer: an authorization that
//! delegates the account to a contract, a type-4 transaction carrying it, and a type-3 blob
//! transaction (consensus form; attach the sidecar before `eth_sendRawTransaction`). With an
//! ethereum policy the delegate must be in `allowed_delegates`.
//!
//! ```sh
//! VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=root \
//!   cargo run -p vault-crypto-sdk --features alloy --example eip7702_4844 -- treasury 0xDelegate
//! ```

use alloy_consensus::{SignableTransaction, TxEip4844, TxEip7702, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_eips::eip7702::Authorization;
use alloy_network::TxSigner;
use alloy_primitives::{Address, B256, U256};
use alloy_signer::Signer;
use vault_crypto_sdk::alloy::VaultSigner;
use vault_crypto_sdk::{Client, KeySelection};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "treasury".into());
    let delegate: Address = args
        .next()
        .unwrap_or_else(|| Address::repeat_byte(0xde).to_string())
        .parse()?;
    let chain_id = 11_155_111;
    let signer = VaultSigner::new(Client::from_env()?, &name, KeySelection::default())
        .await?
        .with_chain_id(Some(chain_id));
    println!("account {}", Signer::address(&signer));

    // The account sends the transaction itself: its authorization nonce is the
    // transaction nonce + 1 (the sender's nonce is bumped first).
    let nonce = 0;
    let auth = signer
        .sign_authorization(Authorization {
            chain_id: U256::from(chain_id),
            address: delegate,
            nonce: nonce + 1,
        })
        .await?;
    println!("authority {}", auth.recover_authority()?);

    let mut tx = TxEip7702 {
        chain_id,
        nonce,
        gas_limit: 100_000,
        max_fee_per_gas: 30_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: Signer::address(&signer),
        authorization_list: vec![auth],
        ..Default::default()
    };
    let sig = signer.sign_transaction(&mut tx).await?;
    let env = TxEnvelope::from(tx.into_signed(sig));
    println!(
        "type 4: 0x{}",
        alloy_primitives::hex::encode(env.encoded_2718())
    );

    let mut hash = B256::repeat_byte(0x11);
    hash.0[0] = 1; // versioned hash of a KZG commitment
    let mut blob = TxEip4844 {
        chain_id,
        nonce: nonce + 1,
        gas_limit: 21_000,
        max_fee_per_gas: 30_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: Signer::address(&signer),
        blob_versioned_hashes: vec![hash],
        max_fee_per_blob_gas: 1_000_000_000,
        ..Default::default()
    };
    let sig = signer.sign_transaction(&mut blob).await?;
    let signed = blob.into_signed(sig);
    // Network form: wrap with the sidecar, e.g. alloy's
    // `TxEip4844WithSidecar::from_tx_and_sidecar(tx, sidecar)`, then encode.
    println!("type 3 (consensus form) hash {}", signed.hash());
    Ok(())
}
