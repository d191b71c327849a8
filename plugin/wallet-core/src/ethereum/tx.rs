//! Ethereum transactions: legacy (signed with EIP-155 replay protection),
//! EIP-2930 and EIP-1559, encoded as EIP-2718 bytes.
//!
//! - EIP-155: signing payload rlp([nonce, gasPrice, gas, to, value, data,
//!   chainId, 0, 0]); `v = chain_id * 2 + 35 + parity`.
//! - EIP-2930: `0x01 || rlp([chainId, nonce, gasPrice, gas, to, value, data,
//!   accessList, yParity, r, s])`.
//! - EIP-1559: `0x02 || rlp([chainId, nonce, maxPriorityFeePerGas,
//!   maxFeePerGas, gas, to, value, data, accessList, yParity, r, s])`.
//! - EIP-4844: `0x03 || rlp([chainId, nonce, maxPriorityFeePerGas,
//!   maxFeePerGas, gas, to, value, data, accessList, maxFeePerBlobGas,
//!   blobVersionedHashes, yParity, r, s])` (the consensus form; the network
//!   form with the sidecar is the caller's).
//! - EIP-7702: `0x04 || rlp([chainId, nonce, maxPriorityFeePerGas,
//!   maxFeePerGas, gas, to, value, data, accessList, authorizationList,
//!   yParity, r, s])`.
//!
//! The signing hash is keccak256 of the payload without the signature
//! fields; the transaction hash is keccak256 of the signed bytes.

use core::fmt;
use core::str::FromStr;

use super::eip7702::SignedAuthorization;
use super::{Address, EthereumError, U256, keccak256, rlp};
use crate::secret::Secp256k1PrivateKey;
use crate::sign_hash::{RecoverableSignature, sign_digest_secp256k1};

/// Most blob hashes in one transaction: EIP-7594's per-transaction limit
/// (`MAX_BLOBS_PER_TX = 6`, in force since Fusaka); the Cancun block limit
/// was 6 too.
pub const MAX_BLOBS_PER_TX: usize = 6;
/// Most authorizations in one EIP-7702 transaction. The protocol sets no
/// number (each costs 25 000 gas); wallets send one. A bound keeps what a
/// policy must judge, and the encoding, small.
pub const MAX_AUTHORIZATIONS: usize = 64;
/// Blob gas per blob (EIP-4844 `GAS_PER_BLOB` = 2^17).
pub const GAS_PER_BLOB: u64 = 1 << 17;

/// The transaction types the API signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TxType {
    /// Pre-typed transactions (EIP-2718 type 0), signed with EIP-155.
    Legacy,
    /// EIP-2930 access-list transactions (type 1).
    Eip2930,
    /// EIP-1559 dynamic-fee transactions (type 2).
    Eip1559,
    /// EIP-4844 blob transactions (type 3).
    Eip4844,
    /// EIP-7702 set-code transactions (type 4).
    Eip7702,
}

impl TxType {
    /// The API's name: `legacy`, `eip2930`, `eip1559`.
    pub fn as_str(self) -> &'static str {
        match self {
            TxType::Legacy => "legacy",
            TxType::Eip2930 => "eip2930",
            TxType::Eip1559 => "eip1559",
            TxType::Eip4844 => "eip4844",
            TxType::Eip7702 => "eip7702",
        }
    }

    /// The EIP-2718 type number.
    pub fn type_byte(self) -> u8 {
        match self {
            TxType::Legacy => 0,
            TxType::Eip2930 => 1,
            TxType::Eip1559 => 2,
            TxType::Eip4844 => 3,
            TxType::Eip7702 => 4,
        }
    }
}

impl fmt::Display for TxType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TxType {
    type Err = EthereumError;

    fn from_str(s: &str) -> Result<Self, EthereumError> {
        match s {
            "legacy" => Ok(TxType::Legacy),
            "eip2930" => Ok(TxType::Eip2930),
            "eip1559" => Ok(TxType::Eip1559),
            "eip4844" => Ok(TxType::Eip4844),
            "eip7702" => Ok(TxType::Eip7702),
            _ => Err(EthereumError::field(
                "type",
                "must be legacy, eip2930, eip1559, eip4844 or eip7702",
            )),
        }
    }
}

/// One entry of an EIP-2930 access list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessListItem {
    /// The account.
    pub address: Address,
    /// Its storage slots.
    pub storage_keys: Vec<[u8; 32]>,
}

/// An EIP-2930 access list.
pub type AccessList = Vec<AccessListItem>;

/// Parses an access list from JSON: a list of `{address, storage_keys}`
/// (`storageKeys` is accepted too).
pub fn access_list_from_json(v: &serde_json::Value) -> Result<AccessList, EthereumError> {
    let items = v
        .as_array()
        .ok_or_else(|| EthereumError::field("access_list", "must be a list"))?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let obj = item.as_object().ok_or_else(|| {
            EthereumError::field(format!("access_list[{i}]"), "must be an object")
        })?;
        let address_field = format!("access_list[{i}].address");
        let address = obj
            .get("address")
            .and_then(|a| a.as_str())
            .ok_or_else(|| EthereumError::field(address_field.clone(), "must be a string"))?;
        let address = Address::parse_field(address, &address_field)?;
        let keys_field = format!("access_list[{i}].storage_keys");
        let keys = match obj.get("storage_keys").or_else(|| obj.get("storageKeys")) {
            None => Vec::new(),
            Some(k) => {
                let arr = k
                    .as_array()
                    .ok_or_else(|| EthereumError::field(keys_field.clone(), "must be a list"))?;
                let mut keys = Vec::with_capacity(arr.len());
                for (j, key) in arr.iter().enumerate() {
                    let field = format!("{keys_field}[{j}]");
                    let s = key
                        .as_str()
                        .ok_or_else(|| EthereumError::field(field.clone(), "must be a string"))?;
                    keys.push(super::parse_b256(s, &field)?);
                }
                keys
            }
        };
        out.push(AccessListItem {
            address,
            storage_keys: keys,
        });
    }
    Ok(out)
}

/// A legacy transaction, signed with EIP-155.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyTransaction {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Sender nonce.
    pub nonce: u64,
    /// Gas price in wei.
    pub gas_price: U256,
    /// Gas limit.
    pub gas_limit: u64,
    /// Recipient; `None` creates a contract.
    pub to: Option<Address>,
    /// Value in wei.
    pub value: U256,
    /// Calldata or init code.
    pub data: Vec<u8>,
}

/// An EIP-2930 transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eip2930Transaction {
    /// Chain id.
    pub chain_id: u64,
    /// Sender nonce.
    pub nonce: u64,
    /// Gas price in wei.
    pub gas_price: U256,
    /// Gas limit.
    pub gas_limit: u64,
    /// Recipient; `None` creates a contract.
    pub to: Option<Address>,
    /// Value in wei.
    pub value: U256,
    /// Calldata or init code.
    pub data: Vec<u8>,
    /// Access list.
    pub access_list: AccessList,
}

/// An EIP-1559 transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eip1559Transaction {
    /// Chain id.
    pub chain_id: u64,
    /// Sender nonce.
    pub nonce: u64,
    /// Priority fee per gas in wei.
    pub max_priority_fee_per_gas: U256,
    /// Maximum fee per gas in wei.
    pub max_fee_per_gas: U256,
    /// Gas limit.
    pub gas_limit: u64,
    /// Recipient; `None` creates a contract.
    pub to: Option<Address>,
    /// Value in wei.
    pub value: U256,
    /// Calldata or init code.
    pub data: Vec<u8>,
    /// Access list.
    pub access_list: AccessList,
}

/// An EIP-4844 blob transaction (the blobs travel beside it, in the
/// network form only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eip4844Transaction {
    /// The EIP-1559 fields; `to` is required (`Some`).
    pub base: Eip1559Transaction,
    /// Maximum fee per blob gas in wei.
    pub max_fee_per_blob_gas: U256,
    /// Versioned hashes of the blobs' KZG commitments (version byte 0x01).
    pub blob_versioned_hashes: Vec<[u8; 32]>,
}

/// An EIP-7702 set-code transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eip7702Transaction {
    /// The EIP-1559 fields; `to` is required (`Some`).
    pub base: Eip1559Transaction,
    /// Signed authorizations (non-empty).
    pub authorization_list: Vec<SignedAuthorization>,
}

/// A transaction of any supported type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transaction {
    /// Legacy (EIP-155).
    Legacy(LegacyTransaction),
    /// EIP-2930.
    Eip2930(Eip2930Transaction),
    /// EIP-1559.
    Eip1559(Eip1559Transaction),
    /// EIP-4844.
    Eip4844(Eip4844Transaction),
    /// EIP-7702.
    Eip7702(Eip7702Transaction),
}

/// A signed transaction, ready for `eth_sendRawTransaction`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTransaction {
    /// EIP-2718 bytes (for legacy: the plain RLP list).
    pub raw: Vec<u8>,
    /// keccak256 of `raw`.
    pub hash: [u8; 32],
    /// The signer.
    pub from: Address,
    /// The type.
    pub tx_type: TxType,
    /// Signature `r`.
    pub r: [u8; 32],
    /// Signature `s` (low S).
    pub s: [u8; 32],
    /// Legacy: `chain_id * 2 + 35 + parity`; typed: the y-parity (0 or 1).
    pub v: u64,
}

fn u256(out: &mut Vec<u8>, v: &U256) {
    rlp::uint(out, &v.to_be_bytes::<32>());
}

fn to_field(out: &mut Vec<u8>, to: &Option<Address>) {
    match to {
        Some(a) => rlp::bytes(out, &a.0),
        None => rlp::bytes(out, &[]),
    }
}

fn access_list(out: &mut Vec<u8>, list: &AccessList) {
    let mut payload = Vec::new();
    for item in list {
        let mut entry = Vec::new();
        rlp::bytes(&mut entry, &item.address.0);
        let mut keys = Vec::with_capacity(item.storage_keys.len() * 33);
        for k in &item.storage_keys {
            rlp::bytes(&mut keys, k);
        }
        rlp::list(&mut entry, &keys);
        rlp::list(&mut payload, &entry);
    }
    rlp::list(out, &payload);
}

fn dynamic_fields(p: &mut Vec<u8>, t: &Eip1559Transaction) {
    rlp::u64(p, t.chain_id);
    rlp::u64(p, t.nonce);
    u256(p, &t.max_priority_fee_per_gas);
    u256(p, &t.max_fee_per_gas);
    rlp::u64(p, t.gas_limit);
    to_field(p, &t.to);
    u256(p, &t.value);
    rlp::bytes(p, &t.data);
    access_list(p, &t.access_list);
}

fn signature_fields(out: &mut Vec<u8>, v: u64, sig: &RecoverableSignature) {
    rlp::u64(out, v);
    rlp::uint(out, &sig.r);
    rlp::uint(out, &sig.s);
}

impl Transaction {
    /// The type.
    pub fn tx_type(&self) -> TxType {
        match self {
            Transaction::Legacy(_) => TxType::Legacy,
            Transaction::Eip2930(_) => TxType::Eip2930,
            Transaction::Eip1559(_) => TxType::Eip1559,
            Transaction::Eip4844(_) => TxType::Eip4844,
            Transaction::Eip7702(_) => TxType::Eip7702,
        }
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        match self {
            Transaction::Legacy(t) => t.chain_id,
            Transaction::Eip2930(t) => t.chain_id,
            Transaction::Eip1559(t) => t.chain_id,
            Transaction::Eip4844(t) => t.base.chain_id,
            Transaction::Eip7702(t) => t.base.chain_id,
        }
    }

    /// The recipient (`None` for contract creation).
    pub fn to(&self) -> Option<Address> {
        match self {
            Transaction::Legacy(t) => t.to,
            Transaction::Eip2930(t) => t.to,
            Transaction::Eip1559(t) => t.to,
            Transaction::Eip4844(t) => t.base.to,
            Transaction::Eip7702(t) => t.base.to,
        }
    }

    /// The value in wei.
    pub fn value(&self) -> U256 {
        match self {
            Transaction::Legacy(t) => t.value,
            Transaction::Eip2930(t) => t.value,
            Transaction::Eip1559(t) => t.value,
            Transaction::Eip4844(t) => t.base.value,
            Transaction::Eip7702(t) => t.base.value,
        }
    }

    /// The EIP-1559 fields of a dynamic-fee transaction (types 2, 3, 4).
    fn dynamic(&self) -> Option<&Eip1559Transaction> {
        match self {
            Transaction::Eip1559(t) => Some(t),
            Transaction::Eip4844(t) => Some(&t.base),
            Transaction::Eip7702(t) => Some(&t.base),
            _ => None,
        }
    }

    /// The most blob gas can cost: `max_fee_per_blob_gas × 2^17 × blobs`
    /// (zero for other types).
    pub fn max_blob_fee(&self) -> U256 {
        match self {
            Transaction::Eip4844(t) => t
                .max_fee_per_blob_gas
                .saturating_mul(U256::from(GAS_PER_BLOB))
                .saturating_mul(U256::from(t.blob_versioned_hashes.len())),
            _ => U256::ZERO,
        }
    }

    /// Checks what the encoding cannot express or nodes always reject:
    /// a zero chain id, a legacy `v` that overflows 64 bits, a priority fee
    /// above the fee cap.
    pub fn validate(&self) -> Result<(), EthereumError> {
        let chain_id = self.chain_id();
        if chain_id == 0 {
            return Err(EthereumError::field("chain_id", "must be positive"));
        }
        if let Transaction::Legacy(_) = self {
            // EIP-155: v = chain_id * 2 + 35 + parity must fit in u64.
            if chain_id > (u64::MAX - 36) / 2 {
                return Err(EthereumError::field(
                    "chain_id",
                    "too large for EIP-155 signing",
                ));
            }
        }
        // Fee fields above 2^128 - 1 are refused: no realistic fee is that
        // large, and clients such as reth and alloy store fees as u128, so
        // such a transaction could not even be decoded by them.
        let fee_cap = U256::from(u128::MAX);
        let fees: &[(&str, &U256)] = match self {
            Transaction::Legacy(t) => &[("gas_price", &t.gas_price)],
            Transaction::Eip2930(t) => &[("gas_price", &t.gas_price)],
            Transaction::Eip1559(t) | Transaction::Eip7702(Eip7702Transaction { base: t, .. }) => {
                &[
                    ("max_fee_per_gas", &t.max_fee_per_gas),
                    ("max_priority_fee_per_gas", &t.max_priority_fee_per_gas),
                ]
            }
            Transaction::Eip4844(t) => &[
                ("max_fee_per_gas", &t.base.max_fee_per_gas),
                ("max_priority_fee_per_gas", &t.base.max_priority_fee_per_gas),
                ("max_fee_per_blob_gas", &t.max_fee_per_blob_gas),
            ],
        };
        for (field, fee) in fees {
            if **fee > fee_cap {
                return Err(EthereumError::field(*field, "exceeds 2^128 - 1 wei"));
            }
        }
        if let Some(t) = self.dynamic()
            && t.max_priority_fee_per_gas > t.max_fee_per_gas
        {
            return Err(EthereumError::field(
                "max_priority_fee_per_gas",
                "must not exceed max_fee_per_gas",
            ));
        }
        match self {
            Transaction::Eip4844(t) => {
                if t.base.to.is_none() {
                    return Err(EthereumError::MissingField { field: "to" });
                }
                if t.blob_versioned_hashes.is_empty() {
                    return Err(EthereumError::field(
                        "blob_versioned_hashes",
                        "must not be empty",
                    ));
                }
                if t.blob_versioned_hashes.len() > MAX_BLOBS_PER_TX {
                    return Err(EthereumError::field(
                        "blob_versioned_hashes",
                        "at most 6 blobs per transaction (EIP-7594)",
                    ));
                }
                for (i, h) in t.blob_versioned_hashes.iter().enumerate() {
                    if h[0] != 0x01 {
                        return Err(EthereumError::field(
                            format!("blob_versioned_hashes[{i}]"),
                            "must start with the KZG version byte 0x01",
                        ));
                    }
                }
            }
            Transaction::Eip7702(t) => {
                if t.base.to.is_none() {
                    return Err(EthereumError::MissingField { field: "to" });
                }
                if t.authorization_list.is_empty() {
                    return Err(EthereumError::field(
                        "authorization_list",
                        "must not be empty",
                    ));
                }
                if t.authorization_list.len() > MAX_AUTHORIZATIONS {
                    return Err(EthereumError::field(
                        "authorization_list",
                        "at most 64 authorizations",
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The RLP list items shared by signing payload and signed encoding.
    fn fields(&self) -> Vec<u8> {
        let mut p = Vec::new();
        match self {
            Transaction::Legacy(t) => {
                rlp::u64(&mut p, t.nonce);
                u256(&mut p, &t.gas_price);
                rlp::u64(&mut p, t.gas_limit);
                to_field(&mut p, &t.to);
                u256(&mut p, &t.value);
                rlp::bytes(&mut p, &t.data);
            }
            Transaction::Eip2930(t) => {
                rlp::u64(&mut p, t.chain_id);
                rlp::u64(&mut p, t.nonce);
                u256(&mut p, &t.gas_price);
                rlp::u64(&mut p, t.gas_limit);
                to_field(&mut p, &t.to);
                u256(&mut p, &t.value);
                rlp::bytes(&mut p, &t.data);
                access_list(&mut p, &t.access_list);
            }
            Transaction::Eip1559(t) => dynamic_fields(&mut p, t),
            Transaction::Eip4844(t) => {
                dynamic_fields(&mut p, &t.base);
                u256(&mut p, &t.max_fee_per_blob_gas);
                let mut hashes = Vec::with_capacity(t.blob_versioned_hashes.len() * 33);
                for h in &t.blob_versioned_hashes {
                    rlp::bytes(&mut hashes, h);
                }
                rlp::list(&mut p, &hashes);
            }
            Transaction::Eip7702(t) => {
                dynamic_fields(&mut p, &t.base);
                let mut list = Vec::with_capacity(t.authorization_list.len() * 110);
                for a in &t.authorization_list {
                    a.encode(&mut list);
                }
                rlp::list(&mut p, &list);
            }
        }
        p
    }

    fn typed(&self, list_payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(list_payload.len() + 4);
        if self.tx_type() != TxType::Legacy {
            out.push(self.tx_type().type_byte());
        }
        rlp::list(&mut out, list_payload);
        out
    }

    /// The bytes whose keccak256 is signed.
    pub fn signing_payload(&self) -> Vec<u8> {
        let mut p = self.fields();
        if let Transaction::Legacy(t) = self {
            // EIP-155: append chain_id, 0, 0.
            rlp::u64(&mut p, t.chain_id);
            rlp::u64(&mut p, 0);
            rlp::u64(&mut p, 0);
        }
        self.typed(&p)
    }

    /// keccak256 of [`Transaction::signing_payload`].
    pub fn signing_hash(&self) -> [u8; 32] {
        keccak256(&self.signing_payload())
    }

    /// The `v` value for a signature of this transaction.
    fn v(&self, y_parity: u8) -> u64 {
        match self {
            // EIP-155: v = chain_id * 2 + 35 + parity (bounded by validate()).
            Transaction::Legacy(t) => t.chain_id * 2 + 35 + u64::from(y_parity),
            _ => u64::from(y_parity),
        }
    }

    /// The signed EIP-2718 encoding with a given signature.
    pub fn encode_signed(&self, sig: &RecoverableSignature) -> Result<Vec<u8>, EthereumError> {
        self.validate()?;
        let mut p = self.fields();
        signature_fields(&mut p, self.v(sig.y_parity), sig);
        Ok(self.typed(&p))
    }

    /// Signs the transaction.
    pub fn sign(&self, key: &Secp256k1PrivateKey) -> Result<SignedTransaction, EthereumError> {
        self.validate()?;
        let sig = sign_digest_secp256k1(key, &self.signing_hash())?;
        let raw = self.encode_signed(&sig)?;
        Ok(SignedTransaction {
            hash: keccak256(&raw),
            raw,
            from: Address::from_public_key(&key.public_key()),
            tx_type: self.tx_type(),
            r: sig.r,
            s: sig.s,
            v: self.v(sig.y_parity),
        })
    }
}

/// The API's `ethereum/sign-transaction` fields, before the type is decided.
/// [`TransactionRequest::build`] applies the API's rules: `type` defaults to
/// `eip1559` when `max_fee_per_gas` is given, else `legacy`; fee fields of
/// another type are refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransactionRequest {
    /// `type`, if given.
    pub tx_type: Option<TxType>,
    /// `chain_id` (required).
    pub chain_id: Option<u64>,
    /// `nonce` (required).
    pub nonce: Option<u64>,
    /// `gas_limit` (required).
    pub gas_limit: Option<u64>,
    /// `to`; `None` creates a contract.
    pub to: Option<Address>,
    /// `value`, default 0.
    pub value: Option<U256>,
    /// `data`, default empty.
    pub data: Vec<u8>,
    /// `gas_price` (legacy, eip2930).
    pub gas_price: Option<U256>,
    /// `max_fee_per_gas` (eip1559).
    pub max_fee_per_gas: Option<U256>,
    /// `max_priority_fee_per_gas` (eip1559).
    pub max_priority_fee_per_gas: Option<U256>,
    /// `access_list` (eip2930, eip1559, eip4844, eip7702).
    pub access_list: Option<AccessList>,
    /// `max_fee_per_blob_gas` (eip4844).
    pub max_fee_per_blob_gas: Option<U256>,
    /// `blob_versioned_hashes` (eip4844).
    pub blob_versioned_hashes: Option<Vec<[u8; 32]>>,
    /// `authorization_list` (eip7702).
    pub authorization_list: Option<Vec<SignedAuthorization>>,
}

impl TransactionRequest {
    /// Decides the type and checks that the fields fit it.
    pub fn build(self) -> Result<Transaction, EthereumError> {
        let tx_type = self.tx_type.unwrap_or(if self.max_fee_per_gas.is_some() {
            TxType::Eip1559
        } else {
            TxType::Legacy
        });
        let chain_id = self
            .chain_id
            .ok_or(EthereumError::MissingField { field: "chain_id" })?;
        let nonce = self
            .nonce
            .ok_or(EthereumError::MissingField { field: "nonce" })?;
        let gas_limit = self
            .gas_limit
            .ok_or(EthereumError::MissingField { field: "gas_limit" })?;
        let value = self.value.unwrap_or(U256::ZERO);
        let not_allowed = |field| EthereumError::FieldNotAllowed { field, tx_type };
        let tx = match tx_type {
            TxType::Legacy | TxType::Eip2930 => {
                if self.max_fee_per_gas.is_some() {
                    return Err(not_allowed("max_fee_per_gas"));
                }
                if self.max_priority_fee_per_gas.is_some() {
                    return Err(not_allowed("max_priority_fee_per_gas"));
                }
                if self.max_fee_per_blob_gas.is_some() {
                    return Err(not_allowed("max_fee_per_blob_gas"));
                }
                if self.blob_versioned_hashes.is_some() {
                    return Err(not_allowed("blob_versioned_hashes"));
                }
                if self.authorization_list.is_some() {
                    return Err(not_allowed("authorization_list"));
                }
                let gas_price = self
                    .gas_price
                    .ok_or(EthereumError::MissingField { field: "gas_price" })?;
                if tx_type == TxType::Legacy {
                    if self.access_list.is_some() {
                        return Err(not_allowed("access_list"));
                    }
                    Transaction::Legacy(LegacyTransaction {
                        chain_id,
                        nonce,
                        gas_price,
                        gas_limit,
                        to: self.to,
                        value,
                        data: self.data,
                    })
                } else {
                    Transaction::Eip2930(Eip2930Transaction {
                        chain_id,
                        nonce,
                        gas_price,
                        gas_limit,
                        to: self.to,
                        value,
                        data: self.data,
                        access_list: self.access_list.unwrap_or_default(),
                    })
                }
            }
            TxType::Eip1559 | TxType::Eip4844 | TxType::Eip7702 => {
                if self.gas_price.is_some() {
                    return Err(not_allowed("gas_price"));
                }
                let base = Eip1559Transaction {
                    chain_id,
                    nonce,
                    max_priority_fee_per_gas: self.max_priority_fee_per_gas.ok_or(
                        EthereumError::MissingField {
                            field: "max_priority_fee_per_gas",
                        },
                    )?,
                    max_fee_per_gas: self.max_fee_per_gas.ok_or(EthereumError::MissingField {
                        field: "max_fee_per_gas",
                    })?,
                    gas_limit,
                    to: self.to,
                    value,
                    data: self.data,
                    access_list: self.access_list.unwrap_or_default(),
                };
                if tx_type != TxType::Eip4844 {
                    if self.max_fee_per_blob_gas.is_some() {
                        return Err(not_allowed("max_fee_per_blob_gas"));
                    }
                    if self.blob_versioned_hashes.is_some() {
                        return Err(not_allowed("blob_versioned_hashes"));
                    }
                }
                if tx_type != TxType::Eip7702 && self.authorization_list.is_some() {
                    return Err(not_allowed("authorization_list"));
                }
                if tx_type != TxType::Eip1559 && base.to.is_none() {
                    return Err(EthereumError::MissingField { field: "to" });
                }
                match tx_type {
                    TxType::Eip4844 => Transaction::Eip4844(Eip4844Transaction {
                        base,
                        max_fee_per_blob_gas: self.max_fee_per_blob_gas.ok_or(
                            EthereumError::MissingField {
                                field: "max_fee_per_blob_gas",
                            },
                        )?,
                        blob_versioned_hashes: self.blob_versioned_hashes.ok_or(
                            EthereumError::MissingField {
                                field: "blob_versioned_hashes",
                            },
                        )?,
                    }),
                    TxType::Eip7702 => Transaction::Eip7702(Eip7702Transaction {
                        base,
                        authorization_list: self.authorization_list.ok_or(
                            EthereumError::MissingField {
                                field: "authorization_list",
                            },
                        )?,
                    }),
                    _ => Transaction::Eip1559(base),
                }
            }
        };
        tx.validate()?;
        Ok(tx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> TransactionRequest {
        TransactionRequest {
            chain_id: Some(1),
            nonce: Some(0),
            gas_limit: Some(21000),
            ..Default::default()
        }
    }

    #[test]
    fn request_type_defaults() {
        let legacy = TransactionRequest {
            gas_price: Some(U256::from(1u64)),
            ..base()
        };
        assert_eq!(legacy.build().expect("legacy").tx_type(), TxType::Legacy);
        let dynamic = TransactionRequest {
            max_fee_per_gas: Some(U256::from(2u64)),
            max_priority_fee_per_gas: Some(U256::from(1u64)),
            ..base()
        };
        assert_eq!(dynamic.build().expect("1559").tx_type(), TxType::Eip1559);
    }

    #[test]
    fn request_errors_name_fields() {
        let err = base().build().expect_err("no gas price");
        assert_eq!(err.to_string(), "missing gas_price");
        let err = TransactionRequest {
            tx_type: Some(TxType::Eip1559),
            gas_price: Some(U256::from(1u64)),
            ..base()
        }
        .build()
        .expect_err("gas price on 1559");
        assert_eq!(
            err.to_string(),
            "gas_price is not allowed for eip1559 transactions"
        );
        let err = TransactionRequest {
            max_fee_per_gas: Some(U256::from(1u64)),
            max_priority_fee_per_gas: Some(U256::from(2u64)),
            ..base()
        }
        .build()
        .expect_err("fee order");
        assert!(err.to_string().contains("max_priority_fee_per_gas"));
        let err = TransactionRequest {
            gas_price: Some(U256::from(u128::MAX) + U256::from(1u8)),
            ..base()
        }
        .build()
        .expect_err("fee cap");
        assert_eq!(err.to_string(), "invalid gas_price: exceeds 2^128 - 1 wei");
        let err = TransactionRequest {
            chain_id: None,
            ..base()
        }
        .build()
        .expect_err("chain id");
        assert_eq!(err.to_string(), "missing chain_id");
    }

    #[test]
    fn access_list_json() {
        let v = serde_json::json!([{"address": "0x0000000000000000000000000000000000000001",
            "storage_keys": ["0x0100000000000000000000000000000000000000000000000000000000000000"]}]);
        let list = access_list_from_json(&v).expect("list");
        assert_eq!(list.len(), 1);
        let bad = serde_json::json!([{"address": "0x01", "storage_keys": []}]);
        let err = access_list_from_json(&bad).expect_err("bad");
        assert!(err.to_string().contains("access_list[0].address"));
        let bad = serde_json::json!([{"address": "0x0000000000000000000000000000000000000001", "storage_keys": ["0x01"]}]);
        let err = access_list_from_json(&bad).expect_err("bad key");
        assert!(err.to_string().contains("access_list[0].storage_keys[0]"));
    }
}
