//! `wallets/:name/solana/sign-message` and `solana/sign-transaction`.

use serde::{Deserialize, Serialize};

use crate::batch::ItemResult;
use crate::client::{Client, check_name};
use crate::error::Result;
use crate::types::KeySelection;

/// What `solana/sign-message` signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SolanaMessageFormat {
    /// The bytes themselves (never a transaction message); the default.
    Raw,
    /// The off-chain message envelope, version 0 (`\xffsolana offchain` ...).
    Offchain,
}

/// Body of `solana/sign-message`.
#[derive(Clone, Debug, Default, Serialize)]
#[non_exhaustive]
pub struct SolanaSignMessage {
    /// Which key.
    #[serde(flatten)]
    pub key: KeySelection,
    /// Bytes to sign (raw) or the message text (offchain), base64.
    pub message: String,
    /// Format (default raw).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<SolanaMessageFormat>,
}

impl SolanaSignMessage {
    /// Sign these bytes.
    pub fn new(message: &[u8]) -> Self {
        SolanaSignMessage {
            key: KeySelection::default(),
            message: crate::hex::base64_encode(message),
            format: None,
        }
    }

    /// An off-chain message (UTF-8 text, 1 to 65515 bytes): the engine builds and
    /// signs its version-0 envelope and returns it.
    pub fn offchain(text: impl AsRef<str>) -> Self {
        SolanaSignMessage {
            key: KeySelection::default(),
            message: crate::hex::base64_encode(text.as_ref().as_bytes()),
            format: Some(SolanaMessageFormat::Offchain),
        }
    }

    /// Which key.
    pub fn key(mut self, key: KeySelection) -> Self {
        self.key = key;
        self
    }
}

/// Response of `solana/sign-message`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct SolanaMessageSignature {
    /// ed25519 signature, base58.
    pub signature: String,
    /// Public key = address, base58.
    #[serde(default)]
    pub public_key: String,
    /// Address (if the server sends it separately).
    #[serde(default)]
    pub address: Option<String>,
    /// Derivation path.
    #[serde(default)]
    pub path: Option<String>,
    /// `raw` or `offchain`.
    #[serde(default)]
    pub format: Option<String>,
    /// Offchain: the exact bytes signed, base64.
    #[serde(default)]
    pub envelope: Option<String>,
    /// Offchain: `restricted-ascii`, `limited-utf8` or `extended-utf8`.
    #[serde(default)]
    pub message_format: Option<String>,
}

/// Body of `solana/sign-transaction`.
#[derive(Clone, Debug, Default, Serialize)]
#[non_exhaustive]
pub struct SolanaSignTransaction {
    /// Which key.
    #[serde(flatten)]
    pub key: KeySelection,
    /// Serialized legacy or v0 transaction (or bare message), base64.
    pub transaction: String,
}

impl SolanaSignTransaction {
    /// From a base64 serialized transaction.
    pub fn new(transaction_base64: impl Into<String>) -> Self {
        SolanaSignTransaction {
            key: KeySelection::default(),
            transaction: transaction_base64.into(),
        }
    }

    /// Which key.
    pub fn key(mut self, key: KeySelection) -> Self {
        self.key = key;
        self
    }
}

/// Response of `solana/sign-transaction`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct SolanaSignedTransaction {
    /// Transaction with the signature in its slot, base64.
    pub transaction: String,
    /// The signature, base58.
    #[serde(default)]
    pub signature: String,
    /// Signer address.
    #[serde(default)]
    pub address: Option<String>,
    /// Signer public key.
    #[serde(default)]
    pub public_key: Option<String>,
    /// Derivation path.
    #[serde(default)]
    pub path: Option<String>,
}

/// The Solana API area. Obtained with [`Client::solana`].
#[derive(Clone, Copy, Debug)]
pub struct Solana<'a> {
    client: &'a Client,
}

impl Client {
    /// Solana signing.
    pub fn solana(&self) -> Solana<'_> {
        Solana { client: self }
    }
}

impl Solana<'_> {
    /// ed25519 over raw bytes, or over an off-chain message envelope
    /// ([`SolanaSignMessage::offchain`]).
    pub async fn sign_message(
        &self,
        wallet: &str,
        req: &SolanaSignMessage,
    ) -> Result<SolanaMessageSignature> {
        check_name("wallet", wallet)?;
        self.client
            .engine_write(&format!("wallets/{wallet}/solana/sign-message"), req)
            .await
    }

    /// ed25519 over up to 1000 messages in one call, in order; an item the policy refuses
    /// fails alone (see [`crate::batch`]).
    pub async fn sign_message_batch(
        &self,
        wallet: &str,
        reqs: &[SolanaSignMessage],
    ) -> Result<Vec<ItemResult<SolanaMessageSignature>>> {
        check_name("wallet", wallet)?;
        self.client
            .engine_batch(&format!("wallets/{wallet}/solana/sign-message"), reqs)
            .await
    }

    /// Put this wallet's signature into its slot of a serialized transaction.
    pub async fn sign_transaction(
        &self,
        wallet: &str,
        req: &SolanaSignTransaction,
    ) -> Result<SolanaSignedTransaction> {
        check_name("wallet", wallet)?;
        self.client
            .engine_write(&format!("wallets/{wallet}/solana/sign-transaction"), req)
            .await
    }
}
