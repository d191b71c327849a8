//! `wallets/:name/ethereum/sign-transaction`, `sign-message`, `sign-typed-data`,
//! `sign-authorization` (EIP-7702).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::batch::ItemResult;
use crate::client::{Client, check_name};
use crate::error::{Error, Result};
use crate::types::{KeySelection, Quantity};

/// Ethereum transaction envelope type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TxType {
    /// Type 0, signed with EIP-155 replay protection.
    Legacy,
    /// Type 1 (access lists).
    Eip2930,
    /// Type 2 (fee market).
    Eip1559,
    /// Type 3 (EIP-4844 blobs; the consensus form is signed, the caller adds the sidecar).
    Eip4844,
    /// Type 4 (EIP-7702 set code).
    Eip7702,
}

/// A signed EIP-7702 authorization tuple, in the engine's field names (what
/// [`Ethereum::sign_authorization`] returns, see [`SignedAuthorization::tuple`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuthorizationTuple {
    /// Chain id (0: every chain).
    pub chain_id: Quantity,
    /// Delegate contract.
    pub address: String,
    /// The authority's nonce.
    pub nonce: Quantity,
    /// 0 or 1.
    pub y_parity: u8,
    /// `0x` hex.
    pub r: String,
    /// `0x` hex.
    pub s: String,
}

impl AuthorizationTuple {
    /// A tuple from its parts (e.g. one signed elsewhere).
    pub fn new(
        chain_id: impl Into<Quantity>,
        address: impl Into<String>,
        nonce: impl Into<Quantity>,
        y_parity: u8,
        r: impl Into<String>,
        s: impl Into<String>,
    ) -> Self {
        AuthorizationTuple {
            chain_id: chain_id.into(),
            address: address.into(),
            nonce: nonce.into(),
            y_parity,
            r: r.into(),
            s: s.into(),
        }
    }
}

/// Body of `ethereum/sign-authorization` (EIP-7702).
#[derive(Clone, Debug, Default, Serialize)]
#[non_exhaustive]
pub struct SignAuthorization {
    /// Which key.
    #[serde(flatten)]
    pub key: KeySelection,
    /// Chain id; 0 means every chain (a policy refuses it unless `allow_any_chain_authorization`).
    pub chain_id: u64,
    /// The delegate contract.
    pub address: String,
    /// The account's nonce when the authorization is processed.
    pub nonce: u64,
}

impl SignAuthorization {
    /// An authorization of `address` on `chain_id` at `nonce`.
    pub fn new(chain_id: u64, address: impl Into<String>, nonce: u64) -> Self {
        SignAuthorization {
            key: KeySelection::default(),
            chain_id,
            address: address.into(),
            nonce,
        }
    }

    /// Which key.
    pub fn key(mut self, key: KeySelection) -> Self {
        self.key = key;
        self
    }
}

/// Response of `ethereum/sign-authorization`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignedAuthorization {
    /// Chain id (decimal).
    pub chain_id: Quantity,
    /// Delegate contract.
    pub address: String,
    /// Nonce (decimal).
    pub nonce: Quantity,
    /// 0 or 1.
    pub y_parity: u8,
    /// `0x` 32 bytes.
    pub r: String,
    /// `0x` 32 bytes.
    pub s: String,
    /// `0x` 65 bytes `r||s||v`, `v` 27 or 28.
    pub signature: String,
    /// The signing account.
    pub authority: String,
    /// Derivation path of the signer.
    #[serde(default)]
    pub path: Option<String>,
    /// Signer public key.
    #[serde(default)]
    pub public_key: Option<String>,
}

impl SignedAuthorization {
    /// The tuple for an `eip7702` transaction's `authorization_list`.
    pub fn tuple(&self) -> AuthorizationTuple {
        AuthorizationTuple {
            chain_id: self.chain_id.clone(),
            address: self.address.clone(),
            nonce: self.nonce.clone(),
            y_parity: self.y_parity,
            r: self.r.clone(),
            s: self.s.clone(),
        }
    }
}

/// One EIP-2930 access-list entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AccessListItem {
    /// Account address.
    pub address: String,
    /// 32-byte storage keys, `0x` hex.
    #[serde(default)]
    pub storage_keys: Vec<String>,
}

impl AccessListItem {
    /// An entry.
    pub fn new(address: impl Into<String>, storage_keys: Vec<String>) -> Self {
        AccessListItem {
            address: address.into(),
            storage_keys,
        }
    }
}

/// Body of `ethereum/sign-transaction`. The caller supplies nonce and fees: the engine never
/// touches the network.
#[derive(Clone, Debug, Default, Serialize)]
#[non_exhaustive]
pub struct SignTransaction {
    /// Which key.
    #[serde(flatten)]
    pub key: KeySelection,
    /// Chain id (required).
    pub chain_id: u64,
    /// Nonce (required).
    pub nonce: u64,
    /// Gas limit (required).
    pub gas_limit: u64,
    /// Recipient; `None` creates a contract.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Wei.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Quantity>,
    /// Calldata, `0x` hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Envelope type (server default: eip1559 when `max_fee_per_gas` is set, else legacy).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub tx_type: Option<TxType>,
    /// Legacy / EIP-2930 gas price (wei).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gas_price: Option<Quantity>,
    /// EIP-1559 max fee per gas (wei).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_fee_per_gas: Option<Quantity>,
    /// EIP-1559 priority fee per gas (wei).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_priority_fee_per_gas: Option<Quantity>,
    /// Access list (every type but legacy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_list: Option<Vec<AccessListItem>>,
    /// EIP-4844 max fee per blob gas (wei).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_fee_per_blob_gas: Option<Quantity>,
    /// EIP-4844 blob versioned hashes (`0x` 32 bytes, version byte 0x01; 1 to 6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blob_versioned_hashes: Option<Vec<String>>,
    /// EIP-7702 signed authorizations (1 to 64).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_list: Option<Vec<AuthorizationTuple>>,
}

impl SignTransaction {
    /// An EIP-1559 transaction.
    pub fn eip1559(
        chain_id: u64,
        nonce: u64,
        gas_limit: u64,
        max_fee_per_gas: impl Into<Quantity>,
        max_priority_fee_per_gas: impl Into<Quantity>,
    ) -> Self {
        SignTransaction {
            chain_id,
            nonce,
            gas_limit,
            tx_type: Some(TxType::Eip1559),
            max_fee_per_gas: Some(max_fee_per_gas.into()),
            max_priority_fee_per_gas: Some(max_priority_fee_per_gas.into()),
            ..Default::default()
        }
    }

    /// An EIP-4844 blob transaction (`to` is required: set it with [`SignTransaction::to`]).
    pub fn eip4844(
        base: SignTransaction,
        max_fee_per_blob_gas: impl Into<Quantity>,
        blob_versioned_hashes: Vec<String>,
    ) -> Self {
        SignTransaction {
            tx_type: Some(TxType::Eip4844),
            max_fee_per_blob_gas: Some(max_fee_per_blob_gas.into()),
            blob_versioned_hashes: Some(blob_versioned_hashes),
            ..base
        }
    }

    /// An EIP-7702 set-code transaction (`to` is required).
    pub fn eip7702(base: SignTransaction, authorization_list: Vec<AuthorizationTuple>) -> Self {
        SignTransaction {
            tx_type: Some(TxType::Eip7702),
            authorization_list: Some(authorization_list),
            ..base
        }
    }

    /// A legacy (EIP-155) transaction.
    pub fn legacy(
        chain_id: u64,
        nonce: u64,
        gas_limit: u64,
        gas_price: impl Into<Quantity>,
    ) -> Self {
        SignTransaction {
            chain_id,
            nonce,
            gas_limit,
            tx_type: Some(TxType::Legacy),
            gas_price: Some(gas_price.into()),
            ..Default::default()
        }
    }

    /// Recipient.
    pub fn to(mut self, to: impl Into<String>) -> Self {
        self.to = Some(to.into());
        self
    }

    /// Value in wei.
    pub fn value(mut self, wei: impl Into<Quantity>) -> Self {
        self.value = Some(wei.into());
        self
    }

    /// Calldata (`0x` hex).
    pub fn data(mut self, data: impl Into<String>) -> Self {
        self.data = Some(data.into());
        self
    }

    /// Which key.
    pub fn key(mut self, key: KeySelection) -> Self {
        self.key = key;
        self
    }

    /// Access list.
    pub fn access_list(mut self, list: Vec<AccessListItem>) -> Self {
        self.access_list = Some(list);
        self
    }
}

/// Response of `ethereum/sign-transaction`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignedTransaction {
    /// `0x` EIP-2718 bytes for `eth_sendRawTransaction`.
    pub signed_transaction: String,
    /// Keccak hash of the signed transaction.
    #[serde(default)]
    pub transaction_hash: String,
    /// Signer address.
    #[serde(default)]
    pub from: String,
    /// Envelope type.
    #[serde(rename = "type", default)]
    pub tx_type: Option<String>,
    /// Signature r (`0x` hex).
    #[serde(default)]
    pub r: String,
    /// Signature s (`0x` hex).
    #[serde(default)]
    pub s: String,
    /// Legacy: `chain_id*2+35+parity`; typed: y-parity.
    #[serde(default)]
    pub v: Option<Quantity>,
    /// Derivation path of the signer.
    #[serde(default)]
    pub path: Option<String>,
    /// Signer public key.
    #[serde(default)]
    pub public_key: Option<String>,
}

/// Body of `ethereum/sign-message` (EIP-191 personal_sign).
#[derive(Clone, Debug, Default, Serialize)]
#[non_exhaustive]
pub struct SignMessage {
    /// Which key.
    #[serde(flatten)]
    pub key: KeySelection,
    /// UTF-8 text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Bytes as `0x` hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_hex: Option<String>,
}

impl SignMessage {
    /// A UTF-8 text message.
    pub fn text(message: impl Into<String>) -> Self {
        SignMessage {
            message: Some(message.into()),
            ..Default::default()
        }
    }

    /// A binary message.
    pub fn bytes(message: &[u8]) -> Self {
        SignMessage {
            message_hex: Some(crate::hex::encode_prefixed(message)),
            ..Default::default()
        }
    }

    /// Which key.
    pub fn key(mut self, key: KeySelection) -> Self {
        self.key = key;
        self
    }
}

/// Response of `sign-message` and `sign-typed-data`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessageSignature {
    /// 65 bytes `r||s||v` (`v` 27/28), `0x` hex.
    pub signature: String,
    /// The digest that was signed (EIP-191 or EIP-712).
    #[serde(default)]
    pub hash: String,
    /// Signer address.
    #[serde(default)]
    pub address: String,
    /// EIP-712 domain separator (typed data only).
    #[serde(default)]
    pub domain_separator: Option<String>,
    /// Derivation path.
    #[serde(default)]
    pub path: Option<String>,
    /// Signer public key.
    #[serde(default)]
    pub public_key: Option<String>,
}

/// Body of `ethereum/sign-typed-data` (EIP-712 v4).
#[derive(Clone, Debug, Default, Serialize)]
#[non_exhaustive]
pub struct SignTypedData {
    /// Which key.
    #[serde(flatten)]
    pub key: KeySelection,
    /// `{types, primaryType, domain, message}`.
    pub typed_data: Value,
}

impl SignTypedData {
    /// From the JSON object of `eth_signTypedData_v4`.
    pub fn new(typed_data: Value) -> Self {
        SignTypedData {
            key: KeySelection::default(),
            typed_data,
        }
    }

    /// Which key.
    pub fn key(mut self, key: KeySelection) -> Self {
        self.key = key;
        self
    }
}

/// The Ethereum API area. Obtained with [`Client::ethereum`].
#[derive(Clone, Copy, Debug)]
pub struct Ethereum<'a> {
    client: &'a Client,
}

impl Client {
    /// Ethereum signing.
    pub fn ethereum(&self) -> Ethereum<'_> {
        Ethereum { client: self }
    }
}

impl Ethereum<'_> {
    /// Sign a transaction.
    ///
    /// ```no_run
    /// # async fn demo(client: vault_crypto_sdk::Client) -> vault_crypto_sdk::Result<()> {
    /// use vault_crypto_sdk::ethereum::SignTransaction;
    /// let tx = SignTransaction::eip1559(1, 0, 21_000, 30_000_000_000u64, 1_000_000_000u64)
    ///     .to("0x000000000000000000000000000000000000dEaD")
    ///     .value(1_000_000_000_000_000u64);
    /// let signed = client.ethereum().sign_transaction("treasury", &tx).await?;
    /// println!("eth_sendRawTransaction {}", signed.signed_transaction);
    /// # Ok(()) }
    /// ```
    pub async fn sign_transaction(
        &self,
        wallet: &str,
        tx: &SignTransaction,
    ) -> Result<SignedTransaction> {
        check_name("wallet", wallet)?;
        self.client
            .engine_write(&format!("wallets/{wallet}/ethereum/sign-transaction"), tx)
            .await
    }

    /// Sign a transaction under a policy that may make it wait for approvals: `Pending`
    /// carries the `approval_id` to approve and later [`sign`](crate::approvals::Approvals::sign).
    pub async fn request_transaction(
        &self,
        wallet: &str,
        tx: &SignTransaction,
    ) -> Result<crate::approvals::Signing<SignedTransaction>> {
        check_name("wallet", wallet)?;
        self.client
            .request_signature(&format!("wallets/{wallet}/ethereum/sign-transaction"), tx)
            .await
    }

    /// EIP-191 personal_sign.
    pub async fn sign_message(&self, wallet: &str, msg: &SignMessage) -> Result<MessageSignature> {
        check_name("wallet", wallet)?;
        if msg.message.is_some() == msg.message_hex.is_some() {
            return Err(Error::invalid(
                "message",
                "exactly one of `message` and `message_hex` is required",
            ));
        }
        self.client
            .engine_write(&format!("wallets/{wallet}/ethereum/sign-message"), msg)
            .await
    }

    /// EIP-7702 authorization: the account delegates to `req.address`'s code.
    pub async fn sign_authorization(
        &self,
        wallet: &str,
        req: &SignAuthorization,
    ) -> Result<SignedAuthorization> {
        check_name("wallet", wallet)?;
        self.client
            .engine_write(
                &format!("wallets/{wallet}/ethereum/sign-authorization"),
                req,
            )
            .await
    }

    /// Sign up to 1000 transactions in one call, in order; an item the policy refuses
    /// fails alone (see [`crate::batch`]).
    pub async fn sign_transaction_batch(
        &self,
        wallet: &str,
        txs: &[SignTransaction],
    ) -> Result<Vec<ItemResult<SignedTransaction>>> {
        check_name("wallet", wallet)?;
        self.client
            .engine_batch(&format!("wallets/{wallet}/ethereum/sign-transaction"), txs)
            .await
    }

    /// EIP-191 personal_sign of up to 1000 messages in one call, in order.
    pub async fn sign_message_batch(
        &self,
        wallet: &str,
        msgs: &[SignMessage],
    ) -> Result<Vec<ItemResult<MessageSignature>>> {
        check_name("wallet", wallet)?;
        if msgs
            .iter()
            .any(|m| m.message.is_some() == m.message_hex.is_some())
        {
            return Err(Error::invalid(
                "message",
                "exactly one of `message` and `message_hex` is required in every item",
            ));
        }
        self.client
            .engine_batch(&format!("wallets/{wallet}/ethereum/sign-message"), msgs)
            .await
    }

    /// EIP-712 typed data (v4) of up to 1000 requests in one call, in order.
    pub async fn sign_typed_data_batch(
        &self,
        wallet: &str,
        reqs: &[SignTypedData],
    ) -> Result<Vec<ItemResult<MessageSignature>>> {
        check_name("wallet", wallet)?;
        self.client
            .engine_batch(&format!("wallets/{wallet}/ethereum/sign-typed-data"), reqs)
            .await
    }

    /// EIP-712 typed data (v4).
    pub async fn sign_typed_data(
        &self,
        wallet: &str,
        req: &SignTypedData,
    ) -> Result<MessageSignature> {
        check_name("wallet", wallet)?;
        self.client
            .engine_write(&format!("wallets/{wallet}/ethereum/sign-typed-data"), req)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eip1559_body_carries_big_integers_as_strings() {
        let tx = SignTransaction::eip1559(1, 7, 21_000, 30_000_000_000u64, 2u64)
            .to("0xdead")
            .value(u128::MAX);
        let v = serde_json::to_value(&tx).expect("ser");
        assert_eq!(v["type"], "eip1559");
        assert_eq!(v["value"], u128::MAX.to_string());
        assert_eq!(v["max_fee_per_gas"], "30000000000");
        assert_eq!(v["chain_id"], 1);
        assert!(v.get("gas_price").is_none());
        assert!(v.get("index").is_none());
    }

    #[test]
    fn type_3_and_4_bodies_carry_their_fields() {
        let base = SignTransaction::eip1559(1, 0, 21_000, 2u64, 1u64).to("0xdead");
        let blob = SignTransaction::eip4844(base.clone(), 7u64, vec!["0x01".into()]);
        let v = serde_json::to_value(&blob).expect("ser");
        assert_eq!(v["type"], "eip4844");
        assert_eq!(v["max_fee_per_blob_gas"], "7");
        assert_eq!(v["blob_versioned_hashes"][0], "0x01");
        let t = AuthorizationTuple::new(0u64, "0xbeef", 3u64, 1, "0x01", "0x02");
        let set = SignTransaction::eip7702(base, vec![t]);
        let v = serde_json::to_value(&set).expect("ser");
        assert_eq!(v["type"], "eip7702");
        assert_eq!(v["authorization_list"][0]["chain_id"], "0");
        assert_eq!(v["authorization_list"][0]["y_parity"], 1);
        assert!(v.get("max_fee_per_blob_gas").is_none());
    }
}
