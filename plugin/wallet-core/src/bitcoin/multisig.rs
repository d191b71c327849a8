//! Bare `multi`/`sortedmulti` scripts (`OP_m <keys> OP_n OP_CHECKMULTISIG`)
//! as used inside P2WSH and P2SH-P2WSH (BIP-48 wallets), and BIP-32 public
//! derivation from a cosigner's account xpub.

use super::hash::{hash160, sha256};
use super::{BitcoinError, HARDENED};

/// The most keys a multisig script may have: `OP_CHECKMULTISIG`'s consensus
/// limit.
pub const MAX_MULTISIG_KEYS: usize = 20;

const OP_CHECKMULTISIG: u8 = 0xae;

/// A parsed `multi` script: `threshold` of `keys` (compressed, distinct, in
/// script order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Multisig {
    /// Signatures required (m).
    pub threshold: usize,
    /// The keys (n), in script order.
    pub keys: Vec<[u8; 33]>,
}

impl Multisig {
    /// Whether the keys are in lexicographic order (a `sortedmulti` script).
    pub fn is_sorted(&self) -> bool {
        self.keys.windows(2).all(|w| w[0] < w[1])
    }
}

/// A small number as a multisig script encodes it: `OP_1..OP_16`, or a
/// minimal 1-byte push for 17..20.
fn read_num(s: &[u8], pos: usize) -> Option<(usize, usize)> {
    match *s.get(pos)? {
        op @ 0x51..=0x60 => Some((usize::from(op - 0x50), pos + 1)),
        0x01 => {
            let v = usize::from(*s.get(pos + 1)?);
            (17..=MAX_MULTISIG_KEYS)
                .contains(&v)
                .then_some((v, pos + 2))
        }
        _ => None,
    }
}

fn write_num(out: &mut Vec<u8>, n: usize) {
    if (1..=16).contains(&n) {
        out.push(0x50 + n as u8);
    } else {
        out.push(0x01);
        out.push(n as u8);
    }
}

/// Reads a multisig script. `Ok(None)` when the script does not end with
/// `OP_CHECKMULTISIG` (another script type, left alone by the signer); an
/// error when it does but breaks a rule we sign under: 1 ≤ m ≤ n ≤ 20,
/// minimal number encodings, only 33-byte compressed keys that are valid
/// points, no key twice (one signature would then count twice), nothing
/// else in the script.
pub fn parse_multisig(script: &[u8]) -> Result<Option<Multisig>, &'static str> {
    if script.last() != Some(&OP_CHECKMULTISIG) {
        return Ok(None);
    }
    // 1 + 20 × 34 + 2 + 1 bytes at most.
    if script.len() > 3 + 2 + MAX_MULTISIG_KEYS * 34 {
        return Err("multisig script too long");
    }
    let (m, mut pos) = read_num(script, 0).ok_or("multisig script: bad threshold")?;
    let mut keys: Vec<[u8; 33]> = Vec::new();
    while let Some(&push) = script.get(pos) {
        match push {
            0x21 => {
                let key: [u8; 33] = script
                    .get(pos + 1..pos + 34)
                    .and_then(|k| k.try_into().ok())
                    .ok_or("multisig script: truncated key")?;
                if !matches!(key[0], 2 | 3) || k256::PublicKey::from_sec1_bytes(&key).is_err() {
                    return Err("multisig script: invalid public key");
                }
                if keys.contains(&key) {
                    return Err("multisig script: a key appears twice");
                }
                keys.push(key);
                pos += 34;
            }
            0x41 => return Err("multisig script: uncompressed keys are not signed"),
            _ => break,
        }
    }
    let (n, end) = read_num(script, pos).ok_or("multisig script: bad key count")?;
    if end + 1 != script.len() {
        return Err("multisig script: unexpected data");
    }
    if n != keys.len() || n == 0 {
        return Err("multisig script: key count does not match the keys");
    }
    if m == 0 || m > n {
        return Err("multisig script: threshold above the number of keys");
    }
    Ok(Some(Multisig { threshold: m, keys }))
}

/// `OP_m <keys> OP_n OP_CHECKMULTISIG` (keys in the given order; sort them
/// first for `sortedmulti`).
pub fn multisig_script(threshold: usize, keys: &[[u8; 33]]) -> Vec<u8> {
    let mut s = Vec::with_capacity(3 + keys.len() * 34);
    write_num(&mut s, threshold);
    for k in keys {
        s.push(0x21);
        s.extend_from_slice(k);
    }
    write_num(&mut s, keys.len());
    s.push(OP_CHECKMULTISIG);
    s
}

/// The P2WSH scriptPubKey of a witness script: `OP_0 <sha256(script)>`.
pub fn p2wsh_script(witness_script: &[u8]) -> Vec<u8> {
    let mut s = vec![0x00, 0x20];
    s.extend_from_slice(&sha256(witness_script));
    s
}

/// The P2SH-P2WSH scriptPubKey of a witness script.
pub fn p2sh_p2wsh_script(witness_script: &[u8]) -> Vec<u8> {
    let mut s = vec![0xa9, 0x14];
    s.extend_from_slice(&hash160(&p2wsh_script(witness_script)));
    s.push(0x87);
    s
}

/// The public key at the unhardened `path` below an extended public key
/// given as its 78-byte BIP-32 serialization (a `PSBT_GLOBAL_XPUB` key
/// without its type byte). `None` for a hardened step, a malformed key or
/// a derivation that fails (probability ~2⁻¹²⁷).
pub(crate) fn derive_from_xpub(xpub: &[u8], path: &[u32]) -> Option<[u8; 33]> {
    if xpub.len() != 78 || path.iter().any(|c| c & HARDENED != 0) {
        return None;
    }
    let chain_code: [u8; 32] = xpub[13..45].try_into().ok()?;
    let key = k256::ecdsa::VerifyingKey::from_sec1_bytes(&xpub[45..78]).ok()?;
    let attrs = bip32::ExtendedKeyAttrs {
        depth: 0,
        parent_fingerprint: [0; 4],
        child_number: bip32::ChildNumber(0),
        chain_code,
    };
    let mut x = bip32::XPub::new(key, attrs);
    for c in path {
        x = x.derive_child(bip32::ChildNumber(*c)).ok()?;
    }
    let bytes: [u8; 33] = x
        .public_key()
        .to_encoded_point(true)
        .as_bytes()
        .try_into()
        .ok()?;
    Some(bytes)
}

/// The descriptor key of a BIP-48 account: `[fingerprint/48'/coin'/account'/script']xpub…/<0;1>/*`,
/// for a `wsh(sortedmulti(m, …))` descriptor with the cosigners' keys.
pub fn multisig_descriptor_key(
    master_fingerprint: [u8; 4],
    account_path: &[u32],
    xpub: &str,
) -> Result<String, BitcoinError> {
    if account_path.len() > 255 {
        return Err(BitcoinError::InvalidPath("deeper than 255 levels"));
    }
    super::descriptor::validate_xpub(xpub)?;
    let mut origin = hex_lower(&master_fingerprint);
    for &e in account_path {
        origin.push('/');
        origin.push_str(&(e & !HARDENED).to_string());
        if e & HARDENED != 0 {
            origin.push('\'');
        }
    }
    Ok(format!("[{origin}]{xpub}/<0;1>/*"))
}

fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use k256::elliptic_curve::sec1::ToEncodedPoint as _;

    fn key(i: u8) -> [u8; 33] {
        let sk = k256::SecretKey::from_slice(&[i; 32]).unwrap();
        sk.public_key()
            .to_encoded_point(true)
            .as_bytes()
            .try_into()
            .unwrap()
    }

    #[test]
    fn round_trips_and_bounds() {
        let keys: Vec<_> = (1..=20u8).map(key).collect();
        for n in [1usize, 3, 16, 17, 20] {
            let s = multisig_script(n.min(2), &keys[..n]);
            let m = parse_multisig(&s).unwrap().unwrap();
            assert_eq!((m.threshold, m.keys.len()), (n.min(2), n));
        }
        // Not a multisig at all: left alone.
        assert_eq!(parse_multisig(&[0x51]).unwrap(), None);
        // m > n.
        let mut s = multisig_script(2, &keys[..2]);
        s[0] = 0x53;
        assert!(parse_multisig(&s).is_err());
        // m = 0.
        s[0] = 0x00;
        assert!(parse_multisig(&s).is_err());
        // Duplicate key.
        assert!(parse_multisig(&multisig_script(1, &[keys[0], keys[0]])).is_err());
        // Wrong n.
        let mut s = multisig_script(1, &keys[..2]);
        let l = s.len();
        s[l - 2] = 0x53;
        assert!(parse_multisig(&s).is_err());
        // Non-minimal number: a push of 2 instead of OP_2.
        let mut s = vec![0x01, 0x02];
        s.extend_from_slice(&multisig_script(2, &keys[..2])[1..]);
        assert!(parse_multisig(&s).is_err());
        // Uncompressed key.
        let mut s = vec![0x51, 0x41, 0x04];
        s.extend_from_slice(&[0u8; 64]);
        s.extend_from_slice(&[0x51, 0xae]);
        assert!(parse_multisig(&s).is_err());
        // Not on the curve.
        let mut bad = keys[0];
        bad[1..].copy_from_slice(&[0xff; 32]);
        assert!(parse_multisig(&multisig_script(1, &[bad])).is_err());
        // Trailing data before OP_CHECKMULTISIG.
        let mut s = multisig_script(1, &keys[..1]);
        s.insert(s.len() - 1, 0x75);
        assert!(parse_multisig(&s).is_err());
    }
}
