//! `wallets/{name}/bitcoin/sign-psbt`: BIP-174 PSBT v0 signing, and
//! `wallets/{name}/bitcoin/sign-message`: BIP-322 and legacy messages.
//!
//! The wallet is a [`Secp256k1KeySource`] over the derived-key cache, so a
//! PSBT whose inputs were signed before (same paths) derives nothing from
//! the seed. Parsing, the policy summary and the sighashes (legacy sighash
//! is quadratic in the transaction size) run on the blocking pool.

use std::sync::Arc;

use base64::Engine as _;
use rand::TryRngCore as _;
use serde_json::{Map, Value, json};
use wallet_core::bitcoin::{
    AddressType, BitcoinError, CompressedPublicKey, MAX_PSBT_BYTES, Network, Psbt,
    Secp256k1KeySource, SignOptions, address_from_script, format_path, sign_message_bip322,
    sign_message_legacy, sign_psbt, summarize_psbt,
};
use wallet_core::hd::{ChildIndex, Curve, DerivationPath};

use crate::approvals::{Gate, gate};
use crate::backend::Crypto;
use crate::logical::{Ctx, Field, HandlerResult, LogicalError, Operation, Path, Response, handler};
use crate::paths::keysel::{
    BitcoinOpts, Chain, NETWORK_NAMES, Signer, address_of, address_type_field, bad, bitcoin_opts,
    derive, key_fields, load_wallet, name_field, network_field, network_of, select_key, signer,
    signer_fields,
};
use crate::policy::bitcoin::{allowed_sighashes, refused_sighash};
use crate::policy::intent::{BtcInput, BtcOutput, BtcTransaction, MessageIntent};
use crate::policy::{Intent, PolicyEntry};
use crate::store::derived::DerivedKey;
use crate::store::wallet::{Wallet, WalletKeys};

const SYNOPSIS: &str = "Sign a PSBT (BIP-174 v0 or BIP-370 v2).";
const DESCRIPTION: &str = "\
Signs every input of `psbt` (base64, at most 4 MB; BIP-174 version 0 or BIP-370 version 2, \
answered in the same version) whose bip32_derivation (or, for taproot \
key-path inputs, tap_bip32_derivation) names this wallet's master key fingerprint and whose \
key derives to the listed key: P2WPKH, P2SH-P2WPKH, P2PKH and P2TR key-path inputs, with low-S \
ECDSA or BIP-340 Schnorr signatures and the sighash type each input asks for. Inputs this \
wallet cannot sign are left untouched; a PSBT with no input for this wallet is a 400. A key \
wallet acts as a master key: its fingerprint is that of its public key, with the path m.

Only SIGHASH_ALL (and DEFAULT on taproot) is signed unless the wallet's bitcoin policy lists \
other types in allowed_sighash_types, or, for a wallet without a bitcoin policy, the request \
lists them in `allowed_sighash_types`. The wallet's bitcoin policy is checked first, against \
every output that is not change (change is an output whose bip32_derivation names this \
wallet's own internal chain m/purpose'/coin'/account'/1/i with i below 1000000 and the \
purpose of its script type), compared as output scripts, and against the fee (inputs minus \
outputs), which counts as spent value; with any amount limit every input amount must be \
proven. The response's `intent` shows what was evaluated. Returns `psbt` (base64, signed), \
`signed_inputs` (indices), `signers` ({input, address, path, public_key} per signed input; the \
first one is also given as `address`, `path` and `public_key`) and, when finalize is true and \
every input is complete, the network `transaction` (hex) and its `txid`.

Multisig co-signing: a P2WSH or P2SH-P2WSH input whose witness_script (hashing to the spent script; for P2SH-P2WSH its redeem_script being the script's P2WSH) is a multi/sortedmulti script (OP_m <compressed keys> OP_n OP_CHECKMULTISIG, n at most 20, no key twice) holding a key this wallet derives at a bip32_derivation naming its fingerprint gets this wallet's BIP-143 partial signature. `multisig` lists such inputs with {input, threshold, keys, valid_signatures, finalized, status}: every partial signature for a key of the script is verified, and with finalize an input holding at least threshold valid ones gets its final witness (empty dummy, signatures in script key order, witness script; plus the scriptSig for P2SH-P2WSH); otherwise it stays partial (status \"partial\"). With a policy, the whole transaction is evaluated as for single-key inputs. An output is multisig change only when every input this wallet signs spends the same multisig (same script type, threshold and proven account keys) and the output pays that multisig at m/.../1/i: its witness_script has the same threshold and keys each proven at .../1/i (one i): this wallet's from its seed at its BIP-48 account, every cosigner's by deriving it from a PSBT_GLOBAL_XPUB entry whose origin is the key's account; anything unproven is a recipient.";

pub fn sign_psbt_path() -> Path<Crypto> {
    Path::new("wallets/{name}/bitcoin/sign-psbt")
        .field(name_field())
        .field(
            Field::string(
                "psbt",
                "The PSBT to sign, BIP-174 version 0 or BIP-370 version 2, base64 encoded. Required.",
            )
            .required(),
        )
        .field(
            Field::string(
                "network",
                "The network of the transaction: bitcoin (the default), testnet, signet or \
                 regtest. It decides how output addresses are written for policies and in \
                 the response.",
            )
            .one_of(NETWORK_NAMES),
        )
        .field(Field::string_list(
            "allowed_sighash_types",
            "For a wallet without a bitcoin policy: sighash types to sign beyond ALL (and \
             DEFAULT on taproot), e.g. [\"SINGLE|ANYONECANPAY\"]. With a policy, the policy's \
             allowed_sighash_types decide and this field cannot widen them.",
        ))
        .field(
            Field::bool(
                "finalize",
                "Whether to finalize the inputs and, when every input is complete, return the \
                 network transaction. Defaults to false.",
            )
            .default(false),
        )
        .operation(Operation::Update, "Sign a PSBT.", handler(sign))
        .help(SYNOPSIS, DESCRIPTION)
}

/// The most derivation levels one request may compute from the seed (keys
/// not in the derived-key cache). Every `bip32_derivation` naming this
/// wallet's fingerprint is derived, at up to 255 levels each: without a
/// budget, 3 800 such entries of a 4 MB PSBT cost minutes of CPU. 20 000
/// levels are 4 000 five-level BIP-44 paths, more than the inputs and change
/// outputs of a standard-size transaction (at most 100 000 bytes).
pub const MAX_DERIVED_LEVELS: usize = 20_000;

/// The wallet as a PSBT key source, through the derived-key cache.
pub struct WalletKeySource {
    state: Arc<Crypto>,
    name: String,
    wallet: Arc<Wallet>,
    fingerprint: [u8; 4],
    /// Levels derived from the seed by this request so far.
    derived_levels: std::sync::atomic::AtomicUsize,
}

impl WalletKeySource {
    pub fn new(
        state: Arc<Crypto>,
        name: String,
        wallet: Arc<Wallet>,
    ) -> Result<Self, LogicalError> {
        let fingerprint = match &wallet.keys {
            WalletKeys::Hd { hd, .. } => hd.master_fingerprint(),
            WalletKeys::Key(wallet_core::KeyWallet::Secp256k1(k)) => {
                wallet_core::hd::fingerprint(&k.public_key())
            }
            WalletKeys::Key(_) => {
                return Err(bad(format!(
                    "wallet \"{name}\" is an ed25519 key wallet and cannot sign bitcoin, which \
                     needs secp256k1"
                )));
            }
        };
        Ok(Self {
            state,
            name,
            wallet,
            fingerprint,
            derived_levels: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    fn key(&self, path: &[u32]) -> Result<Arc<DerivedKey>, BitcoinError> {
        if path.len() > wallet_core::hd::MAX_DEPTH {
            return Err(BitcoinError::InvalidPath("deeper than 255 levels"));
        }
        let levels = path.iter().map(|r| ChildIndex::from_raw(*r)).collect();
        let path = DerivationPath::from_levels(levels)
            .map_err(|_| BitcoinError::InvalidPath("deeper than 255 levels"))?;
        let mut over_budget = false;
        let key =
            self.state
                .store
                .derived_key(&self.name, &self.wallet, Curve::Secp256k1, &path, |w| {
                    // Only a cache miss derives: count its levels first.
                    let before = self
                        .derived_levels
                        .fetch_add(path.depth(), std::sync::atomic::Ordering::Relaxed);
                    if before.saturating_add(path.depth()) > MAX_DERIVED_LEVELS {
                        over_budget = true;
                        return Err(bad("derivation budget exceeded"));
                    }
                    derive(w, Curve::Secp256k1, &path)
                });
        if over_budget {
            return Err(BitcoinError::InvalidPsbt(format!(
                "its key origins naming this wallet need more than {MAX_DERIVED_LEVELS} \
                 derivation levels"
            )));
        }
        key.map_err(|_| BitcoinError::KeyDerivation)
    }
}

impl Secp256k1KeySource for WalletKeySource {
    fn master_fingerprint(&self) -> [u8; 4] {
        self.fingerprint
    }

    fn derive_signing_key(&self, path: &[u32]) -> Result<k256::ecdsa::SigningKey, BitcoinError> {
        match &*self.key(path)? {
            DerivedKey::Secp256k1 { key, .. } => Ok(key.to_k256()),
            DerivedKey::Ed25519 { .. } => Err(BitcoinError::KeyDerivation),
        }
    }

    fn derive_public_key(&self, path: &[u32]) -> Result<CompressedPublicKey, BitcoinError> {
        CompressedPublicKey::from_slice(self.key(path)?.public_bytes())
    }

    fn is_single_key(&self) -> bool {
        matches!(self.wallet.keys, WalletKeys::Key(_))
    }
}

fn btc_error(e: BitcoinError) -> LogicalError {
    match e {
        BitcoinError::Signing => LogicalError::Internal("signing failed".into()),
        BitcoinError::NothingToSign => bad(
            "invalid value for field \"psbt\": no input of the psbt can be signed by this wallet",
        ),
        other => bad(format!("invalid value for field \"psbt\": {other}")),
    }
}

/// What the policy sees of a PSBT, computed before any signature exists.
pub struct Prepared {
    pub psbt: Psbt,
    pub intent: BtcTransaction,
}

pub fn prepare(
    text: &str,
    keys: &WalletKeySource,
    network: Network,
) -> Result<Prepared, LogicalError> {
    let psbt = Psbt::from_base64(text).map_err(btc_error)?;
    let fp = keys.master_fingerprint();
    if !(0..psbt.input_count()).any(|i| !psbt.input_origins(i, fp).is_empty()) {
        return Err(bad(format!(
            "invalid value for field \"psbt\": no input names this wallet's master key \
             fingerprint {}",
            hex::encode(fp)
        )));
    }
    let summary = summarize_psbt(&psbt, keys, network).map_err(btc_error)?;
    let intent = BtcTransaction {
        inputs: summary
            .inputs
            .iter()
            .map(|i| BtcInput {
                index: i.index,
                ours: i.ours,
                amount: i.amount,
                sighash: i.sighash,
                taproot: i.is_taproot,
            })
            .collect(),
        outputs: summary
            .outputs
            .iter()
            .map(|o| BtcOutput {
                index: o.index,
                script_pubkey: o.script_pubkey.clone(),
                address: o.address.clone(),
                value: o.value,
                is_change: o.is_change,
            })
            .collect(),
        fee: summary.fee,
        amounts_proven: summary.amounts_proven,
        estimated_vsize: summary.estimated_vsize,
    };
    Ok(Prepared { psbt, intent })
}

/// Parses and summarizes a sign-psbt request off the async workers.
pub async fn psbt_intent(
    state: &Arc<Crypto>,
    ctx: &Ctx,
) -> Result<(String, Arc<WalletKeySource>, Network, Prepared), LogicalError> {
    let (name, wallet) = load_wallet(state, ctx).await?;
    let network = network_of(ctx)?;
    let text = ctx
        .fields
        .str("psbt")
        .ok_or_else(|| bad("missing required field \"psbt\""))?
        .trim()
        .to_string();
    if text.len() > MAX_PSBT_BYTES.div_ceil(3) * 4 {
        return Err(bad(format!(
            "invalid value for field \"psbt\": larger than {MAX_PSBT_BYTES} bytes"
        )));
    }
    let keys = Arc::new(WalletKeySource::new(
        Arc::clone(state),
        name.clone(),
        wallet,
    )?);
    let k = Arc::clone(&keys);
    let prepared = tokio::task::spawn_blocking(move || prepare(&text, &k, network))
        .await
        .map_err(|e| LogicalError::Internal(format!("psbt task failed: {e}")))??;
    Ok((name, keys, network, prepared))
}

/// The sighash types beyond the defaults this request may sign: the
/// policy's when the wallet has a bitcoin policy, else the request's.
pub async fn extra_sighashes(
    state: &Crypto,
    ctx: &Ctx,
    name: &str,
) -> Result<(Vec<u32>, bool), LogicalError> {
    let policy = state
        .store
        .policy::<PolicyEntry>(ctx.storage.as_ref(), name, "bitcoin")
        .await?;
    if let Some(p) = policy {
        return Ok((allowed_sighashes(&p.allowed_sighash_types), true));
    }
    let names = ctx
        .fields
        .string_list("allowed_sighash_types")
        .unwrap_or(&[]);
    let mut out = Vec::new();
    for n in names {
        let v = wallet_core::bitcoin::parse_sighash_name(&n.trim().to_ascii_uppercase())
            .ok_or_else(|| {
                bad(format!(
                    "invalid value for field \"allowed_sighash_types\": {n:?} is not a sighash \
                     type (ALL, NONE, SINGLE, ALL|ANYONECANPAY, NONE|ANYONECANPAY, \
                     SINGLE|ANYONECANPAY, DEFAULT)"
                ))
            })?;
        out.push(v);
    }
    Ok((out, false))
}

fn signers(psbt: &Psbt, signed: &[usize], keys: &WalletKeySource, network: Network) -> Vec<Value> {
    let fp = keys.master_fingerprint();
    let mut out = Vec::new();
    for &i in signed {
        let address = psbt
            .spent_output(i)
            .ok()
            .flatten()
            .and_then(|o| address_from_script(&o.script_pubkey, network));
        for path in psbt.input_origins(i, fp) {
            let Ok(public) = keys.derive_public_key(&path) else {
                continue;
            };
            out.push(json!({
                "input": i,
                "address": address,
                "path": format_path(&path),
                "public_key": hex::encode(public.to_bytes()),
            }));
        }
    }
    out
}

async fn sign(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    let finalize = ctx.fields.bool("finalize").unwrap_or(false);
    let (name, keys, network, prepared) = psbt_intent(&state, &ctx).await?;
    let (extra, has_policy) = extra_sighashes(&state, &ctx, &name).await?;
    if !has_policy && let Some((input, sighash)) = refused_sighash(&prepared.intent, &extra) {
        return Err(LogicalError::PermissionDenied(format!(
            "sighash: input {input} asks for {sighash}, which signs less than the whole \
             transaction; list it in the request's allowed_sighash_types to sign it"
        )));
    }
    let intent = match gate(
        &state,
        &ctx,
        &name,
        &Intent::BitcoinTransaction(prepared.intent.clone()),
    )
    .await?
    {
        Gate::Sign(intent) => intent,
        Gate::Pending(pending) => return Ok(Some(pending)),
    };

    // BIP-340 auxiliary randomness from the OS (side-channel hardening).
    let mut aux_rand = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut aux_rand)
        .map_err(|e| LogicalError::Internal(format!("os randomness: {e}")))?;
    let options = SignOptions {
        finalize,
        aux_rand,
        allowed_sighash: extra,
    };
    let k = Arc::clone(&keys);
    let (signed, signer_list) = tokio::task::spawn_blocking(move || {
        let signed = sign_psbt(&prepared.psbt, &*k, &options).map_err(btc_error)?;
        // From the PSBT as given: finalizing removes the key origins.
        let list = signers(&prepared.psbt, &signed.signed_inputs, &k, network);
        Ok::<_, LogicalError>((signed, list))
    })
    .await
    .map_err(|e| LogicalError::Internal(format!("psbt task failed: {e}")))??;

    let mut out = Map::new();
    if let Some(Value::Object(first)) = signer_list.first() {
        for f in ["address", "path", "public_key"] {
            if let Some(v) = first.get(f) {
                out.insert(f.into(), v.clone());
            }
        }
    }
    out.insert("psbt".into(), json!(signed.psbt.to_base64()));
    out.insert("signed_inputs".into(), json!(signed.signed_inputs));
    out.insert("signers".into(), Value::Array(signer_list));
    let multisig: Vec<Value> = signed
        .multisig
        .iter()
        .map(|m| {
            json!({
                "input": m.index,
                "threshold": m.threshold,
                "keys": m.keys,
                "valid_signatures": m.valid_signatures,
                "finalized": m.finalized,
                "status": if m.finalized {
                    "finalized"
                } else if m.valid_signatures >= m.threshold {
                    "complete"
                } else {
                    "partial"
                },
            })
        })
        .collect();
    if !multisig.is_empty() {
        out.insert("multisig".into(), Value::Array(multisig));
    }
    out.insert("network".into(), json!(network.as_str()));
    out.insert("intent".into(), intent);
    if let (Some(tx), Some(txid)) = (&signed.transaction, &signed.txid) {
        out.insert("transaction".into(), json!(hex::encode(tx)));
        out.insert("txid".into(), json!(txid));
    }
    Ok(Some(Response::with_data(out)))
}

// ---- sign-message -------------------------------------------------------------

const MSG_SYNOPSIS: &str = "Sign a message with BIP-322 or the legacy Bitcoin format.";
const MSG_DESCRIPTION: &str = "\
Signs `message` (UTF-8 text) or `message_hex` (bytes as hex, with or without 0x; exactly one, \
at most 65536 bytes, empty allowed) for the address of the selected key (key selection, \
`address_type` and `network` as for addresses). `format` bip322 (the default) answers the \
BIP-322 \"simple\" signature (base64 of the witness stack) for p2wpkh and p2tr (key path, \
BIP-86 tweak), and the \"full\" one (base64 of the signed to_sign transaction) for p2sh-p2wpkh \
and p2pkh, where a witness alone cannot prove the address; `encoding` says which. `format` \
legacy answers the 65-byte compact signature over double-SHA256 of \"\\x18Bitcoin Signed \
Message:\\n\" + varint(length) + message, base64, with the BIP-137 header byte of the address \
type (31-34 p2pkh, 35-38 p2sh-p2wpkh, 39-42 p2wpkh); p2tr has no legacy form (400). Signatures \
are SIGHASH_ALL (DEFAULT on taproot) over transactions that spend nothing real. Returns \
`signature`, `encoding`, `format`, the signer's `address`, `path` and `public_key`, and the \
`intent` (format, address, message length and SHA-256). With a bitcoin policy, message \
signing is refused unless the policy sets allow_message_signing=true.";

pub const MESSAGE_FORMATS: &[&str] = &["bip322", "legacy"];

pub fn sign_message_path() -> Path<Crypto> {
    Path::new("wallets/{name}/bitcoin/sign-message")
        .field(name_field())
        .fields(key_fields())
        .field(address_type_field())
        .field(network_field())
        .field(Field::string(
            "message",
            "The message as UTF-8 text. Send this or message_hex, not both.",
        ))
        .field(Field::string(
            "message_hex",
            "The message as hex bytes (0x optional). Send this or message, not both.",
        ))
        .field(
            Field::string(
                "format",
                "bip322 (the default; simple or full by address type) or legacy (the \
                 \"Bitcoin Signed Message:\" compact signature; not for p2tr).",
            )
            .one_of(MESSAGE_FORMATS),
        )
        .operation(
            Operation::Update,
            "Sign a Bitcoin message.",
            handler(sign_message),
        )
        .help(MSG_SYNOPSIS, MSG_DESCRIPTION)
}

/// The bytes of a bitcoin sign-message request, bounded before decoding.
fn message_bytes(ctx: &Ctx) -> Result<Vec<u8>, LogicalError> {
    let max = wallet_core::bitcoin::MAX_MESSAGE_BYTES;
    match (ctx.fields.str("message"), ctx.fields.str("message_hex")) {
        (Some(_), Some(_)) => Err(bad(
            "send exactly one of field \"message\" or field \"message_hex\", not both",
        )),
        (None, None) => Err(bad(
            "missing required field \"message\" (or \"message_hex\")",
        )),
        (Some(text), None) => {
            if text.len() > max {
                return Err(bad(format!(
                    "invalid value for field \"message\": larger than {max} bytes"
                )));
            }
            Ok(text.as_bytes().to_vec())
        }
        (None, Some(h)) => {
            let h = h.trim();
            let h = h
                .strip_prefix("0x")
                .or_else(|| h.strip_prefix("0X"))
                .unwrap_or(h);
            if h.len() > 2 * max {
                return Err(bad(format!(
                    "invalid value for field \"message_hex\": larger than {max} bytes"
                )));
            }
            hex::decode(h).map_err(|_| {
                bad("invalid value for field \"message_hex\": not hex with an even number of digits")
            })
        }
    }
}

/// A decoded bitcoin sign-message request: what is signed, by which key,
/// and the intent the policy sees.
pub struct MessageRequest {
    pub message: Vec<u8>,
    pub legacy: bool,
    pub opts: BitcoinOpts,
    pub signer: Signer,
    pub name: String,
    pub intent: Intent,
}

pub async fn message_intent(state: &Crypto, ctx: &Ctx) -> Result<MessageRequest, LogicalError> {
    let message = message_bytes(ctx)?;
    let format = ctx.fields.str("format").unwrap_or("bip322");
    let legacy = match format {
        "bip322" => false,
        "legacy" => true,
        _ => {
            return Err(bad(
                "invalid value for field \"format\": must be one of bip322, legacy",
            ));
        }
    };
    let opts = bitcoin_opts(ctx, Chain::Bitcoin)?;
    if legacy && opts.address_type == AddressType::P2tr {
        return Err(bad(
            "invalid value for field \"format\": the legacy message format has no p2tr form \
             (address_type p2tr); use format bip322",
        ));
    }
    let (name, wallet) = load_wallet(state, ctx).await?;
    let req = select_key(ctx, &wallet, Chain::Bitcoin, opts)?;
    let s = signer(state, &name, &wallet, &req)?;
    let address = address_of(s.key.public_bytes(), Chain::Bitcoin, opts)?;
    let intent = Intent::BitcoinMessage(MessageIntent::new(
        if legacy { "legacy" } else { "bip322" },
        address,
        &message,
    ));
    Ok(MessageRequest {
        message,
        legacy,
        opts,
        signer: s,
        name,
        intent,
    })
}

async fn sign_message(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    let r = message_intent(&state, &ctx).await?;
    let intent = match gate(&state, &ctx, &r.name, &r.intent).await? {
        Gate::Sign(intent) => intent,
        Gate::Pending(pending) => return Ok(Some(pending)),
    };
    let key = r.signer.secp256k1()?;
    let signed = if r.legacy {
        sign_message_legacy(key, r.opts.address_type, &r.message)
    } else {
        let mut aux_rand = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut aux_rand)
            .map_err(|e| LogicalError::Internal(format!("os randomness: {e}")))?;
        sign_message_bip322(key, r.opts.address_type, &r.message, &aux_rand)
    }
    .map_err(|e| match e {
        BitcoinError::TooLarge { len, max, .. } => bad(format!(
            "invalid value for field \"message\": {len} bytes, at most {max}"
        )),
        BitcoinError::LegacyTaproot => bad(format!("invalid value for field \"format\": {e}")),
        other => LogicalError::Internal(format!("signing the message: {other}")),
    })?;
    let mut out = Map::new();
    signer_fields(&mut out, &r.signer, Chain::Bitcoin, r.opts)?;
    out.insert(
        "signature".into(),
        json!(base64::engine::general_purpose::STANDARD.encode(&signed.bytes)),
    );
    out.insert(
        "format".into(),
        json!(if r.legacy { "legacy" } else { "bip322" }),
    );
    out.insert("encoding".into(), json!(signed.encoding.as_str()));
    out.insert("address_type".into(), json!(r.opts.address_type.as_str()));
    out.insert("network".into(), json!(r.opts.network.as_str()));
    out.insert("intent".into(), intent);
    Ok(Some(Response::with_data(out)))
}
