//! `sign-hash/:name`: raw digest signing, off unless `allow_raw_signing`, and refused on a
//! chain where the wallet has a policy.

use serde::{Deserialize, Serialize};

use crate::batch::ItemResult;
use crate::client::{Client, check_name};
use crate::error::Result;
use crate::types::{Chain, KeySelection};

/// Body of `sign-hash`.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct SignHash {
    /// Which key.
    #[serde(flatten)]
    pub key: KeySelection,
    /// `ethereum`/`bitcoin`: recoverable secp256k1 ECDSA; `solana`: ed25519.
    pub chain: Chain,
    /// `0x` hex; exactly 32 bytes for secp256k1.
    pub hash: String,
}

impl SignHash {
    /// Sign `hash` with the `chain` key.
    pub fn new(chain: Chain, hash: &[u8]) -> Self {
        SignHash {
            key: KeySelection::default(),
            chain,
            hash: crate::hex::encode_prefixed(hash),
        }
    }

    /// Which key.
    pub fn key(mut self, key: KeySelection) -> Self {
        self.key = key;
        self
    }
}

/// Response of `sign-hash`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct HashSignature {
    /// secp256k1: `0x` hex of 65 bytes `r||s||v`, low-S, `v` = 27 + recovery id.
    /// ed25519: base58 of 64 bytes.
    pub signature: String,
    /// Signer address.
    #[serde(default)]
    pub address: Option<String>,
    /// Derivation path.
    #[serde(default)]
    pub path: Option<String>,
    /// Signer public key.
    #[serde(default)]
    pub public_key: Option<String>,
}

impl Client {
    /// Sign a raw digest. Refused (403) unless the wallet has `allow_raw_signing=true`: a raw
    /// digest bypasses every policy.
    pub async fn sign_hash(&self, wallet: &str, req: &SignHash) -> Result<HashSignature> {
        check_name("wallet", wallet)?;
        self.engine_write(&format!("sign-hash/{wallet}"), req).await
    }

    /// Sign up to 1000 raw digests in one call, in order (see [`crate::batch`]); refused
    /// like [`Client::sign_hash`].
    pub async fn sign_hash_batch(
        &self,
        wallet: &str,
        reqs: &[SignHash],
    ) -> Result<Vec<ItemResult<HashSignature>>> {
        check_name("wallet", wallet)?;
        self.engine_batch(&format!("sign-hash/{wallet}"), reqs)
            .await
    }
}
