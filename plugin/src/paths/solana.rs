//! `wallets/{name}/solana/sign-message` and `solana/sign-transaction`.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Map, json};
use wallet_core::solana::{self, MAX_TRANSACTION_BYTES, SolanaError};

use crate::backend::Crypto;
use crate::logical::{Ctx, Field, HandlerResult, LogicalError, Operation, Path, Response, handler};
use crate::paths::keysel::{
    BitcoinOpts, Chain, Signer, bad, key_fields, load_wallet, name_field, select_key, signer,
    signer_fields,
};
use crate::policy::intent::SolTransaction;
use crate::policy::{Intent, enforce};

/// Largest message accepted by sign-message.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

const MSG_SYNOPSIS: &str = "Sign raw bytes with the wallet's ed25519 key.";
const MSG_DESCRIPTION: &str = "\
Signs `message` (base64, at most 1 MiB) with ed25519 (RFC 8032) and returns `signature` \
(base58) and the signer's `public_key` (base58, which is also the `address`) and `path`. Bytes \
that could be a transaction message (legacy or v0) are refused with 403, policy or not: a \
permission to sign messages is not a permission to sign transactions (use sign-transaction, \
which the policy evaluates). A solana policy can refuse message signing \
(allow_message_signing).";

const TX_SYNOPSIS: &str = "Sign a serialized Solana transaction.";
const TX_DESCRIPTION: &str = "\
Parses `transaction` (base64 of a serialized legacy or v0 transaction, or of its bare message; \
at most 64 KiB), finds the wallet's key among the message's required signers and places its \
signature in that slot. Returns `transaction` (base64, with the signature in place), \
`signature` (base58), `signer_index` and the signer's `address`, `path` and `public_key`. \
A transaction that does not list the key as a required signer is a 400. With a solana policy, \
the decoded instructions are evaluated (programs, lamport and token transfers, recipients, the \
priority fee) and the response's `intent` shows them.";

pub fn sign_message_path() -> Path<Crypto> {
    Path::new("wallets/{name}/solana/sign-message")
        .field(name_field())
        .fields(key_fields())
        .field(Field::string("message", "The bytes to sign, base64 encoded. Required.").required())
        .batch()
        .operation(
            Operation::Update,
            "Sign raw bytes with ed25519.",
            handler(sign_message),
        )
        .help(MSG_SYNOPSIS, MSG_DESCRIPTION)
}

pub fn sign_transaction_path() -> Path<Crypto> {
    Path::new("wallets/{name}/solana/sign-transaction")
        .field(name_field())
        .fields(key_fields())
        .field(
            Field::string(
                "transaction",
                "A serialized legacy or v0 transaction, or its bare message, base64 encoded. \
                 Required.",
            )
            .required(),
        )
        .operation(
            Operation::Update,
            "Sign a Solana transaction.",
            handler(sign_transaction),
        )
        .help(TX_SYNOPSIS, TX_DESCRIPTION)
}

/// Decodes standard base64 of at most `max` bytes.
pub fn base64_field(ctx: &Ctx, field: &str, max: usize) -> Result<Vec<u8>, LogicalError> {
    let text = ctx
        .fields
        .str(field)
        .ok_or_else(|| bad(format!("missing required field \"{field}\"")))?
        .trim();
    if text.len() > max.div_ceil(3) * 4 {
        return Err(bad(format!(
            "invalid value for field \"{field}\": larger than {max} bytes"
        )));
    }
    B64.decode(text).map_err(|_| {
        bad(format!(
            "invalid value for field \"{field}\": not valid base64"
        ))
    })
}

async fn solana_signer(state: &Crypto, ctx: &Ctx) -> Result<(String, Signer), LogicalError> {
    let (name, wallet) = load_wallet(state, ctx).await?;
    let req = select_key(ctx, &wallet, Chain::Solana, BitcoinOpts::default())?;
    let s = signer(state, &name, &wallet, &req)?;
    Ok((name, s))
}

fn signer_data(s: &Signer) -> Result<Map<String, serde_json::Value>, LogicalError> {
    let mut data = Map::new();
    signer_fields(&mut data, s, Chain::Solana, BitcoinOpts::default())?;
    Ok(data)
}

/// Refuses bytes that a validator could take for a transaction message.
pub fn check_not_a_transaction(message: &[u8]) -> Result<(), LogicalError> {
    if solana::could_be_transaction_message(message) {
        return Err(LogicalError::PermissionDenied(
            "solana sign-message: the message could be a transaction message (legacy or v0); \
             sign transactions with solana/sign-transaction, where the policy sees them"
                .into(),
        ));
    }
    Ok(())
}

async fn sign_message(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    let message = base64_field(&ctx, "message", MAX_MESSAGE_BYTES)?;
    check_not_a_transaction(&message)?;
    let (name, s) = solana_signer(&state, &ctx).await?;
    let intent = enforce(&state, ctx.storage.as_ref(), &name, &Intent::SolanaMessage).await?;
    let sig = solana::sign_message(s.ed25519()?, &message);
    let mut out = signer_data(&s)?;
    out.insert("signature".into(), json!(solana::signature_to_base58(&sig)));
    out.insert("intent".into(), intent);
    Ok(Some(Response::with_data(out)))
}

fn solana_error(e: SolanaError) -> LogicalError {
    bad(format!("invalid value for field \"transaction\": {e}"))
}

/// The transaction of a sign-transaction request, checked against the
/// signer, and what it authorizes.
pub fn transaction_intent(
    bytes: &[u8],
    s: &Signer,
) -> Result<(solana::Transaction, Intent), LogicalError> {
    let tx = solana::parse_transaction(bytes).map_err(solana_error)?;
    let public = s.ed25519()?.public_key();
    if !tx.message.signers().contains(&public) {
        return Err(bad(format!(
            "invalid value for field \"transaction\": the key {} at path {} is not a required \
             signer of this transaction",
            solana::address(&public),
            s.path_string()
        )));
    }
    let decoded = solana::decode_message(&tx.message).map_err(|e| e.to_string());
    let intent = Intent::SolanaTransaction(SolTransaction {
        signer: public,
        decoded,
    });
    Ok((tx, intent))
}

pub async fn solana_signer_pub(
    state: &Crypto,
    ctx: &Ctx,
) -> Result<(String, Signer), LogicalError> {
    solana_signer(state, ctx).await
}

async fn sign_transaction(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    let bytes = base64_field(&ctx, "transaction", MAX_TRANSACTION_BYTES)?;
    let (name, s) = solana_signer(&state, &ctx).await?;
    let (_tx, intent) = transaction_intent(&bytes, &s)?;
    let intent = enforce(&state, ctx.storage.as_ref(), &name, &intent).await?;
    let signed = solana::sign_transaction(s.ed25519()?, &bytes).map_err(solana_error)?;
    let mut out = signer_data(&s)?;
    out.insert("transaction".into(), json!(B64.encode(&signed.transaction)));
    out.insert(
        "signature".into(),
        json!(solana::signature_to_base58(&signed.signature)),
    );
    out.insert("signer_index".into(), json!(signed.signer_index));
    out.insert("intent".into(), intent);
    Ok(Some(Response::with_data(out)))
}
