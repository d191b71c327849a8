//! Small validated types shared by the API areas.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::error::Error;

/// An unsigned integer that may exceed 2^53 (wei, sats, lamports, gas prices), carried as a
/// **decimal string** as api.md requires. Holds only ASCII digits without leading zeros.
///
/// ```
/// use vault_crypto_sdk::Quantity;
/// let one_eth: Quantity = "1000000000000000000".parse()?;
/// assert_eq!(Quantity::from(21_000u64).as_str(), "21000");
/// assert!("0x10".parse::<Quantity>().is_ok()); // hex is converted to decimal
/// assert_eq!("0x10".parse::<Quantity>()?.as_str(), "16");
/// # let _ = one_eth; Ok::<_, vault_crypto_sdk::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Quantity(String);

impl Quantity {
    /// The decimal digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value as `u128`, if it fits.
    pub fn to_u128(&self) -> Option<u128> {
        self.0.parse().ok()
    }

    fn from_decimal(s: &str) -> Option<Self> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let t = s.trim_start_matches('0');
        Some(Quantity(if t.is_empty() { "0".into() } else { t.into() }))
    }

    /// Hex (`0x...`) to decimal by schoolbook conversion: no big-integer dependency.
    fn from_hex(h: &str) -> Option<Self> {
        if h.is_empty() || h.len() > 64 {
            return None;
        }
        // Little-endian base-10^9 limbs.
        let mut limbs: Vec<u64> = vec![0];
        for c in h.chars() {
            let d = u64::from(c.to_digit(16)?);
            let mut carry = d;
            for l in limbs.iter_mut() {
                let v = *l * 16 + carry;
                *l = v % 1_000_000_000;
                carry = v / 1_000_000_000;
            }
            while carry > 0 {
                limbs.push(carry % 1_000_000_000);
                carry /= 1_000_000_000;
            }
        }
        let mut s = String::new();
        for (i, l) in limbs.iter().rev().enumerate() {
            if i == 0 {
                s.push_str(&l.to_string());
            } else {
                s.push_str(&format!("{l:09}"));
            }
        }
        Some(Quantity(s))
    }
}

impl fmt::Debug for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Quantity({})", self.0)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Quantity {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let q = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            Some(h) => Quantity::from_hex(h),
            None => Quantity::from_decimal(s),
        };
        q.ok_or_else(|| Error::invalid("quantity", format!("{s:?} is not an unsigned integer")))
    }
}

macro_rules! quantity_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Quantity {
            fn from(v: $t) -> Self { Quantity(v.to_string()) }
        }
    )*};
}
quantity_from!(u8, u16, u32, u64, u128, usize);

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Through `Value` so that both strings and JSON integers (of any size, with or
        // without serde_json's `arbitrary_precision`) are accepted.
        let v = Value::deserialize(d)?;
        let s = match &v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return Err(serde::de::Error::custom("expected an integer or a string")),
        };
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A chain the engine signs for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Chain {
    /// Ethereum and EVM chains (secp256k1).
    Ethereum,
    /// Bitcoin (secp256k1).
    Bitcoin,
    /// Solana (ed25519).
    Solana,
}

impl Chain {
    /// The path segment / field value.
    pub fn as_str(self) -> &'static str {
        match self {
            Chain::Ethereum => "ethereum",
            Chain::Bitcoin => "bitcoin",
            Chain::Solana => "solana",
        }
    }
}

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Bitcoin network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum BitcoinNetwork {
    /// Mainnet (`bitcoin`).
    Bitcoin,
    /// Testnet.
    Testnet,
    /// Signet.
    Signet,
    /// Regtest.
    Regtest,
}

/// Bitcoin address (script) type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum AddressType {
    /// Native segwit v0 (BIP-84), the default.
    #[serde(rename = "p2wpkh")]
    P2wpkh,
    /// Taproot key-path (BIP-86).
    #[serde(rename = "p2tr")]
    P2tr,
    /// Nested segwit (BIP-49).
    #[serde(rename = "p2sh-p2wpkh")]
    P2shP2wpkh,
    /// Legacy (BIP-44).
    #[serde(rename = "p2pkh")]
    P2pkh,
    /// BIP-48 multisig account, P2WSH (script type 2'): `xpub` only.
    #[serde(rename = "p2wsh-multisig")]
    P2wshMultisig,
    /// BIP-48 multisig account, P2SH-P2WSH (script type 1'): `xpub` only.
    #[serde(rename = "p2sh-p2wsh-multisig")]
    P2shP2wshMultisig,
}

/// Which key of a wallet: `index`/`account`/`change`, or an explicit `path` (api.md "Key
/// selection"). All default to the server's defaults (index 0, account 0, receive).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct KeySelection {
    /// Address index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Account index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<u32>,
    /// Bitcoin only: 0 receive, 1 change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<u32>,
    /// Explicit derivation path, e.g. `m/44'/60'/0'/0/7`; overrides the three above.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl KeySelection {
    /// Address `index` of account 0.
    pub fn index(index: u32) -> Self {
        KeySelection {
            index: Some(index),
            ..Default::default()
        }
    }

    /// An explicit derivation path.
    pub fn path(path: impl Into<String>) -> Self {
        KeySelection {
            path: Some(path.into()),
            ..Default::default()
        }
    }

    /// Set the account.
    pub fn with_account(mut self, account: u32) -> Self {
        self.account = Some(account);
        self
    }

    /// Set the change level (bitcoin).
    pub fn with_change(mut self, change: u32) -> Self {
        self.change = Some(change);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_decimal_strings_on_the_wire() {
        let q: Quantity = "000123".parse().expect("decimal");
        assert_eq!(q.as_str(), "123");
        assert_eq!(serde_json::to_string(&q).expect("ser"), "\"123\"");
        let max_u256 = format!("0x{}", "f".repeat(64));
        let q: Quantity = max_u256.parse().expect("hex");
        assert_eq!(
            q.as_str(),
            "115792089237316195423570985008687907853269984665640564039457584007913129639935"
        );
        assert!("-1".parse::<Quantity>().is_err());
        assert!("1.5".parse::<Quantity>().is_err());
        assert!("0x".parse::<Quantity>().is_err());
        let from_num: Quantity = serde_json::from_str("21000").expect("number");
        assert_eq!(from_num.as_str(), "21000");
        let from_str: Quantity = serde_json::from_str("\"0x0\"").expect("hex string");
        assert_eq!(from_str.as_str(), "0");
    }

    #[test]
    fn key_selection_omits_defaults() {
        let v = serde_json::to_value(KeySelection::index(7)).expect("ser");
        assert_eq!(v, serde_json::json!({"index": 7}));
    }
}
