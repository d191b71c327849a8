//! The stored policy of one wallet on one chain (`policy/<name>/<chain>`).
//!
//! Version 2. Version 1 (before token, calldata, typed-data, fee, sighash
//! and solana rules) reads as version 2 with every new field at its
//! default: a v1 policy keeps meaning what it meant, and the new rules
//! that fail closed (calldata, typed data) apply to it from now on.

use std::collections::BTreeMap;

use ruint::aliases::U256;
use serde::{Deserialize, Serialize};

use crate::logical::LogicalError;
use crate::store::Versioned;

/// Per-token limits (ethereum: keyed by token contract, lower-case
/// address; solana: keyed by mint, base58). An entry with no limit lists
/// the token as allowed without an amount limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenLimit {
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_u256")]
    pub max_value_per_tx: Option<U256>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_u256")]
    pub max_value_per_day: Option<U256>,
}

/// One entry of `allowed_typed_data`: typed data whose domain names this
/// `verifyingContract` (and, when given, whose primary type is this one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypedDataRule {
    /// Lower-case `0x` address.
    pub verifying_contract: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_type: Option<String>,
}

/// Recipients are stored in a canonical form per chain: ethereum
/// lower-case `0x` addresses, bitcoin addresses as given (bech32 in lower
/// case; compared as output scripts, so the network does not matter),
/// solana base58. Amounts are decimal strings in storage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyEntry {
    pub version: u32,

    // Every chain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_recipients: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub denied_recipients: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_u256")]
    pub max_value_per_tx: Option<U256>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_u256")]
    pub max_value_per_day: Option<U256>,
    /// `None` means the default: true on ethereum and solana, false on
    /// bitcoin (see [`PolicyEntry::allows_message_signing_on`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_message_signing: Option<bool>,

    // Ethereum.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_chain_ids: Vec<u64>,
    /// `None` means the default (true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_contract_creation: Option<bool>,
    /// `gas_limit × (gas_price | max_fee_per_gas)` in wei, plus the blob
    /// fee of a blob transaction.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_u256")]
    pub max_fee_per_tx: Option<U256>,
    /// Ethereum (token contract) and solana (mint).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub token_limits: BTreeMap<String, TokenLimit>,
    /// Contract (lower-case address) → allowed selectors (`0x` + 8 hex
    /// digits, lower case); an empty list allows every selector.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub allowed_contracts: BTreeMap<String, Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_arbitrary_calldata: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_unlimited_approvals: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_typed_data: Vec<TypedDataRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_arbitrary_typed_data: Option<bool>,
    /// EIP-7702 delegate contracts (lower-case addresses) an authorization
    /// may name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_delegates: Vec<String>,
    /// Whether an authorization with chain id 0 (valid on every chain) may
    /// be signed or carried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_any_chain_authorization: Option<bool>,
    /// EIP-4844 cap on `max_fee_per_blob_gas`, in wei.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_u256")]
    pub max_fee_per_blob_gas: Option<U256>,

    // Bitcoin.
    /// Sighash names beyond the default (`ALL`, and `DEFAULT` on taproot).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_sighash_types: Vec<String>,
    /// Sats.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_u256")]
    pub max_fee: Option<U256>,
    /// Milli-sats per virtual byte (the API speaks sat/vB with up to three
    /// decimals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fee_rate_msat_vb: Option<u64>,

    // Solana.
    /// Base58 program ids beyond System, Token, Token-2022, Associated
    /// Token Account, ComputeBudget and Memo.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_programs: Vec<String>,
    /// Lamports.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_u256")]
    pub max_priority_fee: Option<U256>,

    // Approvals (every chain; see `crate::approvals`).
    /// Distinct approvers a signature needs (0: approvals are off).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub approvals_required: u32,
    /// The identity group whose members may approve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_group: Option<String>,
    /// Base units (value plus fee, as counted) above which approval is
    /// needed; `None`: every signing request on the chain.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_u256")]
    pub approval_above: Option<U256>,
    /// Seconds a request may wait; `None`: [`DEFAULT_APPROVAL_TTL`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_ttl_secs: Option<u64>,
}

/// How long a request may wait for approvals by default: 24 hours.
pub const DEFAULT_APPROVAL_TTL: u64 = 24 * 3600;
/// The longest `approval_ttl`: 7 days.
pub const MAX_APPROVAL_TTL: u64 = 7 * 24 * 3600;
/// The most approvers a policy may require.
pub const MAX_APPROVALS_REQUIRED: u32 = 32;

fn is_zero(v: &u32) -> bool {
    *v == 0
}

impl PolicyEntry {
    pub fn new() -> Self {
        Self {
            version: Self::VERSION,
            ..Self::default()
        }
    }

    pub fn allows_contract_creation(&self) -> bool {
        self.allow_contract_creation.unwrap_or(true)
    }
    pub fn allows_message_signing(&self) -> bool {
        self.allow_message_signing.unwrap_or(true)
    }
    /// The value in force on a chain: bitcoin's default is false.
    pub fn allows_message_signing_on(&self, chain: &str) -> bool {
        self.allow_message_signing.unwrap_or(chain != "bitcoin")
    }
    pub fn allows_arbitrary_calldata(&self) -> bool {
        self.allow_arbitrary_calldata.unwrap_or(false)
    }
    pub fn allows_unlimited_approvals(&self) -> bool {
        self.allow_unlimited_approvals.unwrap_or(false)
    }
    pub fn allows_arbitrary_typed_data(&self) -> bool {
        self.allow_arbitrary_typed_data.unwrap_or(false)
    }
    pub fn allows_any_chain_authorization(&self) -> bool {
        self.allow_any_chain_authorization.unwrap_or(false)
    }

    /// The approval ttl in force, in seconds.
    pub fn approval_ttl(&self) -> u64 {
        self.approval_ttl_secs.unwrap_or(DEFAULT_APPROVAL_TTL)
    }

    /// Whether any amount limit is set (bitcoin then needs proven input
    /// amounts).
    pub fn has_amount_limit(&self) -> bool {
        self.max_value_per_tx.is_some()
            || self.max_value_per_day.is_some()
            || self.max_fee.is_some()
            || self.max_fee_rate_msat_vb.is_some()
    }
}

impl Versioned for PolicyEntry {
    const KIND: &'static str = "policy";
    const VERSION: u32 = 2;
    fn version(&self) -> u32 {
        self.version
    }
    fn upgrade(version: u32, bytes: &[u8]) -> Result<Self, LogicalError> {
        match version {
            // Version 1 is a subset of version 2 (same field names and forms).
            1 => {
                let mut p: PolicyEntry = serde_json::from_slice(bytes)
                    .map_err(|_| LogicalError::Internal("stored policy entry is corrupt".into()))?;
                p.version = Self::VERSION;
                Ok(p)
            }
            v => Err(LogicalError::Internal(format!(
                "stored policy entry has unsupported version {v}"
            ))),
        }
    }
}

/// A fee rate in milli-sats per vbyte as sat/vB text (`2.5`, `10`).
pub fn fee_rate_text(msat: u64) -> String {
    let whole = msat / 1000;
    let frac = msat % 1000;
    if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{:03}", frac)
            .trim_end_matches('0')
            .to_string()
    }
}

/// Parses sat/vB text with at most three decimals into milli-sats per vbyte.
pub fn parse_fee_rate(s: &str) -> Option<u64> {
    let s = s.trim();
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s, ""),
    };
    if whole.is_empty()
        || whole.len() > 12
        || frac.len() > 3
        || !whole.bytes().all(|c| c.is_ascii_digit())
        || !frac.bytes().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let w: u64 = whole.parse().ok()?;
    let mut f: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    for _ in frac.len()..3 {
        f *= 10;
    }
    w.checked_mul(1000)?.checked_add(f)
}

/// Serde for `U256` as a decimal string (storage never holds a JSON number
/// that a float-based reader could round).
pub(crate) mod u256_dec {
    use ruint::aliases::U256;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &U256, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<U256, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(serde::de::Error::custom("expected a decimal string"));
        }
        U256::from_str_radix(&s, 10).map_err(serde::de::Error::custom)
    }
}

pub(crate) mod opt_u256 {
    use ruint::aliases::U256;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<U256>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => super::u256_dec::serialize(v, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<U256>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "super::u256_dec")] U256);
        Ok(Option::<Wrap>::deserialize(d)?.map(|Wrap(v)| v))
    }
}
