//! Signing policies (api.md "Policies"): the interface the signing paths
//! call right before they make a signature.
//!
//! Interface contract (owned by the policy module, called by the paths):
//! - `enforce` is called once per signing request, after the request was
//!   parsed and before any signature exists;
//! - it returns `LogicalError::PermissionDenied` naming the rule that
//!   refused (e.g. `policy max_value_per_tx: ...`);
//! - when a daily limit applies it records the amount in the host's storage
//!   *before* returning `Ok`, under the wallet's lock, so N concurrent
//!   requests can never sign more than the limit; a storage error is
//!   returned verbatim (a standby's `cannot write to readonly storage`
//!   makes the host forward the request to the active node).
//!
//! Rules are checked in a fixed order, and the first that refuses names
//! itself: `allowed_chain_ids`, `allow_contract_creation`,
//! `denied_recipients`, `allowed_recipients`, `max_value_per_tx`,
//! `max_value_per_day`. Only the last one writes, and only it takes the
//! wallet's lock: a wallet without a daily limit signs without serializing.

use ruint::aliases::U256;
use serde::{Deserialize, Serialize};

use crate::backend::Crypto;
use crate::logical::{LogicalError, Storage};
use crate::store::{NameGuard, Versioned};

/// What a signing request is about to authorize, as a policy sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Intent {
    /// An Ethereum transaction. `to` is `None` for contract creation; the
    /// address is `0x` + 40 hex digits (any case).
    EthereumTransaction {
        chain_id: u64,
        to: Option<String>,
        value: U256,
    },
    /// EIP-191 personal_sign: not a value transfer, no chain id.
    EthereumMessage,
    /// EIP-712 typed data; `chain_id` is the domain's `chainId` if present.
    EthereumTypedData { chain_id: Option<u64> },
    /// A Bitcoin PSBT: every output that is not change to this wallet.
    BitcoinTransaction {
        network: String,
        recipients: Vec<(String, u64)>,
    },
    /// Solana signing (no Solana policy fields exist).
    Solana,
}

/// The chains a policy can be written for (the `{chain}` of the path).
pub const CHAINS: &[&str] = &["ethereum", "bitcoin", "solana"];

/// The length of the rolling window of `max_value_per_day`.
pub const WINDOW_SECS: u64 = 24 * 60 * 60;

/// Spends within one slot of this many seconds share one counter record,
/// which bounds a counter to `WINDOW_SECS / SLOT_SECS + 1` records however
/// many small spends there are. A record expires 24 hours after the
/// *latest* spend it holds, so the window is never shorter than 24 hours
/// for any spend, and at most one slot longer.
pub const SLOT_SECS: u64 = 5 * 60;

/// The stored policy of one wallet on one chain (`policy/<name>/<chain>`).
/// Version 1. Addresses are stored in canonical form: ethereum lower-case,
/// bitcoin bech32 lower-case and base58 as given. Amounts are decimal
/// strings (wei or sats), because they may exceed 2^64.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyEntry {
    pub version: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_chain_ids: Vec<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_recipients: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub denied_recipients: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_u256")]
    pub max_value_per_tx: Option<U256>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_u256")]
    pub max_value_per_day: Option<U256>,
    /// Ethereum only; `None` means the default (true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_contract_creation: Option<bool>,
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
}

impl Versioned for PolicyEntry {
    const KIND: &'static str = "policy";
    const VERSION: u32 = 1;
    fn version(&self) -> u32 {
        self.version
    }
}

/// The spending counter of one wallet, chain and scope
/// (`counters/<name>/<chain>/<scope>`). Version 1.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterEntry {
    pub version: u32,
    /// Oldest first; at most one record per [`SLOT_SECS`] slot.
    #[serde(default)]
    pub spends: Vec<SpendRecord>,
}

/// The spends of one slot: their total and the time of the latest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendRecord {
    /// Unix seconds of the latest spend in this record.
    pub time: u64,
    #[serde(with = "u256_dec")]
    pub amount: U256,
}

impl Versioned for CounterEntry {
    const KIND: &'static str = "counter";
    const VERSION: u32 = 1;
    fn version(&self) -> u32 {
        self.version
    }
}

impl CounterEntry {
    pub fn new() -> Self {
        Self {
            version: Self::VERSION,
            spends: Vec::new(),
        }
    }

    /// Drops the records whose latest spend is 24 hours old or more.
    pub fn prune(&mut self, now: u64) {
        self.spends
            .retain(|s| s.time.saturating_add(WINDOW_SECS) > now);
    }

    /// The total of the records still in the window at `now`.
    pub fn spent(&self, now: u64) -> U256 {
        self.spends
            .iter()
            .filter(|s| s.time.saturating_add(WINDOW_SECS) > now)
            .fold(U256::ZERO, |acc, s| acc.saturating_add(s.amount))
    }

    /// Records a spend at `now`, merging it into the latest record when
    /// both fall in the same slot. A clock that went backwards (fail-over
    /// to a node whose clock is behind) merges too, keeping the later time:
    /// a record never expires earlier than any spend it holds.
    pub fn record(&mut self, now: u64, amount: U256) {
        if let Some(last) = self.spends.last_mut()
            && (last.time / SLOT_SECS >= now / SLOT_SECS)
        {
            last.time = last.time.max(now);
            last.amount = last.amount.saturating_add(amount);
            return;
        }
        self.spends.push(SpendRecord { time: now, amount });
    }
}

/// Checks the wallet's policy for the intent's chain and records daily
/// amounts (see the module documentation for the order of the rules).
pub async fn enforce(
    crypto: &Crypto,
    storage: &dyn Storage,
    wallet: &str,
    intent: &Intent,
) -> Result<(), LogicalError> {
    enforce_at(crypto, storage, wallet, intent, unix_now()).await
}

/// [`enforce`] at a given time (Unix seconds): the clock is injected so that
/// the rolling window can be tested.
pub async fn enforce_at(
    crypto: &Crypto,
    storage: &dyn Storage,
    wallet: &str,
    intent: &Intent,
    now: u64,
) -> Result<(), LogicalError> {
    let chain = match intent {
        Intent::EthereumTransaction { .. } | Intent::EthereumTypedData { .. } => "ethereum",
        Intent::BitcoinTransaction { .. } => "bitcoin",
        // personal_sign has no chain id, and there are no solana rules:
        // nothing can refuse, so do not even read the policy.
        Intent::EthereumMessage | Intent::Solana => return Ok(()),
    };
    // Read without the lock, from the policy cache (kept current by our
    // own writes and by the host's InvalidateKey for changes replicated
    // from another node): the hot path neither serializes nor reaches
    // storage.
    let Some(policy) = crypto
        .store
        .policy::<PolicyEntry>(storage, wallet, chain)
        .await?
    else {
        return Ok(());
    };
    let Some(spend) = check_static(&policy, intent)? else {
        return Ok(());
    };
    let Some(limit) = policy.max_value_per_day else {
        return Ok(());
    };
    if spend.amount.is_zero() {
        // Nothing to add: the window's total cannot grow.
        return Ok(());
    }
    let guard = crypto.store.lock(wallet).await;
    record_daily(crypto, &guard, storage, chain, &spend, limit, now).await
}

/// An amount that counts against a daily limit, and the counter it goes to.
struct Spend {
    /// The chain id on ethereum, the network on bitcoin.
    scope: String,
    amount: U256,
}

fn deny(rule: &str, why: impl std::fmt::Display) -> LogicalError {
    LogicalError::PermissionDenied(format!("policy {rule}: {why}"))
}

/// Every rule but the daily limit, in their fixed order. Returns the amount
/// the daily limit must account for, if the intent moves value.
fn check_static(policy: &PolicyEntry, intent: &Intent) -> Result<Option<Spend>, LogicalError> {
    match intent {
        Intent::EthereumTypedData { chain_id } => {
            if !policy.allowed_chain_ids.is_empty() {
                match chain_id {
                    None => {
                        return Err(deny(
                            "allowed_chain_ids",
                            "the typed data has no domain chainId, and this wallet may only \
                             sign for listed chain ids",
                        ));
                    }
                    Some(id) if !policy.allowed_chain_ids.contains(id) => {
                        return Err(deny(
                            "allowed_chain_ids",
                            format!("chain id {id} is not allowed"),
                        ));
                    }
                    Some(_) => {}
                }
            }
            Ok(None)
        }
        Intent::EthereumTransaction {
            chain_id,
            to,
            value,
        } => {
            if !policy.allowed_chain_ids.is_empty() && !policy.allowed_chain_ids.contains(chain_id)
            {
                return Err(deny(
                    "allowed_chain_ids",
                    format!("chain id {chain_id} is not allowed"),
                ));
            }
            let to = to.as_deref().map(str::to_ascii_lowercase);
            match &to {
                None if !policy.allows_contract_creation() => {
                    return Err(deny(
                        "allow_contract_creation",
                        "contract creation (a transaction without \"to\") is not allowed",
                    ));
                }
                Some(to) if policy.denied_recipients.contains(to) => {
                    return Err(deny(
                        "denied_recipients",
                        format!("recipient {to} is denied"),
                    ));
                }
                _ => {}
            }
            if !policy.allowed_recipients.is_empty() {
                match &to {
                    // The new contract's address cannot be listed: an
                    // allow-list means "only to these", so it refuses
                    // contract creation too.
                    None => {
                        return Err(deny(
                            "allowed_recipients",
                            "contract creation has no listed recipient",
                        ));
                    }
                    Some(to) if !policy.allowed_recipients.contains(to) => {
                        return Err(deny(
                            "allowed_recipients",
                            format!("recipient {to} is not allowed"),
                        ));
                    }
                    Some(_) => {}
                }
            }
            check_per_tx(policy, *value)?;
            Ok(Some(Spend {
                scope: chain_id.to_string(),
                amount: *value,
            }))
        }
        Intent::BitcoinTransaction {
            network,
            recipients,
        } => {
            if let Some((addr, _)) = recipients
                .iter()
                .find(|(a, _)| policy.denied_recipients.contains(a))
            {
                return Err(deny(
                    "denied_recipients",
                    format!("recipient {addr} is denied"),
                ));
            }
            if !policy.allowed_recipients.is_empty()
                && let Some((addr, _)) = recipients
                    .iter()
                    .find(|(a, _)| !policy.allowed_recipients.contains(a))
            {
                return Err(deny(
                    "allowed_recipients",
                    format!("recipient {addr} is not allowed"),
                ));
            }
            let total = recipients
                .iter()
                .fold(U256::ZERO, |acc, (_, sats)| acc + U256::from(*sats));
            check_per_tx(policy, total)?;
            Ok(Some(Spend {
                scope: network.clone(),
                amount: total,
            }))
        }
        Intent::EthereumMessage | Intent::Solana => Ok(None),
    }
}

fn check_per_tx(policy: &PolicyEntry, value: U256) -> Result<(), LogicalError> {
    match policy.max_value_per_tx {
        Some(max) if value > max => Err(deny(
            "max_value_per_tx",
            format!("value {value} exceeds the limit of {max} per transaction"),
        )),
        _ => Ok(()),
    }
}

/// Checks the rolling 24-hour total and records the spend, under the
/// wallet's lock: the read-modify-write of the counter is atomic for every
/// request of this node (standbys forward writes to the active node).
async fn record_daily(
    crypto: &Crypto,
    guard: &NameGuard,
    storage: &dyn Storage,
    chain: &str,
    spend: &Spend,
    limit: U256,
    now: u64,
) -> Result<(), LogicalError> {
    if !is_scope(&spend.scope) {
        return Err(LogicalError::Internal(format!(
            "invalid counter scope {:?}",
            spend.scope
        )));
    }
    let mut counter = crypto
        .store
        .counter::<CounterEntry>(guard, storage, chain, &spend.scope)
        .await?
        .unwrap_or_else(CounterEntry::new);
    counter.prune(now);
    let spent = counter.spent(now);
    let total = spent.saturating_add(spend.amount);
    if total > limit {
        let scope = match chain {
            "ethereum" => format!("chain id {}", spend.scope),
            _ => format!("network {}", spend.scope),
        };
        return Err(deny(
            "max_value_per_day",
            format!(
                "value {} on {scope} would bring the 24-hour total to {total}, above the \
                 limit of {limit} (already spent: {spent})",
                spend.amount
            ),
        ));
    }
    counter.record(now, spend.amount);
    crypto
        .store
        .put_counter(guard, storage, chain, &spend.scope, &counter)
        .await
}

/// A counter scope becomes one storage key segment.
fn is_scope(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_'))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Serde for `U256` as a decimal string (storage never holds a JSON number
/// that a float-based reader could round).
mod u256_dec {
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

mod opt_u256 {
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

#[cfg(test)]
mod tests;
