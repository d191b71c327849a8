//! `policies/{name}/{chain}/check` (update): asks the policy about a signing
//! request without signing or counting. The body is the signing request's
//! own fields plus `operation`; the answer is `allowed`, the `rule` that
//! decides (and `reason`), and the decoded `intent`, the same intent every
//! signing response carries.

use std::sync::Arc;

use serde_json::{Map, json};

use crate::backend::Crypto;
use crate::logical::{Ctx, Field, HandlerResult, LogicalError, Operation, Path, Response, handler};
use crate::paths::keysel::{bad, load_wallet};
use crate::paths::policy::{chain_field, name_field, target};
use crate::paths::{bitcoin, ethereum, sign_hash, solana};
use crate::policy::bitcoin::refused_sighash;
use crate::policy::{Intent, check as dry_run};

const SYNOPSIS: &str = "Ask a wallet's policy about a signing request, without signing.";
const DESCRIPTION: &str = "\
Evaluates a signing request against the wallet's policy on the chain exactly as the signing \
path would, and signs nothing and counts nothing (daily counters are read, not written). The \
body is the signing request's fields plus `operation`: on ethereum sign-transaction, \
sign-message, sign-typed-data or sign-authorization; on bitcoin sign-psbt or sign-message; on solana sign-transaction or \
sign-message; on every chain sign-hash. Returns `allowed`, the `rule` that refused and its \
`reason` (absent when allowed), `policy` (whether the wallet has a policy on the chain), \
`approvals_required` (how many approvals an allowed request would wait for; 0: signed at once) \
and the decoded `intent`: recipients, amounts per asset, fee, contract and method. A request the \
signing path would reject as malformed is a 400 here too.";

const OPERATIONS: &[&str] = &[
    "sign-transaction",
    "sign-message",
    "sign-typed-data",
    "sign-authorization",
    "sign-psbt",
    "sign-hash",
];

/// The fields of every signing path (without `name`, `chain`, `batch_input`
/// and their required marks: which ones matter depends on `operation`).
fn signing_fields() -> Vec<Field> {
    let paths = [
        ethereum::sign_transaction_path(),
        ethereum::sign_message_path(),
        ethereum::sign_typed_data_path(),
        ethereum::sign_authorization_path(),
        bitcoin::sign_psbt_path(),
        bitcoin::sign_message_path(),
        solana::sign_message_path(),
        solana::sign_transaction_path(),
        sign_hash::sign_hash_path(),
    ];
    let mut out: Vec<Field> = Vec::new();
    for p in paths {
        for f in p.fields {
            // The check asks about one request: no batches.
            if f.name == "name"
                || f.name == "chain"
                || f.name == crate::logical::batch::BATCH_INPUT
                || out.iter().any(|o| o.name == f.name)
            {
                continue;
            }
            let mut f = f;
            f.required = false;
            if f.name == "format" {
                // bitcoin (bip322, legacy) and solana (raw, offchain): the
                // signing path's own parser checks the value.
                f = Field::string(
                    "format",
                    "The message format: bip322 or legacy (bitcoin sign-message), raw or \
                     offchain (solana sign-message).",
                );
            }
            out.push(f);
        }
    }
    out
}

pub fn check_path() -> Path<Crypto> {
    Path::new("policies/{name}/{chain}/check")
        .field(name_field())
        .field(chain_field())
        .field(
            Field::string(
                "operation",
                "The signing operation to evaluate: sign-transaction, sign-message, \
                 sign-typed-data, sign-authorization (ethereum), sign-psbt, sign-message (bitcoin), sign-transaction, \
                 sign-message (solana), or sign-hash. Required.",
            )
            .one_of(OPERATIONS)
            .required(),
        )
        .fields(signing_fields())
        .operation(
            Operation::Update,
            "Evaluate a signing request against the policy.",
            handler(check),
        )
        .strict_fields()
        .help(SYNOPSIS, DESCRIPTION)
}

/// A refusal that comes from the path itself rather than the policy.
struct PathRefusal {
    rule: &'static str,
    reason: String,
}

async fn check(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    let (name, chain) = target(&ctx)?;
    let op = ctx
        .fields
        .str("operation")
        .ok_or_else(|| bad("missing required field \"operation\""))?
        .to_string();
    let (_, wallet) = load_wallet(&state, &ctx).await?;
    let mut refusal: Option<PathRefusal> = None;
    let intent = match (chain.as_str(), op.as_str()) {
        ("ethereum", "sign-transaction") => ethereum::transaction_intent(&ctx)?.1,
        ("ethereum", "sign-message") => {
            let message = ethereum::message_bytes(&ctx)?;
            let (_, s) = ethereum::ethereum_signer_pub(&state, &ctx).await?;
            ethereum::message_intent(&s, &message)?
        }
        ("ethereum", "sign-typed-data") => ethereum::typed_data_intent(&ctx)?.1,
        ("ethereum", "sign-authorization") => {
            let auth = ethereum::authorization_request(&ctx)?;
            ethereum::authorization_intent(&auth, ethereum::authority(&state, &ctx).await?)
        }
        ("bitcoin", "sign-psbt") => {
            let (_, _, _, prepared) = bitcoin::psbt_intent(&state, &ctx).await?;
            let (extra, has_policy) = bitcoin::extra_sighashes(&state, &ctx, &name).await?;
            if !has_policy && let Some((input, sighash)) = refused_sighash(&prepared.intent, &extra)
            {
                refusal = Some(PathRefusal {
                    rule: "sighash",
                    reason: format!(
                        "input {input} asks for {sighash}; list it in the request's \
                         allowed_sighash_types to sign it"
                    ),
                });
            }
            Intent::BitcoinTransaction(prepared.intent)
        }
        ("solana", "sign-message") => {
            let m = solana::prepare_message(&ctx)?;
            if let Err(LogicalError::PermissionDenied(reason)) =
                solana::check_not_a_transaction(&m.signed)
            {
                refusal = Some(PathRefusal {
                    rule: "transaction_message",
                    reason,
                });
            }
            let (_, s) = solana::solana_signer_pub(&state, &ctx).await?;
            m.intent(&s)?
        }
        ("bitcoin", "sign-message") => bitcoin::message_intent(&state, &ctx).await?.intent,
        ("solana", "sign-transaction") => {
            let bytes = solana::base64_field(
                &ctx,
                "transaction",
                wallet_core::solana::MAX_TRANSACTION_BYTES,
            )?;
            let (_, s) = solana::solana_signer_pub(&state, &ctx).await?;
            solana::transaction_intent(&bytes, &s)?.1
        }
        (chain, "sign-hash") => {
            for governed in crate::policy::CHAINS {
                if refusal.is_none()
                    && state
                        .store
                        .policy::<crate::policy::PolicyEntry>(ctx.storage.as_ref(), &name, governed)
                        .await?
                        .is_some()
                {
                    refusal = Some(PathRefusal {
                        rule: "raw_signing",
                        reason: format!(
                            "sign-hash is refused for a wallet that has a policy (this one has \
                             a {governed} policy)"
                        ),
                    });
                }
            }
            if !wallet.allow_raw_signing {
                refusal = Some(PathRefusal {
                    rule: "allow_raw_signing",
                    reason: format!("wallet \"{name}\" does not have allow_raw_signing=true"),
                });
            }
            Intent::RawHash {
                chain: match chain {
                    "ethereum" => "ethereum",
                    "bitcoin" => "bitcoin",
                    _ => "solana",
                },
            }
        }
        (chain, op) => {
            return Err(bad(format!(
                "invalid value for field \"operation\": {op} is not a {chain} signing \
                 operation (ethereum: sign-transaction, sign-message, sign-typed-data, \
                 sign-authorization; bitcoin: sign-psbt, sign-message; solana: sign-transaction, \
                 sign-message; any: sign-hash)"
            )));
        }
    };
    let outcome = dry_run(&state, ctx.storage.as_ref(), &name, &intent).await?;
    let mut data = Map::new();
    let (allowed, rule, reason) = match (refusal, outcome.denial) {
        (Some(r), _) => (false, Some(r.rule.to_string()), Some(r.reason)),
        (None, Some(d)) => (false, Some(d.rule.to_string()), Some(d.reason)),
        (None, None) => (true, None, None),
    };
    data.insert("allowed".into(), json!(allowed));
    if let Some(rule) = rule {
        data.insert("rule".into(), json!(rule));
    }
    if let Some(reason) = reason {
        data.insert("reason".into(), json!(reason));
    }
    data.insert("policy".into(), json!(outcome.has_policy));
    // Whether an allowed request would wait for approvals instead of being signed.
    let approvals = if allowed {
        state
            .store
            .policy::<crate::policy::PolicyEntry>(ctx.storage.as_ref(), &name, intent.chain())
            .await?
            .filter(|p| crate::approvals::needs_approval(p, &intent))
            .map_or(0, |p| p.approvals_required)
    } else {
        0
    };
    data.insert("approvals_required".into(), json!(approvals));
    data.insert("operation".into(), json!(op));
    data.insert("intent".into(), outcome.intent);
    Ok(Some(Response::with_data(data)))
}
