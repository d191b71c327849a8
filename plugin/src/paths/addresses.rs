//! `wallets/{name}/addresses/{chain}` (read): one address, or a batch of
//! consecutive addresses, of a wallet on ethereum, bitcoin or solana.

use std::sync::Arc;

use serde_json::{Map, Value, json};
use wallet_core::hd::{ChildIndex, Curve, DerivationPath};

use crate::backend::Crypto;
use crate::logical::{Ctx, Field, HandlerResult, LogicalError, Operation, Path, Response, handler};
use crate::paths::keysel::{
    self, BitcoinOpts, CHAIN_NAMES, Chain, KeyRequest, address_of, address_type_field, bad,
    bitcoin_opts, key_fields, load_wallet, name_field, network_field, public_key_hex, select_key,
    signer,
};
use crate::store::wallet::{Wallet, WalletKeys};

/// The largest batch of addresses one request may derive.
pub const MAX_COUNT: i64 = 1000;

const SYNOPSIS: &str = "Derive addresses of a wallet on ethereum, bitcoin or solana.";
const DESCRIPTION: &str = "\
Returns the `address`, its derivation `path` and its `public_key` (hex: the 33-byte \
compressed secp256k1 key, 0x-prefixed on ethereum, or the 32-byte ed25519 key) for the key \
selected by index, account, change (bitcoin) or an explicit path. Ethereum addresses are \
EIP-55 checksummed. On bitcoin, address_type and network choose the address encoding and \
the default path.

With count greater than 1 the response also lists `addresses`: count consecutive addresses \
as {index, address, path, public_key}, starting at index (or at the last level of an \
explicit path; on solana's default path, at the account-like index level). A key wallet has \
one key, so count must be 1 there.";

pub fn addresses_path() -> Path<Crypto> {
    Path::new("wallets/{name}/addresses/{chain}")
        .field(name_field())
        .field(
            Field::string("chain", "The chain: ethereum, bitcoin or solana.")
                .one_of(CHAIN_NAMES)
                .required(),
        )
        .fields(key_fields())
        .field(address_type_field())
        .field(network_field())
        .field(
            Field::int(
                "count",
                "How many consecutive addresses to derive, from 1 (the default) to 1000.",
            )
            .range(1, MAX_COUNT)
            .default(1),
        )
        .operation(
            Operation::Read,
            "Derive one or more addresses.",
            handler(read_addresses),
        )
        .help(SYNOPSIS, DESCRIPTION)
}

async fn read_addresses(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    let (name, wallet) = load_wallet(&state, &ctx).await?;
    let chain = keysel::chain_of(&ctx, "chain")?;
    let opts = bitcoin_opts(&ctx, chain)?;
    let req = select_key(&ctx, &wallet, chain, opts)?;
    let count = ctx
        .fields
        .int("count")
        .and_then(|c| u32::try_from(c).ok())
        .unwrap_or(1);
    if count > 1 && matches!(wallet.keys, WalletKeys::Key(_)) {
        return Err(bad(format!(
            "invalid value for field \"count\": wallet \"{name}\" is a key wallet with exactly \
             one key, so count must be 1"
        )));
    }
    keysel::check_derivation_work(&req, count)?;

    let mut data = Map::new();
    data.insert("chain".into(), json!(chain.as_str()));
    if chain == Chain::Bitcoin {
        data.insert("address_type".into(), json!(opts.address_type.as_str()));
        data.insert("network".into(), json!(opts.network.as_str()));
    }
    if count == 1 {
        // One key: through the derived-key cache, so that a following
        // signature with the same key is warm.
        let s = signer(&state, &name, &wallet, &req)?;
        let public = s.key.public_bytes();
        data.insert("address".into(), json!(address_of(public, chain, opts)?));
        data.insert("path".into(), json!(s.path_string()));
        data.insert("public_key".into(), json!(public_key_hex(public, chain)));
        return Ok(Some(Response::with_data(data)));
    }

    // A batch: public keys only, never cached; the parent once and then at
    // most two steps per key (`check_derivation_work`), on the blocking pool.
    let wallet = Arc::clone(&wallet);
    let entries = tokio::task::spawn_blocking(move || batch(&wallet, chain, opts, &req, count))
        .await
        .map_err(|e| LogicalError::Internal(format!("address derivation task failed: {e}")))??;
    if let Some(Value::Object(first)) = entries.first() {
        for k in ["address", "path", "public_key"] {
            if let Some(v) = first.get(k) {
                data.insert(k.into(), v.clone());
            }
        }
    }
    data.insert("addresses".into(), Value::Array(entries));
    Ok(Some(Response::with_data(data)))
}

/// `count` consecutive keys, counting up the request's index level.
fn batch(
    wallet: &Wallet,
    chain: Chain,
    opts: BitcoinOpts,
    req: &KeyRequest,
    count: u32,
) -> Result<Vec<Value>, LogicalError> {
    let WalletKeys::Hd { hd, .. } = &wallet.keys else {
        return Err(LogicalError::Internal(
            "batch derivation of a key wallet".into(),
        ));
    };
    let Some(first) = &req.path else {
        return Err(LogicalError::Internal(
            "batch derivation without a path".into(),
        ));
    };
    let last = req.index.checked_add(count - 1);
    if first.depth() == 0 || last.is_none_or(|l| l > keysel::MAX_INDEX as u32) {
        return Err(bad(format!(
            "invalid value for field \"count\": index {} plus {count} addresses exceeds the \
             largest index 2147483647",
            req.index
        )));
    }
    let level = req.index_level;
    let levels = first.levels();
    let (Some(above), Some(at), Some(tail)) = (
        levels.get(..level),
        levels.get(level),
        levels.get(level + 1..),
    ) else {
        return Err(LogicalError::Internal(
            "batch index level outside the path".into(),
        ));
    };
    let hardened = at.is_hardened();
    let path_at = |i: u32| -> Result<DerivationPath, LogicalError> {
        let mut levels = levels.to_vec();
        let child = if hardened {
            ChildIndex::hardened(i)
        } else {
            ChildIndex::normal(i)
        };
        if let Some(l) = levels.get_mut(level) {
            *l = child.ok_or_else(|| bad("invalid value for field \"count\": index too large"))?;
        }
        DerivationPath::from_levels(levels).map_err(|e| bad(format!("invalid key selection: {e}")))
    };
    let path_error =
        |e: wallet_core::hd::HdError| bad(format!("invalid value for field \"path\": {e}"));

    // The levels above the index level are derived once; then each key costs
    // the index level and the levels below it (solana's default path has
    // one, `0'`; every other batch counts up the last level).
    let parent = DerivationPath::from_levels(above.to_vec())
        .map_err(|e| bad(format!("invalid key selection: {e}")))?;
    let publics: Vec<Vec<u8>> = match req.curve {
        Curve::Secp256k1 => hd
            .secp256k1_public_keys_batch(&parent, req.index, hardened, count, tail)
            .map_err(path_error)?
            .iter()
            .map(|k| k.to_compressed().to_vec())
            .collect(),
        Curve::Ed25519 => hd
            .ed25519_public_keys_batch(&parent, req.index, count, tail)
            .map_err(path_error)?
            .iter()
            .map(|k| k.to_bytes().to_vec())
            .collect(),
    };

    let mut entries = Vec::with_capacity(publics.len());
    for (i, public) in (req.index..).zip(&publics) {
        entries.push(json!({
            "index": i,
            "address": address_of(public, chain, opts)?,
            "path": path_at(i)?.to_string(),
            "public_key": public_key_hex(public, chain),
        }));
    }
    Ok(entries)
}
