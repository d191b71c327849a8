//! `wallets/:name/bitcoin/sign-psbt` and `bitcoin/sign-message`.

use serde::{Deserialize, Serialize};

use crate::client::{Client, check_name};
use crate::error::Result;
use crate::types::{AddressType, BitcoinNetwork, KeySelection};

/// Body of `bitcoin/sign-psbt`.
#[derive(Clone, Debug, Default, Serialize)]
#[non_exhaustive]
pub struct SignPsbt {
    /// BIP-174 v0 PSBT, base64.
    pub psbt: String,
    /// Network (default mainnet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<BitcoinNetwork>,
    /// Finalize and extract when every input is complete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finalize: Option<bool>,
}

impl SignPsbt {
    /// Sign this base64 PSBT.
    pub fn new(psbt_base64: impl Into<String>) -> Self {
        SignPsbt {
            psbt: psbt_base64.into(),
            ..Default::default()
        }
    }

    /// Network.
    pub fn network(mut self, n: BitcoinNetwork) -> Self {
        self.network = Some(n);
        self
    }

    /// Finalize.
    pub fn finalize(mut self, yes: bool) -> Self {
        self.finalize = Some(yes);
        self
    }
}

/// Response of `bitcoin/sign-psbt`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignedPsbt {
    /// Signed PSBT, base64.
    pub psbt: String,
    /// Indices of the inputs this wallet signed.
    #[serde(default)]
    pub signed_inputs: Vec<u32>,
    /// Raw transaction hex (when finalized).
    #[serde(default)]
    pub transaction: Option<String>,
    /// Txid (when finalized).
    #[serde(default)]
    pub txid: Option<String>,
    /// Multisig inputs this wallet signed, with their signature count.
    #[serde(default)]
    pub multisig: Vec<MultisigInput>,
}

/// A multisig input after `sign-psbt`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct MultisigInput {
    /// Input index.
    pub input: u32,
    /// Signatures required (m).
    pub threshold: u32,
    /// Keys in the script (n).
    pub keys: u32,
    /// Partial signatures that verify (ours and the cosigners').
    pub valid_signatures: u32,
    /// Whether the input was finalized.
    pub finalized: bool,
    /// `partial`, `complete` (enough signatures, not finalized) or `finalized`.
    pub status: String,
}

impl SignedPsbt {
    /// Whether every multisig input this wallet signed is finalized.
    pub fn multisig_finalized(&self) -> bool {
        self.multisig.iter().all(|m| m.finalized)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn multisig_status_deserializes() {
        let r: SignedPsbt = serde_json::from_str(
            r#"{"psbt":"x","signed_inputs":[0],"multisig":[{"input":0,"threshold":2,"keys":3,
            "valid_signatures":1,"finalized":false,"status":"partial"}]}"#,
        )
        .unwrap();
        assert_eq!(r.multisig[0].valid_signatures, 1);
        assert_eq!(r.multisig[0].status, "partial");
        assert!(!r.multisig_finalized());
    }
}

/// Bitcoin message signature format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum MessageFormat {
    /// BIP-322 (the default): "simple" for p2wpkh/p2tr, "full" for p2sh-p2wpkh/p2pkh.
    Bip322,
    /// The `Bitcoin Signed Message:` compact signature (BIP-137 header; not p2tr).
    Legacy,
}

/// Body of `bitcoin/sign-message`.
#[derive(Clone, Debug, Default, Serialize)]
#[non_exhaustive]
pub struct BitcoinSignMessage {
    /// Which key.
    #[serde(flatten)]
    pub key: KeySelection,
    /// UTF-8 text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Bytes as hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_hex: Option<String>,
    /// Address type (default p2wpkh).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_type: Option<AddressType>,
    /// Network (default mainnet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<BitcoinNetwork>,
    /// Format (default BIP-322).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<MessageFormat>,
}

impl BitcoinSignMessage {
    /// A UTF-8 text message.
    pub fn text(message: impl Into<String>) -> Self {
        BitcoinSignMessage {
            message: Some(message.into()),
            ..Default::default()
        }
    }

    /// A binary message.
    pub fn bytes(message: &[u8]) -> Self {
        BitcoinSignMessage {
            message_hex: Some(crate::hex::encode_prefixed(message)),
            ..Default::default()
        }
    }

    /// Which key.
    pub fn key(mut self, key: KeySelection) -> Self {
        self.key = key;
        self
    }

    /// Address type.
    pub fn address_type(mut self, t: AddressType) -> Self {
        self.address_type = Some(t);
        self
    }

    /// Network.
    pub fn network(mut self, n: BitcoinNetwork) -> Self {
        self.network = Some(n);
        self
    }

    /// Format.
    pub fn format(mut self, f: MessageFormat) -> Self {
        self.format = Some(f);
        self
    }
}

/// Response of `bitcoin/sign-message`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct BitcoinMessageSignature {
    /// Base64: BIP-322 witness stack (simple), signed `to_sign` (full), or 65 bytes (legacy).
    pub signature: String,
    /// `simple`, `full` or `legacy`.
    #[serde(default)]
    pub encoding: String,
    /// `bip322` or `legacy`.
    #[serde(default)]
    pub format: String,
    /// The signing address.
    #[serde(default)]
    pub address: String,
    /// Derivation path.
    #[serde(default)]
    pub path: Option<String>,
    /// Compressed public key, hex.
    #[serde(default)]
    pub public_key: Option<String>,
    /// What the policy evaluated.
    #[serde(default)]
    pub intent: Option<serde_json::Value>,
}

/// The Bitcoin API area. Obtained with [`Client::bitcoin`].
#[derive(Clone, Copy, Debug)]
pub struct Bitcoin<'a> {
    client: &'a Client,
}

impl Client {
    /// Bitcoin signing.
    pub fn bitcoin(&self) -> Bitcoin<'_> {
        Bitcoin { client: self }
    }
}

impl Bitcoin<'_> {
    /// Sign every input of the PSBT that names this wallet's master fingerprint.
    pub async fn sign_psbt(&self, wallet: &str, req: &SignPsbt) -> Result<SignedPsbt> {
        check_name("wallet", wallet)?;
        self.client
            .engine_write(&format!("wallets/{wallet}/bitcoin/sign-psbt"), req)
            .await
    }

    /// Sign a message (BIP-322 or legacy) for one of this wallet's addresses.
    pub async fn sign_message(
        &self,
        wallet: &str,
        req: &BitcoinSignMessage,
    ) -> Result<BitcoinMessageSignature> {
        check_name("wallet", wallet)?;
        self.client
            .engine_write(&format!("wallets/{wallet}/bitcoin/sign-message"), req)
            .await
    }
}
