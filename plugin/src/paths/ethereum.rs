//! `wallets/{name}/ethereum/sign-transaction` (legacy, EIP-2930, EIP-1559,
//! EIP-4844, EIP-7702), `sign-message` (EIP-191 personal_sign),
//! `sign-typed-data` (EIP-712 v4) and `sign-authorization` (EIP-7702).
//!
//! No network access, ever: the caller supplies nonce and fees.

use std::sync::Arc;

use ruint::aliases::U256;
use serde_json::{Map, Value, json};
use wallet_core::ethereum::eip7702::{Authorization, signed_authorization_from_json};
use wallet_core::ethereum::intent::{CallIntent, TypedIntent, decode_calldata, decode_typed_data};
use wallet_core::ethereum::{
    self, Address, EthereumError, MAX_AUTHORIZATIONS, MAX_BLOBS_PER_TX, Transaction,
    TransactionRequest, TxType, access_list_from_json,
    eip712::{self, TypedData},
};

use crate::approvals::{Gate, gate};
use crate::backend::Crypto;
use crate::logical::{Ctx, Field, HandlerResult, LogicalError, Operation, Path, Response, handler};
use crate::paths::keysel::{
    BitcoinOpts, Chain, Signer, bad, hex0x, key_fields, load_wallet, name_field, select_key,
    signer, signer_fields,
};
use crate::policy::Intent;
use crate::policy::intent::{EthAuthorization, EthBlobs, EthTransaction, EthTypedData};

/// Largest `data` (calldata) accepted: 128 KiB, the transaction size limit
/// of geth's transaction pool.
pub const MAX_DATA_BYTES: usize = 128 * 1024;
/// Largest message accepted by sign-message.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;
/// Most addresses plus storage keys in an access list: 4096 entries of at
/// least 32 bytes are the 128 KiB of geth's transaction size limit. Without
/// it a 32 MiB body signed a 15 MB transaction no node accepts.
pub const MAX_ACCESS_LIST_ENTRIES: usize = 4096;

const TX_SYNOPSIS: &str =
    "Sign an Ethereum transaction (legacy, EIP-2930, EIP-1559, EIP-4844 or EIP-7702).";
const TX_DESCRIPTION: &str = "\
Builds and signs a transaction with the selected key and returns `signed_transaction` (0x \
EIP-2718 bytes, ready for eth_sendRawTransaction), `transaction_hash`, `from`, `type`, `r`, \
`s` and `v` (legacy: chain_id*2+35+parity, EIP-155; typed: the y-parity 0 or 1), with the \
signer's `path` and `public_key`.

Integers (chain_id, nonce, gas_limit, value, fees) are accepted as decimal strings, 0x hex \
strings or JSON integers. `type` defaults to eip1559 when max_fee_per_gas is given, else \
legacy; fee fields of another type are a 400. An omitted or empty `to` creates a contract. \
The wallet's ethereum policy is checked before the signature is made, against the decoded \
calldata (token transfers, approvals, NFT transfers, Permit2 approvals) as well as to, value \
and the most the fees can cost; the response's `intent` shows what was evaluated. The plugin \
never contacts a network: nonce and fees are the caller's.

eip4844 (type 3) takes the eip1559 fields plus `max_fee_per_blob_gas` and \
`blob_versioned_hashes` (1 to 6 hashes of 32 bytes, version byte 0x01) and a required `to`; the \
answer is the consensus form (0x03 || rlp(tx)): wrap it with the blobs, commitments and proofs \
for eth_sendRawTransaction. Its fee for max_fee_per_tx includes max_fee_per_blob_gas × 131072 \
× blobs. eip7702 (type 4) takes the eip1559 fields plus `authorization_list` (1 to 64 signed \
tuples {chain_id, address, nonce, y_parity, r, s}, as sign-authorization returns them) and a \
required `to`; every tuple must recover to an account, and with a policy every delegate must be \
in allowed_delegates.";

const AUTH_SYNOPSIS: &str = "Sign an EIP-7702 authorization (delegate the account to a contract).";
const AUTH_DESCRIPTION: &str = "\
Signs keccak256(0x05 || rlp([chain_id, address, nonce])) (EIP-7702) and returns the signed tuple \
`chain_id`, `address` (the delegate), `nonce`, `y_parity`, `r`, `s`, with `signature` (0x, 65 \
bytes r||s||v, v 27 or 28), `authority` (the signing account), the signer's `path` and \
`public_key`, and the decoded `intent`. The tuple goes into an eip7702 transaction's \
authorization_list, from this wallet or any sponsor. An authorization makes the account run the \
delegate's code, so with an ethereum policy the delegate must be in allowed_delegates, chain_id \
0 (every chain) needs allow_any_chain_authorization, and another chain id must be in \
allowed_chain_ids when that list is set.";

const MSG_SYNOPSIS: &str = "Sign a message with EIP-191 personal_sign.";
const MSG_DESCRIPTION: &str = "\
Signs keccak256(\"\\x19Ethereum Signed Message:\\n\" || length || message) and returns \
`signature` (0x, 65 bytes r||s||v with v 27 or 28), `hash` (the EIP-191 digest) and the \
signer's `address`, `path` and `public_key`. Send exactly one of `message` (UTF-8 text) or \
`message_hex` (0x bytes). A policy can refuse message signing (allow_message_signing). The \
`intent` (what approvers see when the request waits) gives the signer's address and the \
message's length and SHA-256, never the message.";

const TYPED_SYNOPSIS: &str = "Sign EIP-712 typed data (eth_signTypedData_v4).";
const TYPED_DESCRIPTION: &str = "\
Hashes `typed_data` (the JSON object of eth_signTypedData_v4 with types, primaryType, domain \
and message; an object or a string holding it) per EIP-712 and signs the digest. Returns \
`signature` (0x, 65 bytes r||s||v), `hash` (the signing digest), `domain_separator` and the \
signer's `address`, `path` and `public_key`, and the decoded `intent`. With an ethereum policy, \
a domain.chainId (declared as an integer type) must be in allowed_chain_ids when that list is \
set; EIP-2612, DAI and Permit2 permits and EIP-3009 authorizations are judged like the token \
calls they authorize; other typed data needs allowed_typed_data or allow_arbitrary_typed_data.";

fn quantity(name: &'static str, description: &'static str) -> Field {
    Field::big_int(name, description)
}

pub fn sign_transaction_path() -> Path<Crypto> {
    Path::new("wallets/{name}/ethereum/sign-transaction")
        .field(name_field())
        .fields(key_fields())
        .field(
            quantity(
                "chain_id",
                "The chain id (EIP-155), e.g. 1 for mainnet. Required.",
            )
            .required(),
        )
        .field(quantity("nonce", "The sender's transaction count. Required.").required())
        .field(quantity("gas_limit", "The gas limit. Required.").required())
        .field(Field::string(
            "to",
            "The recipient: 0x followed by 40 hex digits (mixed case must be a valid EIP-55 \
             checksum). Omitted or empty creates a contract.",
        ))
        .field(quantity("value", "The amount in wei. Defaults to 0."))
        .field(Field::string(
            "data",
            "The calldata (or contract init code) as 0x hex, at most 128 KiB. Defaults to empty.",
        ))
        .field(
            Field::string(
                "type",
                "The transaction type: legacy, eip2930, eip1559, eip4844 or eip7702. Defaults \
                 to eip1559 when max_fee_per_gas is given, else legacy.",
            )
            .one_of(&["legacy", "eip2930", "eip1559", "eip4844", "eip7702"]),
        )
        .field(quantity(
            "gas_price",
            "The gas price in wei (legacy and eip2930).",
        ))
        .field(quantity(
            "max_fee_per_gas",
            "The fee cap in wei per gas (eip1559, eip4844, eip7702).",
        ))
        .field(quantity(
            "max_priority_fee_per_gas",
            "The priority fee (tip) in wei per gas (eip1559, eip4844, eip7702).",
        ))
        .field(Field::object_list(
            "access_list",
            "The EIP-2930 access list (every type but legacy): a list of {address, \
             storage_keys} with storage keys as 0x 32-byte hex.",
        ))
        .field(quantity(
            "max_fee_per_blob_gas",
            "The fee cap in wei per blob gas (eip4844, required there).",
        ))
        .field(Field::string_list(
            "blob_versioned_hashes",
            "The blobs' versioned hashes (eip4844, required there): 1 to 6 hashes of 32 bytes \
             as 0x hex, each starting with the version byte 0x01.",
        ))
        .field(Field::object_list(
            "authorization_list",
            "The signed EIP-7702 authorizations (eip7702, required there): 1 to 64 objects \
             {chain_id, address, nonce, y_parity, r, s} as sign-authorization returns them \
             (its `authority` and `signature`, when present, must agree).",
        ))
        .batch()
        .operation(
            Operation::Update,
            "Sign an Ethereum transaction.",
            handler(sign_transaction),
        )
        .help(TX_SYNOPSIS, TX_DESCRIPTION)
}

pub fn sign_authorization_path() -> Path<Crypto> {
    Path::new("wallets/{name}/ethereum/sign-authorization")
        .field(name_field())
        .fields(key_fields())
        .field(
            quantity(
                "chain_id",
                "The chain id the authorization is valid on; 0 means every chain. Required.",
            )
            .required(),
        )
        .field(
            Field::string(
                "address",
                "The delegate contract whose code the account will run: 0x followed by 40 hex \
                 digits (the zero address clears a delegation). Required.",
            )
            .required(),
        )
        .field(
            quantity(
                "nonce",
                "The account's nonce when the authorization is processed (below 2^64 - 1; \
                 when the account also sends the transaction, its transaction nonce + 1). \
                 Required.",
            )
            .required(),
        )
        .operation(
            Operation::Update,
            "Sign an EIP-7702 authorization.",
            handler(sign_authorization),
        )
        .help(AUTH_SYNOPSIS, AUTH_DESCRIPTION)
}

pub fn sign_message_path() -> Path<Crypto> {
    Path::new("wallets/{name}/ethereum/sign-message")
        .field(name_field())
        .fields(key_fields())
        .field(Field::string(
            "message",
            "The message as UTF-8 text. Send this or message_hex, not both.",
        ))
        .field(Field::string(
            "message_hex",
            "The message as 0x hex bytes. Send this or message, not both.",
        ))
        .batch()
        .operation(
            Operation::Update,
            "Sign a message with EIP-191 personal_sign.",
            handler(sign_message),
        )
        .help(MSG_SYNOPSIS, MSG_DESCRIPTION)
}

pub fn sign_typed_data_path() -> Path<Crypto> {
    Path::new("wallets/{name}/ethereum/sign-typed-data")
        .field(name_field())
        .fields(key_fields())
        .field(
            Field::map(
                "typed_data",
                "The EIP-712 typed data of eth_signTypedData_v4 (types, primaryType, domain, \
                 message), as a JSON object or a string holding one; at most 1 MiB.",
            )
            .required(),
        )
        .batch()
        .operation(
            Operation::Update,
            "Sign EIP-712 typed data.",
            handler(sign_typed_data),
        )
        .help(TYPED_SYNOPSIS, TYPED_DESCRIPTION)
}

/// Maps a wallet-core Ethereum error to a 400 naming the field (a signing
/// failure is our own fault).
fn eth_error(e: EthereumError) -> LogicalError {
    match e {
        EthereumError::InvalidField { field, reason } => {
            bad(format!("invalid value for field \"{field}\": {reason}"))
        }
        EthereumError::MissingField { field } => bad(format!("missing required field \"{field}\"")),
        EthereumError::FieldNotAllowed { field, tx_type } => bad(format!(
            "field \"{field}\" is not allowed for {} transactions",
            tx_type.as_str()
        )),
        EthereumError::TypedData(e) => bad(format!("invalid value for field \"typed_data\": {e}")),
        EthereumError::Sign(e) => LogicalError::Internal(format!("signing failed: {e}")),
        other => bad(other.to_string()),
    }
}

fn u64_of(ctx: &Ctx, field: &str) -> Result<Option<u64>, LogicalError> {
    ctx.fields
        .big_int(field)
        .map(|v| {
            u64::try_from(v).map_err(|_| {
                bad(format!(
                    "invalid value for field \"{field}\": exceeds 64 bits"
                ))
            })
        })
        .transpose()
}

/// Decodes `0x` hex of at most `max` bytes.
fn hex_bytes(s: &str, field: &str, max: usize) -> Result<Vec<u8>, LogicalError> {
    if s.len() > 2 + 2 * max {
        return Err(bad(format!(
            "invalid value for field \"{field}\": larger than {max} bytes"
        )));
    }
    ethereum::parse_hex_bytes(s, field).map_err(eth_error)
}

async fn ethereum_signer(state: &Crypto, ctx: &Ctx) -> Result<(String, Signer), LogicalError> {
    let (name, wallet) = load_wallet(state, ctx).await?;
    let req = select_key(ctx, &wallet, Chain::Ethereum, BitcoinOpts::default())?;
    let s = signer(state, &name, &wallet, &req)?;
    Ok((name, s))
}

fn signer_data(s: &Signer) -> Result<Map<String, Value>, LogicalError> {
    let mut data = Map::new();
    signer_fields(&mut data, s, Chain::Ethereum, BitcoinOpts::default())?;
    Ok(data)
}

/// The transaction of a sign-transaction request and what it authorizes,
/// before any key is touched (also used by the policy check).
pub fn transaction_intent(ctx: &Ctx) -> Result<(Transaction, Intent), LogicalError> {
    let to = match ctx.fields.str("to").map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(Address::parse_field(s, "to").map_err(eth_error)?),
    };
    let data = match ctx.fields.str("data") {
        None => Vec::new(),
        Some(s) => hex_bytes(s.trim(), "data", MAX_DATA_BYTES)?,
    };
    let tx_type = match ctx.fields.str("type") {
        None => None,
        Some(s) => Some(s.parse::<TxType>().map_err(eth_error)?),
    };
    let access_list = match ctx.fields.object_list("access_list") {
        None => None,
        Some(items) => {
            // Counted before anything is parsed or copied.
            let entries = items.iter().fold(items.len(), |n, item| {
                let keys = item
                    .get("storage_keys")
                    .or_else(|| item.get("storageKeys"))
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                n.saturating_add(keys)
            });
            if entries > MAX_ACCESS_LIST_ENTRIES {
                return Err(bad(format!(
                    "invalid value for field \"access_list\": {entries} addresses and storage \
                     keys, at most {MAX_ACCESS_LIST_ENTRIES}"
                )));
            }
            Some(access_list_from_json(&Value::Array(items.to_vec())).map_err(eth_error)?)
        }
    };
    let blob_versioned_hashes = match ctx.fields.string_list("blob_versioned_hashes") {
        None => None,
        Some(items) => {
            if items.len() > MAX_BLOBS_PER_TX {
                return Err(bad(format!(
                    "invalid value for field \"blob_versioned_hashes\": {} hashes, at most \
                     {MAX_BLOBS_PER_TX} (EIP-7594)",
                    items.len()
                )));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, h) in items.iter().enumerate() {
                let field = format!("blob_versioned_hashes[{i}]");
                if h.len() > 70 {
                    return Err(bad(format!(
                        "invalid value for field \"{field}\": must be exactly 32 bytes"
                    )));
                }
                out.push(ethereum::parse_b256(h.trim(), &field).map_err(eth_error)?);
            }
            Some(out)
        }
    };
    let authorization_list = match ctx.fields.object_list("authorization_list") {
        None => None,
        Some(items) => {
            // Counted before anything is parsed or recovered.
            if items.len() > MAX_AUTHORIZATIONS {
                return Err(bad(format!(
                    "invalid value for field \"authorization_list\": {} authorizations, at \
                     most {MAX_AUTHORIZATIONS}",
                    items.len()
                )));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(
                    signed_authorization_from_json(item, &format!("authorization_list[{i}]"))
                        .map_err(eth_error)?,
                );
            }
            Some(out)
        }
    };
    let gas_limit = u64_of(ctx, "gas_limit")?;
    let fee_per_gas = ctx
        .fields
        .big_int("max_fee_per_gas")
        .or_else(|| ctx.fields.big_int("gas_price"))
        .unwrap_or(U256::ZERO);
    let call = match &to {
        Some(to) => decode_calldata(*to, &data),
        // Contract creation: the data is init code, judged by
        // allow_contract_creation.
        None => Ok(CallIntent::Plain),
    };
    let request = TransactionRequest {
        tx_type,
        chain_id: u64_of(ctx, "chain_id")?,
        nonce: u64_of(ctx, "nonce")?,
        gas_limit,
        to,
        value: ctx.fields.big_int("value"),
        data,
        gas_price: ctx.fields.big_int("gas_price"),
        max_fee_per_gas: ctx.fields.big_int("max_fee_per_gas"),
        max_priority_fee_per_gas: ctx.fields.big_int("max_priority_fee_per_gas"),
        access_list,
        max_fee_per_blob_gas: ctx.fields.big_int("max_fee_per_blob_gas"),
        blob_versioned_hashes,
        authorization_list,
    };
    let tx = request.build().map_err(eth_error)?;
    tx.validate().map_err(eth_error)?;
    let (blobs, authorizations) = match &tx {
        Transaction::Eip4844(t) => (
            Some(EthBlobs {
                count: t.blob_versioned_hashes.len(),
                max_fee_per_blob_gas: t.max_fee_per_blob_gas,
                max_blob_fee: tx.max_blob_fee(),
            }),
            Vec::new(),
        ),
        Transaction::Eip7702(t) => (
            None,
            t.authorization_list
                .iter()
                .map(|a| EthAuthorization {
                    chain_id: a.auth.chain_id,
                    delegate: a.auth.address,
                    nonce: a.auth.nonce,
                    authority: a.authority,
                })
                .collect(),
        ),
        _ => (None, Vec::new()),
    };
    let intent = Intent::EthereumTransaction(EthTransaction {
        chain_id: tx.chain_id(),
        to: tx.to(),
        value: tx.value(),
        // The most the fees can cost, blob gas included: a blob fee must not
        // hide value from max_fee_per_tx.
        max_fee: U256::from(gas_limit.unwrap_or(0))
            .saturating_mul(fee_per_gas)
            .saturating_add(tx.max_blob_fee()),
        tx_type: tx.tx_type().as_str(),
        call,
        blobs,
        authorizations,
    });
    Ok((tx, intent))
}

async fn sign_transaction(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    let (tx, intent) = transaction_intent(&ctx)?;
    let (name, s) = ethereum_signer(&state, &ctx).await?;
    let intent = match gate(&state, &ctx, &name, &intent).await? {
        Gate::Sign(intent) => intent,
        Gate::Pending(pending) => return Ok(Some(pending)),
    };
    let signed = tx.sign(s.secp256k1()?).map_err(eth_error)?;

    let mut out = signer_data(&s)?;
    // Transactions name their signer `from`.
    out.remove("address");
    out.insert("from".into(), json!(signed.from.to_checksum()));
    out.insert("signed_transaction".into(), json!(hex0x(&signed.raw)));
    out.insert("transaction_hash".into(), json!(hex0x(&signed.hash)));
    out.insert("type".into(), json!(signed.tx_type.as_str()));
    out.insert("r".into(), json!(hex0x(&signed.r)));
    out.insert("s".into(), json!(hex0x(&signed.s)));
    out.insert("v".into(), json!(signed.v));
    out.insert("chain_id".into(), json!(tx.chain_id().to_string()));
    out.insert("intent".into(), intent);
    Ok(Some(Response::with_data(out)))
}

/// The authorization of a sign-authorization request, before any key is
/// touched (also used by the policy check); `authority` is the signer's
/// address.
pub fn authorization_request(ctx: &Ctx) -> Result<Authorization, LogicalError> {
    let address = ctx
        .fields
        .str("address")
        .ok_or_else(|| bad("missing required field \"address\""))?;
    let address = Address::parse_field(address.trim(), "address").map_err(eth_error)?;
    let auth = Authorization {
        chain_id: u64_of(ctx, "chain_id")?
            .ok_or_else(|| bad("missing required field \"chain_id\""))?,
        address,
        nonce: u64_of(ctx, "nonce")?.ok_or_else(|| bad("missing required field \"nonce\""))?,
    };
    auth.validate().map_err(eth_error)?;
    Ok(auth)
}

pub fn authorization_intent(auth: &Authorization, authority: Address) -> Intent {
    Intent::EthereumAuthorization(EthAuthorization {
        chain_id: auth.chain_id,
        delegate: auth.address,
        nonce: auth.nonce,
        authority,
    })
}

/// The wallet and its selected signer (for the dry run).
pub async fn ethereum_signer_pub(
    state: &Crypto,
    ctx: &Ctx,
) -> Result<(String, Signer), LogicalError> {
    ethereum_signer(state, ctx).await
}

/// The selected key's ethereum address (the authority of an authorization).
pub async fn authority(state: &Crypto, ctx: &Ctx) -> Result<Address, LogicalError> {
    let (_, s) = ethereum_signer(state, ctx).await?;
    signer_address(&s)
}

fn signer_address(s: &Signer) -> Result<Address, LogicalError> {
    Ok(Address::from_public_key(&s.secp256k1()?.public_key()))
}

async fn sign_authorization(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    let auth = authorization_request(&ctx)?;
    let (name, s) = ethereum_signer(&state, &ctx).await?;
    let mut out = signer_data(&s)?;
    // The signer's address is the authority; `address` is the delegate.
    out.remove("address");
    let authority = signer_address(&s)?;
    let intent = authorization_intent(&auth, authority);
    let intent = match gate(&state, &ctx, &name, &intent).await? {
        Gate::Sign(intent) => intent,
        Gate::Pending(pending) => return Ok(Some(pending)),
    };
    let signed = auth.sign(s.secp256k1()?).map_err(eth_error)?;
    out.insert("chain_id".into(), json!(auth.chain_id.to_string()));
    out.insert("address".into(), json!(auth.address.to_checksum()));
    out.insert("nonce".into(), json!(auth.nonce.to_string()));
    out.insert("y_parity".into(), json!(signed.sig.y_parity));
    out.insert("r".into(), json!(hex0x(&signed.sig.r)));
    out.insert("s".into(), json!(hex0x(&signed.sig.s)));
    out.insert("signature".into(), json!(hex0x(&signed.signature_bytes())));
    out.insert("authority".into(), json!(authority.to_checksum()));
    out.insert("intent".into(), intent);
    Ok(Some(Response::with_data(out)))
}

/// The bytes of a sign-message request.
pub fn message_bytes(ctx: &Ctx) -> Result<Vec<u8>, LogicalError> {
    match (ctx.fields.str("message"), ctx.fields.str("message_hex")) {
        (Some(_), Some(_)) => Err(bad(
            "send exactly one of field \"message\" or field \"message_hex\", not both",
        )),
        (None, None) => Err(bad(
            "missing required field \"message\" (or \"message_hex\")",
        )),
        (Some(text), None) => {
            if text.len() > MAX_MESSAGE_BYTES {
                return Err(bad(format!(
                    "invalid value for field \"message\": larger than {MAX_MESSAGE_BYTES} bytes"
                )));
            }
            Ok(text.as_bytes().to_vec())
        }
        (None, Some(h)) => hex_bytes(h.trim(), "message_hex", MAX_MESSAGE_BYTES),
    }
}

/// What a sign-message request signs: the signer's address and the
/// message's length and SHA-256 (what approvers see of it).
pub fn message_intent(s: &Signer, message: &[u8]) -> Result<Intent, LogicalError> {
    Ok(Intent::EthereumMessage(
        crate::policy::intent::MessageIntent::new(
            "personal_sign",
            signer_address(s)?.to_checksum(),
            message,
        ),
    ))
}

async fn sign_message(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    let message = message_bytes(&ctx)?;
    let (name, s) = ethereum_signer(&state, &ctx).await?;
    let intent = message_intent(&s, &message)?;
    let intent = match gate(&state, &ctx, &name, &intent).await? {
        Gate::Sign(intent) => intent,
        Gate::Pending(pending) => return Ok(Some(pending)),
    };
    let sig = ethereum::sign_personal_message(s.secp256k1()?, &message).map_err(eth_error)?;
    let mut out = signer_data(&s)?;
    out.insert("signature".into(), json!(hex0x(&sig.signature)));
    out.insert("hash".into(), json!(hex0x(&sig.hash)));
    out.insert("intent".into(), intent);
    Ok(Some(Response::with_data(out)))
}

/// Whether the domain declares `chainId` with an integer type: only then is
/// it a chain id a policy can rely on.
fn chain_id_is_integer(typed: &TypedData) -> bool {
    typed
        .member_type("EIP712Domain", "chainId")
        .is_some_and(|t| {
            let digits = t.strip_prefix("uint").or_else(|| t.strip_prefix("int"));
            digits.is_some_and(|d| d.is_empty() || d.bytes().all(|c| c.is_ascii_digit()))
        })
}

/// The typed data of a sign-typed-data request (hashed, so malformed data
/// is a 400 even when a policy would refuse it) and what it authorizes.
pub fn typed_data_intent(ctx: &Ctx) -> Result<(TypedData, Intent), LogicalError> {
    let raw = ctx
        .fields
        .map("typed_data")
        .ok_or_else(|| bad("missing required field \"typed_data\""))?;
    let value = Value::Object(raw.clone());
    let size = serde_json::to_vec(&value)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > eip712::MAX_JSON_BYTES {
        return Err(bad(format!(
            "invalid value for field \"typed_data\": larger than {} bytes",
            eip712::MAX_JSON_BYTES
        )));
    }
    let typed = TypedData::from_api_value(&value).map_err(|e| eth_error(e.into()))?;
    let chain_id = match typed.domain_chain_id().map_err(|e| eth_error(e.into()))? {
        None => None,
        Some(id) => Some(u64::try_from(id).map_err(|_| {
            bad("invalid value for field \"typed_data\": domain.chainId exceeds 64 bits")
        })?),
    };
    let chain_id = chain_id.filter(|_| chain_id_is_integer(&typed));
    typed.hash().map_err(|e| eth_error(e.into()))?;
    let primary_type = typed.primary_type().to_string();
    // A decoding failure leaves the data undecoded: with a policy it then
    // needs allowed_typed_data or allow_arbitrary_typed_data.
    let decoded = decode_typed_data(&typed).unwrap_or(TypedIntent::Other {
        primary_type: primary_type.clone(),
        verifying_contract: None,
    });
    let intent = Intent::EthereumTypedData(EthTypedData {
        chain_id,
        primary_type,
        decoded,
    });
    Ok((typed, intent))
}

async fn sign_typed_data(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    let (typed, intent) = typed_data_intent(&ctx)?;
    let (name, s) = ethereum_signer(&state, &ctx).await?;
    let intent = match gate(&state, &ctx, &name, &intent).await? {
        Gate::Sign(intent) => intent,
        Gate::Pending(pending) => return Ok(Some(pending)),
    };
    let (sig, hashes) = ethereum::sign_typed_data(s.secp256k1()?, &typed).map_err(eth_error)?;
    let mut out = signer_data(&s)?;
    out.insert("signature".into(), json!(hex0x(&sig.signature)));
    out.insert("hash".into(), json!(hex0x(&sig.hash)));
    out.insert(
        "domain_separator".into(),
        json!(hex0x(&hashes.domain_separator)),
    );
    if let Some(m) = hashes.message_hash {
        out.insert("message_hash".into(), json!(hex0x(&m)));
    }
    out.insert("intent".into(), intent);
    Ok(Some(Response::with_data(out)))
}
