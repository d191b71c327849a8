//! Ethereum: EIP-55 addresses, transactions (legacy with EIP-155, EIP-2930,
//! EIP-1559, EIP-4844, EIP-7702) as EIP-2718 bytes, EIP-7702 authorizations, EIP-191 `personal_sign`, EIP-712 typed data.

use core::fmt;
use core::str::FromStr;

use serde_json::Value;
use sha3::{Digest, Keccak256};

use crate::keys::Secp256k1PublicKey;
use crate::secret::Secp256k1PrivateKey;
use crate::sign_hash::{SignError, sign_digest_secp256k1};

pub mod eip712;
pub mod eip7702;
pub mod intent;
mod rlp;
mod tx;

pub use ruint::aliases::U256;
pub use tx::{
    AccessList, AccessListItem, Eip1559Transaction, Eip2930Transaction, Eip4844Transaction,
    Eip7702Transaction, GAS_PER_BLOB, LegacyTransaction, MAX_AUTHORIZATIONS, MAX_BLOBS_PER_TX,
    SignedTransaction, Transaction, TransactionRequest, TxType, access_list_from_json,
};

/// Errors of the Ethereum domain (addresses, quantities, transactions,
/// messages). Messages name the offending field where there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EthereumError {
    /// A field is malformed.
    #[error("invalid {field}: {reason}")]
    InvalidField {
        /// The field's name as the API spells it (e.g. `access_list[0].address`).
        field: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A required field is missing.
    #[error("missing {field}")]
    MissingField {
        /// The field's name.
        field: &'static str,
    },
    /// A field does not belong to this transaction type.
    #[error("{field} is not allowed for {tx_type} transactions")]
    FieldNotAllowed {
        /// The field's name.
        field: &'static str,
        /// The transaction type.
        tx_type: TxType,
    },
    /// The EIP-712 typed data is invalid.
    #[error(transparent)]
    TypedData(#[from] eip712::TypedDataError),
    /// Signing failed.
    #[error(transparent)]
    Sign(#[from] SignError),
}

impl EthereumError {
    pub(crate) fn field(field: impl Into<String>, reason: &'static str) -> Self {
        EthereumError::InvalidField {
            field: field.into(),
            reason,
        }
    }
}

/// Keccak-256.
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    Keccak256::digest(data).into()
}

/// A 20-byte Ethereum address. `Display` is the EIP-55 checksummed form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address(pub [u8; 20]);

impl Address {
    /// The address of a public key: the last 20 bytes of
    /// keccak256(uncompressed x || y).
    pub fn from_public_key(key: &Secp256k1PublicKey) -> Address {
        let uncompressed = key.to_uncompressed();
        let hash = keccak256(&uncompressed[1..]);
        let mut out = [0u8; 20];
        out.copy_from_slice(&hash[12..]);
        Address(out)
    }

    /// EIP-55 mixed-case checksum encoding, `0x`-prefixed.
    pub fn to_checksum(&self) -> String {
        let lower = hex::encode(self.0);
        let hash = keccak256(lower.as_bytes());
        let mut out = String::with_capacity(42);
        out.push_str("0x");
        for (i, c) in lower.chars().enumerate() {
            // EIP-55: upper-case a letter when the matching nibble of
            // keccak256(lower-case hex) is 8 or more.
            let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
            if c.is_ascii_alphabetic() && nibble >= 8 {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
        }
        out
    }

    /// Parses `0x` + 40 hex digits. All-lower or all-upper case is accepted
    /// as is; mixed case must be a correct EIP-55 checksum. `field` names the
    /// input in errors.
    pub fn parse_field(s: &str, field: &str) -> Result<Address, EthereumError> {
        let digits = s
            .strip_prefix("0x")
            .or_else(|| s.strip_prefix("0X"))
            .ok_or_else(|| EthereumError::field(field, "must be 0x followed by 40 hex digits"))?;
        let mut out = [0u8; 20];
        if digits.len() != 40 || hex::decode_to_slice(digits, &mut out).is_err() {
            return Err(EthereumError::field(
                field,
                "must be 0x followed by 40 hex digits",
            ));
        }
        let addr = Address(out);
        let has_lower = digits.bytes().any(|b| b.is_ascii_lowercase());
        let has_upper = digits.bytes().any(|b| b.is_ascii_uppercase());
        if has_lower && has_upper && addr.to_checksum()[2..] != *digits {
            return Err(EthereumError::field(field, "EIP-55 checksum mismatch"));
        }
        Ok(addr)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_checksum())
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({})", self.to_checksum())
    }
}

impl FromStr for Address {
    type Err = EthereumError;

    fn from_str(s: &str) -> Result<Self, EthereumError> {
        Address::parse_field(s, "address")
    }
}

/// The Ethereum address of a secp256k1 key.
pub fn address(key: &Secp256k1PublicKey) -> Address {
    Address::from_public_key(key)
}

/// Parses a quantity given as a decimal string or a `0x` hex string.
pub fn parse_u256(s: &str, field: &str) -> Result<U256, EthereumError> {
    let s = s.trim();
    if let Some(hex_digits) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        if hex_digits.is_empty() || !hex_digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(EthereumError::field(field, "not a valid 0x hex number"));
        }
        U256::from_str_radix(hex_digits, 16)
            .map_err(|_| EthereumError::field(field, "exceeds 256 bits"))
    } else {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(EthereumError::field(
                field,
                "must be a non-negative integer (decimal string, 0x hex string or JSON integer)",
            ));
        }
        U256::from_str_radix(s, 10).map_err(|_| EthereumError::field(field, "exceeds 256 bits"))
    }
}

/// Parses a quantity that must fit 64 bits (nonce, gas limit, chain id).
pub fn parse_u64(s: &str, field: &str) -> Result<u64, EthereumError> {
    let v = parse_u256(s, field)?;
    u64::try_from(v).map_err(|_| EthereumError::field(field, "exceeds 64 bits"))
}

/// A quantity from JSON: a decimal string, a `0x` hex string or a JSON
/// integer (exact even above 2^53 when serde_json keeps arbitrary precision).
pub fn u256_from_json(v: &Value, field: &str) -> Result<U256, EthereumError> {
    match v {
        Value::String(s) => parse_u256(s, field),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                return Ok(U256::from(u));
            }
            let text = n.to_string();
            if text.starts_with('-') {
                return Err(EthereumError::field(field, "must not be negative"));
            }
            if !text.bytes().all(|b| b.is_ascii_digit()) {
                return Err(EthereumError::field(
                    field,
                    "must be an integer; send large values as decimal strings",
                ));
            }
            parse_u256(&text, field)
        }
        _ => Err(EthereumError::field(
            field,
            "must be a decimal string, 0x hex string or JSON integer",
        )),
    }
}

/// A 64-bit quantity from JSON (see [`u256_from_json`]).
pub fn u64_from_json(v: &Value, field: &str) -> Result<u64, EthereumError> {
    let v = u256_from_json(v, field)?;
    u64::try_from(v).map_err(|_| EthereumError::field(field, "exceeds 64 bits"))
}

/// Parses `0x`-prefixed hex bytes (`0x` alone is empty).
pub fn parse_hex_bytes(s: &str, field: &str) -> Result<Vec<u8>, EthereumError> {
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .ok_or_else(|| EthereumError::field(field, "must be 0x-prefixed hex"))?;
    hex::decode(digits).map_err(|_| {
        EthereumError::field(
            field,
            "must be 0x-prefixed hex with an even number of digits",
        )
    })
}

/// Parses exactly 32 bytes of `0x` hex.
pub fn parse_b256(s: &str, field: &str) -> Result<[u8; 32], EthereumError> {
    let v = parse_hex_bytes(s, field)?;
    v.try_into()
        .map_err(|_| EthereumError::field(field, "must be exactly 32 bytes"))
}

/// Formats bytes as `0x` lowercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// The EIP-191 version 0x45 (`personal_sign`) digest:
/// keccak256("\x19Ethereum Signed Message:\n" || len(message) || message).
pub fn eip191_hash(message: &[u8]) -> [u8; 32] {
    let mut h = Keccak256::new();
    h.update(b"\x19Ethereum Signed Message:\n");
    h.update(message.len().to_string().as_bytes());
    h.update(message);
    h.finalize().into()
}

/// A signature over a message digest, as `personal_sign` and
/// `eth_signTypedData_v4` return it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSignature {
    /// 65 bytes `r || s || v`, `v` = 27 or 28, low S.
    pub signature: [u8; 65],
    /// The digest that was signed.
    pub hash: [u8; 32],
    /// The signer's address.
    pub address: Address,
}

/// Signs a 32-byte digest and packages it as a [`MessageSignature`].
fn sign_message_digest(
    key: &Secp256k1PrivateKey,
    hash: [u8; 32],
) -> Result<MessageSignature, EthereumError> {
    let sig = sign_digest_secp256k1(key, &hash)?;
    Ok(MessageSignature {
        signature: sig.to_rsv_bytes(),
        hash,
        address: Address::from_public_key(&key.public_key()),
    })
}

/// EIP-191 `personal_sign`.
pub fn sign_personal_message(
    key: &Secp256k1PrivateKey,
    message: &[u8],
) -> Result<MessageSignature, EthereumError> {
    sign_message_digest(key, eip191_hash(message))
}

/// EIP-712 v4 signature of typed data (see [`eip712`]).
pub fn sign_typed_data(
    key: &Secp256k1PrivateKey,
    typed_data: &eip712::TypedData,
) -> Result<(MessageSignature, eip712::TypedDataHash), EthereumError> {
    let hashes = typed_data.hash()?;
    Ok((sign_message_digest(key, hashes.signing_hash)?, hashes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eip55_examples_round_trip() {
        // Examples from the EIP-55 text.
        for a in [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        ] {
            let parsed: Address = a.parse().expect("valid");
            assert_eq!(parsed.to_string(), a);
            assert!(a.to_lowercase().parse::<Address>().is_ok());
        }
        let bad = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD";
        assert!(bad.parse::<Address>().is_err());
    }

    #[test]
    fn quantities() {
        assert_eq!(
            parse_u256("1000", "value").expect("dec"),
            U256::from(1000u64)
        );
        assert_eq!(
            parse_u256("0x3e8", "value").expect("hex"),
            U256::from(1000u64)
        );
        assert!(parse_u256("0x", "value").is_err());
        assert!(parse_u256("-1", "value").is_err());
        assert!(parse_u256("1.5", "value").is_err());
        assert!(parse_u256(&"f".repeat(65), "value").is_err());
        let max = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
        assert_eq!(parse_u256(max, "value").expect("max"), U256::MAX);
        let over = "115792089237316195423570985008687907853269984665640564039457584007913129639936";
        let err = parse_u256(over, "value").expect_err("overflow");
        assert_eq!(err.to_string(), "invalid value: exceeds 256 bits");
        assert_eq!(u64_from_json(&serde_json::json!(7), "nonce").expect("n"), 7);
        assert!(u64_from_json(&serde_json::json!(-7), "nonce").is_err());
        assert!(u64_from_json(&serde_json::json!(1.5), "nonce").is_err());
        assert!(u64_from_json(&serde_json::json!("18446744073709551616"), "nonce").is_err());
    }
}
