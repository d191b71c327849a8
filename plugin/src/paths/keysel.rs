//! Key selection, shared by every address and signing path (api.md "Key
//! selection"): the fields `index`, `account`, `change` and `path`, the
//! default derivation path of each chain and address type, the rules for
//! key wallets, and the lookup of the (cached) signing key.
//!
//! Default paths (hd wallets), `coin` 0 on bitcoin mainnet, 1 on test networks:
//!
//! ```text
//! ethereum             m/44'/60'/{account}'/0/{index}
//! bitcoin p2wpkh       m/84'/{coin}'/{account}'/{change}/{index}   (BIP-84)
//! bitcoin p2tr         m/86'/{coin}'/{account}'/{change}/{index}   (BIP-86)
//! bitcoin p2sh-p2wpkh  m/49'/{coin}'/{account}'/{change}/{index}   (BIP-49)
//! bitcoin p2pkh        m/44'/{coin}'/{account}'/{change}/{index}   (BIP-44)
//! solana               m/44'/501'/{index}'/0'                       (SLIP-0010, all hardened)
//! ```
//!
//! A key wallet has exactly one key: it is reported with the path `m` (the
//! key itself, as a master key is), and sending `index`, `account`, `change`
//! or `path` for it is a 400.

use std::sync::Arc;

use serde_json::{Map, Value, json};
use wallet_core::bitcoin::{self as btc, AddressType, CompressedPublicKey, Network};
use wallet_core::hd::{Curve, DerivationPath};
use wallet_core::{Secp256k1PublicKey, ethereum, solana};

use crate::backend::Crypto;
use crate::logical::{Ctx, Field, LogicalError};
use crate::store::derived::DerivedKey;
use crate::store::wallet::{Wallet, WalletKeys};

/// The largest index of a BIP32 level (below the hardened bit).
pub const MAX_INDEX: i64 = (1 << 31) - 1;

/// The most levels an explicit `path` may have.
///
/// The deepest scheme in use is BIP-48 multisig at 6 levels
/// (`m/48'/0'/0'/2'/0/0`); BIP-44/49/84/86 have 5, SLIP-0010 solana 4, EIP-2334
/// (eth2 validator keys) 5. Ten leaves four levels of room for custom
/// schemes, and bounds one derivation at ten steps where wallet-core allows
/// 255 (the depth byte of an extended key).
pub const MAX_PATH_DEPTH: usize = 10;

/// The most derivation steps (one HMAC-SHA512, plus a scalar multiplication
/// on secp256k1) one request may cost: the parent of a batch once, then the
/// index level and the levels below it for each address. The worst request
/// the API allows, a batch of 1000 on a 10-level path counting up its last
/// level, costs 9 + 1000; solana's default path (the index on level 3 of 4)
/// costs 2 + 2 × 1000. The bound refuses any combination of `count` and
/// `path` above that before deriving anything.
pub const MAX_DERIVATION_STEPS: u64 = 2 * 1000 + MAX_PATH_DEPTH as u64;

/// A chain of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chain {
    Ethereum,
    Bitcoin,
    Solana,
}

pub const CHAIN_NAMES: &[&str] = &["ethereum", "bitcoin", "solana"];
pub const NETWORK_NAMES: &[&str] = &["bitcoin", "testnet", "signet", "regtest"];
pub const ADDRESS_TYPE_NAMES: &[&str] = &["p2wpkh", "p2tr", "p2sh-p2wpkh", "p2pkh"];

impl Chain {
    pub fn parse(s: &str) -> Option<Chain> {
        match s {
            "ethereum" => Some(Chain::Ethereum),
            "bitcoin" => Some(Chain::Bitcoin),
            "solana" => Some(Chain::Solana),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Chain::Ethereum => "ethereum",
            Chain::Bitcoin => "bitcoin",
            Chain::Solana => "solana",
        }
    }

    pub fn curve(self) -> Curve {
        match self {
            Chain::Ethereum | Chain::Bitcoin => Curve::Secp256k1,
            Chain::Solana => Curve::Ed25519,
        }
    }
}

pub fn bad(msg: impl Into<String>) -> LogicalError {
    LogicalError::BadRequest(msg.into())
}

// ---- fields ---------------------------------------------------------------

pub fn name_field() -> Field {
    Field::name(
        "name",
        "The name of the wallet: 1 to 128 letters, digits, '.', '_' or '-', starting with a \
         letter or digit, without two dots in a row.",
    )
    .required()
}

pub fn index_field() -> Field {
    Field::int(
        "index",
        "The address index (the last level of the default derivation path). Defaults to 0. \
         Not allowed for key wallets.",
    )
    .range(0, MAX_INDEX)
    .default(0)
}

pub fn account_field() -> Field {
    Field::int(
        "account",
        "The account index (the hardened third level of the default derivation path). \
         Defaults to 0. Solana's default path has no account level, so only 0 is accepted \
         there. Not allowed for key wallets.",
    )
    .range(0, MAX_INDEX)
    .default(0)
}

pub fn change_field() -> Field {
    Field::int(
        "change",
        "Bitcoin only: 0 for a receive address (the default) or 1 for a change address. \
         Not allowed for key wallets.",
    )
    .one_of_ints(&[0, 1])
    .default(0)
}

pub fn path_field() -> Field {
    Field::string(
        "path",
        "An explicit derivation path such as m/44'/60'/0'/0/7 (h or H also mark a hardened \
         level), at most 10 levels (the deepest standard scheme, BIP-48 multisig, has 6). \
         Overrides index, account and change. Every level must be hardened on solana. Not \
         allowed for key wallets.",
    )
}

/// `index`, `account`, `change` and `path`.
pub fn key_fields() -> Vec<Field> {
    vec![index_field(), account_field(), change_field(), path_field()]
}

pub fn address_type_field() -> Field {
    Field::string(
        "address_type",
        "Bitcoin only: the address type, p2wpkh (native segwit, BIP-84; the default), p2tr \
         (taproot key path, BIP-86), p2sh-p2wpkh (nested segwit, BIP-49) or p2pkh (legacy, \
         BIP-44). It also chooses the default derivation path.",
    )
    .one_of(ADDRESS_TYPE_NAMES)
}

pub fn network_field() -> Field {
    Field::string(
        "network",
        "Bitcoin only: bitcoin (mainnet, the default), testnet, signet or regtest. Test \
         networks use coin type 1 in default paths, tpub extended keys and test addresses.",
    )
    .one_of(NETWORK_NAMES)
}

// ---- parsing ----------------------------------------------------------------

/// The validated wallet name (the framework parsed it; required, so present).
pub fn wallet_name(ctx: &Ctx) -> Result<String, LogicalError> {
    ctx.fields
        .str("name")
        .map(str::to_string)
        .ok_or_else(|| bad("missing required field \"name\""))
}

pub fn not_found(name: &str) -> LogicalError {
    LogicalError::NotFound(format!("wallet \"{name}\" not found"))
}

/// The wallet named in the request, from the cache (no storage round trip
/// when warm) or storage; 404 when it does not exist.
pub async fn load_wallet(state: &Crypto, ctx: &Ctx) -> Result<(String, Arc<Wallet>), LogicalError> {
    let name = wallet_name(ctx)?;
    let wallet = state
        .store
        .wallet(ctx.storage.as_ref(), &name)
        .await?
        .ok_or_else(|| not_found(&name))?;
    Ok((name, wallet))
}

/// A chain given in a field or path segment (already restricted to
/// [`CHAIN_NAMES`] by the field, so a miss is our own fault).
pub fn chain_of(ctx: &Ctx, field: &str) -> Result<Chain, LogicalError> {
    let s = ctx.fields.str(field).unwrap_or("ethereum");
    Chain::parse(s).ok_or_else(|| {
        bad(format!(
            "invalid value for field \"{field}\": must be one of ethereum, bitcoin, solana"
        ))
    })
}

fn u32_field(ctx: &Ctx, field: &str) -> u32 {
    // Range-checked by the field (0..2^31-1), so the conversion cannot fail.
    ctx.fields
        .int(field)
        .and_then(|v| u32::try_from(v).ok())
        .unwrap_or(0)
}

/// The bitcoin options of a request (`address_type`, `network`); a 400
/// when they are sent for another chain.
#[derive(Debug, Clone, Copy, Default)]
pub struct BitcoinOpts {
    pub address_type: AddressType,
    pub network: Network,
}

pub fn bitcoin_opts(ctx: &Ctx, chain: Chain) -> Result<BitcoinOpts, LogicalError> {
    if chain != Chain::Bitcoin {
        for f in ["address_type", "network"] {
            if ctx.fields.is_sent(f) {
                return Err(bad(format!(
                    "field \"{f}\" is only valid for bitcoin, not {}",
                    chain.as_str()
                )));
            }
        }
        return Ok(BitcoinOpts::default());
    }
    let address_type = match ctx.fields.str("address_type") {
        Some(s) => s.parse().map_err(|_| {
            bad(format!(
                "invalid value for field \"address_type\": must be one of {}",
                ADDRESS_TYPE_NAMES.join(", ")
            ))
        })?,
        None => AddressType::default(),
    };
    Ok(BitcoinOpts {
        address_type,
        network: network_of(ctx)?,
    })
}

/// The `network` field (default bitcoin mainnet).
pub fn network_of(ctx: &Ctx) -> Result<Network, LogicalError> {
    match ctx.fields.str("network") {
        Some(s) => s.parse().map_err(|_| {
            bad(format!(
                "invalid value for field \"network\": must be one of {}",
                NETWORK_NAMES.join(", ")
            ))
        }),
        None => Ok(Network::Bitcoin),
    }
}

/// The requested key: the derivation path of an hd wallet, or `None` for
/// the one key of a key wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRequest {
    pub curve: Curve,
    pub path: Option<DerivationPath>,
    /// The index a batch of addresses counts up from (`index`, or the last
    /// level of an explicit path).
    pub index: u32,
    /// Which level of `path` (0-based) that index is: the last one, except
    /// on solana's default path `m/44'/501'/{index}'/0'`.
    pub index_level: usize,
}

/// Parses an explicit `path` field: at most [`MAX_PATH_DEPTH`] levels,
/// counted before any level is parsed.
pub fn parse_path(ctx: &Ctx, field: &str) -> Result<Option<DerivationPath>, LogicalError> {
    match ctx.fields.str(field) {
        None => Ok(None),
        Some(s) => DerivationPath::parse_max_depth(s.trim(), MAX_PATH_DEPTH)
            .map(Some)
            .map_err(|e| bad(format!("invalid value for field \"{field}\": {e}"))),
    }
}

/// The derivation steps of `count` keys counting up `req`'s index level:
/// the levels above it once, then the index level and the ones below it
/// for each key (what `addresses` does).
pub fn derivation_steps(req: &KeyRequest, count: u32) -> u64 {
    let depth = req.path.as_ref().map_or(0, DerivationPath::depth) as u64;
    let above = (req.index_level as u64).min(depth);
    above + u64::from(count.max(1)) * (depth - above).max(1)
}

/// Refuses a request whose derivations would cost more than
/// [`MAX_DERIVATION_STEPS`], naming the fields that set the cost.
pub fn check_derivation_work(req: &KeyRequest, count: u32) -> Result<(), LogicalError> {
    let steps = derivation_steps(req, count);
    if steps > MAX_DERIVATION_STEPS {
        return Err(bad(format!(
            "invalid value for field \"count\": {count} keys on this path take {steps} \
             derivation steps, at most {MAX_DERIVATION_STEPS} are allowed per request; lower \
             count or use a shorter path"
        )));
    }
    Ok(())
}

/// Applies the key selection rules of api.md to a request.
pub fn select_key(
    ctx: &Ctx,
    wallet: &Wallet,
    chain: Chain,
    btc: BitcoinOpts,
) -> Result<KeyRequest, LogicalError> {
    let curve = chain.curve();
    if let WalletKeys::Key(k) = &wallet.keys {
        if k.curve() != curve {
            return Err(bad(format!(
                "wallet \"{}\" is a {} key wallet and cannot be used on {}, which needs {}",
                wallet.name,
                k.curve(),
                chain.as_str(),
                curve
            )));
        }
        for f in ["index", "account", "change", "path"] {
            if ctx.fields.is_sent(f) {
                return Err(bad(format!(
                    "field \"{f}\" is not allowed for key wallets: wallet \"{}\" has exactly \
                     one key",
                    wallet.name
                )));
            }
        }
        return Ok(KeyRequest {
            curve,
            path: None,
            index: 0,
            index_level: 0,
        });
    }
    if chain != Chain::Bitcoin && ctx.fields.is_sent("change") {
        return Err(bad(format!(
            "field \"change\" is only valid for bitcoin, not {}",
            chain.as_str()
        )));
    }
    let index = u32_field(ctx, "index");
    let account = u32_field(ctx, "account");
    let change = u32_field(ctx, "change");
    if let Some(path) = parse_path(ctx, "path")? {
        if chain == Chain::Solana
            && let Some(level) = path.first_non_hardened()
        {
            return Err(bad(format!(
                "invalid value for field \"path\": solana keys are derived by SLIP-0010 \
                 ed25519, where every level must be hardened; level {level} is not"
            )));
        }
        let index = path.levels().last().map_or(0, |l| l.index());
        let index_level = path.depth().saturating_sub(1);
        return Ok(KeyRequest {
            curve,
            path: Some(path),
            index,
            index_level,
        });
    }
    let path = match chain {
        Chain::Ethereum => DerivationPath::ethereum(account, index),
        Chain::Solana => {
            if account != 0 {
                return Err(bad(
                    "field \"account\" is not used by solana's default path m/44'/501'/{index}'/0'; \
                     use index, or an explicit path",
                ));
            }
            DerivationPath::solana(index)
        }
        Chain::Bitcoin => DerivationPath::bip44_style(
            btc.address_type.purpose(),
            btc.network.coin_type(),
            account,
            change,
            index,
        ),
    }
    .map_err(|e| bad(format!("invalid key selection: {e}")))?;
    let index_level = match chain {
        Chain::Solana => 2,
        _ => path.depth().saturating_sub(1),
    };
    Ok(KeyRequest {
        curve,
        path: Some(path),
        index,
        index_level,
    })
}

// ---- the signer -------------------------------------------------------------

/// The key a request signs with, and the path it is reported under.
pub struct Signer {
    pub key: Arc<DerivedKey>,
    pub path: DerivationPath,
}

impl Signer {
    pub fn path_string(&self) -> String {
        self.path.to_string()
    }

    pub fn secp256k1(&self) -> Result<&wallet_core::Secp256k1PrivateKey, LogicalError> {
        match &*self.key {
            DerivedKey::Secp256k1 { key, .. } => Ok(key),
            DerivedKey::Ed25519 { .. } => Err(LogicalError::Internal(
                "expected a secp256k1 key, found ed25519".into(),
            )),
        }
    }

    pub fn ed25519(&self) -> Result<&wallet_core::Ed25519PrivateKey, LogicalError> {
        match &*self.key {
            DerivedKey::Ed25519 { key, .. } => Ok(key),
            DerivedKey::Secp256k1 { .. } => Err(LogicalError::Internal(
                "expected an ed25519 key, found secp256k1".into(),
            )),
        }
    }

    pub fn secp256k1_public(&self) -> Result<Secp256k1PublicKey, LogicalError> {
        Ok(self.secp256k1()?.public_key())
    }
}

/// The signing key for a request: from the derived-key cache, or derived
/// once (hd) and cached until the wallet's cache entry goes away.
pub fn signer(
    state: &Crypto,
    name: &str,
    wallet: &Arc<Wallet>,
    req: &KeyRequest,
) -> Result<Signer, LogicalError> {
    let path = req.path.clone().unwrap_or_else(DerivationPath::master);
    let key = state
        .store
        .derived_key(name, wallet, req.curve, &path, |w| {
            derive(w, req.curve, &path)
        })?;
    Ok(Signer { key, path })
}

/// Derives a key from the wallet (the slow path of [`signer`]).
pub fn derive(
    wallet: &Wallet,
    curve: Curve,
    path: &DerivationPath,
) -> Result<DerivedKey, LogicalError> {
    match &wallet.keys {
        WalletKeys::Key(k) => match (k, curve) {
            (wallet_core::KeyWallet::Secp256k1(key), Curve::Secp256k1) if path.depth() == 0 => {
                Ok(DerivedKey::secp256k1(key.clone()))
            }
            (wallet_core::KeyWallet::Ed25519(key), Curve::Ed25519) if path.depth() == 0 => {
                Ok(DerivedKey::ed25519(key.clone()))
            }
            _ => Err(bad(format!(
                "wallet \"{}\" is a key wallet with one {} key at path m",
                wallet.name,
                k.curve()
            ))),
        },
        WalletKeys::Hd { hd, .. } => match curve {
            Curve::Secp256k1 => hd
                .derive_secp256k1(path)
                .map(DerivedKey::secp256k1)
                .map_err(|e| bad(format!("invalid value for field \"path\": {e}"))),
            Curve::Ed25519 => hd
                .derive_ed25519(path)
                .map(DerivedKey::ed25519)
                .map_err(|e| bad(format!("invalid value for field \"path\": {e}"))),
        },
    }
}

// ---- public identities --------------------------------------------------------

/// `0x` + hex, as Ethereum formats binary data.
pub fn hex0x(bytes: &[u8]) -> String {
    ethereum::to_hex(bytes)
}

/// The address of a public key on a chain. `public` is 33 bytes for
/// secp256k1 and 32 for ed25519.
pub fn address_of(public: &[u8], chain: Chain, btc: BitcoinOpts) -> Result<String, LogicalError> {
    let internal = |what: &str| LogicalError::Internal(format!("deriving the address: {what}"));
    match chain {
        Chain::Ethereum => {
            let pk = Secp256k1PublicKey::from_sec1_bytes(public)
                .map_err(|_| internal("invalid public key"))?;
            Ok(ethereum::address(&pk).to_checksum())
        }
        Chain::Bitcoin => {
            let pk = CompressedPublicKey::from_slice(public)
                .map_err(|_| internal("invalid public key"))?;
            btc::address(&pk, btc.address_type, btc.network).map_err(|e| internal(&e.to_string()))
        }
        Chain::Solana => {
            let bytes: [u8; 32] = public
                .try_into()
                .map_err(|_| internal("invalid public key"))?;
            Ok(solana::address(&wallet_core::Ed25519PublicKey::from_bytes(
                bytes,
            )))
        }
    }
}

/// The public key as the addresses path reports it: hex (with `0x` on
/// ethereum, where binary data is always `0x` hex).
pub fn public_key_hex(public: &[u8], chain: Chain) -> String {
    match chain {
        Chain::Ethereum => hex0x(public),
        Chain::Bitcoin | Chain::Solana => hex::encode(public),
    }
}

/// The signer fields of a signing response: `address`, `path`, `public_key`
/// (solana signing paths report the public key in base58, like the address).
pub fn signer_fields(
    data: &mut Map<String, Value>,
    signer: &Signer,
    chain: Chain,
    btc: BitcoinOpts,
) -> Result<(), LogicalError> {
    let public = signer.key.public_bytes();
    let address = match (&*signer.key, chain) {
        // From the key's own (affine) public point: no decompression of
        // the stored SEC1 bytes on the signing hot path.
        (DerivedKey::Secp256k1 { key, .. }, Chain::Ethereum) => {
            ethereum::address(&key.public_key()).to_checksum()
        }
        _ => address_of(public, chain, btc)?,
    };
    let public_key = match chain {
        Chain::Solana => address.clone(),
        _ => public_key_hex(public, chain),
    };
    data.insert("address".into(), json!(address));
    data.insert("path".into(), json!(signer.path_string()));
    data.insert("public_key".into(), json!(public_key));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(path: &str, index_level: usize) -> KeyRequest {
        let path: DerivationPath = path.parse().expect("path");
        KeyRequest {
            curve: Curve::Secp256k1,
            index: 0,
            index_level,
            path: Some(path),
        }
    }

    #[test]
    fn the_worst_requests_the_api_allows_fit_the_step_bound() {
        let deepest = format!("m{}", "/0".repeat(MAX_PATH_DEPTH));
        // An explicit path counts up its last level: 9 + 1000.
        let explicit = req(&deepest, MAX_PATH_DEPTH - 1);
        assert_eq!(derivation_steps(&explicit, 1000), 1009);
        assert!(check_derivation_work(&explicit, 1000).is_ok());
        // Solana's default path counts up level 3 of 4: 2 + 2 x 1000.
        let solana = req("m/44'/501'/0'/0'", 2);
        assert_eq!(derivation_steps(&solana, 1000), 2002);
        assert!(check_derivation_work(&solana, 1000).is_ok());
        // One key on the deepest path: 10 steps.
        assert_eq!(derivation_steps(&explicit, 1), 10);
    }

    #[test]
    fn count_times_depth_above_the_bound_is_refused_naming_count() {
        // Counting up the first level of a 10-level path would cost
        // 1000 x 10 steps: refused before any derivation.
        let r = req(&format!("m{}", "/0".repeat(MAX_PATH_DEPTH)), 0);
        assert_eq!(derivation_steps(&r, 1000), 10_000);
        match check_derivation_work(&r, 1000) {
            Err(LogicalError::BadRequest(m)) => {
                assert!(m.contains("\"count\"") && m.contains("2010"), "{m}")
            }
            other => panic!("expected a 400, got {other:?}"),
        }
        assert!(check_derivation_work(&r, 200).is_ok());
    }

    #[test]
    fn a_path_deeper_than_the_bound_is_refused_naming_the_field_and_limit() {
        let ok = format!("m{}", "/1'".repeat(MAX_PATH_DEPTH));
        assert_eq!(
            DerivationPath::parse_max_depth(&ok, MAX_PATH_DEPTH)
                .expect("10 levels")
                .depth(),
            10
        );
        let deep = format!("m{}", "/1'".repeat(MAX_PATH_DEPTH + 1));
        let e = DerivationPath::parse_max_depth(&deep, MAX_PATH_DEPTH).expect_err("11 levels");
        assert_eq!(
            e.to_string(),
            "derivation path has 11 levels, at most 10 are allowed"
        );
    }
}
