//! The three signature-hash algorithms: legacy, BIP-143 (segwit v0) and
//! BIP-341 (taproot key path).

use sha2::{Digest, Sha256};

use super::hash::{sha256d, tagged_hash};
use super::tx::{Transaction, TxOut, write_compact_size, write_var_bytes};

/// SIGHASH_DEFAULT (taproot only: like ALL, signature without the byte).
pub const SIGHASH_DEFAULT: u32 = 0x00;
/// SIGHASH_ALL.
pub const SIGHASH_ALL: u32 = 0x01;
/// SIGHASH_NONE.
pub const SIGHASH_NONE: u32 = 0x02;
/// SIGHASH_SINGLE.
pub const SIGHASH_SINGLE: u32 = 0x03;
/// SIGHASH_ANYONECANPAY flag.
pub const SIGHASH_ANYONECANPAY: u32 = 0x80;

/// Every sighash type with a name, by name: the names of
/// [`sighash_name`] and [`parse_sighash_name`].
const SIGHASH_NAMES: [(u32, &str); 7] = [
    (SIGHASH_DEFAULT, "DEFAULT"),
    (SIGHASH_ALL, "ALL"),
    (SIGHASH_NONE, "NONE"),
    (SIGHASH_SINGLE, "SINGLE"),
    (SIGHASH_ALL | SIGHASH_ANYONECANPAY, "ALL|ANYONECANPAY"),
    (SIGHASH_NONE | SIGHASH_ANYONECANPAY, "NONE|ANYONECANPAY"),
    (SIGHASH_SINGLE | SIGHASH_ANYONECANPAY, "SINGLE|ANYONECANPAY"),
];

/// The name of a sighash type: `DEFAULT`, `ALL`, `NONE`, `SINGLE`,
/// `ALL|ANYONECANPAY`, `NONE|ANYONECANPAY` or `SINGLE|ANYONECANPAY`;
/// `None` for any other value.
pub fn sighash_name(sighash: u32) -> Option<&'static str> {
    SIGHASH_NAMES
        .iter()
        .find(|(t, _)| *t == sighash)
        .map(|(_, n)| *n)
}

/// The sighash type of a name of [`sighash_name`] (exact, upper case, no
/// `SIGHASH_` prefix); `None` for anything else.
pub fn parse_sighash_name(name: &str) -> Option<u32> {
    SIGHASH_NAMES
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(t, _)| *t)
}

/// `SIGHASH_NONE|ANYONECANPAY`, or the value in hex when it has no name.
pub(crate) fn sighash_label(sighash: u32) -> String {
    match sighash_name(sighash) {
        Some(n) => format!("SIGHASH_{n}"),
        None => format!("0x{sighash:08x}"),
    }
}

/// The legacy (pre-segwit) signature hash, exactly as Bitcoin Core's
/// `SignatureHash` for `SigVersion::BASE`, including its quirks: the
/// "one" hash for SIGHASH_SINGLE without a matching output or an input
/// index out of range, and OP_CODESEPARATORs removed from the script code.
///
/// Returned in internal byte order (the bytes that are signed).
pub fn legacy_sighash(
    tx: &Transaction,
    input_index: usize,
    script_code: &[u8],
    hash_type: u32,
) -> [u8; 32] {
    let mut one = [0u8; 32];
    one[0] = 1;
    if input_index >= tx.inputs.len() {
        return one;
    }
    let base = hash_type & 0x1f;
    let anyone_can_pay = hash_type & SIGHASH_ANYONECANPAY != 0;
    let none = base == SIGHASH_NONE;
    let single = base == SIGHASH_SINGLE;
    if single && input_index >= tx.outputs.len() {
        return one;
    }
    let mut s = Vec::new();
    s.extend_from_slice(&tx.version.to_le_bytes());
    let inputs: Vec<usize> = if anyone_can_pay {
        vec![input_index]
    } else {
        (0..tx.inputs.len()).collect()
    };
    write_compact_size(&mut s, inputs.len() as u64);
    for &i in &inputs {
        let input = &tx.inputs[i];
        s.extend_from_slice(&input.prev_txid);
        s.extend_from_slice(&input.prev_vout.to_le_bytes());
        if i == input_index {
            write_script_code_without_codeseparators(&mut s, script_code);
        } else {
            s.push(0);
        }
        if i != input_index && (none || single) {
            s.extend_from_slice(&0u32.to_le_bytes());
        } else {
            s.extend_from_slice(&input.sequence.to_le_bytes());
        }
    }
    let n_out = if none {
        0
    } else if single {
        input_index + 1
    } else {
        tx.outputs.len()
    };
    write_compact_size(&mut s, n_out as u64);
    for (i, o) in tx.outputs.iter().take(n_out).enumerate() {
        if single && i != input_index {
            // A "null" output: value -1, empty script.
            s.extend_from_slice(&u64::MAX.to_le_bytes());
            s.push(0);
        } else {
            o.serialize_into(&mut s);
        }
    }
    s.extend_from_slice(&tx.lock_time.to_le_bytes());
    s.extend_from_slice(&hash_type.to_le_bytes());
    sha256d(&s)
}

/// Core's `GetScriptOp`: advances `pc` past one opcode (and its push data);
/// false when the script ends or a push runs past the end (with `pc`
/// advanced as far as Core advances it).
fn get_op(script: &[u8], pc: &mut usize) -> Option<u8> {
    let end = script.len();
    if *pc >= end {
        return None;
    }
    let opcode = script[*pc];
    *pc += 1;
    if opcode <= 0x4e {
        let size = match opcode {
            0x4c => {
                let b = *script.get(*pc)?;
                *pc += 1;
                usize::from(b)
            }
            0x4d => {
                if end - *pc < 2 {
                    return None;
                }
                let v = u16::from_le_bytes([script[*pc], script[*pc + 1]]);
                *pc += 2;
                usize::from(v)
            }
            0x4e => {
                if end - *pc < 4 {
                    return None;
                }
                let v = u32::from_le_bytes([
                    script[*pc],
                    script[*pc + 1],
                    script[*pc + 2],
                    script[*pc + 3],
                ]);
                *pc += 4;
                usize::try_from(v).ok()?
            }
            n => usize::from(n),
        };
        if end - *pc < size {
            return None;
        }
        *pc += size;
    }
    Some(opcode)
}

/// `CTransactionSignatureSerializer::SerializeScriptCode`.
fn write_script_code_without_codeseparators(out: &mut Vec<u8>, script: &[u8]) {
    const OP_CODESEPARATOR: u8 = 0xab;
    let mut pc = 0;
    let mut separators = 0usize;
    while let Some(op) = get_op(script, &mut pc) {
        if op == OP_CODESEPARATOR {
            separators += 1;
        }
    }
    write_compact_size(out, (script.len() - separators) as u64);
    let mut pc = 0;
    let mut begin = 0;
    while let Some(op) = get_op(script, &mut pc) {
        if op == OP_CODESEPARATOR {
            out.extend_from_slice(&script[begin..pc - 1]);
            begin = pc;
        }
    }
    if begin != script.len() {
        out.extend_from_slice(&script[begin..pc.min(script.len())]);
    }
}

/// The hashes of a transaction that every input's BIP-143 and BIP-341
/// signature hash shares (single SHA-256; BIP-143 hashes them once more).
/// Computing them once per transaction keeps signing linear in its size.
#[derive(Debug, Clone)]
pub(crate) struct TxHashes {
    prevouts: [u8; 32],
    sequences: [u8; 32],
    outputs: [u8; 32],
    /// Of every spent amount and scriptPubKey (BIP-341), when all are known.
    amounts_and_scripts: Option<([u8; 32], [u8; 32])>,
}

impl TxHashes {
    /// `spent`: every input's spent output, in input order, if known.
    pub(crate) fn new(tx: &Transaction, spent: Option<&[TxOut]>) -> Self {
        let mut prev = Sha256::new();
        let mut seqs = Sha256::new();
        for i in &tx.inputs {
            prev.update(i.prev_txid);
            prev.update(i.prev_vout.to_le_bytes());
            seqs.update(i.sequence.to_le_bytes());
        }
        let mut outs = Sha256::new();
        let mut b = Vec::new();
        for o in &tx.outputs {
            b.clear();
            o.serialize_into(&mut b);
            outs.update(&b);
        }
        let amounts_and_scripts = spent.filter(|all| all.len() == tx.inputs.len()).map(|all| {
            let mut amounts = Sha256::new();
            let mut spks = Sha256::new();
            for o in all {
                amounts.update(o.value.to_le_bytes());
                b.clear();
                write_var_bytes(&mut b, &o.script_pubkey);
                spks.update(&b);
            }
            (amounts.finalize().into(), spks.finalize().into())
        });
        Self {
            prevouts: prev.finalize().into(),
            sequences: seqs.finalize().into(),
            outputs: outs.finalize().into(),
            amounts_and_scripts,
        }
    }
}

/// BIP-143 signature hash for segwit v0 inputs (`script_code` is the
/// serialized-without-length script, e.g. `76a914{hash}88ac` for P2WPKH).
pub fn segwit_v0_sighash(
    tx: &Transaction,
    input_index: usize,
    script_code: &[u8],
    amount: u64,
    hash_type: u32,
) -> Option<[u8; 32]> {
    let hashes = TxHashes::new(tx, None);
    segwit_v0_sighash_with(tx, &hashes, input_index, script_code, amount, hash_type)
}

/// [`segwit_v0_sighash`] with the transaction's shared hashes.
pub(crate) fn segwit_v0_sighash_with(
    tx: &Transaction,
    hashes: &TxHashes,
    input_index: usize,
    script_code: &[u8],
    amount: u64,
    hash_type: u32,
) -> Option<[u8; 32]> {
    let input = tx.inputs.get(input_index)?;
    let base = hash_type & 0x1f;
    let anyone_can_pay = hash_type & SIGHASH_ANYONECANPAY != 0;
    let zero = [0u8; 32];

    let hash_prevouts = if anyone_can_pay {
        zero
    } else {
        super::hash::sha256(&hashes.prevouts)
    };
    let hash_sequence = if anyone_can_pay || base == SIGHASH_SINGLE || base == SIGHASH_NONE {
        zero
    } else {
        super::hash::sha256(&hashes.sequences)
    };
    let hash_outputs = if base != SIGHASH_SINGLE && base != SIGHASH_NONE {
        super::hash::sha256(&hashes.outputs)
    } else if base == SIGHASH_SINGLE && input_index < tx.outputs.len() {
        let mut b = Vec::new();
        tx.outputs[input_index].serialize_into(&mut b);
        sha256d(&b)
    } else {
        zero
    };

    let mut s = Vec::with_capacity(160 + script_code.len());
    s.extend_from_slice(&tx.version.to_le_bytes());
    s.extend_from_slice(&hash_prevouts);
    s.extend_from_slice(&hash_sequence);
    s.extend_from_slice(&input.prev_txid);
    s.extend_from_slice(&input.prev_vout.to_le_bytes());
    write_var_bytes(&mut s, script_code);
    s.extend_from_slice(&amount.to_le_bytes());
    s.extend_from_slice(&input.sequence.to_le_bytes());
    s.extend_from_slice(&hash_outputs);
    s.extend_from_slice(&tx.lock_time.to_le_bytes());
    s.extend_from_slice(&hash_type.to_le_bytes());
    Some(sha256d(&s))
}

/// The outputs being spent, as BIP-341 needs them.
#[derive(Debug, Clone, Copy)]
pub enum Prevouts<'a> {
    /// Every input's spent output, in input order.
    All(&'a [TxOut]),
    /// Only the signed input's (enough with SIGHASH_ANYONECANPAY).
    One(&'a TxOut),
}

/// BIP-341 `SigMsg(hash_type, ext_flag = 0)` for a key-path spend without
/// annex. `None` when the request is invalid (bad hash type, index out of
/// range, missing prevouts, SINGLE without a matching output).
pub fn taproot_sigmsg(
    tx: &Transaction,
    input_index: usize,
    prevouts: Prevouts<'_>,
    hash_type: u8,
) -> Option<Vec<u8>> {
    let all = match prevouts {
        Prevouts::All(all) => Some(all),
        Prevouts::One(_) => None,
    };
    let hashes = TxHashes::new(tx, all);
    taproot_sigmsg_with(tx, &hashes, input_index, prevouts, hash_type)
}

/// [`taproot_sigmsg`] with the transaction's shared hashes (whose amounts
/// and scripts must be those of `prevouts` when it is `All`).
pub(crate) fn taproot_sigmsg_with(
    tx: &Transaction,
    hashes: &TxHashes,
    input_index: usize,
    prevouts: Prevouts<'_>,
    hash_type: u8,
) -> Option<Vec<u8>> {
    if !matches!(hash_type, 0x00..=0x03 | 0x81..=0x83) {
        return None;
    }
    let input = tx.inputs.get(input_index)?;
    let anyone_can_pay = u32::from(hash_type) & SIGHASH_ANYONECANPAY != 0;
    let base = u32::from(hash_type) & 0x03;
    let mut m = Vec::with_capacity(210);
    m.push(hash_type);
    m.extend_from_slice(&tx.version.to_le_bytes());
    m.extend_from_slice(&tx.lock_time.to_le_bytes());
    if !anyone_can_pay {
        let Prevouts::All(all) = prevouts else {
            return None;
        };
        if all.len() != tx.inputs.len() {
            return None;
        }
        let (amounts, spks) = hashes.amounts_and_scripts?;
        m.extend_from_slice(&hashes.prevouts);
        m.extend_from_slice(&amounts);
        m.extend_from_slice(&spks);
        m.extend_from_slice(&hashes.sequences);
    }
    if base != SIGHASH_NONE && base != SIGHASH_SINGLE {
        m.extend_from_slice(&hashes.outputs);
    }
    // spend_type = ext_flag * 2 + annex_present = 0 (key path, no annex).
    m.push(0);
    if anyone_can_pay {
        let own = match prevouts {
            Prevouts::One(o) => o,
            Prevouts::All(all) => all.get(input_index)?,
        };
        m.extend_from_slice(&input.prev_txid);
        m.extend_from_slice(&input.prev_vout.to_le_bytes());
        m.extend_from_slice(&own.value.to_le_bytes());
        write_var_bytes(&mut m, &own.script_pubkey);
        m.extend_from_slice(&input.sequence.to_le_bytes());
    } else {
        m.extend_from_slice(&(input_index as u32).to_le_bytes());
    }
    if base == SIGHASH_SINGLE {
        let out = tx.outputs.get(input_index)?;
        let mut b = Vec::new();
        out.serialize_into(&mut b);
        m.extend_from_slice(&super::hash::sha256(&b));
    }
    Some(m)
}

/// BIP-341 key-path signature hash: `hashTapSighash(0x00 || SigMsg)`.
pub fn taproot_key_spend_sighash(
    tx: &Transaction,
    input_index: usize,
    prevouts: Prevouts<'_>,
    hash_type: u8,
) -> Option<[u8; 32]> {
    let msg = taproot_sigmsg(tx, input_index, prevouts, hash_type)?;
    Some(tagged_hash("TapSighash", &[&[0x00], &msg]))
}

/// [`taproot_key_spend_sighash`] with the transaction's shared hashes.
pub(crate) fn taproot_key_spend_sighash_with(
    tx: &Transaction,
    hashes: &TxHashes,
    input_index: usize,
    prevouts: Prevouts<'_>,
    hash_type: u8,
) -> Option<[u8; 32]> {
    let msg = taproot_sigmsg_with(tx, hashes, input_index, prevouts, hash_type)?;
    Some(tagged_hash("TapSighash", &[&[0x00], &msg]))
}
