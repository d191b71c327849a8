//! Client SDK for the `crypto/` secrets engine of `vault-plugin-crypto`, and plugin
//! registration across an HA cluster.
//!
//! The HTTP API in `docs/api.md` is the contract: this crate does not depend on the plugin.
//!
//! * [`Client`]: async, typed, one module per API area — [`wallets`], [`addresses`] (and
//!   xpub), [`policy`], [`ethereum`], [`bitcoin`], [`solana`], [`sign_hash`], [`approvals`]. Configured like
//!   the `vault`/`bao` CLIs ([`Config::from_env`]), rustls TLS, several nodes with bounded
//!   fail-over on connection failure, `503` and `429`. Signing paths also take [`batch`]es
//!   (`*_batch` methods): one call, one result or one error per item.
//! * [`register`]: compute the SHA256, check every node, register in the catalog through the
//!   active node, verify every node, enable or tune the mount, reload with global scope.
//! * Feature `alloy`: [`alloy::VaultSigner`], an alloy `Signer` + `TxSigner` that signs
//!   inside Vault.
//!
//! # A wallet app in a dozen lines
//!
//! ```no_run
//! use vault_crypto_sdk::{Chain, Client, addresses::AddressRequest};
//! use vault_crypto_sdk::{ethereum::SignTransaction, wallets::CreateWallet};
//!
//! # async fn demo() -> vault_crypto_sdk::Result<()> {
//! let client = Client::from_env()?; // VAULT_ADDR, VAULT_TOKEN, ...
//! client.wallets().create("app", &CreateWallet::default()).await?;
//! let from = client.addresses().get("app", Chain::Ethereum, &AddressRequest::default()).await?;
//! let tx = SignTransaction::eip1559(1, 0, 21_000, 30_000_000_000u64, 1_000_000_000u64)
//!     .to("0x000000000000000000000000000000000000dEaD")
//!     .value(1_000_000_000_000_000u64);
//! let signed = client.ethereum().sign_transaction("app", &tx).await?;
//! println!("{} sent {}", from.address, signed.transaction_hash);
//! # Ok(()) }
//! ```
//!
//! Errors carry the HTTP status and the server's messages:
//!
//! ```no_run
//! # async fn demo(client: vault_crypto_sdk::Client) {
//! match client.wallets().read("nope").await {
//!     Err(e) if e.is_not_found() => println!("no such wallet"),
//!     Err(e) => println!("{} {:?}", e, e.server_messages()),
//!     Ok(w) => println!("{w:?}"),
//! }
//! # }
//! ```

#![deny(missing_docs)]

pub mod addresses;
#[cfg(feature = "alloy")]
pub mod alloy;
pub mod approvals;
pub mod batch;
pub mod bitcoin;
mod client;
mod config;
mod error;
pub mod ethereum;
mod hex;
pub mod policy;
pub mod register;
pub mod sign_hash;
pub mod solana;
pub mod sys;
mod types;
pub mod wallets;

pub use client::{Client, RawResponse};
pub use config::{Config, DEFAULT_MOUNT, RetryPolicy, Token};
pub use error::{Error, Result};
pub use reqwest::Method;
pub use types::{AddressType, BitcoinNetwork, Chain, KeySelection, Quantity};
