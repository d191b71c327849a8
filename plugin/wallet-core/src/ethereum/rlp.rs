//! The RLP encoder (Ethereum Yellow Paper, appendix B). Only encoding is
//! needed: transactions are built from typed fields, never decoded. Decoding
//! in tests is done by an independent implementation (alloy).

/// Appends the RLP length prefix for a payload of `len` bytes; `short` is
/// 0x80 for strings, 0xc0 for lists.
fn prefix(out: &mut Vec<u8>, short: u8, len: usize) {
    if len <= 55 {
        // len <= 55 fits the single prefix byte.
        out.push(short + len as u8);
    } else {
        let be = (len as u64).to_be_bytes();
        let skip = be.iter().take_while(|b| **b == 0).count();
        let len_bytes = &be[skip..];
        // At most 8 length bytes, so 0xb7/0xf7 + 8 does not overflow.
        out.push(short + 55 + len_bytes.len() as u8);
        out.extend_from_slice(len_bytes);
    }
}

/// A byte string.
pub(crate) fn bytes(out: &mut Vec<u8>, b: &[u8]) {
    if b.len() == 1 && b[0] < 0x80 {
        out.push(b[0]);
    } else {
        prefix(out, 0x80, b.len());
        out.extend_from_slice(b);
    }
}

/// An unsigned integer from big-endian bytes: minimal, no leading zeros
/// (zero is the empty string 0x80).
pub(crate) fn uint(out: &mut Vec<u8>, be: &[u8]) {
    let skip = be.iter().take_while(|b| **b == 0).count();
    bytes(out, &be[skip..]);
}

pub(crate) fn u64(out: &mut Vec<u8>, v: u64) {
    uint(out, &v.to_be_bytes());
}

/// A list whose items are already encoded in `payload`.
pub(crate) fn list(out: &mut Vec<u8>, payload: &[u8]) {
    prefix(out, 0xc0, payload.len());
    out.extend_from_slice(payload);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut v = Vec::new();
        f(&mut v);
        v
    }

    // Examples from the Ethereum wiki's RLP page / Yellow Paper appendix B.
    #[test]
    fn known_encodings() {
        assert_eq!(enc(|o| bytes(o, b"dog")), b"\x83dog");
        assert_eq!(enc(|o| bytes(o, b"")), [0x80]);
        assert_eq!(enc(|o| bytes(o, &[0x0f])), [0x0f]);
        assert_eq!(enc(|o| bytes(o, &[0x80])), [0x81, 0x80]);
        assert_eq!(enc(|o| u64(o, 0)), [0x80]);
        assert_eq!(enc(|o| u64(o, 15)), [0x0f]);
        assert_eq!(enc(|o| u64(o, 1024)), [0x82, 0x04, 0x00]);
        let lorem = b"Lorem ipsum dolor sit amet, consectetur adipisicing elit";
        let mut want = vec![0xb8, 0x38];
        want.extend_from_slice(lorem);
        assert_eq!(enc(|o| bytes(o, lorem)), want);
        let mut payload = Vec::new();
        bytes(&mut payload, b"cat");
        bytes(&mut payload, b"dog");
        assert_eq!(enc(|o| list(o, &payload)), b"\xc8\x83cat\x83dog");
        assert_eq!(enc(|o| list(o, &[])), [0xc0]);
    }
}
