//! `wallets/{name}/solana/sign-message` and `solana/sign-transaction`.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Map, json};
use wallet_core::solana::{self, MAX_TRANSACTION_BYTES, SolanaError};

use crate::approvals::{Gate, gate};
use crate::backend::Crypto;
use crate::logical::{Ctx, Field, HandlerResult, LogicalError, Operation, Path, Response, handler};
use crate::paths::keysel::{
    BitcoinOpts, Chain, Signer, bad, key_fields, load_wallet, name_field, select_key, signer,
    signer_fields,
};
use crate::policy::Intent;
use crate::policy::intent::{MessageIntent, SolTransaction};

/// Largest message accepted by sign-message.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

const MSG_SYNOPSIS: &str = "Sign raw bytes or an off-chain message with the wallet's ed25519 key.";
const MSG_DESCRIPTION: &str = "\
Signs `message` (base64) with ed25519 (RFC 8032) and returns `signature` (base58), `format` and \
the signer's `public_key` (base58, which is also the `address`) and `path`.

`format` raw (the default) signs the bytes as they are (at most 1 MiB). Bytes that could be a \
transaction message (legacy or v0) are refused with 403, policy or not: a permission to sign \
messages is not a permission to sign transactions (use sign-transaction, which the policy \
evaluates).

`format` offchain signs the Solana off-chain message envelope of version 0, as Agave builds \
and verifies it (solana-offchain-message, `solana sign-offchain-message`): \"\\xffsolana \
offchain\" + version 0 + message format + u16 little-endian length + message. The message \
must be UTF-8, 1 to 65515 bytes; its format is restricted-ascii (printable ASCII, at most 1212 \
bytes), limited-utf8 (at most 1212 bytes) or extended-utf8 (longer), as Agave decides. \
Agave's version 0 has no application domain and no signer list (the proposal text's preamble \
does), so `application_domain` is refused. The response adds `envelope` (base64 of the exact \
bytes signed), `message_format` and `version`.

The `intent` shows the format, the address and the message's length and SHA-256. A solana \
policy can refuse both formats (allow_message_signing).";

/// `format` of solana sign-message.
pub const MESSAGE_FORMATS: &[&str] = &["raw", "offchain"];

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
        .field(
            Field::string(
                "message",
                "The bytes to sign (raw) or the off-chain message text (offchain), base64 \
                 encoded. Required.",
            )
            .required(),
        )
        .field(
            Field::string(
                "format",
                "raw (the default): the bytes themselves; offchain: the Solana off-chain \
                 message envelope (version 0) of the message.",
            )
            .one_of(MESSAGE_FORMATS),
        )
        .field(Field::string(
            "application_domain",
            "Not supported: version 0 of the off-chain message (as Agave implements it) has \
             no application domain; sending it is a 400.",
        ))
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

/// A decoded sign-message request: the message, and the bytes to sign
/// (the message itself, or its off-chain envelope).
pub struct SolMessage {
    pub message: Vec<u8>,
    pub signed: Vec<u8>,
    /// `Some` for the offchain format.
    pub offchain: Option<solana::OffchainFormat>,
}

impl SolMessage {
    pub fn format(&self) -> &'static str {
        if self.offchain.is_some() {
            "offchain"
        } else {
            "raw"
        }
    }

    pub fn intent(&self, s: &Signer) -> Result<Intent, LogicalError> {
        let address = solana::address(&s.ed25519()?.public_key());
        Ok(Intent::SolanaMessage(MessageIntent::new(
            self.format(),
            address,
            &self.message,
        )))
    }
}

/// Decodes `message`, `format` and `application_domain` (no key touched).
/// The caller still refuses bytes that could be a transaction message
/// ([`check_not_a_transaction`] on `signed`).
pub fn prepare_message(ctx: &Ctx) -> Result<SolMessage, LogicalError> {
    if ctx.fields.is_sent("application_domain") {
        return Err(bad(
            "invalid value for field \"application_domain\": version 0 of the off-chain \
             message, as Agave implements it, has no application domain",
        ));
    }
    let offchain = match ctx.fields.str("format").unwrap_or("raw") {
        "raw" => false,
        "offchain" => true,
        _ => {
            return Err(bad(
                "invalid value for field \"format\": must be one of raw, offchain",
            ));
        }
    };
    if !offchain {
        let message = base64_field(ctx, "message", MAX_MESSAGE_BYTES)?;
        return Ok(SolMessage {
            signed: message.clone(),
            message,
            offchain: None,
        });
    }
    let message = base64_field(ctx, "message", solana::OFFCHAIN_MAX_LEN)?;
    let (envelope, format) = solana::offchain_envelope(&message)
        .map_err(|e| bad(format!("invalid value for field \"message\": {e}")))?;
    Ok(SolMessage {
        message,
        signed: envelope,
        offchain: Some(format),
    })
}

async fn sign_message(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    let m = prepare_message(&ctx)?;
    // An envelope starts with 0xff and never passes for a transaction;
    // checking what is signed, whatever the format, keeps the rule local.
    check_not_a_transaction(&m.signed)?;
    let (name, s) = solana_signer(&state, &ctx).await?;
    let intent = match gate(&state, &ctx, &name, &m.intent(&s)?).await? {
        Gate::Sign(intent) => intent,
        Gate::Pending(pending) => return Ok(Some(pending)),
    };
    let sig = solana::sign_message(s.ed25519()?, &m.signed);
    let mut out = signer_data(&s)?;
    out.insert("signature".into(), json!(solana::signature_to_base58(&sig)));
    out.insert("format".into(), json!(m.format()));
    if let Some(f) = m.offchain {
        out.insert("envelope".into(), json!(B64.encode(&m.signed)));
        out.insert("message_format".into(), json!(f.as_str()));
        out.insert("version".into(), json!(0));
    }
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
    let intent = match gate(&state, &ctx, &name, &intent).await? {
        Gate::Sign(intent) => intent,
        Gate::Pending(pending) => return Ok(Some(pending)),
    };
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
