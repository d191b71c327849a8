//! `wallets/{name}/xpub` (read): an account's extended public key and, for
//! bitcoin, its output descriptor.

use std::sync::Arc;

use serde_json::{Map, json};
use wallet_core::bitcoin::{self as btc};
use wallet_core::hd::{DerivationPath, version};

use crate::backend::Crypto;
use crate::logical::{Ctx, Field, HandlerResult, LogicalError, Operation, Path, Response, handler};
use crate::paths::keysel::{
    self, CHAIN_NAMES, Chain, account_field, bad, bitcoin_opts, load_wallet, name_field,
    network_field, network_of, parse_path,
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
ed25519 has no public derivation) and key wallets have no xpub: 400.

Multisig (BIP-48): address_type p2wsh-multisig exports m/48'/{coin}'/{account}'/2' and p2sh-p2wsh-multisig m/48'/{coin}'/{account}'/1', as a plain xpub/tpub (not the SLIP-132 Zpub/Ypub forms: descriptors take xpub/tpub) with `descriptor_key`, this wallet's key for a wsh(sortedmulti(m,...)) or sh(wsh(sortedmulti(m,...))) descriptor with origin, e.g. [73c5da0a/48'/0'/0'/2']xpub.../<0;1>/*. There is no single-key `descriptor` then: the cosigners' keys complete it.";

/// `address_type` names of this path: the single-key types and the two
/// BIP-48 multisig account types.
const XPUB_ADDRESS_TYPES: &[&str] = &[
    "p2wpkh",
    "p2tr",
    "p2sh-p2wpkh",
    "p2pkh",
    "p2wsh-multisig",
    "p2sh-p2wsh-multisig",
];

fn xpub_address_type_field() -> Field {
    Field::string(
        "address_type",
        "Bitcoin only: p2wpkh (BIP-84, the default), p2tr (BIP-86), p2sh-p2wpkh (BIP-49), \
         p2pkh (BIP-44), or a BIP-48 multisig account: p2wsh-multisig (script type 2') or \
         p2sh-p2wsh-multisig (script type 1'). It chooses the default account path.",
    )
    .one_of(XPUB_ADDRESS_TYPES)
}

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
        .field(xpub_address_type_field())
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
    // BIP-48 script type of a multisig account: 2' P2WSH, 1' P2SH-P2WSH.
    let multisig = match ctx.fields.str("address_type") {
        Some("p2wsh-multisig") => Some(2u32),
        Some("p2sh-p2wsh-multisig") => Some(1u32),
        _ => None,
    };
    if multisig.is_some() && chain != Chain::Bitcoin {
        return Err(bad(format!(
            "field \"address_type\" is only valid for bitcoin, not {}",
            chain.as_str()
        )));
    }
    let opts = match multisig {
        Some(_) => keysel::BitcoinOpts {
            network: network_of(&ctx)?,
            ..Default::default()
        },
        None => bitcoin_opts(&ctx, chain)?,
    };
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
            Chain::Bitcoin if let Some(script) = multisig => DerivationPath::from_pairs(&[
                (48, true),
                (opts.network.coin_type(), true),
                (account, true),
                (script, true),
            ]),
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
    if let Some(script) = multisig {
        let raw: Vec<u32> = path.levels().iter().map(|l| l.raw()).collect();
        let key = btc::multisig_descriptor_key(fingerprint, &raw, &xpub)
            .map_err(|e| LogicalError::Internal(format!("building the descriptor key: {e}")))?;
        data.insert("descriptor_key".into(), json!(key));
        data.insert(
            "address_type".into(),
            json!(if script == 2 {
                "p2wsh-multisig"
            } else {
                "p2sh-p2wsh-multisig"
            }),
        );
        data.insert("network".into(), json!(opts.network.as_str()));
    } else if chain == Chain::Bitcoin {
        let raw: Vec<u32> = path.levels().iter().map(|l| l.raw()).collect();
        let descriptor = btc::account_descriptor(opts.address_type, fingerprint, &raw, &xpub)
            .map_err(|e| LogicalError::Internal(format!("building the descriptor: {e}")))?;
        data.insert("descriptor".into(), json!(descriptor));
        data.insert("address_type".into(), json!(opts.address_type.as_str()));
        data.insert("network".into(), json!(opts.network.as_str()));
    }
    Ok(Some(Response::with_data(data)))
}
