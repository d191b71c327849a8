//! `wallets/` (LIST) and `wallets/{name}` (create, update, read, delete).

use std::sync::Arc;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use wallet_core::Passphrase;
use wallet_core::hd::Curve;

use crate::backend::Crypto;
use crate::logical::{
    Ctx, Field, HandlerResult, LogicalError, Operation, Path, Response, existence, handler,
    list_response,
};
use crate::store::wallet::{KeySource, Wallet, WalletFlags};

const LIST_SYNOPSIS: &str = "List the names of all wallets.";
const LIST_DESCRIPTION: &str = "\
Returns the names of every wallet of this mount under `keys`. Nothing secret is returned.";

const WALLET_SYNOPSIS: &str = "Create, update, read or delete a wallet.";
const WALLET_DESCRIPTION: &str = "\
A wallet is either `hd` (a BIP39 mnemonic with an optional passphrase, from which keys are \
derived by BIP32 for secp256k1 and SLIP-0010 for ed25519) or `key` (one imported private key \
on one curve).

Writing to a new name creates the wallet: by default a 24-word mnemonic is generated from the \
operating system's randomness; send `mnemonic` to import one, or `private_key` and `curve` to \
import a single key. Writing to an existing wallet can only change `deletion_allowed` and \
`allow_raw_signing`; every other field is a 400 there. The host tells the two apart (its \
existence check): an ACL `create` capability creates new wallets only, `update` changes existing \
ones only, and a create that races with another for the same name is a 400.

Reading returns only public facts: the type, the curve (key wallets), the BIP32 master key \
fingerprint and word count (hd wallets), the flags, the creation time and the chains that have \
a signing policy. The mnemonic, passphrase and private key are never returned here.

Deleting is refused unless `deletion_allowed` is true, and removes the wallet together with \
its policies and counters.";

/// Largest `mnemonic` accepted, in bytes: 24 English words with single
/// spaces take at most 215, so this leaves room for any whitespace a paste
/// brings, and keeps a 10 MB body from being normalized and split.
pub const MAX_MNEMONIC_BYTES: usize = 1024;

/// Largest `passphrase` accepted, in bytes. BIP39 sets no bound, but the
/// passphrase is stored with the wallet (a host's storage entry is bounded,
/// e.g. raft's 1 MiB `max_entry_size`, and a larger one would be a 500) and
/// is hashed again each time the wallet is decoded.
pub const MAX_PASSPHRASE_BYTES: usize = 1024;

/// Fields that can only be sent when the wallet is created.
const CREATE_ONLY: &[&str] = &[
    "mnemonic",
    "passphrase",
    "words",
    "private_key",
    "curve",
    "exportable",
];

fn name_field() -> Field {
    Field::name(
        "name",
        "The name of the wallet: 1 to 128 letters, digits, '.', '_' or '-', starting with a \
         letter or digit, without two dots in a row.",
    )
    .required()
}

pub fn list_path() -> Path<Crypto> {
    Path::new("wallets/")
        .operation(
            Operation::List,
            "List the names of all wallets.",
            handler(list),
        )
        .help(LIST_SYNOPSIS, LIST_DESCRIPTION)
}

pub fn wallet_path() -> Path<Crypto> {
    Path::new("wallets/{name}")
        .field(name_field())
        .field(
            Field::string(
                "mnemonic",
                "A BIP39 mnemonic to import instead of generating one (English, 12 to 24 words, \
                 checksum verified; at most 1024 bytes). Only when the wallet is created.",
            )
            .secret(),
        )
        .field(
            Field::string(
                "passphrase",
                "The BIP39 passphrase (the \"25th word\") of an hd wallet, at most 1024 bytes \
                 (UTF-8). Only when the wallet is created.",
            )
            .secret(),
        )
        .field(
            Field::int(
                "words",
                "The number of words of a generated mnemonic: 12, 15, 18, 21 or 24. Only when \
                 the wallet is created and no mnemonic is imported.",
            )
            .one_of_ints(&[12, 15, 18, 21, 24])
            .default(24),
        )
        .field(
            Field::string(
                "private_key",
                "One raw private key to import as a key wallet: 32 bytes as hex, with or \
                 without 0x (for ed25519 the 32-byte seed). Requires curve. Only when the \
                 wallet is created.",
            )
            .secret(),
        )
        .field(
            Field::string(
                "curve",
                "The curve of private_key: secp256k1 or ed25519. Only with private_key.",
            )
            .one_of(&["secp256k1", "ed25519"]),
        )
        .field(
            Field::bool(
                "exportable",
                "Whether the secret can be read back through the export path. Can only be set \
                 when the wallet is created.",
            )
            .default(false),
        )
        .field(
            Field::bool(
                "deletion_allowed",
                "Whether the wallet may be deleted. May be changed later.",
            )
            .default(false),
        )
        .field(
            Field::bool(
                "allow_raw_signing",
                "Whether sign-hash may sign raw digests with this wallet, bypassing every \
                 policy. May be changed later.",
            )
            .default(false),
        )
        .operation(
            Operation::Create,
            "Create a wallet, generating or importing its keys (400 if the name exists).",
            handler(create),
        )
        .operation(
            Operation::Update,
            "Change the flags of an existing wallet (deletion_allowed, allow_raw_signing); 404 \
             if it does not exist.",
            handler(update),
        )
        .operation(
            Operation::Read,
            "Read the public facts of a wallet.",
            handler(read),
        )
        .operation(
            Operation::Delete,
            "Delete a wallet with its policies and counters.",
            handler(delete),
        )
        .existence_check(existence(exists))
        .help(WALLET_SYNOPSIS, WALLET_DESCRIPTION)
}

/// The validated `name` (the framework parsed it; required, so present).
fn name(ctx: &Ctx) -> Result<String, LogicalError> {
    ctx.fields
        .str("name")
        .map(str::to_string)
        .ok_or_else(|| LogicalError::BadRequest("missing required field \"name\"".into()))
}

fn not_found(name: &str) -> LogicalError {
    LogicalError::NotFound(format!("wallet \"{name}\" not found"))
}

async fn list(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    let names = state.store.list_wallets(ctx.storage.as_ref()).await?;
    Ok(Some(list_response(names)))
}

async fn exists(state: Arc<Crypto>, ctx: Ctx) -> Result<bool, LogicalError> {
    let name = name(&ctx)?;
    state.store.wallet_exists(ctx.storage.as_ref(), &name).await
}

async fn read(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    let name = name(&ctx)?;
    let storage = ctx.storage.as_ref();
    let wallet = state
        .store
        .wallet(storage, &name)
        .await?
        .ok_or_else(|| not_found(&name))?;
    let policies = state.store.policy_chains(storage, &name).await?;
    Ok(Some(facts(&wallet, policies)))
}

/// The public facts of a wallet: never a secret.
pub fn facts(wallet: &Wallet, policies: Vec<String>) -> Response {
    let mut data = Map::new();
    data.insert("name".into(), json!(wallet.name));
    data.insert("type".into(), json!(wallet.kind()));
    if let Some(curve) = wallet.curve() {
        data.insert("curve".into(), json!(curve.as_str()));
    }
    if let Some(fp) = wallet.fingerprint_hex() {
        data.insert("fingerprint".into(), json!(fp));
    }
    if let Some(words) = wallet.words() {
        data.insert("words".into(), json!(words));
    }
    data.insert("exportable".into(), json!(wallet.exportable));
    data.insert("deletion_allowed".into(), json!(wallet.deletion_allowed));
    data.insert("allow_raw_signing".into(), json!(wallet.allow_raw_signing));
    data.insert("created_time".into(), json!(wallet.created_time));
    data.insert("policies".into(), Value::from(policies));
    Response::with_data(data)
}

async fn create(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    write(state, ctx, true).await
}

async fn update(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    write(state, ctx, false).await
}

/// Create means create and update means update (Vault's ACLs tell the two
/// apart through the existence check): a create of an existing name is a
/// 400 (a create-only token cannot adopt or overwrite a wallet), an update
/// of a missing one a 404 that never generates keys. Whether the wallet
/// exists is decided again under its lock, so two racing creates cannot
/// both generate keys.
async fn write(state: Arc<Crypto>, mut ctx: Ctx, create: bool) -> HandlerResult {
    let name = name(&ctx)?;
    let storage = Arc::clone(&ctx.storage);
    let guard = state.store.lock(&name).await;
    let existing = state
        .store
        .wallet_for_update(&guard, storage.as_ref())
        .await?;
    if create && existing.is_some() {
        return Err(LogicalError::BadRequest(format!(
            "wallet \"{name}\" already exists; a create never changes an existing wallet \
             (update it to change its flags)"
        )));
    }
    if !create && existing.is_none() {
        return Err(not_found(&name));
    }
    if let Some(mut wallet) = existing {
        if let Some(field) = CREATE_ONLY.iter().find(|f| ctx.fields.is_sent(f)) {
            return Err(LogicalError::BadRequest(format!(
                "field \"{field}\" can only be set when the wallet is created; wallet \
                 \"{name}\" already exists"
            )));
        }
        if let Some(v) = sent_bool(&ctx, "deletion_allowed") {
            wallet.deletion_allowed = v;
        }
        if let Some(v) = sent_bool(&ctx, "allow_raw_signing") {
            wallet.allow_raw_signing = v;
        }
        let wallet = state
            .store
            .put_wallet(&guard, storage.as_ref(), wallet)
            .await?;
        let policies = state.store.policy_chains(storage.as_ref(), &name).await?;
        return Ok(Some(facts(&wallet, policies)));
    }

    let source = key_source(&mut ctx)?;
    let flags = WalletFlags {
        exportable: ctx.fields.bool("exportable").unwrap_or(false),
        deletion_allowed: ctx.fields.bool("deletion_allowed").unwrap_or(false),
        allow_raw_signing: ctx.fields.bool("allow_raw_signing").unwrap_or(false),
    };
    let created_time = OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .map_err(|e| LogicalError::Internal(format!("formatting the creation time: {e}")))?;
    // BIP39 seed derivation runs 2048 PBKDF2 rounds: keep it off the async workers.
    let wallet_name = name.clone();
    let wallet = tokio::task::spawn_blocking(move || {
        Wallet::create(&wallet_name, source, flags, created_time)
    })
    .await
    .map_err(|e| LogicalError::Internal(format!("wallet creation task failed: {e}")))??;
    let wallet = state
        .store
        .put_wallet(&guard, storage.as_ref(), wallet)
        .await?;
    log::info!(wallet = name.as_str(), kind = wallet.kind(); "wallet created");
    Ok(Some(facts(&wallet, Vec::new())))
}

fn too_large(field: &str, max: usize) -> LogicalError {
    LogicalError::BadRequest(format!(
        "invalid value for field \"{field}\": larger than {max} bytes"
    ))
}

fn sent_bool(ctx: &Ctx, field: &str) -> Option<bool> {
    if ctx.fields.is_sent(field) {
        ctx.fields.bool(field)
    } else {
        None
    }
}

/// Decides where the keys of a new wallet come from, checking which fields
/// go together.
fn key_source(ctx: &mut Ctx) -> Result<KeySource, LogicalError> {
    let fields = &mut ctx.fields;
    let conflict = |a: &str, b: &str| {
        LogicalError::BadRequest(format!("field \"{a}\" cannot be combined with \"{b}\""))
    };
    let has_mnemonic = fields.is_sent("mnemonic");
    let has_key = fields.is_sent("private_key");
    if has_mnemonic && has_key {
        return Err(conflict("private_key", "mnemonic"));
    }
    if has_key {
        if fields.is_sent("passphrase") {
            return Err(conflict("passphrase", "private_key"));
        }
        if fields.is_sent("words") {
            return Err(conflict("words", "private_key"));
        }
        let curve = match fields.str("curve") {
            Some("secp256k1") => Curve::Secp256k1,
            Some("ed25519") => Curve::Ed25519,
            _ => {
                return Err(LogicalError::BadRequest(
                    "missing required field \"curve\": private_key needs curve secp256k1 or \
                     ed25519"
                        .into(),
                ));
            }
        };
        let hex = fields
            .take_secret("private_key")
            .ok_or_else(|| LogicalError::BadRequest("missing field \"private_key\"".into()))?;
        return Ok(KeySource::Key { curve, hex });
    }
    if fields.is_sent("curve") {
        return Err(LogicalError::BadRequest(
            "field \"curve\" is only valid with private_key".into(),
        ));
    }
    let passphrase = fields.take_secret("passphrase").unwrap_or_default();
    if passphrase.len() > MAX_PASSPHRASE_BYTES {
        return Err(too_large("passphrase", MAX_PASSPHRASE_BYTES));
    }
    let passphrase = Passphrase::new(passphrase.as_str());
    if has_mnemonic {
        if fields.is_sent("words") {
            return Err(conflict("words", "mnemonic"));
        }
        let phrase = fields
            .take_secret("mnemonic")
            .ok_or_else(|| LogicalError::BadRequest("missing field \"mnemonic\"".into()))?;
        if phrase.len() > MAX_MNEMONIC_BYTES {
            return Err(too_large("mnemonic", MAX_MNEMONIC_BYTES));
        }
        return Ok(KeySource::Mnemonic { phrase, passphrase });
    }
    let words = fields.int("words").unwrap_or(24);
    Ok(KeySource::Generate {
        words: u64::try_from(words).unwrap_or(0),
        passphrase,
    })
}

async fn delete(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    let name = name(&ctx)?;
    let storage = ctx.storage.as_ref();
    let guard = state.store.lock(&name).await;
    let wallet = state
        .store
        .wallet_for_update(&guard, storage)
        .await?
        .ok_or_else(|| not_found(&name))?;
    if !wallet.deletion_allowed {
        // A 400 like transit's "deletion is not allowed for this key".
        return Err(LogicalError::BadRequest(format!(
            "deletion is not allowed for wallet \"{name}\"; set deletion_allowed=true first"
        )));
    }
    drop(wallet);
    state.store.delete_wallet(&guard, storage).await?;
    log::info!(wallet = name.as_str(); "wallet deleted");
    Ok(None)
}

#[cfg(test)]
mod tests;
