//! `wallets/:name/addresses/:chain` and `wallets/:name/xpub`.

use serde::{Deserialize, Serialize};

use crate::client::{Client, check_name};
use crate::error::{Error, Result};
use crate::types::{AddressType, BitcoinNetwork, Chain, KeySelection};

/// Query of `addresses/:chain`.
#[derive(Clone, Debug, Default, Serialize)]
#[non_exhaustive]
pub struct AddressRequest {
    /// Which key (index/account/change/path).
    #[serde(flatten)]
    pub key: KeySelection,
    /// Bitcoin: address type (default p2wpkh).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_type: Option<AddressType>,
    /// Bitcoin: network (default mainnet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<BitcoinNetwork>,
    /// How many consecutive addresses, 1–1000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

impl AddressRequest {
    /// The address at `index` (account 0).
    pub fn index(index: u32) -> Self {
        AddressRequest {
            key: KeySelection::index(index),
            ..Default::default()
        }
    }

    /// Select the key.
    pub fn with_key(mut self, key: KeySelection) -> Self {
        self.key = key;
        self
    }

    /// Bitcoin address type.
    pub fn with_address_type(mut self, t: AddressType) -> Self {
        self.address_type = Some(t);
        self
    }

    /// Bitcoin network.
    pub fn with_network(mut self, n: BitcoinNetwork) -> Self {
        self.network = Some(n);
        self
    }

    /// Number of consecutive addresses.
    pub fn with_count(mut self, count: u32) -> Self {
        self.count = Some(count);
        self
    }
}

/// One derived address.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct AddressEntry {
    /// Index of this address.
    #[serde(default)]
    pub index: Option<u32>,
    /// Address (EIP-55 for ethereum, base58 for solana).
    pub address: String,
    /// Derivation path (absent for key wallets).
    #[serde(default)]
    pub path: Option<String>,
    /// Public key (hex: 33-byte compressed secp256k1 or 32-byte ed25519).
    #[serde(default)]
    pub public_key: Option<String>,
}

/// Response of `addresses/:chain`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct AddressResponse {
    /// The chain.
    #[serde(default)]
    pub chain: Option<String>,
    /// First (or only) address.
    pub address: String,
    /// Its derivation path.
    #[serde(default)]
    pub path: Option<String>,
    /// Its public key.
    #[serde(default)]
    pub public_key: Option<String>,
    /// With `count` > 1: every address, starting at `index`.
    #[serde(default)]
    pub addresses: Vec<AddressEntry>,
}

/// Query of `xpub`.
#[derive(Clone, Debug, Default, Serialize)]
#[non_exhaustive]
pub struct XpubRequest {
    /// Chain (default ethereum; not solana).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<Chain>,
    /// Bitcoin address type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_type: Option<AddressType>,
    /// Bitcoin network.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<BitcoinNetwork>,
    /// Account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<u32>,
    /// Explicit account-level path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl XpubRequest {
    /// For `chain`.
    pub fn chain(chain: Chain) -> Self {
        XpubRequest {
            chain: Some(chain),
            ..Default::default()
        }
    }

    /// Bitcoin address type.
    pub fn with_address_type(mut self, t: AddressType) -> Self {
        self.address_type = Some(t);
        self
    }

    /// Bitcoin network.
    pub fn with_network(mut self, n: BitcoinNetwork) -> Self {
        self.network = Some(n);
        self
    }

    /// Account.
    pub fn with_account(mut self, account: u32) -> Self {
        self.account = Some(account);
        self
    }
}

/// Response of `xpub`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct XpubResponse {
    /// BIP32 extended public key (`tpub` on test networks).
    pub xpub: String,
    /// Account-level path.
    #[serde(default)]
    pub path: Option<String>,
    /// Master fingerprint.
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// Bitcoin output descriptor (single-key address types).
    #[serde(default)]
    pub descriptor: Option<String>,
    /// BIP-48 multisig accounts: this wallet's descriptor key with origin,
    /// `[fingerprint/48'/coin'/account'/script']xpub…/<0;1>/*`, for a
    /// `wsh(sortedmulti(m, …))` descriptor with the cosigners' keys.
    #[serde(default)]
    pub descriptor_key: Option<String>,
    /// Bitcoin address type of the account.
    #[serde(default)]
    pub address_type: Option<String>,
    /// Bitcoin network.
    #[serde(default)]
    pub network: Option<String>,
}

impl XpubRequest {
    /// The BIP-48 multisig account `account` on `network`:
    /// `m/48'/coin'/account'/2'` for [`AddressType::P2wshMultisig`],
    /// `…/1'` for [`AddressType::P2shP2wshMultisig`].
    pub fn multisig(kind: AddressType, network: BitcoinNetwork, account: u32) -> Self {
        XpubRequest::chain(Chain::Bitcoin)
            .with_address_type(kind)
            .with_network(network)
            .with_account(account)
    }
}

/// The addresses/xpub API area. Obtained with [`Client::addresses`].
#[derive(Clone, Copy, Debug)]
pub struct Addresses<'a> {
    client: &'a Client,
}

impl Client {
    /// Addresses and extended public keys.
    pub fn addresses(&self) -> Addresses<'_> {
        Addresses { client: self }
    }
}

impl Addresses<'_> {
    /// Address(es) of a wallet on `chain`.
    ///
    /// ```no_run
    /// # async fn demo(client: vault_crypto_sdk::Client) -> vault_crypto_sdk::Result<()> {
    /// use vault_crypto_sdk::{Chain, addresses::AddressRequest};
    /// let a = client.addresses().get("treasury", Chain::Ethereum, &AddressRequest::index(0)).await?;
    /// println!("{} at {:?}", a.address, a.path);
    /// # Ok(()) }
    /// ```
    pub async fn get(
        &self,
        wallet: &str,
        chain: Chain,
        req: &AddressRequest,
    ) -> Result<AddressResponse> {
        check_name("wallet", wallet)?;
        if let Some(c) = req.count
            && !(1..=1000).contains(&c)
        {
            return Err(Error::invalid("count", "must be between 1 and 1000"));
        }
        self.client
            .engine_read(
                &format!("wallets/{wallet}/addresses/{}", chain.as_str()),
                req,
            )
            .await
    }

    /// Extended public key (and bitcoin descriptor) of an account.
    pub async fn xpub(&self, wallet: &str, req: &XpubRequest) -> Result<XpubResponse> {
        check_name("wallet", wallet)?;
        self.client
            .engine_read(&format!("wallets/{wallet}/xpub"), req)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::to_query;

    #[test]
    fn address_query_is_flat() {
        let q = to_query(
            &AddressRequest::index(3)
                .with_address_type(AddressType::P2shP2wpkh)
                .with_network(BitcoinNetwork::Testnet)
                .with_count(2),
        )
        .expect("query");
        let mut q: Vec<_> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
        q.sort();
        assert_eq!(
            q,
            [
                "address_type=p2sh-p2wpkh",
                "count=2",
                "index=3",
                "network=testnet"
            ]
        );
    }
}
