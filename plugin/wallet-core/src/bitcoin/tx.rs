//! Consensus serialization of transactions (BIP-141 witness format included).

use super::hash::sha256d;

/// A bounded cursor over untrusted bytes: every read checks the length.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

/// A read past the end or a non-canonical encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Truncated;

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub(crate) fn peek(&self, ahead: usize) -> Option<u8> {
        self.data.get(self.pos + ahead).copied()
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], Truncated> {
        if self.remaining() < n {
            return Err(Truncated);
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], Truncated> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Truncated> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u32_le(&mut self) -> Result<u32, Truncated> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub(crate) fn u64_le(&mut self) -> Result<u64, Truncated> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// Bitcoin's CompactSize, refusing non-minimal encodings and values that
    /// cannot fit in what is left (so no allocation is ever driven by it).
    pub(crate) fn compact_size(&mut self) -> Result<u64, Truncated> {
        let first = self.u8()?;
        let v = match first {
            0..=0xfc => u64::from(first),
            0xfd => {
                let v = u64::from(u16::from_le_bytes(self.array()?));
                if v < 0xfd {
                    return Err(Truncated);
                }
                v
            }
            0xfe => {
                let v = u64::from(self.u32_le()?);
                if v <= 0xffff {
                    return Err(Truncated);
                }
                v
            }
            0xff => {
                let v = self.u64_le()?;
                if v <= 0xffff_ffff {
                    return Err(Truncated);
                }
                v
            }
        };
        Ok(v)
    }

    /// A count of items each at least `min_item` bytes long.
    pub(crate) fn count(&mut self, min_item: usize) -> Result<usize, Truncated> {
        let n = self.compact_size()?;
        let n = usize::try_from(n).map_err(|_| Truncated)?;
        if n > 0 && n.saturating_mul(min_item.max(1)) > self.remaining() {
            return Err(Truncated);
        }
        Ok(n)
    }

    /// Length-prefixed bytes.
    pub(crate) fn var_bytes(&mut self) -> Result<&'a [u8], Truncated> {
        let n = self.count(1)?;
        self.bytes(n)
    }
}

pub(crate) fn write_compact_size(out: &mut Vec<u8>, n: u64) {
    match n {
        0..=0xfc => out.push(n as u8),
        0xfd..=0xffff => {
            out.push(0xfd);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xfe);
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
        _ => {
            out.push(0xff);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
}

pub(crate) fn write_var_bytes(out: &mut Vec<u8>, b: &[u8]) {
    write_compact_size(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// A transaction input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxIn {
    /// The previous transaction's id, in internal (hash) byte order.
    pub prev_txid: [u8; 32],
    /// The previous output's index.
    pub prev_vout: u32,
    /// The scriptSig.
    pub script_sig: Vec<u8>,
    /// nSequence.
    pub sequence: u32,
    /// The witness stack.
    pub witness: Vec<Vec<u8>>,
}

/// A transaction output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxOut {
    /// Value in satoshis.
    pub value: u64,
    /// The scriptPubKey.
    pub script_pubkey: Vec<u8>,
}

impl TxOut {
    pub(crate) fn parse(r: &mut Reader<'_>) -> Result<Self, Truncated> {
        let value = r.u64_le()?;
        let script_pubkey = r.var_bytes()?.to_vec();
        Ok(Self {
            value,
            script_pubkey,
        })
    }

    pub(crate) fn serialize_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.value.to_le_bytes());
        write_var_bytes(out, &self.script_pubkey);
    }
}

/// A transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// nVersion.
    pub version: u32,
    /// The inputs.
    pub inputs: Vec<TxIn>,
    /// The outputs.
    pub outputs: Vec<TxOut>,
    /// nLockTime.
    pub lock_time: u32,
}

impl Transaction {
    /// Parse exactly one transaction occupying all of `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<Self, super::BitcoinError> {
        Self::parse_exact(bytes)
            .map_err(|_| super::BitcoinError::InvalidTransaction("malformed transaction bytes"))
    }

    pub(crate) fn parse_exact(bytes: &[u8]) -> Result<Self, Truncated> {
        Self::parse_exact_with(bytes, true)
    }

    /// Parse in the legacy (non-witness) format only, as Bitcoin Core reads
    /// a PSBT's unsigned transaction: `00 01` there means no inputs, one output.
    pub(crate) fn parse_exact_no_witness(bytes: &[u8]) -> Result<Self, Truncated> {
        Self::parse_exact_with(bytes, false)
    }

    fn parse_exact_with(bytes: &[u8], allow_witness: bool) -> Result<Self, Truncated> {
        let mut r = Reader::new(bytes);
        let tx = Self::parse_from(&mut r, allow_witness)?;
        if !r.is_empty() {
            return Err(Truncated);
        }
        Ok(tx)
    }

    fn parse_from(r: &mut Reader<'_>, allow_witness: bool) -> Result<Self, Truncated> {
        let version = r.u32_le()?;
        // BIP-144: marker 0x00 then flag 0x01 introduce witness data.
        let segwit = allow_witness && r.peek(0) == Some(0) && r.peek(1) == Some(1);
        if segwit {
            r.bytes(2)?;
        }
        let n_in = r.count(41)?;
        let mut inputs = Vec::with_capacity(n_in);
        for _ in 0..n_in {
            let prev_txid = r.array::<32>()?;
            let prev_vout = r.u32_le()?;
            let script_sig = r.var_bytes()?.to_vec();
            let sequence = r.u32_le()?;
            inputs.push(TxIn {
                prev_txid,
                prev_vout,
                script_sig,
                sequence,
                witness: Vec::new(),
            });
        }
        let n_out = r.count(9)?;
        let mut outputs = Vec::with_capacity(n_out);
        for _ in 0..n_out {
            outputs.push(TxOut::parse(r)?);
        }
        if segwit {
            for input in &mut inputs {
                input.witness = parse_witness(r)?;
            }
            // A witness-serialized transaction must carry some witness.
            if inputs.iter().all(|i| i.witness.is_empty()) {
                return Err(Truncated);
            }
        }
        let lock_time = r.u32_le()?;
        Ok(Self {
            version,
            inputs,
            outputs,
            lock_time,
        })
    }

    /// Whether any input has a witness.
    pub fn has_witness(&self) -> bool {
        self.inputs.iter().any(|i| !i.witness.is_empty())
    }

    /// Serialization with witnesses when there are any (what is broadcast).
    pub fn serialize(&self) -> Vec<u8> {
        self.serialize_with(self.has_witness())
    }

    /// Serialization without witnesses (what the txid hashes).
    pub fn serialize_no_witness(&self) -> Vec<u8> {
        self.serialize_with(false)
    }

    fn serialize_with(&self, witness: bool) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&self.version.to_le_bytes());
        if witness {
            out.extend_from_slice(&[0x00, 0x01]);
        }
        write_compact_size(&mut out, self.inputs.len() as u64);
        for i in &self.inputs {
            out.extend_from_slice(&i.prev_txid);
            out.extend_from_slice(&i.prev_vout.to_le_bytes());
            write_var_bytes(&mut out, &i.script_sig);
            out.extend_from_slice(&i.sequence.to_le_bytes());
        }
        write_compact_size(&mut out, self.outputs.len() as u64);
        for o in &self.outputs {
            o.serialize_into(&mut out);
        }
        if witness {
            for i in &self.inputs {
                write_witness(&mut out, &i.witness);
            }
        }
        out.extend_from_slice(&self.lock_time.to_le_bytes());
        out
    }

    /// The txid in internal byte order.
    pub fn txid_bytes(&self) -> [u8; 32] {
        sha256d(&self.serialize_no_witness())
    }

    /// The txid as displayed (byte-reversed hex).
    pub fn txid_hex(&self) -> String {
        let mut b = self.txid_bytes();
        b.reverse();
        to_hex(&b)
    }
}

/// The most items a witness stack may have. Script execution limits the
/// stack to 1000 elements (`MAX_STACK_SIZE`), so a spend that can confirm
/// needs about that many at most; without a bound a 4 MB PSBT of one-byte
/// empty items became ~96 MB of item vectors.
pub const MAX_WITNESS_ITEMS: usize = 10_000;

pub(crate) fn parse_witness(r: &mut Reader<'_>) -> Result<Vec<Vec<u8>>, Truncated> {
    let n = r.count(1)?;
    if n > MAX_WITNESS_ITEMS {
        return Err(Truncated);
    }
    let mut items = Vec::with_capacity(n);
    for _ in 0..n {
        items.push(r.var_bytes()?.to_vec());
    }
    Ok(items)
}

pub(crate) fn write_witness(out: &mut Vec<u8>, items: &[Vec<u8>]) {
    write_compact_size(out, items.len() as u64);
    for item in items {
        write_var_bytes(out, item);
    }
}

pub(crate) fn to_hex(b: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(char::from(HEX[usize::from(x >> 4)]));
        s.push(char::from(HEX[usize::from(x & 15)]));
    }
    s
}
