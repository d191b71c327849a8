//! `wallets/{name}/xpub` (read): an account's extended public key and, for
//! bitcoin, its output descriptor.

use std::sync::Arc;

use serde_json::{Map, json};
use wallet_core::bitcoin::{self as btc};
use wallet_core::hd::{DerivationPath, version};

use crate::backend::Crypto;
use crate::logical::{Ctx, Field, HandlerResult, LogicalError, Operation, Path, Response, handler};
use crate::paths::keysel::{
    self, CHAIN_NAMES, Chain, account_field, address_type_field, bad, bitcoin_opts, load_wallet,
    name_field, network_field, parse_path,
};
use crate::store::wallet::WalletKeys;

const SYNOPSIS: &str = "Read an account's extended public key (xpub) and descriptor.";
const DESCRIPTION: &str = "\
Returns the BIP32 extended public key of an account of an hd wallet: `xpub` (serialized as \
xpub on mainnet and ethereum, tpub on bitcoin test networks), its `path`, the master key \
`fingerprint` and, for bitcoin, the output `descriptor` of the account with its receive and \
change branches, e.g. wpkh([73c5da0a/84'/0'/0']xpub.../<0;1>/*)#checksum.

The account path defaults to m/44'/60'/{account}' on ethereum and \
m/{purpose}'/{coin}'/{account}' on bitcoin (purpose 84, 86, 49 or 44 by address_type; coin 0 on \
mainnet, 1 on test networks); send `path` for another account-level path. Solana (SLIP-0010 \
ed25519 has no public derivation) and key wallets have no xpub: 400.";

pub fn xpub_path() -> Path<Crypto> {
    Path::new("wallets/{name}/xpub")
        .field(name_field())
        .field(
            Field::string(
                "chain",
                "The chain whose account to export: ethereum (the default) or bitcoin. Solana \
                 has no extended public keys.",
            )
            .one_of(CHAIN_NAMES)
            .default("ethereum"),
        )
        .field(address_type_field())
        .field(network_field())
        .field(account_field())
        .field(Field::string(
            "path",
            "An explicit account-level derivation path such as m/84'/0'/5', at most 10 levels. \
             Overrides account.",
        ))
        .operation(
            Operation::Read,
            "Read the extended public key of an account.",
            handler(read_xpub),
        )
        .help(SYNOPSIS, DESCRIPTION)
}

async fn read_xpub(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    let (name, wallet) = load_wallet(&state, &ctx).await?;
    let chain = keysel::chain_of(&ctx, "chain")?;
    if chain == Chain::Solana {
        return Err(bad(
            "invalid value for field \"chain\": solana keys are derived by SLIP-0010 ed25519, \
             which has no extended public keys",
        ));
    }
    let opts = bitcoin_opts(&ctx, chain)?;
    let WalletKeys::Hd { hd, .. } = &wallet.keys else {
        return Err(bad(format!(
            "wallet \"{name}\" is a key wallet: it has one key and no extended public key"
        )));
    };
    let account = ctx
        .fields
        .int("account")
        .and_then(|a| u32::try_from(a).ok())
        .unwrap_or(0);
    let path = match parse_path(&ctx, "path")? {
        Some(p) => p,
        None => match chain {
            Chain::Bitcoin => DerivationPath::account_level(
                opts.address_type.purpose(),
                opts.network.coin_type(),
                account,
            ),
            _ => DerivationPath::account_level(44, 60, account),
        }
        .map_err(|e| bad(format!("invalid value for field \"account\": {e}")))?,
    };
    let ver = if chain == Chain::Bitcoin && opts.network.is_test() {
        version::TPUB
    } else {
        version::XPUB
    };
    // Never cached: derived off the async workers (at most 10 steps).
    let xpub = crate::store::derived::off_async_workers(|| hd.extended_public_key(&path, ver))
        .map_err(|e| bad(format!("invalid value for field \"path\": {e}")))?
        .encode();
    let fingerprint = hd.master_fingerprint();
    let mut data = Map::new();
    data.insert("chain".into(), json!(chain.as_str()));
    data.insert("xpub".into(), json!(xpub));
    data.insert("path".into(), json!(path.to_string()));
    data.insert("fingerprint".into(), json!(hex::encode(fingerprint)));
    if chain == Chain::Bitcoin {
        let raw: Vec<u32> = path.levels().iter().map(|l| l.raw()).collect();
        let descriptor = btc::account_descriptor(opts.address_type, fingerprint, &raw, &xpub)
            .map_err(|e| LogicalError::Internal(format!("building the descriptor: {e}")))?;
        data.insert("descriptor".into(), json!(descriptor));
        data.insert("address_type".into(), json!(opts.address_type.as_str()));
        data.insert("network".into(), json!(opts.network.as_str()));
    }
    Ok(Some(Response::with_data(data)))
}
