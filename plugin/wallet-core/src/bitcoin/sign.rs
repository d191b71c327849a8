//! The PSBT signer, finalizer and extractor, and what a spending policy
//! needs to know about a PSBT's outputs.

use k256::ecdsa::SigningKey;
use k256::elliptic_curve::ops::MulByGenerator;
use k256::elliptic_curve::point::AffineCoordinates;
use k256::{ProjectivePoint, Scalar};

use super::address::{
    CompressedPublicKey, address_from_script, p2pkh_script, p2sh_script, p2tr_script,
    p2wpkh_script, taproot_tweak_public_key, taproot_tweak_scalar,
};
use super::hash::{hash160, sha256};
use super::multisig::{
    Multisig, derive_from_xpub, p2sh_p2wsh_script, p2wsh_script, parse_multisig,
};
use super::psbt::*;
use super::sighash::{
    Prevouts, SIGHASH_ALL, SIGHASH_ANYONECANPAY, SIGHASH_DEFAULT, SIGHASH_SINGLE, TxHashes,
    legacy_sighash, segwit_v0_sighash_with, taproot_key_spend_sighash_with,
};
use super::tx::{Transaction, TxOut, write_var_bytes};
use super::{AddressType, BitcoinError, HARDENED, Network};

/// The largest change index (exclusive) an output may have to count as
/// change: `m/purpose'/coin'/account'/1/i` with `i < MAX_CHANGE_INDEX`.
///
/// Change is money the wallet keeps, so it must be where the wallet's own
/// software finds it again: a wallet restored from the mnemonic scans the
/// internal chain `…/1/i` upward and stops after a gap of unused indices
/// (BIP-44 uses 20; wallets that raise it stay far below a million). An
/// output "to ourselves" at any other path is invisible to such a rescan,
/// which hides the funds from the owner, so it is a recipient and counts
/// against the policy. One million leaves room for any real wallet's use
/// and bounds what a caller can claim.
pub const MAX_CHANGE_INDEX: u32 = 1_000_000;

/// The heaviest transaction [`sign_psbt`] signs, in weight units: Bitcoin
/// Core's `MAX_STANDARD_TX_WEIGHT`, above which nodes do not relay it.
///
/// It is also the signer's work bound: the legacy and BIP-143/341 hashes
/// of each input read the whole transaction, so signing is quadratic in
/// its size. At this weight a transaction has at most ~2 400 inputs and
/// 100 kB without witnesses, where a 4 MB PSBT could otherwise carry
/// ~100 000 inputs of ours and hours of hashing.
pub const MAX_TX_WEIGHT: u64 = 400_000;

/// The most BIP-32 derivation steps a PSBT may ask of this key source: the
/// sum of the path lengths of every key origin (input and output, BIP-32
/// and taproot) that names our fingerprint. Checked before any key is
/// derived, by [`sign_psbt`] and [`summarize_psbt`].
///
/// A transaction at [`MAX_TX_WEIGHT`] has at most ~1 700 key-path inputs,
/// 5 levels each (8 500 steps); 16 384 leaves room for change outputs and
/// a second key per input. Without it a 4 MB PSBT could list thousands of
/// 255-level origins and ask for about a million derivation steps.
pub const MAX_DERIVATION_STEPS: usize = 16_384;

/// Where the signer gets its secp256k1 keys: a BIP-32 wallet, typically.
///
/// Path elements carry the hardened bit `0x8000_0000`.
pub trait Secp256k1KeySource {
    /// The BIP-32 master key fingerprint (first 4 bytes of HASH160 of the
    /// master public key).
    fn master_fingerprint(&self) -> [u8; 4];

    /// The private key at `path` from the master key. `SigningKey` is
    /// zeroized on drop and redacted in `Debug`.
    fn derive_signing_key(&self, path: &[u32]) -> Result<SigningKey, BitcoinError>;

    /// The public key at `path`. Override when it can be derived without
    /// the private key.
    fn derive_public_key(&self, path: &[u32]) -> Result<CompressedPublicKey, BitcoinError> {
        let sk = self.derive_signing_key(path)?;
        Ok(CompressedPublicKey::from_k256(&sk.verifying_key().into()))
    }

    /// Whether this source is a single key (a key wallet, no BIP-32 tree):
    /// its fingerprint is that of the key itself and its only path is `m`.
    /// Change to a single key is an output paying one of the key's own
    /// scripts with the path `m`; change to an HD wallet is only on its
    /// internal chain (see [`MAX_CHANGE_INDEX`]). Defaults to `false`, the
    /// stricter rule.
    fn is_single_key(&self) -> bool {
        false
    }
}

/// Options of [`sign_psbt`].
#[derive(Clone, Default)]
pub struct SignOptions {
    /// Finalize every input that can be finalized, and extract the
    /// transaction when all are final.
    pub finalize: bool,
    /// BIP-340 auxiliary randomness for Schnorr signatures. The caller
    /// should fill it from the OS RNG (side-channel hardening); all zeros
    /// is still a valid, deterministic BIP-340 signature.
    pub aux_rand: [u8; 32],
    /// Sighash types the signer may use besides the defaults, which are
    /// always allowed: SIGHASH_ALL (`0x01`) for every input and, for taproot
    /// inputs, SIGHASH_DEFAULT (`0x00`). An absent PSBT_IN_SIGHASH_TYPE
    /// means ALL (ECDSA) or DEFAULT (taproot). Any other type an input of
    /// ours asks for (NONE, SINGLE, any ANYONECANPAY) must be listed here,
    /// or [`sign_psbt`] refuses the whole PSBT with
    /// [`BitcoinError::SighashNotAllowed`] before it makes any signature.
    /// See [`super::parse_sighash_name`] for the names.
    pub allowed_sighash: Vec<u32>,
}

impl core::fmt::Debug for SignOptions {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SignOptions")
            .field("finalize", &self.finalize)
            .field("allowed_sighash", &self.allowed_sighash)
            .finish_non_exhaustive()
    }
}

/// The result of [`sign_psbt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedPsbt {
    /// The signed (and, with `finalize`, finalized) PSBT.
    pub psbt: Psbt,
    /// Indices of the inputs this call signed.
    pub signed_inputs: Vec<usize>,
    /// The network transaction, when `finalize` was asked and every input is final.
    pub transaction: Option<Vec<u8>>,
    /// Its txid (display hex), with `transaction`.
    pub txid: Option<String>,
    /// Every multisig input this call signed, with how many valid
    /// signatures it holds now and whether it was finalized.
    pub multisig: Vec<MultisigInput>,
}

/// The state of a multisig input after [`sign_psbt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultisigInput {
    /// Input index.
    pub index: usize,
    /// Signatures required (m).
    pub threshold: usize,
    /// Keys in the script (n).
    pub keys: usize,
    /// Partial signatures for keys of the script that verify against this
    /// input's BIP-143 sighash (ours and the cosigners').
    pub valid_signatures: usize,
    /// Whether the input was finalized (with `finalize` and at least
    /// `threshold` valid signatures).
    pub finalized: bool,
}

/// One output of the transaction, for policy checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputInfo {
    /// Output index.
    pub index: usize,
    /// The scriptPubKey.
    pub script_pubkey: Vec<u8>,
    /// Its address on the network, if it has one (none for OP_RETURN etc.).
    pub address: Option<String>,
    /// Value in satoshis.
    pub value: u64,
    /// Whether it pays back to this wallet (a change output).
    pub is_change: bool,
}

/// One input of the transaction, for policy checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputInfo {
    /// Input index.
    pub index: usize,
    /// The spent amount, if the PSBT gives one (witness or non-witness UTXO).
    pub amount: Option<u64>,
    /// The amount comes from a non-witness UTXO whose txid matches the
    /// prevout (so it is proven by the previous transaction itself).
    pub amount_from_prev_tx: bool,
    /// The spent scriptPubKey, if the PSBT gives it.
    pub script_pubkey: Option<Vec<u8>>,
    /// [`sign_psbt`] would sign it: its origin names our fingerprint and
    /// derives to the listed key, which pays the spent script.
    pub ours: bool,
    /// The sighash type this input asks for (`None`: absent).
    pub sighash: Option<u32>,
    /// The spent script is P2TR (segwit v1, 32-byte program).
    pub is_taproot: bool,
}

/// What a spending policy looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PsbtSummary {
    /// Every output.
    pub outputs: Vec<OutputInfo>,
    /// Sum of the values of outputs that are not change.
    pub spend_value: u64,
    /// Inputs minus outputs, when every input's spent output is known.
    /// ([`summarize_psbt`] refuses a PSBT whose outputs exceed its inputs.)
    pub fee: Option<u64>,
    /// Every input.
    pub inputs: Vec<InputInfo>,
    /// Every input amount is committed to by a signature we make or proven
    /// by a previous transaction: each input has `amount_from_prev_tx`, OR
    /// at least one of OUR inputs is taproot signed without ANYONECANPAY
    /// (BIP-341 commits to all amounts and scriptPubKeys) AND none of our
    /// inputs is signed with ANYONECANPAY (every other signature we make
    /// then commits to all prevouts, so no transaction can use them
    /// without that taproot input, whose signature is only valid with the
    /// true amounts). Without this, the fee is only what the caller claims
    /// (CVE-2020-14199).
    pub amounts_proven: bool,
    /// Estimated virtual size (vbytes) of the fully signed transaction; see
    /// [`summarize_psbt`] for the per-input numbers. Inputs of unknown type
    /// add nothing but their witness count byte, which under-estimates the
    /// size and so over-estimates the fee rate (the conservative side for a
    /// fee-rate cap).
    pub estimated_vsize: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    P2wpkh([u8; 20]),
    P2shP2wpkh([u8; 20]),
    P2pkh([u8; 20]),
    P2tr([u8; 32]),
    /// P2WSH (the witness script's SHA-256); signed only when the witness
    /// script is a `multi`/`sortedmulti` script.
    P2wsh([u8; 32]),
    /// P2SH-P2WSH (the witness script's SHA-256).
    P2shP2wsh([u8; 32]),
}

/// The spend type of an input from its spent scriptPubKey (and redeem script).
fn classify(spk: &[u8], redeem: Option<&[u8]>) -> Option<Kind> {
    match spk {
        [0x00, 0x14, h @ ..] if h.len() == 20 => Some(Kind::P2wpkh(h.try_into().ok()?)),
        [0x51, 0x20, x @ ..] if x.len() == 32 => Some(Kind::P2tr(x.try_into().ok()?)),
        [0x00, 0x20, h @ ..] if h.len() == 32 => Some(Kind::P2wsh(h.try_into().ok()?)),
        [0x76, 0xa9, 0x14, h @ .., 0x88, 0xac] if h.len() == 20 => {
            Some(Kind::P2pkh(h.try_into().ok()?))
        }
        [0xa9, 0x14, sh @ .., 0x87] if sh.len() == 20 => match redeem? {
            r @ [0x00, 0x14, h @ ..] if h.len() == 20 && hash160(r) == sh => {
                Some(Kind::P2shP2wpkh(h.try_into().ok()?))
            }
            r @ [0x00, 0x20, h @ ..] if h.len() == 32 && hash160(r) == sh => {
                Some(Kind::P2shP2wsh(h.try_into().ok()?))
            }
            _ => None,
        },
        _ => None,
    }
}

fn bad(index: usize, reason: &'static str) -> BitcoinError {
    BitcoinError::InvalidInput { index, reason }
}

/// Sign every input this key source owns; see the module documentation.
///
/// An input is ours when its `bip32_derivation` (or, for taproot key path,
/// `tap_bip32_derivation` with no leaf hashes) names our master fingerprint
/// and the key derived at that path is the listed key and pays the spent
/// script. Inputs that are not ours, or of other script types, are left
/// untouched. Errors when no input could be signed, or when an input of
/// ours is inconsistent (the signer must then not sign, BIP-174), asks
/// for a sighash type that `options.allowed_sighash` does not allow, or the
/// transaction is heavier than [`MAX_TX_WEIGHT`] once signed, or the PSBT
/// asks for more than [`MAX_DERIVATION_STEPS`].
///
/// Every input is planned and checked before the first signature is made,
/// so a refused PSBT yields no signature at all.
pub fn sign_psbt(
    psbt: &Psbt,
    keys: &dyn Secp256k1KeySource,
    options: &SignOptions,
) -> Result<SignedPsbt, BitcoinError> {
    let mut psbt = psbt.clone();
    let fingerprint = keys.master_fingerprint();

    check_work(&psbt, fingerprint)?;

    // Spent outputs of every input, needed whole by BIP-341.
    let spent = spent_outputs(&psbt);

    let plans = plan_inputs(&psbt, &spent, keys, fingerprint)?;
    if estimate_weight(&psbt, &spent, &plans) > MAX_TX_WEIGHT {
        return Err(too_heavy());
    }
    for (i, plan) in &plans {
        if !sighash_allowed(plan.hash_type, plan.is_taproot(), &options.allowed_sighash) {
            return Err(BitcoinError::SighashNotAllowed {
                index: *i,
                sighash: plan.hash_type,
            });
        }
    }
    if plans.is_empty() {
        return Err(BitcoinError::NothingToSign);
    }
    let tx = psbt.tx.clone();
    // Every spent output, once, for the BIP-341 hashes (planning checked
    // that they are all known when a taproot input needs them).
    let all_spent: Option<Vec<TxOut>> = spent.iter().cloned().collect();
    // The BIP-143/341 hashes every input shares, once (signing stays linear).
    let hashes = TxHashes::new(&tx, all_spent.as_deref());
    let mut signed = Vec::with_capacity(plans.len());
    let mut multisig_plans = Vec::new();
    for (i, plan) in plans {
        let shared = Shared {
            tx: &tx,
            hashes: &hashes,
            all_spent: all_spent.as_deref(),
        };
        if let Some((ms, ws)) = &plan.multisig {
            multisig_plans.push((i, ms.clone(), ws.clone(), plan.kind, plan.utxo.value));
        }
        sign_planned(&mut psbt, i, &shared, plan, keys, options)?;
        signed.push(i);
    }

    // Multisig inputs: count the valid signatures (ours and the
    // cosigners'), and finalize those that reached the threshold.
    let mut multisig = Vec::with_capacity(multisig_plans.len());
    for (i, ms, ws, kind, value) in multisig_plans {
        let sigs = valid_multisig_signatures(&psbt.inputs[i], &ms, &ws, &tx, &hashes, i, value);
        let valid = sigs.iter().filter(|s| s.is_some()).count();
        let finalized = options.finalize && valid >= ms.threshold;
        if finalized {
            let mut witness = vec![Vec::new()];
            witness.extend(sigs.into_iter().flatten().take(ms.threshold));
            witness.push(ws.clone());
            let script_sig = if matches!(kind, Kind::P2shP2wsh(_)) {
                let mut ss = Vec::new();
                push_data(&mut ss, &p2wsh_script(&ws));
                ss
            } else {
                Vec::new()
            };
            write_final(&mut psbt, i, script_sig, witness);
        }
        multisig.push(MultisigInput {
            index: i,
            threshold: ms.threshold,
            keys: ms.keys.len(),
            valid_signatures: valid,
            finalized,
        });
    }

    let (mut transaction, mut txid) = (None, None);
    if options.finalize {
        for (i, utxo) in spent.iter().enumerate() {
            if !is_final(&psbt.inputs[i]) {
                finalize_input(&mut psbt, i, utxo.as_ref());
            }
        }
        if let Some(tx) = extract(&psbt) {
            txid = Some(tx.txid_hex());
            transaction = Some(tx.serialize());
        }
    }
    Ok(SignedPsbt {
        psbt,
        signed_inputs: signed,
        transaction,
        txid,
        multisig,
    })
}

/// For each key of a multisig script, in script order, its partial
/// signature when it verifies: strict DER, low S, a sighash type the input
/// allows (its PSBT_IN_SIGHASH_TYPE when given), over the BIP-143 sighash
/// with the witness script as script code. Invalid ones count as absent.
fn valid_multisig_signatures(
    m: &Map,
    ms: &Multisig,
    ws: &[u8],
    tx: &Transaction,
    hashes: &TxHashes,
    i: usize,
    value: u64,
) -> Vec<Option<Vec<u8>>> {
    use k256::ecdsa::signature::hazmat::PrehashVerifier as _;
    let wanted = requested_sighash(m);
    ms.keys
        .iter()
        .map(|key| {
            let mut k = vec![IN_PARTIAL_SIG];
            k.extend_from_slice(key);
            let v = get(m, &k)?;
            // DER of two 33-byte integers is at most 72 bytes, plus the type.
            if v.len() < 9 || v.len() > 73 {
                return None;
            }
            let ht = u32::from(v[v.len() - 1]);
            if !matches!(ht, 0x01..=0x03 | 0x81..=0x83) || wanted.is_some_and(|t| t != ht) {
                return None;
            }
            let sig = k256::ecdsa::Signature::from_der(&v[..v.len() - 1]).ok()?;
            if sig.normalize_s().is_some() {
                return None;
            }
            let digest = segwit_v0_sighash_with(tx, hashes, i, ws, value, ht)?;
            let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(key).ok()?;
            vk.verify_prehash(&digest, &sig).ok()?;
            Some(v.to_vec())
        })
        .collect()
}

/// The bounds checked before any work: the unsigned transaction's weight
/// (a lower bound of the signed one) and the derivation steps the PSBT asks
/// of our fingerprint.
fn check_work(psbt: &Psbt, fingerprint: [u8; 4]) -> Result<(), BitcoinError> {
    let unsigned_weight = 4 * psbt.tx.serialize_no_witness().len() as u64;
    if unsigned_weight > MAX_TX_WEIGHT {
        return Err(too_heavy());
    }
    let origin_len = |m: &Map, bip32: u8, tap: u8| -> usize {
        let mut steps = 0usize;
        for (k, v) in m {
            let origin = if k[0] == bip32 {
                Some(v.as_slice())
            } else if k[0] == tap {
                parse_tap_origin(v).map(|(_, o)| o)
            } else {
                None
            };
            if let Some(o) = origin
                && o.len() >= 4
                && o[..4] == fingerprint
            {
                // Path elements are 4 bytes; `m` still costs one call.
                steps = steps.saturating_add((o.len() / 4 - 1).max(1));
            }
        }
        steps
    };
    let mut steps = 0usize;
    for m in &psbt.inputs {
        steps = steps.saturating_add(origin_len(m, IN_BIP32_DERIVATION, IN_TAP_BIP32_DERIVATION));
    }
    for m in &psbt.outputs {
        steps = steps.saturating_add(origin_len(
            m,
            OUT_BIP32_DERIVATION,
            OUT_TAP_BIP32_DERIVATION,
        ));
    }
    if steps > MAX_DERIVATION_STEPS {
        return Err(BitcoinError::InvalidPsbt(format!(
            "asks for {steps} key derivation steps with this wallet's fingerprint, at most \
             {MAX_DERIVATION_STEPS}"
        )));
    }
    Ok(())
}

fn too_heavy() -> BitcoinError {
    BitcoinError::InvalidTransaction(
        "heavier than the standard limit of 400000 weight units once signed",
    )
}

/// Whether the signer may use `hash_type`: ALL always, DEFAULT on taproot,
/// anything else only when listed.
fn sighash_allowed(hash_type: u32, taproot: bool, allowed: &[u32]) -> bool {
    hash_type == SIGHASH_ALL
        || (taproot && hash_type == SIGHASH_DEFAULT)
        || allowed.contains(&hash_type)
}

/// The output spent by each input, `None` where the PSBT does not give it
/// or gives it inconsistently (inputs of ours are then refused by the plan).
fn spent_outputs(psbt: &Psbt) -> Vec<Option<TxOut>> {
    (0..psbt.inputs.len())
        .map(|i| psbt.spent_output(i).ok().flatten())
        .collect()
}

/// The plans of every non-final input this key source would sign.
fn plan_inputs(
    psbt: &Psbt,
    spent: &[Option<TxOut>],
    keys: &dyn Secp256k1KeySource,
    fingerprint: [u8; 4],
) -> Result<Vec<(usize, Plan)>, BitcoinError> {
    let mut plans = Vec::new();
    let every_utxo_known = spent.iter().all(Option::is_some);
    for i in 0..psbt.inputs.len() {
        if is_final(&psbt.inputs[i]) {
            continue;
        }
        if let Some(plan) = plan_input(psbt, i, every_utxo_known, keys, fingerprint)? {
            plans.push((i, plan));
        }
    }
    Ok(plans)
}

fn is_final(m: &Map) -> bool {
    get(m, &[IN_FINAL_SCRIPTSIG]).is_some() || get(m, &[IN_FINAL_SCRIPTWITNESS]).is_some()
}

/// The raw PSBT_IN_SIGHASH_TYPE of an input (validated as 4 bytes at parse).
fn requested_sighash(m: &Map) -> Option<u32> {
    get(m, &[IN_SIGHASH_TYPE])
        .and_then(|v| <[u8; 4]>::try_from(v).ok())
        .map(u32::from_le_bytes)
}

fn sighash_type(m: &Map, index: usize, taproot: bool) -> Result<u32, BitcoinError> {
    match requested_sighash(m) {
        None => Ok(if taproot {
            SIGHASH_DEFAULT
        } else {
            SIGHASH_ALL
        }),
        Some(t) => {
            let ok = matches!(t, 0x01..=0x03 | 0x81..=0x83) || (taproot && t == 0);
            if ok {
                Ok(t)
            } else {
                Err(bad(index, "unsupported sighash type"))
            }
        }
    }
}

/// Keys in `bip32_derivation` entries of ours that derive to the listed key,
/// with their paths.
fn our_ecdsa_keys(
    m: &Map,
    keys: &dyn Secp256k1KeySource,
    fingerprint: [u8; 4],
) -> Result<Vec<(CompressedPublicKey, Vec<u32>)>, BitcoinError> {
    let mut found = Vec::new();
    for (k, v) in m {
        if k[0] != IN_BIP32_DERIVATION || k.len() != 34 {
            continue;
        }
        let Some((fp, path)) = split_origin(v) else {
            continue;
        };
        if fp != fingerprint {
            continue;
        }
        let listed = CompressedPublicKey::from_slice(&k[1..])?;
        if keys.derive_public_key(&path)? == listed {
            found.push((listed, path));
        }
    }
    Ok(found)
}

/// What the signer will do for one input, decided before any signature.
struct Plan {
    kind: Kind,
    /// The sighash type to sign with (absent resolved to ALL or DEFAULT).
    hash_type: u32,
    utxo: TxOut,
    signer: PlanSigner,
    /// For P2WSH and P2SH-P2WSH: the multisig and its witness script.
    multisig: Option<(Multisig, Vec<u8>)>,
}

enum PlanSigner {
    /// The keys (and their paths) whose hash is the spent script's.
    Ecdsa(Vec<(CompressedPublicKey, Vec<u32>)>),
    /// The internal key, its path and the script tree's merkle root.
    Taproot {
        x: [u8; 32],
        path: Vec<u32>,
        merkle_root: Option<[u8; 32]>,
    },
}

impl Plan {
    fn is_taproot(&self) -> bool {
        matches!(self.kind, Kind::P2tr(_))
    }
}

/// Decide whether input `i` is ours and how it would be signed, checking
/// everything that could make the signer refuse. `Ok(None)`: not ours.
fn plan_input(
    psbt: &Psbt,
    i: usize,
    every_utxo_known: bool,
    keys: &dyn Secp256k1KeySource,
    fingerprint: [u8; 4],
) -> Result<Option<Plan>, BitcoinError> {
    let m = &psbt.inputs[i];
    let names_us = m.iter().any(|(k, v)| match k[0] {
        IN_BIP32_DERIVATION => v.len() >= 4 && v[..4] == fingerprint,
        IN_TAP_BIP32_DERIVATION => parse_tap_origin(v).is_some_and(|(_, o)| o[..4] == fingerprint),
        _ => false,
    });
    if !names_us {
        return Ok(None);
    }
    // Now the input claims to be ours: inconsistent data is an error.
    let utxo = match psbt.spent_output(i)? {
        Some(u) => u,
        None => return Err(bad(i, "no utxo to sign against")),
    };
    let redeem = get(m, &[IN_REDEEM_SCRIPT]);
    if let Some(r) = redeem
        && utxo.script_pubkey != p2sh_script(&hash160(r))
    {
        return Err(bad(i, "redeem script does not match the spent script"));
    }
    let tx = &psbt.tx;

    if let [0x51, 0x20, x @ ..] = utxo.script_pubkey.as_slice()
        && let Ok(output_key) = <[u8; 32]>::try_from(x)
    {
        let hash_type = sighash_type(m, i, true)?;
        let Some((x, path, merkle_root)) = taproot_candidate(m, output_key, keys, fingerprint, i)?
        else {
            return Ok(None);
        };
        if hash_type & 0x1f == SIGHASH_SINGLE && i >= tx.outputs.len() {
            return Err(bad(i, "sighash single without a matching output"));
        }
        if hash_type & SIGHASH_ANYONECANPAY == 0 && !every_utxo_known {
            return Err(bad(i, "taproot signing needs every input's utxo"));
        }
        return Ok(Some(Plan {
            kind: Kind::P2tr(output_key),
            hash_type,
            utxo,
            signer: PlanSigner::Taproot {
                x,
                path,
                merkle_root,
            },
            multisig: None,
        }));
    }

    let ours = our_ecdsa_keys(m, keys, fingerprint)?;
    let kind = match classify(&utxo.script_pubkey, redeem) {
        Some(kind) => kind,
        // P2SH without a redeem script: it is nested P2WPKH if one of our
        // keys' P2WPKH scripts hashes to it (the signer adds the script).
        None if redeem.is_none() => {
            let nested = ours.iter().find_map(|(pk, _)| {
                let h = hash160(&pk.to_bytes());
                (utxo.script_pubkey == p2sh_script(&hash160(&p2wpkh_script(&h))))
                    .then_some(Kind::P2shP2wpkh(h))
            });
            match nested {
                Some(kind) => kind,
                None => return Ok(None),
            }
        }
        // Not a script type we sign; leave it alone.
        None => return Ok(None),
    };
    let multisig = match kind {
        Kind::P2wsh(h) | Kind::P2shP2wsh(h) => {
            let Some(ws) = get(m, &[IN_WITNESS_SCRIPT]) else {
                return Err(bad(i, "p2wsh input without a witness script"));
            };
            if sha256(ws) != h {
                return Err(bad(i, "witness script does not match the spent script"));
            }
            match parse_multisig(ws).map_err(|reason| bad(i, reason))? {
                Some(ms) => Some((ms, ws.to_vec())),
                // Another script type: not one we sign.
                None => return Ok(None),
            }
        }
        _ => None,
    };
    let hash_type = sighash_type(m, i, false)?;
    if hash_type & 0x1f == SIGHASH_SINGLE && i >= tx.outputs.len() {
        return Err(bad(i, "sighash single without a matching output"));
    }
    // Only keys whose derivation we recomputed (our_ecdsa_keys) and that
    // the spent script pays.
    let signers: Vec<_> = ours
        .into_iter()
        .filter(|(pk, _)| {
            let pkh = hash160(&pk.to_bytes());
            match &multisig {
                Some((ms, _)) => ms.keys.contains(&pk.to_bytes()),
                None => matches!(
                    kind,
                    Kind::P2wpkh(h) | Kind::P2shP2wpkh(h) | Kind::P2pkh(h) if h == pkh
                ),
            }
        })
        .collect();
    if signers.is_empty() {
        return Ok(None);
    }
    // BIP-174: no non-witness signature with only a witness utxo.
    if matches!(kind, Kind::P2pkh(_)) && get(m, &[IN_NON_WITNESS_UTXO]).is_none() {
        return Err(bad(i, "legacy input needs the non-witness utxo"));
    }
    Ok(Some(Plan {
        kind,
        hash_type,
        utxo,
        signer: PlanSigner::Ecdsa(signers),
        multisig,
    }))
}

/// The key-path signer of a taproot input: the first `tap_bip32_derivation`
/// with no leaf hashes that names us (and the internal key, when given),
/// if its key derives and tweaks to the output key.
#[allow(clippy::type_complexity)]
fn taproot_candidate(
    m: &Map,
    output_key: [u8; 32],
    keys: &dyn Secp256k1KeySource,
    fingerprint: [u8; 4],
    i: usize,
) -> Result<Option<([u8; 32], Vec<u32>, Option<[u8; 32]>)>, BitcoinError> {
    let merkle_root: Option<[u8; 32]> =
        get(m, &[IN_TAP_MERKLE_ROOT]).and_then(|v| v.try_into().ok());
    let internal: Option<[u8; 32]> = get(m, &[IN_TAP_INTERNAL_KEY]).and_then(|v| v.try_into().ok());
    let mut candidate = None;
    for (k, v) in m {
        if k[0] != IN_TAP_BIP32_DERIVATION || k.len() != 33 {
            continue;
        }
        let Some((leaves, origin)) = parse_tap_origin(v) else {
            continue;
        };
        // Key path only: the key must be the internal key, not a leaf key.
        if !leaves.is_empty() {
            continue;
        }
        let Some((fp, path)) = split_origin(origin) else {
            continue;
        };
        let x: [u8; 32] = k[1..].try_into().map_err(|_| bad(i, "bad tap key"))?;
        if fp != fingerprint || internal.is_some_and(|ik| ik != x) {
            continue;
        }
        candidate = Some((x, path));
        break;
    }
    let Some((x, path)) = candidate else {
        return Ok(None);
    };
    if keys.derive_public_key(&path)?.x_only() != x {
        return Ok(None);
    }
    let (q, _) = taproot_tweak_public_key(&x, merkle_root.as_ref())?;
    if q != output_key {
        return Ok(None);
    }
    Ok(Some((x, path, merkle_root)))
}

/// What every input's signature hash reads.
struct Shared<'a> {
    tx: &'a Transaction,
    hashes: &'a TxHashes,
    all_spent: Option<&'a [TxOut]>,
}

/// Make the signatures a plan calls for.
fn sign_planned(
    psbt: &mut Psbt,
    i: usize,
    shared: &Shared<'_>,
    plan: Plan,
    keys: &dyn Secp256k1KeySource,
    options: &SignOptions,
) -> Result<(), BitcoinError> {
    let hash_type = plan.hash_type;
    let Shared {
        tx,
        hashes,
        all_spent,
    } = *shared;
    match plan.signer {
        PlanSigner::Taproot {
            x,
            path,
            merkle_root,
        } => {
            let sk = keys.derive_signing_key(&path)?;
            if CompressedPublicKey::from_k256(&sk.verifying_key().into()).x_only() != x {
                return Err(BitcoinError::KeyDerivation);
            }
            let prevouts = if hash_type & SIGHASH_ANYONECANPAY != 0 {
                Prevouts::One(&plan.utxo)
            } else {
                Prevouts::All(all_spent.ok_or(bad(i, "taproot signing needs every input's utxo"))?)
            };
            let digest = taproot_key_spend_sighash_with(tx, hashes, i, prevouts, hash_type as u8)
                .ok_or(bad(i, "sighash single without a matching output"))?;
            let tweaked = tweak_secret(&sk, &x, merkle_root.as_ref())?;
            let sig = tweaked
                .sign_raw(&digest, &options.aux_rand)
                .map_err(|_| BitcoinError::Signing)?;
            let mut value = sig.to_bytes().to_vec();
            if hash_type != SIGHASH_DEFAULT {
                value.push(hash_type as u8);
            }
            set(&mut psbt.inputs[i], vec![IN_TAP_KEY_SIG], value);
        }
        PlanSigner::Ecdsa(signers) => {
            for (pk, path) in signers {
                let sk = keys.derive_signing_key(&path)?;
                if CompressedPublicKey::from_k256(&sk.verifying_key().into()) != pk {
                    return Err(BitcoinError::KeyDerivation);
                }
                let digest = match plan.kind {
                    Kind::P2wpkh(h) | Kind::P2shP2wpkh(h) => {
                        let script_code = p2pkh_script(&h);
                        segwit_v0_sighash_with(
                            tx,
                            hashes,
                            i,
                            &script_code,
                            plan.utxo.value,
                            hash_type,
                        )
                        .ok_or(bad(i, "input index out of range"))?
                    }
                    Kind::P2pkh(_) => legacy_sighash(tx, i, &plan.utxo.script_pubkey, hash_type),
                    Kind::P2wsh(_) | Kind::P2shP2wsh(_) => {
                        let (_, ws) = plan
                            .multisig
                            .as_ref()
                            .ok_or(bad(i, "p2wsh input without a multisig script"))?;
                        segwit_v0_sighash_with(tx, hashes, i, ws, plan.utxo.value, hash_type)
                            .ok_or(bad(i, "input index out of range"))?
                    }
                    Kind::P2tr(_) => return Err(bad(i, "taproot input planned as ecdsa")),
                };
                let sig: k256::ecdsa::Signature = sk
                    .sign_prehash_recoverable(&digest)
                    .map(|(s, _)| s)
                    .map_err(|_| BitcoinError::Signing)?;
                // BIP-62/BIP-146: low-S only (k256 already normalizes; be explicit).
                let sig = sig.normalize_s().unwrap_or(sig);
                let mut value = sig.to_der().as_bytes().to_vec();
                value.push(hash_type as u8);
                let mut key = vec![IN_PARTIAL_SIG];
                key.extend_from_slice(&pk.to_bytes());
                set(&mut psbt.inputs[i], key, value);
                // Nested segwit: make sure the finalizer has the redeem script.
                if let Kind::P2shP2wpkh(h) = plan.kind {
                    set(
                        &mut psbt.inputs[i],
                        vec![IN_REDEEM_SCRIPT],
                        p2wpkh_script(&h),
                    );
                }
            }
        }
    }
    Ok(())
}

/// BIP-341 `taproot_tweak_seckey`: negate to the even-y key, add the tweak.
pub(crate) fn tweak_secret(
    sk: &SigningKey,
    internal_x: &[u8; 32],
    merkle_root: Option<&[u8; 32]>,
) -> Result<k256::schnorr::SigningKey, BitcoinError> {
    let d: Scalar = *sk.as_nonzero_scalar().as_ref();
    let p = ProjectivePoint::mul_by_generator(&d).to_affine();
    let d = if bool::from(p.y_is_odd()) { -d } else { d };
    let t = taproot_tweak_scalar(internal_x, merkle_root)?;
    let mut tweaked: [u8; 32] = (d + t).to_bytes().into();
    let out = k256::schnorr::SigningKey::from_bytes(&tweaked).map_err(|_| BitcoinError::Signing);
    zeroize::Zeroize::zeroize(&mut tweaked);
    out
}

fn push_data(script: &mut Vec<u8>, data: &[u8]) {
    // Signatures, keys and P2WPKH redeem scripts are all below 76 bytes.
    debug_assert!(data.len() < 0x4c);
    script.push(data.len() as u8);
    script.extend_from_slice(data);
}

/// BIP-174 input finalizer for our four single-key types.
fn finalize_input(psbt: &mut Psbt, i: usize, utxo: Option<&TxOut>) {
    let Some(utxo) = utxo else { return };
    let m = &psbt.inputs[i];
    let redeem = get(m, &[IN_REDEEM_SCRIPT]).map(<[u8]>::to_vec);
    let Some(kind) = classify(&utxo.script_pubkey, redeem.as_deref()) else {
        return;
    };
    let wanted_type =
        get(m, &[IN_SIGHASH_TYPE]).map(|v| u32::from_le_bytes([v[0], v[1], v[2], v[3]]));
    let ecdsa_sig = |h: &[u8; 20]| -> Option<(Vec<u8>, Vec<u8>)> {
        m.iter().find_map(|(k, v)| {
            let ok = k[0] == IN_PARTIAL_SIG
                && k.len() == 34
                && hash160(&k[1..]) == *h
                && v.len() > 8
                && wanted_type.is_none_or(|t| u32::from(v[v.len() - 1]) == t);
            ok.then(|| (v.clone(), k[1..].to_vec()))
        })
    };
    let (script_sig, witness): (Vec<u8>, Vec<Vec<u8>>) = match kind {
        // Multisig inputs are finalized by `sign_psbt`, which verifies
        // every signature first.
        Kind::P2wsh(_) | Kind::P2shP2wsh(_) => return,
        Kind::P2wpkh(h) => match ecdsa_sig(&h) {
            Some((sig, pk)) => (Vec::new(), vec![sig, pk]),
            None => return,
        },
        Kind::P2shP2wpkh(h) => match (ecdsa_sig(&h), redeem) {
            (Some((sig, pk)), Some(r)) => {
                let mut ss = Vec::new();
                push_data(&mut ss, &r);
                (ss, vec![sig, pk])
            }
            _ => return,
        },
        Kind::P2pkh(h) => match ecdsa_sig(&h) {
            Some((sig, pk)) => {
                let mut ss = Vec::new();
                push_data(&mut ss, &sig);
                push_data(&mut ss, &pk);
                (ss, Vec::new())
            }
            None => return,
        },
        Kind::P2tr(_) => match get(m, &[IN_TAP_KEY_SIG]) {
            Some(sig) => {
                let sig_type = if sig.len() == 65 {
                    u32::from(sig[64])
                } else {
                    0
                };
                if wanted_type.is_some_and(|t| t != sig_type) {
                    return;
                }
                (Vec::new(), vec![sig.to_vec()])
            }
            None => return,
        },
    };
    write_final(psbt, i, script_sig, witness);
}

/// Set an input's final scriptSig and witness, and clear what BIP-174 says
/// a finalizer clears.
fn write_final(psbt: &mut Psbt, i: usize, script_sig: Vec<u8>, witness: Vec<Vec<u8>>) {
    // BIP-174: keep only the UTXOs and unknown/proprietary fields.
    let m = &mut psbt.inputs[i];
    m.retain(|(k, _)| {
        !matches!(
            k[0],
            IN_PARTIAL_SIG
                | IN_SIGHASH_TYPE
                | IN_REDEEM_SCRIPT
                | IN_WITNESS_SCRIPT
                | IN_BIP32_DERIVATION
                | 0x0a
                ..=0x0d
                    | IN_TAP_KEY_SIG
                    | IN_TAP_SCRIPT_SIG
                    | IN_TAP_LEAF_SCRIPT
                    | IN_TAP_BIP32_DERIVATION
                    | IN_TAP_INTERNAL_KEY
                    | IN_TAP_MERKLE_ROOT
        )
    });
    if !script_sig.is_empty() {
        set(m, vec![IN_FINAL_SCRIPTSIG], script_sig);
    }
    if !witness.is_empty() {
        let mut w = Vec::new();
        super::tx::write_compact_size(&mut w, witness.len() as u64);
        for item in &witness {
            write_var_bytes(&mut w, item);
        }
        set(m, vec![IN_FINAL_SCRIPTWITNESS], w);
    }
}

/// BIP-174 transaction extractor: the network transaction when every input
/// is final.
pub fn extract(psbt: &Psbt) -> Option<Transaction> {
    let mut tx = psbt.tx.clone();
    for (input, m) in tx.inputs.iter_mut().zip(&psbt.inputs) {
        if !is_final(m) {
            return None;
        }
        input.script_sig = get(m, &[IN_FINAL_SCRIPTSIG])
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        if let Some(w) = get(m, &[IN_FINAL_SCRIPTWITNESS]) {
            let mut r = super::tx::Reader::new(w);
            input.witness = super::tx::parse_witness(&mut r).ok()?;
        }
    }
    Some(tx)
}

/// What a spending policy needs to know about a PSBT: its outputs (which
/// are change), its inputs (amounts, whether each amount is proven, which
/// are ours, the sighash types), the fee and the estimated size.
///
/// **Change.** An output is change only when its `bip32_derivation` (or,
/// for a P2TR output, its key-path `tap_bip32_derivation`) names our
/// fingerprint, the key derived at that path is the listed key, the output
/// script is that key's script, and the path is exactly
/// `m/purpose'/coin'/account'/1/i`: purpose 44 for P2PKH, 49 for
/// P2SH-P2WPKH, 84 for P2WPKH, 86 for P2TR (BIP-86, no script tree); coin
/// the network's coin type (0 on bitcoin, 1 on test networks); any
/// hardened account; `i` below [`MAX_CHANGE_INDEX`]. For a single-key
/// source ([`Secp256k1KeySource::is_single_key`]) the path must be `m`.
/// Everything else is a recipient.
///
/// **Fee.** Inputs minus outputs; `None` when an input amount is missing,
/// and an error (`outputs exceed inputs`) when the outputs are larger.
///
/// **Bounds.** Like [`sign_psbt`], refuses before any derivation a PSBT
/// whose unsigned transaction is above [`MAX_TX_WEIGHT`] or which asks for
/// more than [`MAX_DERIVATION_STEPS`]; and errors where the signer would
/// (an input of ours with inconsistent data).
///
/// **Estimated vsize** (`ceil(weight / 4)`): the unsigned transaction, plus
/// for each input not yet final, by the type of its spent script (the
/// signer's plan for inputs of ours):
/// - P2WPKH: witness of 107 bytes (item count 1, a 71-byte signature with
///   its push byte, a 34-byte compressed key with its push byte);
/// - P2SH-P2WPKH: the same witness and a 23-byte scriptSig (push of the
///   22-byte redeem script);
/// - P2PKH: a 106-byte scriptSig (71-byte signature, 33-byte key, two
///   push bytes);
/// - P2TR key path: witness of 66 bytes (count, push, 64-byte signature),
///   67 with an explicit sighash type (65-byte signature);
/// - anything else: nothing but its witness item count (1 weight unit).
///
/// Final inputs count with their actual scriptSig and witness. A segwit
/// transaction adds 2 weight units (marker and flag). 71 bytes is a
/// low-S DER signature with a 32-byte `r` plus the sighash byte; about
/// half of real signatures have a 33-byte `r` (72 bytes), so the estimate
/// is at most 1 byte per ECDSA input below the real size (1 vbyte for
/// P2PKH, a quarter for witness inputs), and above it only when `r` or `s`
/// happens to be shorter than 32 bytes (probability about 1/128 per
/// signature, 1 byte each).
pub fn summarize_psbt(
    psbt: &Psbt,
    keys: &dyn Secp256k1KeySource,
    network: Network,
) -> Result<PsbtSummary, BitcoinError> {
    let fingerprint = keys.master_fingerprint();
    check_work(psbt, fingerprint)?;
    let single_key = keys.is_single_key();
    let spent = spent_outputs(psbt);
    let plans = plan_inputs(psbt, &spent, keys, fingerprint)?;
    let mut proof = KeyProof {
        keys,
        fingerprint,
        network,
        xpubs: global_xpubs(psbt),
        budget: MAX_XPUB_DERIVATIONS,
    };
    let wallet = multisig_wallet(psbt, &plans, &mut proof)?;
    let mut outputs = Vec::with_capacity(psbt.tx.outputs.len());
    let mut spend_value: u64 = 0;
    let mut out_total: u64 = 0;
    for (index, (o, m)) in psbt.tx.outputs.iter().zip(&psbt.outputs).enumerate() {
        let is_change =
            is_change_output(&o.script_pubkey, m, keys, fingerprint, network, single_key)?
                || match &wallet {
                    Some(w) => is_multisig_change(&o.script_pubkey, m, w, &mut proof)?,
                    None => false,
                };
        if !is_change {
            spend_value = spend_value
                .checked_add(o.value)
                .ok_or(BitcoinError::InvalidTransaction("output values overflow"))?;
        }
        out_total = out_total
            .checked_add(o.value)
            .ok_or(BitcoinError::InvalidTransaction("output values overflow"))?;
        outputs.push(OutputInfo {
            index,
            script_pubkey: o.script_pubkey.clone(),
            address: address_from_script(&o.script_pubkey, network),
            value: o.value,
            is_change,
        });
    }

    let mut inputs = Vec::with_capacity(psbt.inputs.len());
    let mut in_total: Option<u64> = Some(0);
    for (index, (m, utxo)) in psbt.inputs.iter().zip(&spent).enumerate() {
        let amount = utxo.as_ref().map(|o| o.value);
        in_total = match (in_total, amount) {
            (Some(a), Some(b)) => Some(
                a.checked_add(b)
                    .ok_or(BitcoinError::InvalidTransaction("input values overflow"))?,
            ),
            _ => None,
        };
        let script_pubkey = utxo.as_ref().map(|o| o.script_pubkey.clone());
        let is_taproot = script_pubkey
            .as_deref()
            .is_some_and(|s| s.len() == 34 && s[..2] == [0x51, 0x20]);
        inputs.push(InputInfo {
            index,
            amount,
            // `spent` holds the output only when a non-witness UTXO's txid
            // matched the prevout (and agreed with any witness UTXO).
            amount_from_prev_tx: utxo.is_some() && get(m, &[IN_NON_WITNESS_UTXO]).is_some(),
            script_pubkey,
            ours: planned(&plans, index).is_some(),
            sighash: requested_sighash(m),
            is_taproot,
        });
    }
    let fee = match in_total {
        Some(t) => Some(
            t.checked_sub(out_total)
                .ok_or(BitcoinError::InvalidTransaction("outputs exceed inputs"))?,
        ),
        None => None,
    };
    let acp = |p: &Plan| p.hash_type & SIGHASH_ANYONECANPAY != 0;
    let amounts_proven = inputs.iter().all(|i| i.amount_from_prev_tx)
        || (plans.iter().any(|(_, p)| p.is_taproot() && !acp(p))
            && plans.iter().all(|(_, p)| !acp(p)));
    let estimated_vsize = estimate_vsize(psbt, &spent, &plans);
    Ok(PsbtSummary {
        outputs,
        spend_value,
        fee,
        inputs,
        amounts_proven,
        estimated_vsize,
    })
}

/// Bytes of a CompactSize encoding of `n`.
fn compact_size_len(n: usize) -> u64 {
    match n {
        0..=0xfc => 1,
        0xfd..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    }
}

/// The plan of input `i` (plans are in input order).
fn planned(plans: &[(usize, Plan)], i: usize) -> Option<&Plan> {
    plans
        .binary_search_by_key(&i, |(j, _)| *j)
        .ok()
        .and_then(|k| plans.get(k))
        .map(|(_, p)| p)
}

/// The estimate documented on [`summarize_psbt`], in vbytes.
fn estimate_vsize(psbt: &Psbt, spent: &[Option<TxOut>], plans: &[(usize, Plan)]) -> u64 {
    estimate_weight(psbt, spent, plans).div_ceil(4)
}

/// The estimated weight of the signed transaction, in weight units.
fn estimate_weight(psbt: &Psbt, spent: &[Option<TxOut>], plans: &[(usize, Plan)]) -> u64 {
    // A low-S DER ECDSA signature with a 32-byte r, plus the sighash byte.
    const ECDSA_SIG: u64 = 71;
    const PUBKEY: u64 = 33;
    const P2WPKH_WITNESS: u64 = 1 + (1 + ECDSA_SIG) + (1 + PUBKEY);
    const P2PKH_SCRIPT_SIG: u64 = (1 + ECDSA_SIG) + (1 + PUBKEY);
    const P2SH_P2WPKH_SCRIPT_SIG: u64 = 1 + 22;

    // Every scriptSig of the unsigned transaction is empty (parse checks).
    let mut base = psbt.tx.serialize_no_witness().len() as u64;
    let mut witness: u64 = 0;
    let mut segwit = false;
    // The scriptSig grows from its empty 1-byte length to length + bytes.
    let script_sig = |len: u64| compact_size_len(len as usize) - 1 + len;
    for (i, m) in psbt.inputs.iter().enumerate() {
        if is_final(m) {
            if let Some(ss) = get(m, &[IN_FINAL_SCRIPTSIG]) {
                base += script_sig(ss.len() as u64);
            }
            match get(m, &[IN_FINAL_SCRIPTWITNESS]) {
                Some(w) => {
                    witness += w.len() as u64;
                    segwit = true;
                }
                None => witness += 1,
            }
            continue;
        }
        let kind = match planned(plans, i) {
            Some(p) => Some(p.kind),
            None => spent
                .get(i)
                .and_then(Option::as_ref)
                .and_then(|u| classify(&u.script_pubkey, get(m, &[IN_REDEEM_SCRIPT]))),
        };
        match kind {
            Some(Kind::P2wpkh(_)) => {
                witness += P2WPKH_WITNESS;
                segwit = true;
            }
            Some(Kind::P2shP2wpkh(_)) => {
                base += script_sig(P2SH_P2WPKH_SCRIPT_SIG);
                witness += P2WPKH_WITNESS;
                segwit = true;
            }
            Some(Kind::P2pkh(_)) => {
                base += script_sig(P2PKH_SCRIPT_SIG);
                witness += 1;
            }
            Some(Kind::P2wsh(_) | Kind::P2shP2wsh(_)) => {
                let ms = get(m, &[IN_WITNESS_SCRIPT]).and_then(|ws| {
                    parse_multisig(ws)
                        .ok()
                        .flatten()
                        .map(|ms| (ms.threshold as u64, ws.len()))
                });
                match ms {
                    Some((t, len)) => {
                        // Count, the empty dummy, m signatures, the script.
                        witness += 1 + 1 + t * (1 + ECDSA_SIG) + compact_size_len(len) + len as u64;
                        if matches!(kind, Some(Kind::P2shP2wsh(_))) {
                            base += script_sig(1 + 34);
                        }
                        segwit = true;
                    }
                    None => witness += 1,
                }
            }
            Some(Kind::P2tr(_)) => {
                let explicit = requested_sighash(m).is_some_and(|t| t != SIGHASH_DEFAULT);
                witness += 1 + 1 + if explicit { 65 } else { 64 };
                segwit = true;
            }
            None => witness += 1,
        }
    }
    base * 4 + if segwit { 2 + witness } else { 0 }
}

/// The path of a change output for this script type on this network.
fn is_change_path(path: &[u32], t: AddressType, network: Network, single_key: bool) -> bool {
    if single_key {
        return path.is_empty();
    }
    match path {
        [purpose, coin, account, 1, index] => {
            *purpose == t.purpose() | HARDENED
                && *coin == network.coin_type() | HARDENED
                && *account & HARDENED != 0
                && *index < MAX_CHANGE_INDEX
        }
        _ => false,
    }
}

fn is_change_output(
    spk: &[u8],
    m: &Map,
    keys: &dyn Secp256k1KeySource,
    fingerprint: [u8; 4],
    network: Network,
    single_key: bool,
) -> Result<bool, BitcoinError> {
    for (k, v) in m {
        match k[0] {
            OUT_BIP32_DERIVATION if k.len() == 34 => {
                let Some((fp, path)) = split_origin(v) else {
                    continue;
                };
                if fp != fingerprint {
                    continue;
                }
                let listed = CompressedPublicKey::from_slice(&k[1..])?;
                let h = hash160(&listed.to_bytes());
                let w = p2wpkh_script(&h);
                let t = if spk == w.as_slice() {
                    AddressType::P2wpkh
                } else if spk == p2sh_script(&hash160(&w)).as_slice() {
                    AddressType::P2shP2wpkh
                } else if spk == p2pkh_script(&h).as_slice() {
                    AddressType::P2pkh
                } else {
                    continue;
                };
                // The path is checked first: nothing is derived at a path
                // that could not be change anyway.
                if is_change_path(&path, t, network, single_key)
                    && keys.derive_public_key(&path)? == listed
                {
                    return Ok(true);
                }
            }
            OUT_TAP_BIP32_DERIVATION if k.len() == 33 => {
                let Some((leaves, origin)) = parse_tap_origin(v) else {
                    continue;
                };
                let Some((fp, path)) = split_origin(origin) else {
                    continue;
                };
                if fp != fingerprint || !leaves.is_empty() {
                    continue;
                }
                let x: [u8; 32] = match k[1..].try_into() {
                    Ok(x) => x,
                    Err(_) => continue,
                };
                let (q, _) = taproot_tweak_public_key(&x, None)?;
                if spk == p2tr_script(&q).as_slice()
                    && is_change_path(&path, AddressType::P2tr, network, single_key)
                    && keys.derive_public_key(&path)?.x_only() == x
                {
                    return Ok(true);
                }
            }
            _ => {}
        }
    }
    Ok(false)
}

/// The most cosigner key derivations (two BIP-32 public steps each) one
/// PSBT may ask for when proving multisig keys from `PSBT_GLOBAL_XPUB`
/// entries. A 20-key script needs 20 per input and per change output.
pub const MAX_XPUB_DERIVATIONS: usize = 4_096;

/// Who a multisig key belongs to, proven: one of our own BIP-48 accounts
/// (derived from our seed), or a cosigner's account xpub (chain code and
/// key, 65 bytes) from which the key was derived.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum KeyOwner {
    Ours(Vec<u32>),
    Xpub(Vec<u8>),
}

/// The multisig every input of ours spends from, its keys proven.
struct MultisigWallet {
    nested: bool,
    threshold: usize,
    /// Owners in script order, when every input lists them in one order.
    ordered: Option<Vec<KeyOwner>>,
    /// Owners sorted (the set of accounts).
    set: Vec<KeyOwner>,
    /// Every input's script is sorted (`sortedmulti`).
    sorted: bool,
}

struct KeyProof<'a> {
    keys: &'a dyn Secp256k1KeySource,
    fingerprint: [u8; 4],
    network: Network,
    /// Global xpubs by origin (fingerprint and path, as PSBT bytes).
    xpubs: std::collections::BTreeMap<Vec<u8>, Vec<Vec<u8>>>,
    budget: usize,
}

fn global_xpubs(psbt: &Psbt) -> std::collections::BTreeMap<Vec<u8>, Vec<Vec<u8>>> {
    let mut out: std::collections::BTreeMap<Vec<u8>, Vec<Vec<u8>>> = Default::default();
    for (k, v) in &psbt.global {
        if k[0] == GLOBAL_XPUB && k.len() == 79 {
            out.entry(v.clone()).or_default().push(k[1..].to_vec());
        }
    }
    out
}

impl KeyProof<'_> {
    /// The proven owner of a multisig `key` listed with `derivation_type`
    /// in `m`, and its index: the key's origin must be
    /// `account/chain/index` with `chain` 0 or 1 (exactly 1 when
    /// `change_only`) and `index` below [`MAX_CHANGE_INDEX`]; ours when
    /// the account is our BIP-48 account for this script type and network
    /// and our seed derives the key there; a cosigner's when a global xpub
    /// with that origin derives it. `None` when nothing proves it.
    fn owner(
        &mut self,
        key: &[u8; 33],
        m: &Map,
        derivation_type: u8,
        nested: bool,
        change_only: bool,
    ) -> Result<Option<(KeyOwner, u32)>, BitcoinError> {
        let mut k = vec![derivation_type];
        k.extend_from_slice(key);
        let Some(v) = get(m, &k) else {
            return Ok(None);
        };
        let Some((fp, path)) = split_origin(v) else {
            return Ok(None);
        };
        let [account @ .., chain, index] = path.as_slice() else {
            return Ok(None);
        };
        let chain_ok = if change_only {
            *chain == 1
        } else {
            *chain <= 1
        };
        if !chain_ok || *index >= MAX_CHANGE_INDEX {
            return Ok(None);
        }
        if fp == self.fingerprint {
            let script = if nested { 1 } else { 2 };
            let bip48 = matches!(account, [p, c, a, s]
                if *p == 48 | HARDENED
                && *c == self.network.coin_type() | HARDENED
                && *a & HARDENED != 0
                && *s == script | HARDENED);
            if bip48 && self.keys.derive_public_key(&path)?.to_bytes() == *key {
                return Ok(Some((KeyOwner::Ours(account.to_vec()), *index)));
            }
            return Ok(None);
        }
        let origin = &v[..v.len() - 8];
        let Some(candidates) = self.xpubs.get(origin) else {
            return Ok(None);
        };
        for xpub in candidates {
            if self.budget == 0 {
                return Err(BitcoinError::InvalidPsbt(format!(
                    "asks for more than {MAX_XPUB_DERIVATIONS} cosigner key derivations"
                )));
            }
            self.budget -= 1;
            if derive_from_xpub(xpub, &[*chain, *index]).as_ref() == Some(key) {
                return Ok(Some((KeyOwner::Xpub(xpub[13..].to_vec()), *index)));
            }
        }
        Ok(None)
    }

    /// Every key's owner, in script order, or `None` when one is unproven
    /// (or, for change, the keys are not all at the same index).
    fn owners(
        &mut self,
        ms: &Multisig,
        m: &Map,
        derivation_type: u8,
        nested: bool,
        change_only: bool,
    ) -> Result<Option<Vec<KeyOwner>>, BitcoinError> {
        let mut out = Vec::with_capacity(ms.keys.len());
        let mut first_index = None;
        for key in &ms.keys {
            let Some((owner, index)) = self.owner(key, m, derivation_type, nested, change_only)?
            else {
                return Ok(None);
            };
            if change_only && *first_index.get_or_insert(index) != index {
                return Ok(None);
            }
            out.push(owner);
        }
        Ok(Some(out))
    }
}

/// The multisig wallet of this transaction: defined only when every input
/// of ours is a multisig input, all of the same script type and threshold,
/// with every key's owner proven and the same set of owners. Otherwise no
/// output is multisig change.
fn multisig_wallet(
    psbt: &Psbt,
    plans: &[(usize, Plan)],
    proof: &mut KeyProof<'_>,
) -> Result<Option<MultisigWallet>, BitcoinError> {
    let mut wallet: Option<MultisigWallet> = None;
    if plans.is_empty() {
        return Ok(None);
    }
    for (i, plan) in plans {
        let Some((ms, _)) = &plan.multisig else {
            return Ok(None);
        };
        let nested = matches!(plan.kind, Kind::P2shP2wsh(_));
        let Some(owners) =
            proof.owners(ms, &psbt.inputs[*i], IN_BIP32_DERIVATION, nested, false)?
        else {
            return Ok(None);
        };
        let mut set = owners.clone();
        set.sort();
        match &mut wallet {
            None => {
                wallet = Some(MultisigWallet {
                    nested,
                    threshold: ms.threshold,
                    ordered: Some(owners),
                    set,
                    sorted: ms.is_sorted(),
                })
            }
            Some(w) => {
                if w.nested != nested || w.threshold != ms.threshold || w.set != set {
                    return Ok(None);
                }
                if w.ordered.as_ref() != Some(&owners) {
                    w.ordered = None;
                }
                w.sorted &= ms.is_sorted();
            }
        }
    }
    Ok(wallet)
}

/// Whether an output pays the same multisig on the internal chain: its
/// witness script is a multisig with the wallet's threshold, the output
/// script is that script's P2WSH (or P2SH-P2WSH, as the inputs), and its
/// keys are each proven at `…/1/i` (one `i`) from the same owners, in the
/// same order as the inputs' scripts or sorted when those are sorted.
fn is_multisig_change(
    spk: &[u8],
    m: &Map,
    w: &MultisigWallet,
    proof: &mut KeyProof<'_>,
) -> Result<bool, BitcoinError> {
    let Some(ws) = get(m, &[OUT_WITNESS_SCRIPT]) else {
        return Ok(false);
    };
    let Ok(Some(ms)) = parse_multisig(ws) else {
        return Ok(false);
    };
    let expected = if w.nested {
        p2sh_p2wsh_script(ws)
    } else {
        p2wsh_script(ws)
    };
    if spk != expected.as_slice() || ms.threshold != w.threshold || ms.keys.len() != w.set.len() {
        return Ok(false);
    }
    let Some(owners) = proof.owners(&ms, m, OUT_BIP32_DERIVATION, w.nested, true)? else {
        return Ok(false);
    };
    let mut set = owners.clone();
    set.sort();
    if set != w.set {
        return Ok(false);
    }
    Ok(w.ordered.as_ref() == Some(&owners) || (w.sorted && ms.is_sorted()))
}
