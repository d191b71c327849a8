//! `sign-hash/{name}`: raw digest signing, refused unless the wallet has
//! `allow_raw_signing=true`, and always refused on a chain that has a
//! policy (a raw digest says nothing a policy could judge: no chain id, no
//! recipient, no value). It lives outside `wallets/<name>/` so that a
//! signer's grant on that prefix never covers it.

use std::sync::Arc;

use serde_json::{Map, json};
use wallet_core::sign_hash::{sign_ed25519, sign_hash_secp256k1};
use wallet_core::solana;

use crate::backend::Crypto;
use crate::logical::{Ctx, Field, HandlerResult, LogicalError, Operation, Path, Response, handler};
use crate::paths::keysel::{
    self, CHAIN_NAMES, Chain, address_type_field, bad, bitcoin_opts, hex0x, key_fields,
    load_wallet, name_field, network_field, select_key, signer, signer_fields,
};
use crate::policy::{Intent, enforce};

/// Largest ed25519 input accepted (secp256k1 digests are exactly 32 bytes).
pub const MAX_HASH_BYTES: usize = 64 * 1024;

const SYNOPSIS: &str = "Sign a raw digest (only with allow_raw_signing).";
const DESCRIPTION: &str = "\
Signs `hash` (0x hex) with the selected key, without knowing what it means: on ethereum and \
bitcoin a recoverable secp256k1 ECDSA signature over exactly 32 bytes, returned as 0x hex of \
65 bytes r||s||v with low S and v = 27 + recovery id; on solana an ed25519 signature over \
the bytes, returned in base58. The signer's `address`, `path` and `public_key` come with it.

A raw digest is exactly what a policy cannot see, so this path is refused (403) unless the \
wallet has allow_raw_signing=true, and refused whatever that flag says when the wallet has a \
policy on any chain (rule raw_signing): a key of one chain can be selected under another \
chain's name with an explicit path.";

pub fn sign_hash_path() -> Path<Crypto> {
    Path::new("sign-hash/{name}")
        .field(name_field())
        .field(
            Field::string(
                "chain",
                "The chain whose key signs: ethereum or bitcoin (secp256k1 ECDSA) or solana \
                 (ed25519). Required.",
            )
            .one_of(CHAIN_NAMES)
            .required(),
        )
        .field(
            Field::string(
                "hash",
                "The digest as 0x hex: exactly 32 bytes for ethereum and bitcoin; the bytes \
                 to sign (at most 64 KiB) for solana. Required.",
            )
            .required(),
        )
        .fields(key_fields())
        .field(address_type_field())
        .field(network_field())
        .batch()
        .operation(Operation::Update, "Sign a raw digest.", handler(sign_hash))
        .help(SYNOPSIS, DESCRIPTION)
}

async fn sign_hash(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    let (name, wallet) = load_wallet(&state, &ctx).await?;
    if !wallet.allow_raw_signing {
        return Err(LogicalError::PermissionDenied(format!(
            "raw signing is not allowed for wallet \"{name}\": sign-hash requires the flag \
             allow_raw_signing=true, because a raw digest bypasses every signing policy"
        )));
    }
    let chain = keysel::chain_of(&ctx, "chain")?;
    let opts = bitcoin_opts(&ctx, chain)?;
    let text = ctx.fields.str("hash").unwrap_or("").trim();
    if text.len() > 2 + 2 * MAX_HASH_BYTES {
        return Err(bad(format!(
            "invalid value for field \"hash\": larger than {MAX_HASH_BYTES} bytes"
        )));
    }
    let digest = wallet_core::ethereum::parse_hex_bytes(text, "hash")
        .map_err(|_| bad("invalid value for field \"hash\": must be 0x-prefixed hex with an even number of digits"))?;
    if chain != Chain::Solana && digest.len() != 32 {
        return Err(bad(format!(
            "invalid value for field \"hash\": must be exactly 32 bytes for {}, got {}",
            chain.as_str(),
            digest.len()
        )));
    }
    let req = select_key(&ctx, &wallet, chain, opts)?;
    let s = signer(&state, &name, &wallet, &req)?;
    // A key of one chain can be selected under another chain's name (an
    // explicit path, or a key wallet's one key): a policy on ANY chain of the
    // wallet refuses raw signing, or a bitcoin-governed key would sign a
    // sighash as "ethereum".
    for governed in crate::policy::CHAINS {
        if state
            .store
            .policy::<crate::policy::PolicyEntry>(ctx.storage.as_ref(), &name, governed)
            .await?
            .is_some()
        {
            return Err(crate::policy::Denial::new(
                "raw_signing",
                format!(
                    "sign-hash is refused for a wallet that has a policy (this one has a \
                     {governed} policy): a raw digest is what a policy cannot see, and any key \
                     of the wallet can be selected"
                ),
            )
            .into_error());
        }
    }
    let intent = enforce(
        &state,
        ctx.storage.as_ref(),
        &name,
        &Intent::RawHash {
            chain: chain.as_str(),
        },
    )
    .await?;
    let signature = match chain {
        Chain::Solana => solana::signature_to_base58(&sign_ed25519(s.ed25519()?, &digest)),
        Chain::Ethereum | Chain::Bitcoin => hex0x(
            &sign_hash_secp256k1(s.secp256k1()?, &digest)
                .map_err(|e| LogicalError::Internal(format!("signing failed: {e}")))?,
        ),
    };
    let mut out = Map::new();
    signer_fields(&mut out, &s, chain, opts)?;
    out.insert("chain".into(), json!(chain.as_str()));
    out.insert("signature".into(), json!(signature));
    out.insert("intent".into(), intent);
    log::info!(wallet = name.as_str(), chain = chain.as_str(); "raw digest signed");
    Ok(Some(Response::with_data(out)))
}
