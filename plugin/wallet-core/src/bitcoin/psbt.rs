//! BIP-174 PSBT version 0: parse, validate and serialize, keeping every
//! key-value pair (including unknown and proprietary ones) in its order, so
//! an untouched PSBT re-serializes byte for byte.

use k256::PublicKey;

use super::BitcoinError;
use super::tx::{Reader, Transaction, TxIn, TxOut, parse_witness, write_var_bytes};

/// The largest PSBT we accept (decoded bytes). Standard transactions are
/// below 400 kB; previous transactions included for legacy inputs add more.
pub const MAX_PSBT_BYTES: usize = 4_000_000;

/// The largest unsigned transaction we sign: Bitcoin Core's standardness
/// limit of 400 000 weight units is 100 000 bytes of a transaction without
/// witnesses. It bounds the signing work, which is quadratic for legacy
/// inputs (each input's sighash serializes the whole transaction) and in
/// our BIP-143/BIP-341 code: without it one 4 MB PSBT of 28 000 inputs took
/// minutes.
pub const MAX_UNSIGNED_TX_BYTES: usize = 100_000;

const MAGIC: &[u8; 5] = b"psbt\xff";

/// The most input or output maps a PSBT v2's global counts reserve room
/// for before the maps are parsed.
const MAX_RESERVED_MAPS: usize = 256;

/// One key-value map: (key including its type byte, value), in order.
pub type Map = Vec<(Vec<u8>, Vec<u8>)>;

// Global types.
pub(crate) const GLOBAL_UNSIGNED_TX: u8 = 0x00;
pub(crate) const GLOBAL_XPUB: u8 = 0x01;
pub(crate) const GLOBAL_VERSION: u8 = 0xfb;
// BIP-370 (PSBT v2) global types.
const GLOBAL_TX_VERSION: u8 = 0x02;
const GLOBAL_FALLBACK_LOCKTIME: u8 = 0x03;
const GLOBAL_INPUT_COUNT: u8 = 0x04;
const GLOBAL_OUTPUT_COUNT: u8 = 0x05;
const GLOBAL_TX_MODIFIABLE: u8 = 0x06;
// BIP-370 input and output types.
const IN_PREVIOUS_TXID: u8 = 0x0e;
const IN_OUTPUT_INDEX: u8 = 0x0f;
const IN_SEQUENCE: u8 = 0x10;
const IN_REQUIRED_TIME_LOCKTIME: u8 = 0x11;
const IN_REQUIRED_HEIGHT_LOCKTIME: u8 = 0x12;
const OUT_AMOUNT: u8 = 0x03;
const OUT_SCRIPT: u8 = 0x04;
// Input types.
pub(crate) const IN_NON_WITNESS_UTXO: u8 = 0x00;
pub(crate) const IN_WITNESS_UTXO: u8 = 0x01;
pub(crate) const IN_PARTIAL_SIG: u8 = 0x02;
pub(crate) const IN_SIGHASH_TYPE: u8 = 0x03;
pub(crate) const IN_REDEEM_SCRIPT: u8 = 0x04;
pub(crate) const IN_WITNESS_SCRIPT: u8 = 0x05;
pub(crate) const IN_BIP32_DERIVATION: u8 = 0x06;
pub(crate) const IN_FINAL_SCRIPTSIG: u8 = 0x07;
pub(crate) const IN_FINAL_SCRIPTWITNESS: u8 = 0x08;
pub(crate) const IN_TAP_KEY_SIG: u8 = 0x13;
pub(crate) const IN_TAP_SCRIPT_SIG: u8 = 0x14;
pub(crate) const IN_TAP_LEAF_SCRIPT: u8 = 0x15;
pub(crate) const IN_TAP_BIP32_DERIVATION: u8 = 0x16;
pub(crate) const IN_TAP_INTERNAL_KEY: u8 = 0x17;
pub(crate) const IN_TAP_MERKLE_ROOT: u8 = 0x18;
// Output types.
pub(crate) const OUT_REDEEM_SCRIPT: u8 = 0x00;
pub(crate) const OUT_WITNESS_SCRIPT: u8 = 0x01;
pub(crate) const OUT_BIP32_DERIVATION: u8 = 0x02;
pub(crate) const OUT_TAP_INTERNAL_KEY: u8 = 0x05;
pub(crate) const OUT_TAP_BIP32_DERIVATION: u8 = 0x07;

/// A parsed, structurally validated PSBT, version 0 (BIP-174) or 2
/// (BIP-370). A v2 PSBT's transaction is built from its per-input and
/// per-output fields; it is written back as v2 (the maps as they are,
/// plus what the signer and finalizer add).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Psbt {
    pub(crate) version: u32,
    pub(crate) global: Map,
    pub(crate) tx: Transaction,
    pub(crate) inputs: Vec<Map>,
    pub(crate) outputs: Vec<Map>,
}

fn err(msg: impl Into<String>) -> BitcoinError {
    BitcoinError::InvalidPsbt(msg.into())
}

fn truncated(_: super::tx::Truncated) -> BitcoinError {
    err("unexpected end of data or non-canonical length")
}

impl Psbt {
    /// Decode base64 text (standard alphabet, padded) and parse.
    pub fn from_base64(text: &str) -> Result<Self, BitcoinError> {
        use base64::Engine as _;
        let text = text.trim();
        if text.len() > MAX_PSBT_BYTES / 3 * 4 + 4 {
            return Err(BitcoinError::TooLarge {
                what: "psbt",
                len: text.len() / 4 * 3,
                max: MAX_PSBT_BYTES,
            });
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|_| BitcoinError::InvalidBase64)?;
        Self::parse(&bytes)
    }

    /// Serialize and encode as base64.
    pub fn to_base64(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(self.serialize())
    }

    /// Parse PSBT bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, BitcoinError> {
        if bytes.len() > MAX_PSBT_BYTES {
            return Err(BitcoinError::TooLarge {
                what: "psbt",
                len: bytes.len(),
                max: MAX_PSBT_BYTES,
            });
        }
        let mut r = Reader::new(bytes);
        if r.bytes(5).map_err(|_| err("missing magic bytes"))? != MAGIC {
            return Err(err("missing magic bytes"));
        }
        let global = read_map(&mut r)?;
        let version = match get(&global, &[GLOBAL_VERSION]) {
            None | Some([0, 0, 0, 0]) => 0,
            Some([2, 0, 0, 0]) => 2,
            Some(v) if v.len() == 4 => return Err(err("only psbt versions 0 and 2 are supported")),
            Some(_) => return Err(err("global version has the wrong length")),
        };
        if version == 2 {
            return Self::parse_v2(global, r);
        }
        let mut tx = None;
        for (k, v) in &global {
            match k[0] {
                GLOBAL_UNSIGNED_TX => {
                    if k.len() != 1 {
                        return Err(err("global unsigned tx key has extra data"));
                    }
                    if v.len() > MAX_UNSIGNED_TX_BYTES {
                        return Err(BitcoinError::TooLarge {
                            what: "psbt unsigned transaction",
                            len: v.len(),
                            max: MAX_UNSIGNED_TX_BYTES,
                        });
                    }
                    // BIP-174: the unsigned tx is in the non-witness format
                    // with empty scriptSigs.
                    let t = Transaction::parse_exact_no_witness(v)
                        .map_err(|_| err("malformed unsigned tx"))?;
                    if t.inputs.iter().any(|i| !i.script_sig.is_empty()) {
                        return Err(err("unsigned tx has a non-empty scriptSig"));
                    }
                    tx = Some(t);
                }
                GLOBAL_XPUB => {
                    if k.len() != 79 {
                        return Err(err("global xpub key has the wrong length"));
                    }
                    if !valid_origin(v) {
                        return Err(err("global xpub origin has the wrong length"));
                    }
                }
                // The value was checked above: 0 here.
                GLOBAL_VERSION if k.len() != 1 || v.len() != 4 => {
                    return Err(err("global version has the wrong length"));
                }
                _ => {}
            }
        }
        let tx = tx.ok_or_else(|| err("missing global unsigned tx"))?;
        let mut inputs = Vec::with_capacity(tx.inputs.len());
        for _ in 0..tx.inputs.len() {
            let m = read_map(&mut r)?;
            validate_input(&m)?;
            inputs.push(m);
        }
        let mut outputs = Vec::with_capacity(tx.outputs.len());
        for _ in 0..tx.outputs.len() {
            let m = read_map(&mut r)?;
            validate_output(&m)?;
            outputs.push(m);
        }
        if !r.is_empty() {
            return Err(err("trailing data after the last output map"));
        }
        Ok(Self {
            version: 0,
            global,
            tx,
            inputs,
            outputs,
        })
    }

    /// The PSBT version: 0 (BIP-174) or 2 (BIP-370).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// BIP-370: the rest of a v2 PSBT after its global map.
    fn parse_v2(global: Map, mut r: Reader<'_>) -> Result<Self, BitcoinError> {
        let mut tx_version = None;
        let mut fallback_locktime = 0u32;
        let (mut n_in, mut n_out) = (None, None);
        let count = |v: &[u8], remaining: usize| -> Result<usize, BitcoinError> {
            let mut c = Reader::new(v);
            let n = c.compact_size().map_err(truncated)?;
            if !c.is_empty() {
                return Err(err("global count has extra data"));
            }
            // Every map takes at least its terminating byte.
            usize::try_from(n)
                .ok()
                .filter(|n| *n <= remaining)
                .ok_or_else(|| err("global count larger than the psbt"))
        };
        for (k, v) in &global {
            let key_data_empty = k.len() == 1;
            let u32_of = |v: &[u8]| -> Result<u32, BitcoinError> {
                <[u8; 4]>::try_from(v)
                    .map(u32::from_le_bytes)
                    .map_err(|_| err(format!("global field 0x{:02x} has the wrong length", k[0])))
            };
            match k[0] {
                GLOBAL_UNSIGNED_TX => return Err(err("a psbt v2 has no global unsigned tx")),
                GLOBAL_XPUB if k.len() != 79 || !valid_origin(v) => {
                    return Err(err("global xpub has the wrong length"));
                }
                GLOBAL_TX_VERSION if key_data_empty => tx_version = Some(u32_of(v)?),
                GLOBAL_FALLBACK_LOCKTIME if key_data_empty => fallback_locktime = u32_of(v)?,
                GLOBAL_INPUT_COUNT if key_data_empty => n_in = Some(count(v, r.remaining())?),
                GLOBAL_OUTPUT_COUNT if key_data_empty => n_out = Some(count(v, r.remaining())?),
                GLOBAL_TX_MODIFIABLE if key_data_empty && v.len() != 1 => {
                    return Err(err("global tx modifiable has the wrong length"));
                }
                GLOBAL_TX_VERSION
                | GLOBAL_FALLBACK_LOCKTIME
                | GLOBAL_INPUT_COUNT
                | GLOBAL_OUTPUT_COUNT
                | GLOBAL_TX_MODIFIABLE
                | GLOBAL_VERSION
                    if !key_data_empty =>
                {
                    return Err(err(format!("global field 0x{:02x} has key data", k[0])));
                }
                _ => {}
            }
        }
        let tx_version = tx_version.ok_or_else(|| err("psbt v2 without a tx version"))?;
        let n_in = n_in.ok_or_else(|| err("psbt v2 without an input count"))?;
        let n_out = n_out.ok_or_else(|| err("psbt v2 without an output count"))?;
        // The counts are claims: reserve for at most a few maps up front
        // (a 4 MB PSBT may claim 4 million of each), grow as maps parse.
        let mut inputs = Vec::with_capacity(n_in.min(MAX_RESERVED_MAPS));
        let mut tx_inputs = Vec::with_capacity(n_in.min(MAX_RESERVED_MAPS));
        // BIP-370 lock time: the max of the kind every input with a
        // requirement supports (height preferred), else the fallback.
        let (mut height_ok, mut time_ok, mut any_required) = (true, true, false);
        let (mut max_height, mut max_time) = (0u32, 0u32);
        for _ in 0..n_in {
            let m = read_map(&mut r)?;
            validate_input(&m)?;
            let u32_field = |t: u8| -> Result<Option<u32>, BitcoinError> {
                match get(&m, &[t]) {
                    None => Ok(None),
                    Some(v) => <[u8; 4]>::try_from(v)
                        .map(|b| Some(u32::from_le_bytes(b)))
                        .map_err(|_| err(format!("input field 0x{t:02x} has the wrong length"))),
                }
            };
            let prev_txid: [u8; 32] = get(&m, &[IN_PREVIOUS_TXID])
                .and_then(|v| v.try_into().ok())
                .ok_or_else(|| err("psbt v2 input without a 32-byte previous txid"))?;
            let prev_vout = u32_field(IN_OUTPUT_INDEX)?
                .ok_or_else(|| err("psbt v2 input without an output index"))?;
            let sequence = u32_field(IN_SEQUENCE)?.unwrap_or(0xffff_ffff);
            let time = u32_field(IN_REQUIRED_TIME_LOCKTIME)?;
            let height = u32_field(IN_REQUIRED_HEIGHT_LOCKTIME)?;
            if time.is_some_and(|t| t < 500_000_000) {
                return Err(err("required time lock time below 500000000"));
            }
            if height.is_some_and(|h| h == 0 || h >= 500_000_000) {
                return Err(err("required height lock time out of range"));
            }
            if time.is_some() || height.is_some() {
                any_required = true;
                height_ok &= height.is_some();
                time_ok &= time.is_some();
                max_height = max_height.max(height.unwrap_or(0));
                max_time = max_time.max(time.unwrap_or(0));
            }
            tx_inputs.push(TxIn {
                prev_txid,
                prev_vout,
                script_sig: Vec::new(),
                sequence,
                witness: Vec::new(),
            });
            inputs.push(m);
        }
        let lock_time = if !any_required {
            fallback_locktime
        } else if height_ok {
            max_height
        } else if time_ok {
            max_time
        } else {
            return Err(err("inputs require incompatible lock time kinds"));
        };
        let mut outputs = Vec::with_capacity(n_out.min(MAX_RESERVED_MAPS));
        let mut tx_outputs = Vec::with_capacity(n_out.min(MAX_RESERVED_MAPS));
        for _ in 0..n_out {
            let m = read_map(&mut r)?;
            validate_output(&m)?;
            let value = get(&m, &[OUT_AMOUNT])
                .and_then(|v| <[u8; 8]>::try_from(v).ok())
                .map(u64::from_le_bytes)
                .filter(|v| *v <= i64::MAX as u64)
                .ok_or_else(|| err("psbt v2 output without an 8-byte non-negative amount"))?;
            let script_pubkey = get(&m, &[OUT_SCRIPT])
                .ok_or_else(|| err("psbt v2 output without a script"))?
                .to_vec();
            tx_outputs.push(TxOut {
                value,
                script_pubkey,
            });
            outputs.push(m);
        }
        if !r.is_empty() {
            return Err(err("trailing data after the last output map"));
        }
        let tx = Transaction {
            version: tx_version,
            inputs: tx_inputs,
            outputs: tx_outputs,
            lock_time,
        };
        let len = tx.serialize_no_witness().len();
        if len > MAX_UNSIGNED_TX_BYTES {
            return Err(BitcoinError::TooLarge {
                what: "psbt unsigned transaction",
                len,
                max: MAX_UNSIGNED_TX_BYTES,
            });
        }
        Ok(Self {
            version: 2,
            global,
            tx,
            inputs,
            outputs,
        })
    }

    /// Serialize to PSBT bytes.
    pub fn serialize(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        write_map(&mut out, &self.global);
        for m in self.inputs.iter().chain(&self.outputs) {
            write_map(&mut out, m);
        }
        out
    }

    /// The unsigned transaction.
    pub fn unsigned_tx(&self) -> &Transaction {
        &self.tx
    }

    /// The key origins of input `i` (`bip32_derivation` and
    /// `tap_bip32_derivation`) that name `fingerprint`, as paths from the
    /// master key (hardened bit `0x8000_0000`). Empty for an input that
    /// does not name this master key, or an index out of range.
    pub fn input_origins(&self, i: usize, fingerprint: [u8; 4]) -> Vec<Vec<u32>> {
        let Some(m) = self.inputs.get(i) else {
            return Vec::new();
        };
        let mut out: Vec<Vec<u32>> = Vec::new();
        // Distinct paths in first-seen order; the set keeps this n log n.
        let mut seen: std::collections::BTreeSet<Vec<u32>> = std::collections::BTreeSet::new();
        for (k, v) in m {
            let origin = match k[0] {
                IN_BIP32_DERIVATION => split_origin(v),
                IN_TAP_BIP32_DERIVATION => parse_tap_origin(v).and_then(|(_, o)| split_origin(o)),
                _ => None,
            };
            if let Some((fp, path)) = origin
                && fp == fingerprint
                && seen.insert(path.clone())
            {
                out.push(path);
            }
        }
        out
    }

    /// The number of inputs.
    pub fn input_count(&self) -> usize {
        self.inputs.len()
    }

    /// The output spent by input `i`, from its witness or non-witness UTXO
    /// (the latter checked against the prevout's txid).
    pub fn spent_output(&self, i: usize) -> Result<Option<TxOut>, BitcoinError> {
        let m = &self.inputs[i];
        let txin = &self.tx.inputs[i];
        if let Some(prev) = get(m, &[IN_NON_WITNESS_UTXO]) {
            let prev_tx = Transaction::parse(prev).map_err(|_| BitcoinError::InvalidInput {
                index: i,
                reason: "malformed non-witness utxo",
            })?;
            if prev_tx.txid_bytes() != txin.prev_txid {
                return Err(BitcoinError::InvalidInput {
                    index: i,
                    reason: "non-witness utxo does not match the prevout txid",
                });
            }
            let out = prev_tx
                .outputs
                .get(txin.prev_vout as usize)
                .cloned()
                .ok_or(BitcoinError::InvalidInput {
                    index: i,
                    reason: "prevout index beyond the non-witness utxo outputs",
                })?;
            if let Some(w) = self.witness_utxo(i)?
                && w != out
            {
                return Err(BitcoinError::InvalidInput {
                    index: i,
                    reason: "witness utxo differs from the non-witness utxo",
                });
            }
            return Ok(Some(out));
        }
        self.witness_utxo(i)
    }

    pub(crate) fn witness_utxo(&self, i: usize) -> Result<Option<TxOut>, BitcoinError> {
        match get(&self.inputs[i], &[IN_WITNESS_UTXO]) {
            None => Ok(None),
            Some(v) => parse_txout(v).map(Some).ok_or(BitcoinError::InvalidInput {
                index: i,
                reason: "malformed witness utxo",
            }),
        }
    }
}

pub(crate) fn parse_txout(v: &[u8]) -> Option<TxOut> {
    let mut r = Reader::new(v);
    let o = TxOut::parse(&mut r).ok()?;
    r.is_empty().then_some(o)
}

/// The value of the first pair whose key is exactly `key`.
pub(crate) fn get<'m>(m: &'m Map, key: &[u8]) -> Option<&'m [u8]> {
    m.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_slice())
}

/// Insert or replace a pair, keeping the position of an existing key.
pub(crate) fn set(m: &mut Map, key: Vec<u8>, value: Vec<u8>) {
    if let Some(slot) = m.iter_mut().find(|(k, _)| *k == key) {
        slot.1 = value;
    } else {
        m.push((key, value));
    }
}

/// Reads one map. Duplicate keys are found with a set (n log n): a linear
/// scan per pair made a 4 MB map of 800 000 three-byte keys take hours.
fn read_map(r: &mut Reader<'_>) -> Result<Map, BitcoinError> {
    let mut m: Map = Vec::new();
    let mut seen: std::collections::BTreeSet<&[u8]> = std::collections::BTreeSet::new();
    loop {
        let key = r.var_bytes().map_err(truncated)?;
        if key.is_empty() {
            return Ok(m);
        }
        let value = r.var_bytes().map_err(truncated)?;
        if !seen.insert(key) {
            return Err(err("duplicate key"));
        }
        m.push((key.to_vec(), value.to_vec()));
    }
}

fn write_map(out: &mut Vec<u8>, m: &Map) {
    for (k, v) in m {
        write_var_bytes(out, k);
        write_var_bytes(out, v);
    }
    out.push(0x00);
}

fn valid_pubkey(b: &[u8]) -> bool {
    (b.len() == 33 || b.len() == 65) && PublicKey::from_sec1_bytes(b).is_ok()
}

fn valid_origin(v: &[u8]) -> bool {
    v.len() >= 4 && v.len().is_multiple_of(4)
}

/// Tap BIP-32 derivation value: compact count of leaf hashes, hashes, origin.
pub(crate) fn parse_tap_origin(v: &[u8]) -> Option<(Vec<[u8; 32]>, &[u8])> {
    let mut r = Reader::new(v);
    let n = r.count(32).ok()?;
    let mut hashes = Vec::with_capacity(n);
    for _ in 0..n {
        hashes.push(r.array::<32>().ok()?);
    }
    let rest = r.bytes(r.remaining()).ok()?;
    valid_origin(rest).then_some((hashes, rest))
}

fn validate_input(m: &Map) -> Result<(), BitcoinError> {
    for (k, v) in m {
        let key_data = &k[1..];
        let ok = match k[0] {
            IN_NON_WITNESS_UTXO => key_data.is_empty() && Transaction::parse(v).is_ok(),
            IN_WITNESS_UTXO => key_data.is_empty() && parse_txout(v).is_some(),
            IN_PARTIAL_SIG => valid_pubkey(key_data) && !v.is_empty(),
            IN_SIGHASH_TYPE => key_data.is_empty() && v.len() == 4,
            IN_REDEEM_SCRIPT | IN_WITNESS_SCRIPT | IN_FINAL_SCRIPTSIG => key_data.is_empty(),
            IN_BIP32_DERIVATION => valid_pubkey(key_data) && valid_origin(v),
            IN_FINAL_SCRIPTWITNESS => {
                let mut r = Reader::new(v);
                key_data.is_empty() && parse_witness(&mut r).is_ok() && r.is_empty()
            }
            IN_TAP_KEY_SIG => key_data.is_empty() && (v.len() == 64 || v.len() == 65),
            IN_TAP_SCRIPT_SIG => key_data.len() == 64 && (v.len() == 64 || v.len() == 65),
            IN_TAP_LEAF_SCRIPT => key_data.len() >= 33 && (key_data.len() - 33) % 32 == 0,
            IN_TAP_BIP32_DERIVATION => key_data.len() == 32 && parse_tap_origin(v).is_some(),
            IN_TAP_INTERNAL_KEY => key_data.is_empty() && v.len() == 32,
            IN_TAP_MERKLE_ROOT => key_data.is_empty() && v.len() == 32,
            _ => true,
        };
        if !ok {
            return Err(err(format!("invalid input field of type 0x{:02x}", k[0])));
        }
    }
    Ok(())
}

fn validate_output(m: &Map) -> Result<(), BitcoinError> {
    for (k, v) in m {
        let key_data = &k[1..];
        let ok = match k[0] {
            OUT_REDEEM_SCRIPT | OUT_WITNESS_SCRIPT => key_data.is_empty(),
            OUT_BIP32_DERIVATION => valid_pubkey(key_data) && valid_origin(v),
            OUT_TAP_INTERNAL_KEY => key_data.is_empty() && v.len() == 32,
            OUT_TAP_BIP32_DERIVATION => key_data.len() == 32 && parse_tap_origin(v).is_some(),
            _ => true,
        };
        if !ok {
            return Err(err(format!("invalid output field of type 0x{:02x}", k[0])));
        }
    }
    Ok(())
}

/// Split a key origin value into fingerprint and path.
pub(crate) fn split_origin(v: &[u8]) -> Option<([u8; 4], Vec<u32>)> {
    if !valid_origin(v) {
        return None;
    }
    let mut fp = [0u8; 4];
    fp.copy_from_slice(&v[..4]);
    let path = v[4..]
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Some((fp, path))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Regression: an unsigned tx with no inputs and one output starts
    /// `00 01` after the version, which must not be read as a witness marker.
    #[test]
    fn unsigned_tx_with_no_inputs_and_one_output_is_not_witness_format() {
        let mut tx = 2u32.to_le_bytes().to_vec();
        tx.extend_from_slice(&[0x00, 0x01]);
        tx.extend_from_slice(&1000u64.to_le_bytes());
        tx.extend_from_slice(&[0x01, 0x51]);
        tx.extend_from_slice(&0u32.to_le_bytes());
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&[0x01, 0x00, tx.len() as u8]);
        b.extend_from_slice(&tx);
        b.extend_from_slice(&[0x00, 0x00]); // end global, one empty output map
        let p = Psbt::parse(&b).unwrap();
        assert_eq!(p.unsigned_tx().outputs.len(), 1);
        assert_eq!(p.serialize(), b);
    }

    /// The global map of a PSBT with `n` unknown 3-byte keys (type 0xfc,
    /// proprietary) and an unsigned tx with no inputs and no outputs.
    fn psbt_with_unknown_global_keys(n: usize) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        let tx = [2, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        b.extend_from_slice(&[0x01, 0x00, tx.len() as u8]);
        b.extend_from_slice(&tx);
        for i in 0..n {
            b.extend_from_slice(&[0x03, 0xfc, (i >> 8) as u8, i as u8, 0x00]);
        }
        b.push(0x00);
        b
    }

    /// Regression (hang): the duplicate-key check scanned the map for every
    /// pair; 800 000 pairs of a 4 MB PSBT took hours. 65 536 distinct keys
    /// now parse in well under a second even unoptimized.
    #[test]
    fn many_map_keys_parse_in_n_log_n() {
        let b = psbt_with_unknown_global_keys(65_536);
        let t = std::time::Instant::now();
        let p = Psbt::parse(&b).unwrap();
        assert_eq!(p.global.len(), 65_537);
        assert!(
            t.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            t.elapsed()
        );
        // A duplicate is still found.
        let mut d = psbt_with_unknown_global_keys(2);
        let last = d.len() - 1;
        d.splice(last..last, [0x03, 0xfc, 0x00, 0x00, 0x00]);
        assert!(
            matches!(Psbt::parse(&d), Err(BitcoinError::InvalidPsbt(m)) if m == "duplicate key")
        );
    }

    #[test]
    fn an_unsigned_tx_above_the_standard_size_is_refused() {
        let mut tx = 2u32.to_le_bytes().to_vec();
        tx.extend_from_slice(&[0x00, 0x01]);
        tx.extend_from_slice(&1000u64.to_le_bytes());
        tx.extend_from_slice(&[0xfe]);
        let script_len = MAX_UNSIGNED_TX_BYTES as u32;
        tx.extend_from_slice(&script_len.to_le_bytes());
        tx.extend(std::iter::repeat_n(0x51, MAX_UNSIGNED_TX_BYTES));
        tx.extend_from_slice(&0u32.to_le_bytes());
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&[0x01, 0x00, 0xfe]);
        b.extend_from_slice(&(tx.len() as u32).to_le_bytes());
        b.extend_from_slice(&tx);
        b.extend_from_slice(&[0x00, 0x00]);
        assert!(matches!(
            Psbt::parse(&b),
            Err(BitcoinError::TooLarge {
                what: "psbt unsigned transaction",
                max: MAX_UNSIGNED_TX_BYTES,
                ..
            })
        ));
    }

    #[test]
    fn oversized_input_is_refused_before_parsing() {
        let b = vec![0u8; MAX_PSBT_BYTES + 1];
        assert!(matches!(
            Psbt::parse(&b),
            Err(BitcoinError::TooLarge { .. })
        ));
    }

    fn kv(out: &mut Vec<u8>, k: &[u8], v: &[u8]) {
        out.push(k.len() as u8);
        out.extend_from_slice(k);
        out.push(v.len() as u8);
        out.extend_from_slice(v);
    }

    /// A v2 PSBT of one output and inputs with the given (height, time)
    /// lock time requirements (BIP-370).
    fn v2(reqs: &[(Option<u32>, Option<u32>)], n_in: u8) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        kv(&mut b, &[GLOBAL_VERSION], &2u32.to_le_bytes());
        kv(&mut b, &[GLOBAL_TX_VERSION], &2u32.to_le_bytes());
        kv(&mut b, &[GLOBAL_FALLBACK_LOCKTIME], &77u32.to_le_bytes());
        kv(&mut b, &[GLOBAL_INPUT_COUNT], &[n_in]);
        kv(&mut b, &[GLOBAL_OUTPUT_COUNT], &[1]);
        b.push(0);
        for (i, (h, t)) in reqs.iter().enumerate() {
            kv(&mut b, &[IN_PREVIOUS_TXID], &[i as u8; 32]);
            kv(&mut b, &[IN_OUTPUT_INDEX], &0u32.to_le_bytes());
            if let Some(h) = h {
                kv(&mut b, &[IN_REQUIRED_HEIGHT_LOCKTIME], &h.to_le_bytes());
            }
            if let Some(t) = t {
                kv(&mut b, &[IN_REQUIRED_TIME_LOCKTIME], &t.to_le_bytes());
            }
            b.push(0);
        }
        kv(&mut b, &[OUT_AMOUNT], &1000u64.to_le_bytes());
        kv(&mut b, &[OUT_SCRIPT], &[0x51]);
        b.push(0);
        b
    }

    /// BIP-370's lock time rule, the fallback, and bounds; a v2 PSBT
    /// re-serializes byte for byte (it is answered in v2).
    #[test]
    fn psbt_v2_lock_time_and_bounds() {
        let t = 600_000_000;
        let lt = |reqs: &[(Option<u32>, Option<u32>)]| {
            Psbt::parse(&v2(reqs, reqs.len() as u8)).map(|p| p.unsigned_tx().lock_time)
        };
        assert_eq!(lt(&[(None, None), (None, None)]).unwrap(), 77);
        // Height is chosen when every input with a requirement has one.
        assert_eq!(lt(&[(Some(100), Some(t)), (Some(200), None)]).unwrap(), 200);
        assert_eq!(
            lt(&[(Some(100), Some(t)), (None, Some(t + 5))]).unwrap(),
            t + 5
        );
        assert!(lt(&[(Some(100), None), (None, Some(t))]).is_err());
        // Out-of-range requirements.
        assert!(lt(&[(Some(0), None)]).is_err());
        assert!(lt(&[(None, Some(5))]).is_err());
        let b = v2(&[(None, None)], 1);
        let p = Psbt::parse(&b).unwrap();
        assert_eq!(p.version(), 2);
        assert_eq!(p.unsigned_tx().inputs[0].sequence, 0xffff_ffff);
        assert_eq!(p.serialize(), b);
        // An input count larger than the PSBT, or one more map than there is.
        assert!(Psbt::parse(&v2(&[(None, None)], 200)).is_err());
        assert!(Psbt::parse(&v2(&[(None, None)], 2)).is_err());
    }
}
