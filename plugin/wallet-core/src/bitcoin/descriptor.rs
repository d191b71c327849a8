//! Output descriptors (BIP-380..386) for an account xpub, with the BIP-380 checksum.

use super::address::base58check_decode;
use super::{AddressType, BitcoinError, HARDENED};

const INPUT_CHARSET: &str = "0123456789()[],'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#\"\\ ";
const CHECKSUM_CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const GENERATOR: [u64; 5] = [
    0xf5dee51989,
    0xa9fdca3312,
    0x1bab10e32d,
    0x3706b1677a,
    0x644d626ffd,
];

fn polymod(c: u64, val: u64) -> u64 {
    let top = c >> 35;
    let mut c = ((c & 0x7_ffff_ffff) << 5) ^ val;
    for (i, g) in GENERATOR.iter().enumerate() {
        if (top >> i) & 1 == 1 {
            c ^= g;
        }
    }
    c
}

/// The 8-character BIP-380 checksum of a descriptor (without `#`).
pub fn descriptor_checksum(desc: &str) -> Result<String, BitcoinError> {
    let mut c: u64 = 1;
    let mut cls: u64 = 0;
    let mut clscount = 0;
    for ch in desc.chars() {
        let pos = INPUT_CHARSET
            .find(ch)
            .ok_or(BitcoinError::InvalidDescriptor(
                "character outside the descriptor charset",
            ))? as u64;
        // BIP-380 descsum_expand: the low 5 bits as one symbol, and every
        // three characters' high bits grouped into another.
        c = polymod(c, pos & 31);
        cls = cls * 3 + (pos >> 5);
        clscount += 1;
        if clscount == 3 {
            c = polymod(c, cls);
            cls = 0;
            clscount = 0;
        }
    }
    if clscount > 0 {
        c = polymod(c, cls);
    }
    for _ in 0..8 {
        c = polymod(c, 0);
    }
    c ^= 1;
    Ok((0..8)
        .map(|j| char::from(CHECKSUM_CHARSET[((c >> (5 * (7 - j))) & 31) as usize]))
        .collect())
}

/// `desc#checksum`.
pub fn add_checksum(desc: &str) -> Result<String, BitcoinError> {
    Ok(format!("{desc}#{}", descriptor_checksum(desc)?))
}

/// Whether `s` is `SCRIPT#CHECKSUM` with a valid checksum.
pub fn verify_checksum(s: &str) -> bool {
    match s.rsplit_once('#') {
        Some((body, sum)) if sum.len() == 8 => {
            descriptor_checksum(body).is_ok_and(|expected| expected == sum)
        }
        _ => false,
    }
}

/// The descriptor of an account: e.g.
/// `wpkh([d34db33f/84'/0'/0']xpub…/<0;1>/*)#checksum`.
///
/// `account_path` is the path from the master key to the account key whose
/// serialization is `xpub` (`xpub…` or `tpub…`).
pub fn account_descriptor(
    address_type: AddressType,
    master_fingerprint: [u8; 4],
    account_path: &[u32],
    xpub: &str,
) -> Result<String, BitcoinError> {
    validate_xpub(xpub)?;
    if account_path.len() > 255 {
        return Err(BitcoinError::InvalidPath("deeper than 255 levels"));
    }
    let mut origin = String::new();
    for b in master_fingerprint {
        origin.push_str(&format!("{b:02x}"));
    }
    for &e in account_path {
        origin.push('/');
        origin.push_str(&(e & !HARDENED).to_string());
        if e & HARDENED != 0 {
            origin.push('\'');
        }
    }
    let key = format!("[{origin}]{xpub}/<0;1>/*");
    let body = match address_type {
        AddressType::P2wpkh => format!("wpkh({key})"),
        AddressType::P2tr => format!("tr({key})"),
        AddressType::P2shP2wpkh => format!("sh(wpkh({key}))"),
        AddressType::P2pkh => format!("pkh({key})"),
    };
    add_checksum(&body)
}

/// A BIP-32 extended public key: Base58Check of 78 bytes with a public version.
pub(crate) fn validate_xpub(xpub: &str) -> Result<(), BitcoinError> {
    let data = base58check_decode(xpub).ok_or(BitcoinError::InvalidXpub)?;
    // xpub 0488b21e, tpub 043587cf (BIP-32 serialization format).
    if data.len() != 78
        || !(data[..4] == [0x04, 0x88, 0xb2, 0x1e] || data[..4] == [0x04, 0x35, 0x87, 0xcf])
    {
        return Err(BitcoinError::InvalidXpub);
    }
    Ok(())
}
