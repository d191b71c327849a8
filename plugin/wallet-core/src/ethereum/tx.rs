//! Ethereum transactions: legacy (signed with EIP-155 replay protection),
//! EIP-2930 and EIP-1559, encoded as EIP-2718 bytes.
//!
//! - EIP-155: signing payload rlp([nonce, gasPrice, gas, to, value, data,
//!   chainId, 0, 0]); `v = chain_id * 2 + 35 + parity`.
//! - EIP-2930: `0x01 || rlp([chainId, nonce, gasPrice, gas, to, value, data,
//!   accessList, yParity, r, s])`.
//! - EIP-1559: `0x02 || rlp([chainId, nonce, maxPriorityFeePerGas,
//!   maxFeePerGas, gas, to, value, data, accessList, yParity, r, s])`.
//!
//! The signing hash is keccak256 of the payload without the signature
//! fields; the transaction hash is keccak256 of the signed bytes.

use core::fmt;
use core::str::FromStr;

use super::{Address, EthereumError, U256, keccak256, rlp};
use crate::secret::Secp256k1PrivateKey;
use crate::sign_hash::{RecoverableSignature, sign_digest_secp256k1};

/// The three transaction types the API signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TxType {
    /// Pre-typed transactions (EIP-2718 type 0), signed with EIP-155.
    Legacy,
    /// EIP-2930 access-list transactions (type 1).
    Eip2930,
    /// EIP-1559 dynamic-fee transactions (type 2).
    Eip1559,
}

impl TxType {
    /// The API's name: `legacy`, `eip2930`, `eip1559`.
    pub fn as_str(self) -> &'static str {
        match self {
            TxType::Legacy => "legacy",
            TxType::Eip2930 => "eip2930",
            TxType::Eip1559 => "eip1559",
        }
    }

    /// The EIP-2718 type number.
    pub fn type_byte(self) -> u8 {
        match self {
            TxType::Legacy => 0,
            TxType::Eip2930 => 1,
            TxType::Eip1559 => 2,
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
            _ => Err(EthereumError::field(
                "type",
                "must be legacy, eip2930 or eip1559",
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

/// A transaction of any supported type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transaction {
    /// Legacy (EIP-155).
    Legacy(LegacyTransaction),
    /// EIP-2930.
    Eip2930(Eip2930Transaction),
    /// EIP-1559.
    Eip1559(Eip1559Transaction),
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
        }
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        match self {
            Transaction::Legacy(t) => t.chain_id,
            Transaction::Eip2930(t) => t.chain_id,
            Transaction::Eip1559(t) => t.chain_id,
        }
    }

    /// The recipient (`None` for contract creation).
    pub fn to(&self) -> Option<Address> {
        match self {
            Transaction::Legacy(t) => t.to,
            Transaction::Eip2930(t) => t.to,
            Transaction::Eip1559(t) => t.to,
        }
    }

    /// The value in wei.
    pub fn value(&self) -> U256 {
        match self {
            Transaction::Legacy(t) => t.value,
            Transaction::Eip2930(t) => t.value,
            Transaction::Eip1559(t) => t.value,
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
            Transaction::Eip1559(t) => &[
                ("max_fee_per_gas", &t.max_fee_per_gas),
                ("max_priority_fee_per_gas", &t.max_priority_fee_per_gas),
            ],
        };
        for (field, fee) in fees {
            if **fee > fee_cap {
                return Err(EthereumError::field(*field, "exceeds 2^128 - 1 wei"));
            }
        }
        if let Transaction::Eip1559(t) = self
            && t.max_priority_fee_per_gas > t.max_fee_per_gas
        {
            return Err(EthereumError::field(
                "max_priority_fee_per_gas",
                "must not exceed max_fee_per_gas",
            ));
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
            Transaction::Eip1559(t) => {
                rlp::u64(&mut p, t.chain_id);
                rlp::u64(&mut p, t.nonce);
                u256(&mut p, &t.max_priority_fee_per_gas);
                u256(&mut p, &t.max_fee_per_gas);
                rlp::u64(&mut p, t.gas_limit);
                to_field(&mut p, &t.to);
                u256(&mut p, &t.value);
                rlp::bytes(&mut p, &t.data);
                access_list(&mut p, &t.access_list);
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
    /// `access_list` (eip2930, eip1559).
    pub access_list: Option<AccessList>,
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
            TxType::Eip1559 => {
                if self.gas_price.is_some() {
                    return Err(not_allowed("gas_price"));
                }
                Transaction::Eip1559(Eip1559Transaction {
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
                })
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
