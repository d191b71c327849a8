//! `policies/{name}/{chain}`: the signing policy of one wallet on one chain
//! (create, update, read, delete), outside the wallet's signing prefix so
//! that a signer's grant on `wallets/<name>/*` never covers it. Enforcement
//! is in `crate::policy`; the dry run is `policies/{name}/{chain}/check`
//! (`paths::check`).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value, json};
use wallet_core::bitcoin::{parse_sighash_name, script_from_address};
use wallet_core::ethereum::Address;

use crate::backend::Crypto;
use crate::logical::field::{big_int_value, parse_big_int};
use crate::logical::{
    Ctx, Field, HandlerResult, LogicalError, Operation, Path, Response, existence, handler,
};
use crate::policy::entry::{
    MAX_APPROVAL_TTL, MAX_APPROVALS_REQUIRED, fee_rate_text, parse_fee_rate,
};
use crate::policy::{CHAINS, PolicyEntry, TokenLimit, TypedDataRule};
use crate::store::Versioned;

const SYNOPSIS: &str =
    "Create, update, read or delete the signing policy of a wallet on one chain.";
const DESCRIPTION: &str = "\
A policy is checked before any signature is made with this wallet on this chain, by every path \
that signs for the chain (transactions, PSBTs, messages, typed data, sign-hash); a refusal is a \
403 whose message names the rule that refused (`policy <rule>: <why>`). With a policy, what \
the engine cannot evaluate is refused unless a field below allows that kind of request; \
sign-hash is always refused for a wallet that has a policy on any chain (any key of the wallet \
can be selected under any chain's name). A wallet without a policy on a chain \
signs anything on it. Ask the policy without signing at policies/<name>/<chain>/check.

Create fails when the policy exists (400) and update when it does not (404), so that the ACL \
capabilities create and update mean what they say. An update changes only the fields sent; an \
empty list, object or string removes a restriction. A field the engine does not know, or one \
that does not apply to the chain, is a 400 naming it. Reading a policy shows every rule in \
force, defaults included.

Ethereum: allowed_chain_ids, allow_message_signing, allow_contract_creation, max_fee_per_tx, \
denied_recipients, allowed_recipients (the transaction's to when it receives value, and every \
token recipient, spender or operator decoded from calldata or typed data), token_limits, \
allowed_contracts, allow_arbitrary_calldata, allow_unlimited_approvals, allowed_typed_data, \
allow_arbitrary_typed_data, allowed_delegates and allow_any_chain_authorization (EIP-7702), \
max_fee_per_blob_gas (EIP-4844), max_value_per_tx, max_value_per_day (needs allowed_chain_ids: \
counters are per chain id). Calldata that calls a token (ERC-20 transfer, transferFrom, \
approve, increaseAllowance; ERC-721/1155 transfers and setApprovalForAll; Permit2 approve) is \
decoded; the contract must be in token_limits or allowed_contracts. Other calldata needs the \
contract (and selector) in allowed_contracts, or allow_arbitrary_calldata. Typed data that is \
an EIP-2612, DAI or Permit2 permit or an EIP-3009 authorization is decoded like a token call; \
other typed data needs allowed_typed_data or allow_arbitrary_typed_data. Unlimited approvals \
need allow_unlimited_approvals.

Bitcoin: allowed_sighash_types (beyond ALL, and DEFAULT on taproot), denied_recipients, \
allowed_recipients (compared as output scripts, whatever network the request names), max_fee \
(sats), max_fee_rate (sat/vB, up to three decimals), max_value_per_tx and max_value_per_day \
(sats leaving the wallet: outputs that are not change, plus the fee; one daily counter per \
wallet), allow_message_signing (default false on bitcoin). With any amount or fee limit, every input amount must be \
proven (previous transactions for segwit v0 and legacy inputs).

Solana: allow_message_signing, allowed_programs (beyond System, Token, Token-2022, Associated \
Token Account, ComputeBudget and Memo), denied_recipients, allowed_recipients (system transfer \
destinations; token destinations match a listed account or the associated token account of a \
listed owner), max_priority_fee (lamports), max_value_per_tx and max_value_per_day (lamports \
leaving the wallet's key), token_limits (keyed by mint; SPL token movements need the checked \
instruction forms, which name the mint).

Amounts are base units (wei, sats, lamports, token base units): decimal strings, 0x hex strings \
or JSON integers in, decimal strings out. Daily limits are rolling 24-hour windows recorded in \
storage before the signature is returned, so they hold across restarts, fail-over and \
concurrent requests. Deleting a policy keeps its counters; deleting the wallet removes both.

Approvals (every chain): with approvals_required N above 0, a signing request on the chain \
(above approval_above when set) is evaluated by the policy, then waits with status pending and \
an approval_id instead of being signed, until N distinct members of approver_group (a \
Vault/OpenBao identity group) approve it at approvals/<id>/approve; its requester then obtains \
the signature at approvals/<id>/sign, where the policy is evaluated again and counted. A \
request from a token without an identity entity (a root token) cannot wait: 403. \
approval_ttl (default 24h, 1s to 7d) bounds the wait.";

/// The fields of each chain.
const ETHEREUM_FIELDS: &[&str] = &[
    "allowed_chain_ids",
    "allow_message_signing",
    "allow_contract_creation",
    "max_fee_per_tx",
    "denied_recipients",
    "allowed_recipients",
    "token_limits",
    "allowed_contracts",
    "allow_arbitrary_calldata",
    "allow_unlimited_approvals",
    "allowed_typed_data",
    "allow_arbitrary_typed_data",
    "allowed_delegates",
    "allow_any_chain_authorization",
    "max_fee_per_blob_gas",
    "max_value_per_tx",
    "max_value_per_day",
    "approvals_required",
    "approver_group",
    "approval_above",
    "approval_ttl",
];
const BITCOIN_FIELDS: &[&str] = &[
    "allowed_sighash_types",
    "denied_recipients",
    "allowed_recipients",
    "max_fee",
    "max_fee_rate",
    "max_value_per_tx",
    "max_value_per_day",
    "allow_message_signing",
    "approvals_required",
    "approver_group",
    "approval_above",
    "approval_ttl",
];
const SOLANA_FIELDS: &[&str] = &[
    "allow_message_signing",
    "allowed_programs",
    "denied_recipients",
    "allowed_recipients",
    "max_priority_fee",
    "max_value_per_tx",
    "max_value_per_day",
    "token_limits",
    "approvals_required",
    "approver_group",
    "approval_above",
    "approval_ttl",
];
/// Every policy field of any chain, for the "not a field of this chain" check.
fn all_fields() -> impl Iterator<Item = &'static str> {
    let mut seen: Vec<&'static str> = Vec::new();
    for f in ETHEREUM_FIELDS
        .iter()
        .chain(BITCOIN_FIELDS)
        .chain(SOLANA_FIELDS)
    {
        if !seen.contains(f) {
            seen.push(f);
        }
    }
    seen.into_iter()
}

/// The longest list a policy accepts: entries are read on every signature.
const MAX_LIST: usize = 1000;
/// The most tokens (each may have its own daily counter).
const MAX_TOKENS: usize = 256;

fn chain_fields(chain: &str) -> &'static [&'static str] {
    match chain {
        "ethereum" => ETHEREUM_FIELDS,
        "bitcoin" => BITCOIN_FIELDS,
        "solana" => SOLANA_FIELDS,
        _ => &[],
    }
}

pub use crate::paths::keysel::name_field;

pub fn chain_field() -> Field {
    Field::string(
        "chain",
        "The chain this policy governs: ethereum, bitcoin or solana.",
    )
    .one_of(CHAINS)
    .required()
}

fn amount(name: &'static str, description: &'static str) -> Field {
    Field::string(name, description)
}

pub fn policy_path() -> Path<Crypto> {
    Path::new("policies/{name}/{chain}")
        .field(name_field())
        .field(chain_field())
        .field(Field::string_list(
            "allowed_chain_ids",
            "Ethereum. If not empty, only these chain ids may be signed for: a transaction's \
             chain_id and a typed-data domain's chainId (declared as an integer type) must be \
             listed; typed data without one is refused.",
        ))
        .field(Field::bool(
            "allow_message_signing",
            "Every chain. Whether message signing (ethereum personal_sign, solana \
             sign-message raw and offchain, bitcoin sign-message BIP-322 and legacy) is \
             allowed. Defaults to true on ethereum and solana, false on bitcoin.",
        ))
        .field(Field::bool(
            "allow_contract_creation",
            "Ethereum. Whether a transaction without \"to\" may be signed. Defaults to true.",
        ))
        .field(amount(
            "max_fee_per_tx",
            "Ethereum. The most a transaction may pay in fees, in wei: gas_limit × gas_price \
             (or max_fee_per_gas), plus max_fee_per_blob_gas × 131072 × blobs for EIP-4844.",
        ))
        .field(Field::string_list(
            "allowed_recipients",
            "Every chain. If not empty, every recipient must be listed: on ethereum the \
             transaction's to when it receives value and every decoded token recipient, \
             spender or operator; on bitcoin every output that is not change; on solana every \
             destination of lamports or tokens leaving the wallet's key (a token account \
             matches itself or the associated token account of a listed owner).",
        ))
        .field(Field::string_list(
            "denied_recipients",
            "Every chain. Addresses this wallet never pays, approves or calls.",
        ))
        .field(Field::map(
            "token_limits",
            "Ethereum (keyed by token contract) and solana (keyed by mint): an object of \
             {\"max_value_per_tx\": amount, \"max_value_per_day\": amount} in the token's base \
             units; an empty object lists a token without limits. Transfers, approvals and \
             permits count. Replaces the whole map; {} removes every entry. At most 256 tokens.",
        ))
        .field(Field::map(
            "allowed_contracts",
            "Ethereum. Contracts this wallet may call with calldata the engine does not \
             decode: an object of address → list of 4-byte selectors (\"0xa9059cbb\"); an empty \
             list allows every selector.",
        ))
        .field(Field::bool(
            "allow_arbitrary_calldata",
            "Ethereum. Whether calldata to contracts outside token_limits and allowed_contracts \
             may be signed. Defaults to false.",
        ))
        .field(Field::bool(
            "allow_unlimited_approvals",
            "Ethereum. Whether approvals of 2^256-1 (Permit2: 2^160-1), DAI permits with \
             allowed=true and setApprovalForAll(true) may be signed. Defaults to false.",
        ))
        .field(Field::object_list(
            "allowed_typed_data",
            "Ethereum. Typed data (other than the decoded permits) that may be signed: a list \
             of {\"verifying_contract\": address, \"primary_type\": optional type name}.",
        ))
        .field(Field::bool(
            "allow_arbitrary_typed_data",
            "Ethereum. Whether any typed data may be signed. Defaults to false.",
        ))
        .field(Field::string_list(
            "allowed_delegates",
            "Ethereum. EIP-7702 delegate contracts an authorization may name (on \
             sign-authorization and in every tuple of an eip7702 transaction's \
             authorization_list); with a policy, any other delegate is refused (the zero \
             address, which clears a delegation, too unless listed).",
        ))
        .field(Field::bool(
            "allow_any_chain_authorization",
            "Ethereum. Whether an EIP-7702 authorization with chain_id 0 (valid on every \
             chain) may be signed or carried. Defaults to false. Other chain ids must be in \
             allowed_chain_ids when that list is set.",
        ))
        .field(amount(
            "max_fee_per_blob_gas",
            "Ethereum. The largest max_fee_per_blob_gas (wei) of an EIP-4844 transaction. \
             max_fee_per_tx counts the blob fee too (max_fee_per_blob_gas × 131072 × blobs).",
        ))
        .field(Field::string_list(
            "allowed_sighash_types",
            "Bitcoin. Sighash types allowed beyond ALL (and DEFAULT on taproot): NONE, SINGLE, \
             ALL|ANYONECANPAY, NONE|ANYONECANPAY, SINGLE|ANYONECANPAY.",
        ))
        .field(amount(
            "max_fee",
            "Bitcoin. The largest fee (inputs minus outputs), in sats.",
        ))
        .field(Field::string(
            "max_fee_rate",
            "Bitcoin. The largest fee rate in sat/vB (up to three decimals), over the \
             estimated virtual size of the signed transaction.",
        ))
        .field(Field::string_list(
            "allowed_programs",
            "Solana. Programs (base58) that may be called beyond System, Token, Token-2022, \
             Associated Token Account, ComputeBudget and Memo; undecoded instructions of \
             Associated Token Account, ComputeBudget or Memo are allowed when listed here. \
             Undecoded System and Token instructions (Assign, SetAuthority, CloseAccount, \
             Batch, ...) can move or hand over value and are always refused.",
        ))
        .field(amount(
            "max_priority_fee",
            "Solana. The largest priority fee in lamports (compute unit price × limit).",
        ))
        .field(
            Field::int(
                "approvals_required",
                "Every chain. How many distinct members of approver_group must approve a \
                 signing request (at approvals/{id}/approve) before its requester can obtain the \
                 signature; 0 (the default) turns approvals off. At most 32.",
            )
            .range(0, MAX_APPROVALS_REQUIRED as i64),
        )
        .field(Field::string(
            "approver_group",
            "Every chain. The name of the Vault/OpenBao identity group whose member entities \
             may approve (membership is resolved at approval time). Required when \
             approvals_required is above 0.",
        ))
        .field(amount(
            "approval_above",
            "Every chain. The amount in base units (value moved plus the most the fee can be: \
             wei, sats, lamports) above which a signature needs approval. Token movements, \
             typed data, contract calls and anything whose amount is unknown always need it; \
             messages move nothing. Empty: every signing request on the chain needs approval.",
        ))
        .field(Field::string(
            "approval_ttl",
            "Every chain. How long a request may wait for approvals and its signature: seconds, \
             or a number with unit s, m, h or d (e.g. 24h). Default 24h, at least 1s, at most \
             7d.",
        ))
        .field(amount(
            "max_value_per_tx",
            "Every chain. The most value one signature may move, in wei, sats (outputs that \
             are not change, plus the fee) or lamports.",
        ))
        .field(amount(
            "max_value_per_day",
            "Every chain. The most value signed in any rolling 24 hours (ethereum: per chain \
             id, and needs allowed_chain_ids; bitcoin and solana: one counter per wallet).",
        ))
        .operation(
            Operation::Create,
            "Create the policy of a wallet on one chain (400 if it exists).",
            handler(create),
        )
        .operation(
            Operation::Update,
            "Change the fields sent of an existing policy (404 if it does not exist).",
            handler(update),
        )
        .operation(
            Operation::Read,
            "Read the policy of a wallet on one chain, every rule with its value.",
            handler(read),
        )
        .operation(
            Operation::Delete,
            "Delete the policy of a wallet on one chain.",
            handler(delete),
        )
        .existence_check(existence(exists))
        .strict_fields()
        .help(SYNOPSIS, DESCRIPTION)
}

/// The validated `name` and `chain` (path segments, so always present).
pub fn target(ctx: &Ctx) -> Result<(String, String), LogicalError> {
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

/// Reads storage directly: the existence check runs before the host's ACL
/// check, so it must not fill the policy cache.
async fn exists(state: Arc<Crypto>, ctx: Ctx) -> Result<bool, LogicalError> {
    let (name, chain) = target(&ctx)?;
    state
        .store
        .policy_exists(ctx.storage.as_ref(), &name, &chain)
        .await
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

async fn create(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    write(state, ctx, true).await
}

async fn update(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    write(state, ctx, false).await
}

/// Create and update: the fields sent replace their values, the others
/// keep theirs (a new policy starts empty). Whether the policy exists is
/// decided again under the wallet's lock.
async fn write(state: Arc<Crypto>, ctx: Ctx, create: bool) -> HandlerResult {
    let (name, chain) = target(&ctx)?;
    // Validate everything before taking the lock or touching storage.
    let allowed = chain_fields(&chain);
    if let Some(field) = all_fields().find(|f| ctx.fields.is_sent(f) && !allowed.contains(f)) {
        return Err(LogicalError::BadRequest(format!(
            "field \"{field}\" is not a {chain} policy field (valid: {})",
            allowed.join(", ")
        )));
    }
    let changes = Changes::parse(&ctx, &chain)?;

    let storage = ctx.storage.as_ref();
    let guard = state.store.lock(&name).await;
    // Under the lock: a wallet deleted meanwhile cannot get an orphan policy.
    if !state.store.wallet_exists(storage, &name).await? {
        return Err(wallet_not_found(&name));
    }
    let existing = state
        .store
        .policy_for_update::<PolicyEntry>(&guard, storage, &chain)
        .await?;
    let mut policy = match (existing, create) {
        (Some(_), true) => {
            return Err(LogicalError::BadRequest(format!(
                "the {chain} policy of wallet \"{name}\" already exists; update it instead"
            )));
        }
        (None, false) => {
            return Err(LogicalError::NotFound(format!(
                "wallet \"{name}\" has no {chain} policy; create it first"
            )));
        }
        (Some(p), false) => p,
        (None, true) => PolicyEntry::new(),
    };
    // An entry upgraded on read is written back at the current version.
    policy.version = PolicyEntry::VERSION;
    changes.apply(&mut policy);
    if chain == "ethereum"
        && policy.allowed_chain_ids.is_empty()
        && (policy.max_value_per_day.is_some()
            || policy
                .token_limits
                .values()
                .any(|l| l.max_value_per_day.is_some()))
    {
        return Err(LogicalError::BadRequest(
            "invalid value for field \"max_value_per_day\": an ethereum daily limit (native or \
             in token_limits) needs allowed_chain_ids, because counters are kept per chain id \
             and a caller must not be able to open new ones"
                .into(),
        ));
    }
    if policy.approvals_required > 0 && policy.approver_group.is_none() {
        return Err(LogicalError::BadRequest(
            "invalid value for field \"approver_group\": approvals_required above 0 needs \
             approver_group (the identity group whose members approve)"
                .into(),
        ));
    }
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

type Amount = Option<Option<ruint::aliases::U256>>;

/// The validated fields of a write; `None` means "not sent, keep".
#[derive(Default)]
struct Changes {
    allowed_chain_ids: Option<Vec<u64>>,
    allowed_recipients: Option<Vec<String>>,
    denied_recipients: Option<Vec<String>>,
    max_value_per_tx: Amount,
    max_value_per_day: Amount,
    max_fee_per_tx: Amount,
    max_fee: Amount,
    max_priority_fee: Amount,
    max_fee_rate: Option<Option<u64>>,
    allow_contract_creation: Option<bool>,
    allow_message_signing: Option<bool>,
    allow_arbitrary_calldata: Option<bool>,
    allow_unlimited_approvals: Option<bool>,
    allow_arbitrary_typed_data: Option<bool>,
    allow_any_chain_authorization: Option<bool>,
    allowed_delegates: Option<Vec<String>>,
    max_fee_per_blob_gas: Amount,
    token_limits: Option<BTreeMap<String, TokenLimit>>,
    allowed_contracts: Option<BTreeMap<String, Vec<String>>>,
    allowed_typed_data: Option<Vec<TypedDataRule>>,
    allowed_sighash_types: Option<Vec<String>>,
    allowed_programs: Option<Vec<String>>,
    approvals_required: Option<u32>,
    approver_group: Option<Option<String>>,
    approval_above: Amount,
    approval_ttl: Option<Option<u64>>,
}

/// The longest identity group name accepted.
const MAX_GROUP_NAME: usize = 256;

/// Parses a duration: seconds, or a number with unit s, m, h or d.
fn parse_ttl(s: &str) -> Option<u64> {
    let s = s.trim();
    let (digits, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => s.split_at(i),
        None => (s, "s"),
    };
    if digits.is_empty() || digits.len() > 12 {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    let mul = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return None,
    };
    n.checked_mul(mul)
}

fn bad(msg: String) -> LogicalError {
    LogicalError::BadRequest(msg)
}

fn parse_amount(name: &str, v: &Value) -> Result<Option<ruint::aliases::U256>, LogicalError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => parse_big_int(&Value::String(s.trim().to_string()))
            .map(Some)
            .ok_or_else(|| amount_error(name)),
        other => parse_big_int(other)
            .map(Some)
            .ok_or_else(|| amount_error(name)),
    }
}

fn amount_error(name: &str) -> LogicalError {
    bad(format!(
        "invalid value for field \"{name}\": expected a non-negative integer (decimal string, \
         0x hex string or JSON integer) below 2^256, or an empty string for no limit"
    ))
}

impl Changes {
    fn parse(ctx: &Ctx, chain: &str) -> Result<Self, LogicalError> {
        let f = &ctx.fields;
        let list = |name: &str| -> Result<Option<&[String]>, LogicalError> {
            match f.string_list(name) {
                Some(l) if l.len() > MAX_LIST => Err(bad(format!(
                    "invalid value for field \"{name}\": at most {MAX_LIST} entries"
                ))),
                other => Ok(other),
            }
        };
        let flag = |name: &str| {
            if f.is_sent(name) { f.bool(name) } else { None }
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
        let amount = |name: &str| -> Result<Amount, LogicalError> {
            match f.str(name) {
                None => Ok(None),
                Some(s) => parse_amount(name, &Value::String(s.to_string())).map(Some),
            }
        };
        out.max_value_per_tx = amount("max_value_per_tx")?;
        out.max_value_per_day = amount("max_value_per_day")?;
        out.max_fee_per_tx = amount("max_fee_per_tx")?;
        out.max_fee_per_blob_gas = amount("max_fee_per_blob_gas")?;
        if let Some(items) = list("allowed_delegates")? {
            let v = items
                .iter()
                .map(|a| canonical_address("ethereum", a, "allowed_delegates"))
                .collect::<Result<Vec<_>, _>>()?;
            out.allowed_delegates = Some(dedup(v));
        }
        out.max_fee = amount("max_fee")?;
        out.max_priority_fee = amount("max_priority_fee")?;
        if let Some(s) = f.str("max_fee_rate") {
            out.max_fee_rate = Some(if s.trim().is_empty() {
                None
            } else {
                Some(parse_fee_rate(s).ok_or_else(|| {
                    bad(format!(
                        "invalid value for field \"max_fee_rate\": {s:?} is not a fee rate in \
                         sat/vB (digits, at most three decimals)"
                    ))
                })?)
            });
        }
        out.allow_contract_creation = flag("allow_contract_creation");
        out.allow_message_signing = flag("allow_message_signing");
        out.allow_arbitrary_calldata = flag("allow_arbitrary_calldata");
        out.allow_unlimited_approvals = flag("allow_unlimited_approvals");
        out.allow_arbitrary_typed_data = flag("allow_arbitrary_typed_data");
        out.allow_any_chain_authorization = flag("allow_any_chain_authorization");
        if let Some(map) = f.map("token_limits") {
            out.token_limits = Some(parse_token_limits(chain, map)?);
        }
        if let Some(map) = f.map("allowed_contracts") {
            out.allowed_contracts = Some(parse_contracts(map)?);
        }
        if let Some(items) = f.object_list("allowed_typed_data") {
            out.allowed_typed_data = Some(parse_typed_rules(items)?);
        }
        if let Some(names) = list("allowed_sighash_types")? {
            let mut v = Vec::new();
            for n in names {
                let n = n.trim().to_ascii_uppercase();
                if parse_sighash_name(&n).is_none() {
                    return Err(bad(format!(
                        "invalid value for field \"allowed_sighash_types\": {n:?} is not a \
                         sighash type (ALL, NONE, SINGLE, ALL|ANYONECANPAY, \
                         NONE|ANYONECANPAY, SINGLE|ANYONECANPAY, DEFAULT)"
                    )));
                }
                v.push(n);
            }
            out.allowed_sighash_types = Some(dedup(v));
        }
        if let Some(items) = list("allowed_programs")? {
            let v = items
                .iter()
                .map(|a| solana_address(a.trim(), "allowed_programs"))
                .collect::<Result<Vec<_>, _>>()?;
            out.allowed_programs = Some(dedup(v));
        }
        if f.is_sent("approvals_required") {
            out.approvals_required = f
                .int("approvals_required")
                .and_then(|n| u32::try_from(n).ok());
        }
        if let Some(g) = f.str("approver_group") {
            let g = g.trim();
            if g.len() > MAX_GROUP_NAME || g.chars().any(char::is_control) {
                return Err(bad(format!(
                    "invalid value for field \"approver_group\": an identity group name of at \
                     most {MAX_GROUP_NAME} bytes without control characters"
                )));
            }
            out.approver_group = Some((!g.is_empty()).then(|| g.to_string()));
        }
        out.approval_above = amount("approval_above")?;
        if let Some(s) = f.str("approval_ttl") {
            out.approval_ttl = Some(if s.trim().is_empty() {
                None
            } else {
                let secs = parse_ttl(s).ok_or_else(|| {
                    bad(format!(
                        "invalid value for field \"approval_ttl\": {:?} is not a duration \
                         (seconds, or a number with unit s, m, h or d)",
                        s.chars().take(32).collect::<String>()
                    ))
                })?;
                if !(1..=MAX_APPROVAL_TTL).contains(&secs) {
                    return Err(bad(format!(
                        "invalid value for field \"approval_ttl\": {secs} seconds is outside \
                         1s to 7d ({MAX_APPROVAL_TTL} seconds)"
                    )));
                }
                Some(secs)
            });
        }
        Ok(out)
    }

    fn apply(self, p: &mut PolicyEntry) {
        fn set<T>(dst: &mut T, v: Option<T>) {
            if let Some(v) = v {
                *dst = v;
            }
        }
        set(&mut p.allowed_chain_ids, self.allowed_chain_ids);
        set(&mut p.allowed_recipients, self.allowed_recipients);
        set(&mut p.denied_recipients, self.denied_recipients);
        set(&mut p.max_value_per_tx, self.max_value_per_tx);
        set(&mut p.max_value_per_day, self.max_value_per_day);
        set(&mut p.max_fee_per_tx, self.max_fee_per_tx);
        set(&mut p.max_fee_per_blob_gas, self.max_fee_per_blob_gas);
        set(&mut p.allowed_delegates, self.allowed_delegates);
        if let Some(v) = self.allow_any_chain_authorization {
            p.allow_any_chain_authorization = Some(v);
        }
        set(&mut p.max_fee, self.max_fee);
        set(&mut p.max_priority_fee, self.max_priority_fee);
        set(&mut p.max_fee_rate_msat_vb, self.max_fee_rate);
        set(&mut p.token_limits, self.token_limits);
        set(&mut p.allowed_contracts, self.allowed_contracts);
        set(&mut p.allowed_typed_data, self.allowed_typed_data);
        set(&mut p.allowed_sighash_types, self.allowed_sighash_types);
        set(&mut p.allowed_programs, self.allowed_programs);
        set(&mut p.approvals_required, self.approvals_required);
        set(&mut p.approver_group, self.approver_group);
        set(&mut p.approval_above, self.approval_above);
        set(&mut p.approval_ttl_secs, self.approval_ttl);
        if let Some(v) = self.allow_contract_creation {
            p.allow_contract_creation = Some(v);
        }
        if let Some(v) = self.allow_message_signing {
            p.allow_message_signing = Some(v);
        }
        if let Some(v) = self.allow_arbitrary_calldata {
            p.allow_arbitrary_calldata = Some(v);
        }
        if let Some(v) = self.allow_unlimited_approvals {
            p.allow_unlimited_approvals = Some(v);
        }
        if let Some(v) = self.allow_arbitrary_typed_data {
            p.allow_arbitrary_typed_data = Some(v);
        }
    }
}

fn parse_token_limits(
    chain: &str,
    map: &Map<String, Value>,
) -> Result<BTreeMap<String, TokenLimit>, LogicalError> {
    if map.len() > MAX_TOKENS {
        return Err(bad(format!(
            "invalid value for field \"token_limits\": at most {MAX_TOKENS} tokens"
        )));
    }
    let mut out = BTreeMap::new();
    for (token, v) in map {
        let key = match chain {
            "ethereum" => ethereum_address(token.trim()).ok_or_else(|| {
                bad(format!(
                    "invalid value for field \"token_limits\": key {token:?} is not an \
                     ethereum address"
                ))
            })?,
            _ => solana_address(token.trim(), "token_limits")?,
        };
        let obj = match v {
            Value::Object(o) => o,
            Value::Null => &Map::new(),
            _ => {
                return Err(bad(format!(
                    "invalid value for field \"token_limits\": the value of {token:?} must be \
                     an object with max_value_per_tx and/or max_value_per_day"
                )));
            }
        };
        let mut limit = TokenLimit::default();
        for (k, v) in obj {
            match k.as_str() {
                "max_value_per_tx" => {
                    limit.max_value_per_tx = parse_amount("token_limits.max_value_per_tx", v)?
                }
                "max_value_per_day" => {
                    limit.max_value_per_day = parse_amount("token_limits.max_value_per_day", v)?
                }
                other => {
                    return Err(bad(format!(
                        "invalid value for field \"token_limits\": unknown limit {other:?} \
                         (valid: max_value_per_tx, max_value_per_day)"
                    )));
                }
            }
        }
        if out.insert(key.clone(), limit).is_some() {
            return Err(bad(format!(
                "invalid value for field \"token_limits\": {key} is listed twice (addresses \
                 compare case-insensitively)"
            )));
        }
    }
    Ok(out)
}

fn parse_contracts(
    map: &Map<String, Value>,
) -> Result<BTreeMap<String, Vec<String>>, LogicalError> {
    if map.len() > MAX_LIST {
        return Err(bad(format!(
            "invalid value for field \"allowed_contracts\": at most {MAX_LIST} contracts"
        )));
    }
    let mut out = BTreeMap::new();
    for (addr, v) in map {
        let key = ethereum_address(addr.trim()).ok_or_else(|| {
            bad(format!(
                "invalid value for field \"allowed_contracts\": key {addr:?} is not an ethereum \
                 address"
            ))
        })?;
        let items: &[Value] = match v {
            Value::Array(a) => a,
            Value::Null => &[],
            _ => {
                return Err(bad(format!(
                    "invalid value for field \"allowed_contracts\": the value of {addr:?} must \
                     be a list of 4-byte selectors"
                )));
            }
        };
        if items.len() > MAX_LIST {
            return Err(bad(format!(
                "invalid value for field \"allowed_contracts\": at most {MAX_LIST} selectors \
                 per contract"
            )));
        }
        let mut selectors = Vec::new();
        for s in items {
            let sel = s
                .as_str()
                .and_then(|s| {
                    let h = s.trim().strip_prefix("0x")?;
                    (h.len() == 8 && h.bytes().all(|c| c.is_ascii_hexdigit()))
                        .then(|| format!("0x{}", h.to_ascii_lowercase()))
                })
                .ok_or_else(|| {
                    bad(format!(
                        "invalid value for field \"allowed_contracts\": {s} is not a selector \
                         (0x followed by 8 hex digits)"
                    ))
                })?;
            selectors.push(sel);
        }
        if out.insert(key.clone(), dedup(selectors)).is_some() {
            return Err(bad(format!(
                "invalid value for field \"allowed_contracts\": {key} is listed twice \
                 (addresses compare case-insensitively)"
            )));
        }
    }
    Ok(out)
}

fn parse_typed_rules(items: &[Value]) -> Result<Vec<TypedDataRule>, LogicalError> {
    if items.len() > MAX_LIST {
        return Err(bad(format!(
            "invalid value for field \"allowed_typed_data\": at most {MAX_LIST} entries"
        )));
    }
    let mut out = Vec::new();
    for item in items {
        let obj = item.as_object().ok_or_else(|| {
            bad("invalid value for field \"allowed_typed_data\": entries are objects".into())
        })?;
        let mut vc = None;
        let mut pt = None;
        for (k, v) in obj {
            match (k.as_str(), v) {
                ("verifying_contract", Value::String(s)) => vc = ethereum_address(s.trim()),
                ("primary_type", Value::String(s)) if !s.is_empty() && s.len() <= 256 => {
                    pt = Some(s.clone())
                }
                ("primary_type", Value::Null) => {}
                (other, _) => {
                    return Err(bad(format!(
                        "invalid value for field \"allowed_typed_data\": unexpected {other:?} \
                         (entries have verifying_contract and optionally primary_type)"
                    )));
                }
            }
        }
        let Some(verifying_contract) = vc else {
            return Err(bad(
                "invalid value for field \"allowed_typed_data\": every entry needs a \
                 verifying_contract address"
                    .into(),
            ));
        };
        let rule = TypedDataRule {
            verifying_contract,
            primary_type: pt,
        };
        if !out.contains(&rule) {
            out.push(rule);
        }
    }
    Ok(out)
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
        bad(format!(
            "invalid value for field \"allowed_chain_ids\": {s:?} is not a chain id (an \
             unsigned 64-bit integer)"
        ))
    })
}

/// The stored form of a recipient, or a 400 naming the field.
fn canonical_address(chain: &str, s: &str, field: &str) -> Result<String, LogicalError> {
    let s = s.trim();
    match chain {
        "ethereum" => ethereum_address(s).ok_or_else(|| {
            bad(format!(
                "invalid value for field \"{field}\": {s:?} is not an ethereum address (0x \
                 followed by 40 hex digits)"
            ))
        }),
        "bitcoin" => bitcoin_address(s).ok_or_else(|| {
            bad(format!(
                "invalid value for field \"{field}\": {s:?} is not a bitcoin address (base58 \
                 P2PKH/P2SH or bech32/bech32m segwit, any network)"
            ))
        }),
        _ => solana_address(s, field),
    }
}

fn solana_address(s: &str, field: &str) -> Result<String, LogicalError> {
    wallet_core::solana::parse_address(s)
        .map(|k| wallet_core::solana::address(&k))
        .map_err(|_| {
            bad(format!(
                "invalid value for field \"{field}\": {s:?} is not a solana address (base58 of \
                 32 bytes)"
            ))
        })
}

/// `0x` + 40 hex digits in any case; lower case is the stored form, so the
/// comparison is case-insensitive (no EIP-55 check: a checksum is not
/// needed to refuse or allow).
pub fn ethereum_address(s: &str) -> Option<String> {
    let hex = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    (hex.len() == 40 && hex.bytes().all(|c| c.is_ascii_hexdigit()))
        .then(|| format!("0x{}", hex.to_ascii_lowercase()))
}

/// A bitcoin address on any network that decodes to an output script
/// (compared as scripts at signing time). Bech32 is case-insensitive and
/// stored in lower case; base58 is case-sensitive and kept as given.
pub fn bitcoin_address(s: &str) -> Option<String> {
    if s.is_empty() || s.len() > 90 {
        return None;
    }
    script_from_address(s).ok()?;
    if s.starts_with(['1', '3', 'm', 'n', '2']) {
        Some(s.to_string())
    } else {
        Some(s.to_ascii_lowercase())
    }
}

/// A policy as a response: every field of the chain with the value in
/// force (defaults included). Ethereum addresses are EIP-55 checksummed,
/// amounts decimal strings, an unset limit `null`.
fn render(chain: &str, p: &PolicyEntry) -> Response {
    let mut data = Map::new();
    data.insert("chain".into(), json!(chain));
    let show = |a: &String| match chain {
        "ethereum" => eip55(a),
        _ => a.clone(),
    };
    let limit =
        |v: &Option<ruint::aliases::U256>| v.as_ref().map(big_int_value).unwrap_or(Value::Null);
    for field in chain_fields(chain) {
        let value = match *field {
            "allowed_chain_ids" => json!(p.allowed_chain_ids),
            "allow_contract_creation" => json!(p.allows_contract_creation()),
            "allow_message_signing" => json!(p.allows_message_signing_on(chain)),
            "allow_arbitrary_calldata" => json!(p.allows_arbitrary_calldata()),
            "allow_unlimited_approvals" => json!(p.allows_unlimited_approvals()),
            "allow_arbitrary_typed_data" => json!(p.allows_arbitrary_typed_data()),
            "denied_recipients" => json!(p.denied_recipients.iter().map(show).collect::<Vec<_>>()),
            "allowed_recipients" => {
                json!(p.allowed_recipients.iter().map(show).collect::<Vec<_>>())
            }
            "max_value_per_tx" => limit(&p.max_value_per_tx),
            "max_value_per_day" => limit(&p.max_value_per_day),
            "max_fee_per_tx" => limit(&p.max_fee_per_tx),
            "max_fee_per_blob_gas" => limit(&p.max_fee_per_blob_gas),
            "allowed_delegates" => {
                json!(p.allowed_delegates.iter().map(show).collect::<Vec<_>>())
            }
            "allow_any_chain_authorization" => json!(p.allows_any_chain_authorization()),
            "max_fee" => limit(&p.max_fee),
            "max_priority_fee" => limit(&p.max_priority_fee),
            "max_fee_rate" => p
                .max_fee_rate_msat_vb
                .map(|m| json!(fee_rate_text(m)))
                .unwrap_or(Value::Null),
            "token_limits" => Value::Object(
                p.token_limits
                    .iter()
                    .map(|(k, l)| {
                        (
                            show(k),
                            json!({
                                "max_value_per_tx": limit(&l.max_value_per_tx),
                                "max_value_per_day": limit(&l.max_value_per_day),
                            }),
                        )
                    })
                    .collect(),
            ),
            "allowed_contracts" => Value::Object(
                p.allowed_contracts
                    .iter()
                    .map(|(k, s)| (eip55(k), json!(s)))
                    .collect(),
            ),
            "allowed_typed_data" => Value::Array(
                p.allowed_typed_data
                    .iter()
                    .map(|r| {
                        json!({
                            "verifying_contract": eip55(&r.verifying_contract),
                            "primary_type": r.primary_type,
                        })
                    })
                    .collect(),
            ),
            "allowed_sighash_types" => json!(p.allowed_sighash_types),
            "allowed_programs" => json!(p.allowed_programs),
            "approvals_required" => json!(p.approvals_required),
            "approver_group" => json!(p.approver_group),
            "approval_above" => limit(&p.approval_above),
            "approval_ttl" => json!(p.approval_ttl()),
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
