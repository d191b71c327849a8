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
use super::hash::hash160;
use super::psbt::*;
use super::sighash::{
    Prevouts, SIGHASH_ALL, SIGHASH_DEFAULT, SIGHASH_SINGLE, legacy_sighash, segwit_v0_sighash,
    taproot_key_spend_sighash,
};
use super::tx::{Transaction, TxOut, write_var_bytes};
use super::{BitcoinError, Network};

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
}

impl core::fmt::Debug for SignOptions {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SignOptions")
            .field("finalize", &self.finalize)
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

/// What a spending policy looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PsbtSummary {
    /// Every output.
    pub outputs: Vec<OutputInfo>,
    /// Sum of the values of outputs that are not change.
    pub spend_value: u64,
    /// Inputs minus outputs, when every input's spent output is known.
    pub fee: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    P2wpkh([u8; 20]),
    P2shP2wpkh([u8; 20]),
    P2pkh([u8; 20]),
    P2tr([u8; 32]),
}

/// The spend type of an input from its spent scriptPubKey (and redeem script).
fn classify(spk: &[u8], redeem: Option<&[u8]>) -> Option<Kind> {
    match spk {
        [0x00, 0x14, h @ ..] if h.len() == 20 => Some(Kind::P2wpkh(h.try_into().ok()?)),
        [0x51, 0x20, x @ ..] if x.len() == 32 => Some(Kind::P2tr(x.try_into().ok()?)),
        [0x76, 0xa9, 0x14, h @ .., 0x88, 0xac] if h.len() == 20 => {
            Some(Kind::P2pkh(h.try_into().ok()?))
        }
        [0xa9, 0x14, sh @ .., 0x87] if sh.len() == 20 => match redeem? {
            r @ [0x00, 0x14, h @ ..] if h.len() == 20 && hash160(r) == sh => {
                Some(Kind::P2shP2wpkh(h.try_into().ok()?))
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
/// ours is inconsistent (the signer must then not sign, BIP-174).
pub fn sign_psbt(
    psbt: &Psbt,
    keys: &dyn Secp256k1KeySource,
    options: &SignOptions,
) -> Result<SignedPsbt, BitcoinError> {
    let mut psbt = psbt.clone();
    let fingerprint = keys.master_fingerprint();
    let mut signed = Vec::new();

    // Spent outputs of every input, needed whole by BIP-341.
    let mut spent: Vec<Option<TxOut>> = Vec::with_capacity(psbt.inputs.len());
    for i in 0..psbt.inputs.len() {
        spent.push(psbt.spent_output(i).ok().flatten());
    }

    for i in 0..psbt.inputs.len() {
        if is_final(&psbt.inputs[i]) {
            continue;
        }
        if sign_input(&mut psbt, i, &spent, keys, fingerprint, options)? {
            signed.push(i);
        }
    }
    if signed.is_empty() {
        return Err(BitcoinError::NothingToSign);
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
    })
}

fn is_final(m: &Map) -> bool {
    get(m, &[IN_FINAL_SCRIPTSIG]).is_some() || get(m, &[IN_FINAL_SCRIPTWITNESS]).is_some()
}

fn sighash_type(m: &Map, index: usize, taproot: bool) -> Result<u32, BitcoinError> {
    match get(m, &[IN_SIGHASH_TYPE]) {
        None => Ok(if taproot {
            SIGHASH_DEFAULT
        } else {
            SIGHASH_ALL
        }),
        Some(v) => {
            let t = u32::from_le_bytes([v[0], v[1], v[2], v[3]]);
            let ok = matches!(t, 0x01..=0x03 | 0x81..=0x83) || (taproot && t == 0);
            if ok {
                Ok(t)
            } else {
                Err(bad(index, "unsupported sighash type"))
            }
        }
    }
}

/// Keys in `bip32_derivation` entries of ours that derive to the listed key.
fn our_ecdsa_keys(
    m: &Map,
    keys: &dyn Secp256k1KeySource,
    fingerprint: [u8; 4],
) -> Result<Vec<(CompressedPublicKey, SigningKey)>, BitcoinError> {
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
        let sk = keys.derive_signing_key(&path)?;
        if CompressedPublicKey::from_k256(&sk.verifying_key().into()) == listed {
            found.push((listed, sk));
        }
    }
    Ok(found)
}

fn sign_input(
    psbt: &mut Psbt,
    i: usize,
    spent: &[Option<TxOut>],
    keys: &dyn Secp256k1KeySource,
    fingerprint: [u8; 4],
    options: &SignOptions,
) -> Result<bool, BitcoinError> {
    let m = &psbt.inputs[i];
    let names_us = m.iter().any(|(k, v)| match k[0] {
        IN_BIP32_DERIVATION => v.len() >= 4 && v[..4] == fingerprint,
        IN_TAP_BIP32_DERIVATION => parse_tap_origin(v).is_some_and(|(_, o)| o[..4] == fingerprint),
        _ => false,
    });
    if !names_us {
        return Ok(false);
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
                None => return Ok(false),
            }
        }
        // Not a script type we sign; leave it alone.
        None => return Ok(false),
    };
    let tx = psbt.tx.clone();

    if let Kind::P2tr(output_key) = kind {
        let hash_type = sighash_type(m, i, true)?;
        return sign_taproot(
            psbt,
            i,
            &tx,
            spent,
            output_key,
            hash_type,
            keys,
            fingerprint,
            options,
        );
    }

    let hash_type = sighash_type(m, i, false)?;
    if hash_type & 0x1f == SIGHASH_SINGLE && i >= tx.outputs.len() {
        return Err(bad(i, "sighash single without a matching output"));
    }
    let mut did_sign = false;
    for (pk, sk) in ours {
        let pkh = hash160(&pk.to_bytes());
        let digest = match kind {
            Kind::P2wpkh(h) | Kind::P2shP2wpkh(h) if h == pkh => {
                let script_code = p2pkh_script(&h);
                segwit_v0_sighash(&tx, i, &script_code, utxo.value, hash_type)
                    .ok_or(bad(i, "input index out of range"))?
            }
            Kind::P2pkh(h) if h == pkh => {
                // BIP-174: no non-witness signature with only a witness utxo.
                if get(&psbt.inputs[i], &[IN_NON_WITNESS_UTXO]).is_none() {
                    return Err(bad(i, "legacy input needs the non-witness utxo"));
                }
                legacy_sighash(&tx, i, &utxo.script_pubkey, hash_type)
            }
            _ => continue,
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
        if let Kind::P2shP2wpkh(h) = kind {
            set(
                &mut psbt.inputs[i],
                vec![IN_REDEEM_SCRIPT],
                p2wpkh_script(&h),
            );
        }
        did_sign = true;
    }
    Ok(did_sign)
}

#[allow(clippy::too_many_arguments)]
fn sign_taproot(
    psbt: &mut Psbt,
    i: usize,
    tx: &Transaction,
    spent: &[Option<TxOut>],
    output_key: [u8; 32],
    hash_type: u32,
    keys: &dyn Secp256k1KeySource,
    fingerprint: [u8; 4],
    options: &SignOptions,
) -> Result<bool, BitcoinError> {
    let m = &psbt.inputs[i];
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
        return Ok(false);
    };
    let sk = keys.derive_signing_key(&path)?;
    let pk = CompressedPublicKey::from_k256(&sk.verifying_key().into());
    if pk.x_only() != x {
        return Ok(false);
    }
    let (q, _) = taproot_tweak_public_key(&x, merkle_root.as_ref())?;
    if q != output_key {
        return Ok(false);
    }
    let acp = hash_type & 0x80 != 0;
    let all: Vec<TxOut>;
    let prevouts = if acp {
        Prevouts::One(spent[i].as_ref().ok_or(bad(i, "no utxo to sign against"))?)
    } else {
        all = spent
            .iter()
            .map(|o| {
                o.clone()
                    .ok_or(bad(i, "taproot signing needs every input's utxo"))
            })
            .collect::<Result<_, _>>()?;
        Prevouts::All(&all)
    };
    let digest = taproot_key_spend_sighash(tx, i, prevouts, hash_type as u8)
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
    Ok(true)
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

/// The outputs with their addresses and values, which of them are change
/// to this wallet, the value spent elsewhere and the fee.
///
/// An output is change when its `bip32_derivation` (or key-path-only
/// `tap_bip32_derivation`) names our fingerprint, the key derived at that
/// path is the listed key, and the output script is that key's P2WPKH,
/// P2SH-P2WPKH, P2PKH or BIP-86 P2TR script.
pub fn summarize_psbt(
    psbt: &Psbt,
    keys: &dyn Secp256k1KeySource,
    network: Network,
) -> Result<PsbtSummary, BitcoinError> {
    let fingerprint = keys.master_fingerprint();
    let mut outputs = Vec::with_capacity(psbt.tx.outputs.len());
    let mut spend_value: u64 = 0;
    let mut out_total: u64 = 0;
    for (index, (o, m)) in psbt.tx.outputs.iter().zip(&psbt.outputs).enumerate() {
        let is_change = is_change_output(&o.script_pubkey, m, keys, fingerprint)?;
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
    let mut in_total: Option<u64> = Some(0);
    for i in 0..psbt.inputs.len() {
        let v = psbt.spent_output(i).ok().flatten().map(|o| o.value);
        in_total = match (in_total, v) {
            (Some(a), Some(b)) => a.checked_add(b),
            _ => None,
        };
    }
    Ok(PsbtSummary {
        outputs,
        spend_value,
        fee: in_total.and_then(|t| t.checked_sub(out_total)),
    })
}

fn is_change_output(
    spk: &[u8],
    m: &Map,
    keys: &dyn Secp256k1KeySource,
    fingerprint: [u8; 4],
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
                if keys.derive_public_key(&path)? != listed {
                    continue;
                }
                let h = hash160(&listed.to_bytes());
                let w = p2wpkh_script(&h);
                if spk == w.as_slice()
                    || spk == p2pkh_script(&h).as_slice()
                    || spk == p2sh_script(&hash160(&w)).as_slice()
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
                if keys.derive_public_key(&path)?.x_only() != x {
                    continue;
                }
                let (q, _) = taproot_tweak_public_key(&x, None)?;
                if spk == p2tr_script(&q).as_slice() {
                    return Ok(true);
                }
            }
            _ => {}
        }
    }
    Ok(false)
}
