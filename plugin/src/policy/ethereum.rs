//! Ethereum rules: chain ids, messages, contract creation, fees, recipients
//! (of the transaction and of every decoded token movement), contracts and
//! calldata, typed data, value and token limits.
//!
//! Order (the first rule that refuses names itself): `allowed_chain_ids`,
//! `allow_message_signing`, `allow_contract_creation`,
//! `max_fee_per_blob_gas`, `max_fee_per_tx` (blob fee included), then for
//! each EIP-7702 authorization `allowed_delegates`,
//! `allow_any_chain_authorization` and `allowed_chain_ids`, then
//! `calldata` (a recognised call in a non-canonical encoding),
//! `allowed_contracts` / `allow_arbitrary_calldata`, `allowed_typed_data`,
//! `denied_recipients`, `allowed_recipients`, `allow_unlimited_approvals`,
//! `max_value_per_tx`, `token_limits`, then the daily limits.

use ruint::aliases::U256;
use wallet_core::ethereum::Address;
use wallet_core::ethereum::intent::{CallIntent, MovementKind, TokenMovement, TypedIntent};

use super::entry::PolicyEntry;
use super::intent::{EthAuthorization, EthTransaction, EthTypedData, hex4};
use super::{Denial, Spend, token_limit};

fn key(a: &Address) -> String {
    format!("0x{}", hex::encode(a.0))
}

/// The counter scope of native value on one chain id.
fn native_scope(chain_id: u64) -> String {
    chain_id.to_string()
}

/// The counter scope of one token on one chain id.
fn token_scope(chain_id: u64, token: &Address) -> String {
    format!("{chain_id}-{}", hex::encode(token.0))
}

fn check_chain_id(p: &PolicyEntry, chain_id: Option<u64>, what: &str) -> Result<(), Denial> {
    if p.allowed_chain_ids.is_empty() {
        return Ok(());
    }
    match chain_id {
        None => Err(Denial::new(
            "allowed_chain_ids",
            format!(
                "the {what} has no chain id (typed data: no integer domain.chainId), and this \
                 wallet may only sign for listed chain ids"
            ),
        )),
        Some(id) if !p.allowed_chain_ids.contains(&id) => Err(Denial::new(
            "allowed_chain_ids",
            format!("chain id {id} is not allowed"),
        )),
        Some(_) => Ok(()),
    }
}

pub fn message(p: &PolicyEntry) -> Result<Vec<Spend>, Denial> {
    if !p.allows_message_signing() {
        return Err(Denial::new(
            "allow_message_signing",
            "this wallet's ethereum policy does not allow message signing",
        ));
    }
    Ok(Vec::new())
}

fn check_recipient(p: &PolicyEntry, who: &Address, role: &str) -> Result<(), Denial> {
    let k = key(who);
    if p.denied_recipients.contains(&k) {
        return Err(Denial::new(
            "denied_recipients",
            format!("{role} {} is denied", who.to_checksum()),
        ));
    }
    if !p.allowed_recipients.is_empty() && !p.allowed_recipients.contains(&k) {
        return Err(Denial::new(
            "allowed_recipients",
            format!("{role} {} is not allowed", who.to_checksum()),
        ));
    }
    Ok(())
}

fn role(m: &TokenMovement) -> &'static str {
    match m.kind {
        MovementKind::Transfer => "token recipient",
        MovementKind::Approval => "spender",
        MovementKind::OperatorApproval => "operator",
    }
}

/// Recipient, unlimited-approval and token-amount rules of decoded
/// movements; returns the token spends to count.
fn movements(
    p: &PolicyEntry,
    chain_id: Option<u64>,
    list: &[TokenMovement],
) -> Result<Vec<Spend>, Denial> {
    for m in list {
        check_recipient(p, &m.counterparty, role(m))?;
    }
    if !p.allows_unlimited_approvals()
        && let Some(m) = list
            .iter()
            .find(|m| m.unlimited && m.kind != MovementKind::Transfer)
    {
        return Err(Denial::new(
            "allow_unlimited_approvals",
            format!(
                "an unlimited approval of token {} to {} is not allowed",
                m.token.to_checksum(),
                m.counterparty.to_checksum()
            ),
        ));
    }
    // Sum per token, in first-seen order.
    let mut totals: Vec<(Address, U256)> = Vec::new();
    for m in list {
        match totals.iter_mut().find(|(t, _)| *t == m.token) {
            Some((_, sum)) => *sum = sum.saturating_add(m.amount),
            None => totals.push((m.token, m.amount)),
        }
    }
    let mut spends = Vec::new();
    for (token, total) in totals {
        let Some(limit) = p.token_limits.get(&key(&token)) else {
            continue;
        };
        let asset = match chain_id {
            Some(id) => format!("token {} on chain id {id}", token.to_checksum()),
            None => format!("token {}", token.to_checksum()),
        };
        let spend = token_limit(limit, total, &asset, || {
            chain_id.map(|id| token_scope(id, &token)).ok_or_else(|| {
                Denial::new(
                    "token_limits",
                    "a daily token limit needs a chain id to count against",
                )
            })
        })?;
        spends.extend(spend);
    }
    Ok(spends)
}

/// Whether a call to `contract` with `selector` is listed. A contract in
/// token_limits is listed for the token calls the engine decodes (and
/// judges) only: any other function of it needs allowed_contracts, or it
/// would be a way around the token's limits (ERC-677 transferAndCall).
fn contract_allowed(
    p: &PolicyEntry,
    contract: &Address,
    selector: Option<&[u8; 4]>,
    decoded: bool,
) -> bool {
    let k = key(contract);
    if decoded && p.token_limits.contains_key(&k) {
        return true;
    }
    match p.allowed_contracts.get(&k) {
        None => false,
        Some(selectors) if selectors.is_empty() => true,
        Some(selectors) => selector.is_some_and(|s| selectors.contains(&hex4(s))),
    }
}

/// An EIP-7702 authorization hands an account to the delegate's code:
/// the delegate must be listed, chain id 0 (every chain) needs its own
/// flag, and another chain id must satisfy `allowed_chain_ids`.
pub fn authorization(p: &PolicyEntry, a: &EthAuthorization) -> Result<(), Denial> {
    if !p.allowed_delegates.contains(&key(&a.delegate)) {
        return Err(Denial::new(
            "allowed_delegates",
            format!(
                "an EIP-7702 authorization of {} to delegate {} is not allowed: the delegate is                  not in allowed_delegates",
                a.authority.to_checksum(),
                a.delegate.to_checksum()
            ),
        ));
    }
    if a.chain_id == 0 {
        if !p.allows_any_chain_authorization() {
            return Err(Denial::new(
                "allow_any_chain_authorization",
                format!(
                    "an EIP-7702 authorization to {} with chain id 0 is valid on every chain,                      which this policy does not allow",
                    a.delegate.to_checksum()
                ),
            ));
        }
        return Ok(());
    }
    check_chain_id(p, Some(a.chain_id), "authorization")
}

pub fn transaction(p: &PolicyEntry, tx: &EthTransaction) -> Result<Vec<Spend>, Denial> {
    check_chain_id(p, Some(tx.chain_id), "transaction")?;
    if tx.to.is_none() && !p.allows_contract_creation() {
        return Err(Denial::new(
            "allow_contract_creation",
            "contract creation (a transaction without \"to\") is not allowed",
        ));
    }
    if let (Some(max), Some(b)) = (p.max_fee_per_blob_gas, &tx.blobs)
        && b.max_fee_per_blob_gas > max
    {
        return Err(Denial::new(
            "max_fee_per_blob_gas",
            format!(
                "max_fee_per_blob_gas {} exceeds the limit of {max}",
                b.max_fee_per_blob_gas
            ),
        ));
    }
    if let Some(max) = p.max_fee_per_tx
        && tx.max_fee > max
    {
        let what = if tx.blobs.is_some() {
            "gas_limit × fee per gas + max_fee_per_blob_gas × 131072 × blobs"
        } else {
            "gas_limit × fee per gas"
        };
        return Err(Denial::new(
            "max_fee_per_tx",
            format!(
                "the fee of up to {} wei ({what}) exceeds the limit of {max}",
                tx.max_fee
            ),
        ));
    }
    for a in &tx.authorizations {
        authorization(p, a)?;
    }
    let call = match &tx.call {
        Ok(call) => call,
        Err(e) => return Err(Denial::new("calldata", e.to_string())),
    };
    let mut token_moves: &[TokenMovement] = &[];
    if let Some(to) = &tx.to {
        match call {
            CallIntent::Plain => {}
            CallIntent::Token {
                selector,
                method,
                movements,
            } => {
                // The contract called must be listed (token_limits or
                // allowed_contracts), and so must every token a movement
                // names (permit2.approve names its token as an argument).
                let listed = contract_allowed(p, to, Some(selector), true)
                    && movements
                        .iter()
                        .all(|m| m.token == *to || contract_allowed(p, &m.token, None, true));
                if !listed && !p.allows_arbitrary_calldata() {
                    return Err(Denial::new(
                        "allowed_contracts",
                        format!(
                            "{method} on {} is not allowed: the contract (and every token it \
                             moves) must be in token_limits or allowed_contracts",
                            to.to_checksum()
                        ),
                    ));
                }
                token_moves = movements;
            }
            CallIntent::Other { selector } => {
                if !contract_allowed(p, to, selector.as_ref(), false)
                    && !p.allows_arbitrary_calldata()
                {
                    let what = match selector {
                        Some(s) => format!("a call with selector {}", hex4(s)),
                        None => "calldata shorter than a selector".to_string(),
                    };
                    return Err(Denial::new(
                        "allow_arbitrary_calldata",
                        format!(
                            "{what} to {} is not a call this policy understands or lists in \
                             allowed_contracts",
                            to.to_checksum()
                        ),
                    ));
                }
            }
        }
    }
    // The transaction's `to` receives the value: it is a recipient when
    // value moves or when it is a plain transfer. A call to a contract is
    // judged by the contract rules above, but a denied address is never
    // called.
    if let Some(to) = &tx.to {
        if matches!(call, CallIntent::Plain) || !tx.value.is_zero() {
            check_recipient(p, to, "recipient")?;
        } else if p.denied_recipients.contains(&key(to)) {
            return Err(Denial::new(
                "denied_recipients",
                format!("recipient {} is denied", to.to_checksum()),
            ));
        }
    } else if !p.allowed_recipients.is_empty() {
        // An allow-list means "only to these": a new contract is not listed.
        return Err(Denial::new(
            "allowed_recipients",
            "contract creation has no listed recipient",
        ));
    }
    let mut spends = movements(p, Some(tx.chain_id), token_moves)?;
    if let Some(max) = p.max_value_per_tx
        && tx.value > max
    {
        return Err(Denial::new(
            "max_value_per_tx",
            format!(
                "value {} exceeds the limit of {max} per transaction",
                tx.value
            ),
        ));
    }
    if let Some(day) = p.max_value_per_day {
        if p.allowed_chain_ids.is_empty() {
            return Err(Denial::new(
                "max_value_per_day",
                "a daily limit needs allowed_chain_ids (counters are kept per chain id)",
            ));
        }
        spends.insert(
            0,
            Spend {
                scope: native_scope(tx.chain_id),
                asset: format!("chain id {}", tx.chain_id),
                amount: tx.value,
                daily_limit: day,
                rule: "max_value_per_day",
            },
        );
    }
    Ok(spends)
}

pub fn typed_data(p: &PolicyEntry, td: &EthTypedData) -> Result<Vec<Spend>, Denial> {
    check_chain_id(p, td.chain_id, "typed data")?;
    match &td.decoded {
        TypedIntent::Token {
            standard,
            verifying_contract,
            movements: list,
        } => {
            let listed = list
                .iter()
                .all(|m| contract_allowed(p, &m.token, None, true));
            if !listed && !p.allows_arbitrary_typed_data() {
                return Err(Denial::new(
                    "allowed_contracts",
                    format!(
                        "{standard} (verifying contract {}) moves a token that is not in \
                         token_limits or allowed_contracts",
                        verifying_contract.to_checksum()
                    ),
                ));
            }
            movements(p, td.chain_id, list)
        }
        TypedIntent::Other {
            primary_type,
            verifying_contract,
        } => {
            let matches = verifying_contract.as_ref().is_some_and(|vc| {
                let k = key(vc);
                p.allowed_typed_data.iter().any(|r| {
                    r.verifying_contract == k
                        && r.primary_type.as_ref().is_none_or(|t| t == primary_type)
                })
            });
            if matches || p.allows_arbitrary_typed_data() {
                Ok(Vec::new())
            } else {
                Err(Denial::new(
                    "allowed_typed_data",
                    format!(
                        "typed data of type {primary_type:?} for verifying contract {} is not a \
                         form this policy understands or lists in allowed_typed_data",
                        verifying_contract
                            .map(|a| a.to_checksum())
                            .unwrap_or_else(|| "(none)".into())
                    ),
                ))
            }
        }
    }
}
