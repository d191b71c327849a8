//! Signing policies: the engine every signing path calls right before it
//! makes a signature, and the dry run behind `policies/{name}/{chain}/check`.
//!
//! Contract (owned here, called by the paths):
//! - a path decodes its request into an [`Intent`] (wallet-core decoders:
//!   calldata, typed data, PSBT summary, Solana instructions) before any
//!   signature exists, and calls [`enforce`] once;
//! - with no policy on the intent's chain, everything is allowed (as before
//!   policies existed); with one, every rule of the chain applies and what
//!   the engine cannot evaluate is refused: a 403 `policy <rule>: <why>`;
//! - daily limits are recorded in the host's storage *before* `enforce`
//!   returns, under the wallet's lock, all counters of one request checked
//!   before any is written, so N concurrent requests never sign more than a
//!   limit (a batch takes the lock once for all its items, see
//!   `logical::batch`); a storage error is returned verbatim (a standby's `cannot write
//!   to readonly storage` makes the host forward the request);
//! - [`check`] evaluates the same rules and reads the counters but writes
//!   nothing.
//!
//! One file per concern: `entry` (the stored policy), `counter` (rolling
//! windows), `intent` (what is decoded and its JSON form), and one file of
//! rules per chain, each documenting its order.

pub mod bitcoin;
pub mod counter;
pub mod entry;
pub mod ethereum;
pub mod intent;
pub mod solana;

use ruint::aliases::U256;
use serde_json::Value;

pub use counter::{CounterEntry, SLOT_SECS, SpendRecord, WINDOW_SECS};
pub use entry::{PolicyEntry, TokenLimit, TypedDataRule};
pub use intent::Intent;

use crate::backend::Crypto;
use crate::logical::{LogicalError, Storage};
use crate::store::NameGuard;

/// The chains a policy can be written for (the `{chain}` of the path).
pub const CHAINS: &[&str] = &["ethereum", "bitcoin", "solana"];

/// A refusal: the rule that decided and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub rule: &'static str,
    pub reason: String,
}

impl Denial {
    pub fn new(rule: &'static str, reason: impl Into<String>) -> Self {
        Self {
            rule,
            reason: reason.into(),
        }
    }

    pub fn into_error(self) -> LogicalError {
        LogicalError::PermissionDenied(format!("policy {}: {}", self.rule, self.reason))
    }
}

/// An amount a daily counter must account for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spend {
    /// The counter (one storage key segment).
    pub scope: String,
    /// What is counted, for messages.
    pub asset: String,
    pub amount: U256,
    pub daily_limit: U256,
    /// The rule that set the limit.
    pub rule: &'static str,
}

/// One token's limit applied to the total a request moves of it: the
/// per-transaction rule now, and the spend its daily counter must take
/// (`scope` names the counter; it may refuse, e.g. without a chain id).
pub(crate) fn token_limit(
    limit: &TokenLimit,
    total: U256,
    asset: &str,
    scope: impl FnOnce() -> Result<String, Denial>,
) -> Result<Option<Spend>, Denial> {
    if let Some(max) = limit.max_value_per_tx
        && total > max
    {
        return Err(Denial::new(
            "token_limits",
            format!("{total} of {asset} exceeds its limit of {max} per transaction"),
        ));
    }
    let Some(day) = limit.max_value_per_day else {
        return Ok(None);
    };
    Ok(Some(Spend {
        scope: scope()?,
        asset: asset.to_string(),
        amount: total,
        daily_limit: day,
        rule: "token_limits",
    }))
}

/// The answer of a dry run.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub allowed: bool,
    /// The rule that refused (None when allowed).
    pub denial: Option<Denial>,
    /// The decoded intent (JSON).
    pub intent: Value,
    /// Whether a policy exists on the chain.
    pub has_policy: bool,
}

/// Checks the wallet's policy for the intent's chain and records daily
/// amounts. Returns the intent's JSON form for the response.
pub async fn enforce(
    crypto: &Crypto,
    storage: &dyn Storage,
    wallet: &str,
    intent: &Intent,
) -> Result<Value, LogicalError> {
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
) -> Result<Value, LogicalError> {
    let policy = crypto
        .store
        .policy::<PolicyEntry>(storage, wallet, intent.chain())
        .await?;
    let out = evaluate(crypto, storage, wallet, intent, policy, now, true).await?;
    match out.denial {
        Some(d) => Err(d.into_error()),
        None => Ok(out.intent),
    }
}

/// Evaluates without signing or counting.
pub async fn check(
    crypto: &Crypto,
    storage: &dyn Storage,
    wallet: &str,
    intent: &Intent,
) -> Result<Outcome, LogicalError> {
    let policy = crypto
        .store
        .policy::<PolicyEntry>(storage, wallet, intent.chain())
        .await?;
    evaluate(crypto, storage, wallet, intent, policy, unix_now(), false).await
}

/// [`enforce`] with the policy the caller already read (the approval gate):
/// one read, and the decision and the count use the same snapshot.
pub async fn enforce_with(
    crypto: &Crypto,
    storage: &dyn Storage,
    wallet: &str,
    intent: &Intent,
    policy: Option<PolicyEntry>,
) -> Result<Value, LogicalError> {
    let out = evaluate(crypto, storage, wallet, intent, policy, unix_now(), true).await?;
    match out.denial {
        Some(d) => Err(d.into_error()),
        None => Ok(out.intent),
    }
}

/// [`check`] with the policy the caller already read.
pub async fn check_with(
    crypto: &Crypto,
    storage: &dyn Storage,
    wallet: &str,
    intent: &Intent,
    policy: Option<PolicyEntry>,
) -> Result<Outcome, LogicalError> {
    evaluate(crypto, storage, wallet, intent, policy, unix_now(), false).await
}

/// The static rules of one chain: the spends to count, or a refusal.
pub fn rules(policy: &PolicyEntry, intent: &Intent) -> Result<Vec<Spend>, Denial> {
    match intent {
        Intent::EthereumTransaction(tx) => ethereum::transaction(policy, tx),
        Intent::EthereumMessage(_) => ethereum::message(policy),
        Intent::EthereumTypedData(td) => ethereum::typed_data(policy, td),
        Intent::EthereumAuthorization(a) => ethereum::authorization(policy, a).map(|()| Vec::new()),
        Intent::BitcoinTransaction(tx) => bitcoin::transaction(policy, tx),
        Intent::BitcoinMessage(_) => bitcoin::message(policy),
        Intent::SolanaTransaction(tx) => solana::transaction(policy, tx),
        Intent::SolanaMessage(_) => solana::message(policy),
        Intent::RawHash { chain } => Err(Denial::new(
            "raw_signing",
            format!(
                "sign-hash is refused on a chain that has a policy: a raw digest is what a policy cannot see (this wallet has a {chain} policy)"
            ),
        )),
    }
}

async fn evaluate(
    crypto: &Crypto,
    storage: &dyn Storage,
    wallet: &str,
    intent: &Intent,
    // Read by the caller without the lock, from the policy cache (kept
    // current by our own writes and by the host's InvalidateKey for changes
    // replicated from another node): the hot path neither serializes nor
    // reaches storage.
    policy: Option<PolicyEntry>,
    now: u64,
    record: bool,
) -> Result<Outcome, LogicalError> {
    let json = intent.to_json();
    let Some(policy) = policy else {
        return Ok(Outcome {
            allowed: true,
            denial: None,
            intent: json,
            has_policy: false,
        });
    };
    let denied = |d: Denial| Outcome {
        allowed: false,
        denial: Some(d),
        intent: json.clone(),
        has_policy: true,
    };
    let spends = match rules(&policy, intent) {
        Ok(s) => s,
        Err(d) => return Ok(denied(d)),
    };
    // Zero amounts cannot grow a window's total: no lock, no write.
    let spends: Vec<Spend> = spends.into_iter().filter(|s| !s.amount.is_zero()).collect();
    if !spends.is_empty() {
        // In a batch, the wallet's lock is taken by the first item that
        // counts and kept in the batch's scope until the batch ends: one
        // acquisition for every item, each item still checked and recorded
        // on its own (a refused item records nothing).
        let batch = crate::logical::batch::current();
        let mut slot = match &batch {
            Some(scope) => Some(scope.slot().await),
            None => None,
        };
        let own;
        let guard: &NameGuard = match slot.as_deref_mut() {
            Some(held) => {
                let same = held
                    .as_ref()
                    .and_then(|g| g.downcast_ref::<NameGuard>())
                    .is_some_and(|g| g.name() == wallet);
                if !same {
                    // Never hold two wallets' locks at once.
                    *held = None;
                    *held = Some(Box::new(crypto.store.lock(wallet).await));
                }
                held.as_ref()
                    .and_then(|g| g.downcast_ref::<NameGuard>())
                    .ok_or_else(|| LogicalError::Internal("batch lock slot".into()))?
            }
            None => {
                own = crypto.store.lock(wallet).await;
                &own
            }
        };
        if let Err(d) =
            record_daily(crypto, guard, storage, intent.chain(), &spends, now, record).await?
        {
            return Ok(denied(d));
        }
    }
    Ok(Outcome {
        allowed: true,
        denial: None,
        intent: json,
        has_policy: true,
    })
}

/// Checks every rolling 24-hour total and, when `record`, records every
/// spend, under the wallet's lock: the read-modify-write of the counters is
/// atomic for every request of this node (standbys forward writes to the
/// active node). Nothing is written unless every counter allows its spend.
async fn record_daily(
    crypto: &Crypto,
    guard: &NameGuard,
    storage: &dyn Storage,
    chain: &str,
    spends: &[Spend],
    now: u64,
    record: bool,
) -> Result<Result<(), Denial>, LogicalError> {
    let mut updated = Vec::with_capacity(spends.len());
    for spend in spends {
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
        if total > spend.daily_limit {
            return Ok(Err(Denial::new(
                spend.rule,
                format!(
                    "{} of {} would bring the 24-hour total to {total}, above the daily limit \
                     of {} (already spent: {spent})",
                    spend.amount, spend.asset, spend.daily_limit
                ),
            )));
        }
        counter.record(now, spend.amount);
        updated.push((spend.scope.as_str(), counter));
    }
    if record {
        for (scope, counter) in updated {
            crypto
                .store
                .put_counter(guard, storage, chain, scope, &counter)
                .await?;
        }
    }
    Ok(Ok(()))
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

#[cfg(test)]
mod rules_tests;
#[cfg(test)]
mod tests;
