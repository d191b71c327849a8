//! `wallets/{name}/policy/{chain}`: the signing policy of one wallet on one
//! chain (create, update, read, delete). Enforcement is in `crate::policy`.

use std::sync::Arc;

use serde_json::{Map, Value, json};
use wallet_core::ethereum::Address;

use crate::backend::Crypto;
use crate::logical::field::{big_int_value, parse_big_int};
use crate::logical::{
    Ctx, Field, HandlerResult, LogicalError, Operation, Path, Response, existence, handler,
};
use crate::policy::{CHAINS, PolicyEntry};
use crate::store::Versioned;

const SYNOPSIS: &str =
    "Create, update, read or delete the signing policy of a wallet on one chain.";
const DESCRIPTION: &str = "\
A policy is checked before any signature is made with this wallet on this chain; a refusal is a \
403 whose message names the rule that refused. Rules are checked in this order: \
allowed_chain_ids, allow_contract_creation, denied_recipients, allowed_recipients, \
max_value_per_tx, max_value_per_day.

Fields by chain: ethereum takes every field; bitcoin takes allowed_recipients, \
denied_recipients, max_value_per_tx and max_value_per_day; solana has no policy fields (an \
empty policy can be written and has no effect). Sending a field that the chain does not have \
is a 400.

Writing a policy that exists changes only the fields sent; an empty list or an empty string \
removes a restriction. Ethereum addresses are compared case-insensitively (and returned \
EIP-55 checksummed); bitcoin addresses are compared exactly (bech32 addresses in lower case). \
Amounts are wei on ethereum and sats on bitcoin, accepted as decimal strings, 0x hex strings \
or JSON integers and returned as decimal strings.

max_value_per_day is a rolling 24-hour window per wallet and chain, counted per chain id on \
ethereum and per network on bitcoin. Amounts are recorded in storage before the signature is \
returned, so the limit holds across restarts, fail-over and concurrent requests. Message and \
typed-data signing are not value transfers: only allowed_chain_ids applies to typed data \
(domain.chainId), and nothing applies to personal_sign, which has no chain id.

Deleting a policy removes every restriction of the chain. Deleting the wallet removes its \
policies and counters.";

/// The fields of each chain, in the order of the rules.
const ETHEREUM_FIELDS: &[&str] = &[
    "allowed_chain_ids",
    "allow_contract_creation",
    "denied_recipients",
    "allowed_recipients",
    "max_value_per_tx",
    "max_value_per_day",
];
const BITCOIN_FIELDS: &[&str] = &[
    "denied_recipients",
    "allowed_recipients",
    "max_value_per_tx",
    "max_value_per_day",
];
const ALL_FIELDS: &[&str] = ETHEREUM_FIELDS;

/// The longest list a policy accepts: entries are read on every signature.
const MAX_LIST: usize = 1000;

fn chain_fields(chain: &str) -> &'static [&'static str] {
    match chain {
        "ethereum" => ETHEREUM_FIELDS,
        "bitcoin" => BITCOIN_FIELDS,
        _ => &[],
    }
}

pub fn policy_path() -> Path<Crypto> {
    Path::new("wallets/{name}/policy/{chain}")
        .field(
            Field::name(
                "name",
                "The name of the wallet: 1 to 128 letters, digits, '.', '_' or '-', starting \
                 with a letter or digit.",
            )
            .required(),
        )
        .field(
            Field::string(
                "chain",
                "The chain this policy governs: ethereum, bitcoin or solana.",
            )
            .one_of(CHAINS)
            .required(),
        )
        .field(Field::string_list(
            "allowed_chain_ids",
            "Ethereum only. If not empty, only these chain ids may be signed for: a \
             transaction's chain_id and a typed-data domain's chainId must be listed (typed \
             data without a chainId is refused). An empty list removes the restriction.",
        ))
        .field(Field::string_list(
            "allowed_recipients",
            "Ethereum and bitcoin. If not empty, every recipient must be listed: the ethereum \
             \"to\" (a contract creation has no listed recipient and is refused), or every \
             bitcoin output that is not change to this wallet. An empty list removes the \
             restriction.",
        ))
        .field(Field::string_list(
            "denied_recipients",
            "Ethereum and bitcoin. Addresses this wallet never signs a transfer to.",
        ))
        .field(Field::string(
            "max_value_per_tx",
            "Ethereum and bitcoin. The largest value of one transaction, in wei or sats \
             (bitcoin: the sum of the outputs that are not change). A decimal string, a 0x hex \
             string or a JSON integer; an empty string removes the limit.",
        ))
        .field(Field::string(
            "max_value_per_day",
            "Ethereum and bitcoin. The most value signed in any rolling 24 hours, in wei or \
             sats, per chain id on ethereum and per network on bitcoin. A decimal string, a 0x \
             hex string or a JSON integer; an empty string removes the limit.",
        ))
        .field(Field::bool(
            "allow_contract_creation",
            "Ethereum only. Whether a transaction without \"to\" (contract creation) may be \
             signed. Defaults to true.",
        ))
        .operation(
            Operation::Create,
            "Create the policy of a wallet on one chain.",
            handler(write),
        )
        .operation(
            Operation::Update,
            "Change the fields sent of the policy of a wallet on one chain.",
            handler(write),
        )
        .operation(
            Operation::Read,
            "Read the policy of a wallet on one chain.",
            handler(read),
        )
        .operation(
            Operation::Delete,
            "Delete the policy of a wallet on one chain.",
            handler(delete),
        )
        .existence_check(existence(exists))
        .help(SYNOPSIS, DESCRIPTION)
}

/// The validated `name` and `chain` (path segments, so always present).
fn target(ctx: &Ctx) -> Result<(String, String), LogicalError> {
    let get = |f: &str| {
        ctx.fields
            .str(f)
            .map(str::to_string)
            .ok_or_else(|| LogicalError::BadRequest(format!("missing required field \"{f}\"")))
    };
    Ok((get("name")?, get("chain")?))
}

fn wallet_not_found(name: &str) -> LogicalError {
    LogicalError::NotFound(format!("wallet \"{name}\" not found"))
}

async fn exists(state: Arc<Crypto>, ctx: Ctx) -> Result<bool, LogicalError> {
    let (name, chain) = target(&ctx)?;
    Ok(state
        .store
        .policy::<PolicyEntry>(ctx.storage.as_ref(), &name, &chain)
        .await?
        .is_some())
}

async fn read(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    let (name, chain) = target(&ctx)?;
    let storage = ctx.storage.as_ref();
    if !state.store.wallet_exists(storage, &name).await? {
        return Err(wallet_not_found(&name));
    }
    let policy = state
        .store
        .policy::<PolicyEntry>(storage, &name, &chain)
        .await?;
    Ok(policy.map(|p| render(&chain, &p)))
}

/// Create and update share one handler: the fields sent replace their
/// values, the others keep theirs (a new policy starts empty).
async fn write(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    let (name, chain) = target(&ctx)?;
    // Validate everything before taking the lock or touching storage.
    let allowed = chain_fields(&chain);
    if let Some(field) = ALL_FIELDS
        .iter()
        .find(|f| ctx.fields.is_sent(f) && !allowed.contains(f))
    {
        return Err(LogicalError::BadRequest(format!(
            "field \"{field}\" is not a {chain} policy field{}",
            if allowed.is_empty() {
                format!(" ({chain} has no policy fields)")
            } else {
                format!(" (valid: {})", allowed.join(", "))
            }
        )));
    }
    let changes = Changes::parse(&ctx, &chain)?;

    let storage = ctx.storage.as_ref();
    let guard = state.store.lock(&name).await;
    // Under the lock: a wallet deleted meanwhile cannot get an orphan policy.
    if !state.store.wallet_exists(storage, &name).await? {
        return Err(wallet_not_found(&name));
    }
    let mut policy = state
        .store
        .policy::<PolicyEntry>(storage, &name, &chain)
        .await?
        .unwrap_or_else(PolicyEntry::new);
    // An entry upgraded on read is written back at the current version.
    policy.version = PolicyEntry::VERSION;
    changes.apply(&mut policy);
    state
        .store
        .put_policy(&guard, storage, &chain, &policy)
        .await?;
    log::info!(wallet = name.as_str(), chain = chain.as_str(); "policy written");
    Ok(Some(render(&chain, &policy)))
}

async fn delete(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    let (name, chain) = target(&ctx)?;
    let storage = ctx.storage.as_ref();
    let guard = state.store.lock(&name).await;
    if !state.store.wallet_exists(storage, &name).await? {
        return Err(wallet_not_found(&name));
    }
    // Counters stay: re-creating the policy within 24 hours must not reset
    // what was already spent. Deleting the wallet removes them.
    state.store.delete_policy(&guard, storage, &chain).await?;
    log::info!(wallet = name.as_str(), chain = chain.as_str(); "policy deleted");
    Ok(None)
}

/// The validated fields of a write; `None` means "not sent, keep".
#[derive(Default)]
struct Changes {
    allowed_chain_ids: Option<Vec<u64>>,
    allowed_recipients: Option<Vec<String>>,
    denied_recipients: Option<Vec<String>>,
    max_value_per_tx: Option<Option<ruint::aliases::U256>>,
    max_value_per_day: Option<Option<ruint::aliases::U256>>,
    allow_contract_creation: Option<bool>,
}

impl Changes {
    fn parse(ctx: &Ctx, chain: &str) -> Result<Self, LogicalError> {
        let f = &ctx.fields;
        let list = |name: &str| -> Result<Option<&[String]>, LogicalError> {
            match f.string_list(name) {
                Some(l) if l.len() > MAX_LIST => Err(LogicalError::BadRequest(format!(
                    "invalid value for field \"{name}\": at most {MAX_LIST} entries"
                ))),
                other => Ok(other),
            }
        };
        let mut out = Changes::default();
        if let Some(ids) = list("allowed_chain_ids")? {
            out.allowed_chain_ids = Some(dedup(
                ids.iter()
                    .map(|s| parse_chain_id(s))
                    .collect::<Result<_, _>>()?,
            ));
        }
        let recipients = |name: &'static str| -> Result<Option<Vec<String>>, LogicalError> {
            let Some(items) = list(name)? else {
                return Ok(None);
            };
            let canonical = items
                .iter()
                .map(|a| canonical_address(chain, a, name))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some(dedup(canonical)))
        };
        out.allowed_recipients = recipients("allowed_recipients")?;
        out.denied_recipients = recipients("denied_recipients")?;
        let amount = |name: &str| -> Result<Option<Option<_>>, LogicalError> {
            match f.str(name) {
                None => Ok(None),
                Some(s) if s.trim().is_empty() => Ok(Some(None)),
                Some(s) => parse_big_int(&Value::String(s.to_string()))
                    .map(|v| Some(Some(v)))
                    .ok_or_else(|| {
                        LogicalError::BadRequest(format!(
                            "invalid value for field \"{name}\": expected a non-negative \
                             integer (decimal string, 0x hex string or JSON integer) below \
                             2^256, or an empty string for no limit"
                        ))
                    }),
            }
        };
        out.max_value_per_tx = amount("max_value_per_tx")?;
        out.max_value_per_day = amount("max_value_per_day")?;
        if f.is_sent("allow_contract_creation") {
            out.allow_contract_creation = f.bool("allow_contract_creation");
        }
        Ok(out)
    }

    fn apply(self, p: &mut PolicyEntry) {
        if let Some(v) = self.allowed_chain_ids {
            p.allowed_chain_ids = v;
        }
        if let Some(v) = self.allowed_recipients {
            p.allowed_recipients = v;
        }
        if let Some(v) = self.denied_recipients {
            p.denied_recipients = v;
        }
        if let Some(v) = self.max_value_per_tx {
            p.max_value_per_tx = v;
        }
        if let Some(v) = self.max_value_per_day {
            p.max_value_per_day = v;
        }
        if let Some(v) = self.allow_contract_creation {
            p.allow_contract_creation = Some(v);
        }
    }
}

fn dedup<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

fn parse_chain_id(s: &str) -> Result<u64, LogicalError> {
    let t = s.trim();
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) if !hex.is_empty() => u64::from_str_radix(hex, 16).ok(),
        Some(_) => None,
        None if !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()) => t.parse().ok(),
        None => None,
    };
    parsed.ok_or_else(|| {
        LogicalError::BadRequest(format!(
            "invalid value for field \"allowed_chain_ids\": {s:?} is not a chain id (an \
             unsigned 64-bit integer)"
        ))
    })
}

/// The stored form of a recipient, or a 400 naming the field.
fn canonical_address(chain: &str, s: &str, field: &str) -> Result<String, LogicalError> {
    let s = s.trim();
    let canonical = match chain {
        "ethereum" => ethereum_address(s),
        _ => bitcoin_address(s),
    };
    canonical.ok_or_else(|| {
        let what = match chain {
            "ethereum" => "an ethereum address (0x followed by 40 hex digits)",
            _ => "a bitcoin address (base58 P2PKH/P2SH or bech32/bech32m segwit, any network)",
        };
        LogicalError::BadRequest(format!(
            "invalid value for field \"{field}\": {s:?} is not {what}"
        ))
    })
}

/// `0x` + 40 hex digits in any case; lower case is the stored form, so the
/// comparison is case-insensitive (no EIP-55 check: api.md compares case-
/// insensitively, and a checksum is not needed to refuse or allow).
pub fn ethereum_address(s: &str) -> Option<String> {
    let hex = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    (hex.len() == 40 && hex.bytes().all(|c| c.is_ascii_hexdigit()))
        .then(|| format!("0x{}", hex.to_ascii_lowercase()))
}

/// A bitcoin address on any network: Base58Check with a P2PKH/P2SH version
/// byte of mainnet or the test networks and a 20-byte hash, or a segwit
/// address (BIP-173 bech32 for v0, BIP-350 bech32m for v1+) with the `bc`,
/// `tb` or `bcrt` prefix. Bech32 is case-insensitive, and the signer
/// reports outputs in lower case, so lower case is the stored form; base58
/// is case-sensitive and kept as given.
pub fn bitcoin_address(s: &str) -> Option<String> {
    if s.is_empty() || s.len() > 90 {
        return None;
    }
    if let Ok((hrp, _, _)) = bech32::segwit::decode(s) {
        let known = [bech32::hrp::BC, bech32::hrp::TB, bech32::hrp::BCRT];
        return known.contains(&hrp).then(|| s.to_ascii_lowercase());
    }
    let data = bs58::decode(s).with_check(None).into_vec().ok()?;
    match data.as_slice() {
        [0x00 | 0x05 | 0x6f | 0xc4, hash @ ..] if hash.len() == 20 => Some(s.to_string()),
        _ => None,
    }
}

/// A policy as a response. Ethereum addresses are shown EIP-55
/// checksummed, amounts as decimal strings, unset limits are omitted.
fn render(chain: &str, p: &PolicyEntry) -> Response {
    let mut data = Map::new();
    data.insert("chain".into(), json!(chain));
    let fields = chain_fields(chain);
    let show_address = |a: &String| match chain {
        "ethereum" => eip55(a),
        _ => a.clone(),
    };
    for field in fields {
        let value = match *field {
            "allowed_chain_ids" => json!(p.allowed_chain_ids),
            "allow_contract_creation" => json!(p.allows_contract_creation()),
            "denied_recipients" => json!(
                p.denied_recipients
                    .iter()
                    .map(show_address)
                    .collect::<Vec<_>>()
            ),
            "allowed_recipients" => json!(
                p.allowed_recipients
                    .iter()
                    .map(show_address)
                    .collect::<Vec<_>>()
            ),
            "max_value_per_tx" => match &p.max_value_per_tx {
                Some(v) => big_int_value(v),
                None => continue,
            },
            "max_value_per_day" => match &p.max_value_per_day {
                Some(v) => big_int_value(v),
                None => continue,
            },
            _ => continue,
        };
        data.insert((*field).into(), value);
    }
    Response::with_data(data)
}

fn eip55(lower: &str) -> String {
    Address::parse_field(lower, "address")
        .map(|a| a.to_checksum())
        .unwrap_or_else(|_| lower.to_string())
}

#[cfg(test)]
mod tests;
