//! The hash functions Bitcoin uses, on RustCrypto `sha2`/`ripemd`.

use ripemd::Ripemd160;
use sha2::{Digest, Sha256};

/// SHA-256.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Double SHA-256 (`dSHA256` in BIP-143, the txid hash).
pub(crate) fn sha256d(data: &[u8]) -> [u8; 32] {
    sha256(&sha256(data))
}

/// RIPEMD-160(SHA-256(data)): key and script hashes of P2PKH/P2WPKH/P2SH.
pub(crate) fn hash160(data: &[u8]) -> [u8; 20] {
    Ripemd160::digest(sha256(data)).into()
}

/// BIP-340 tagged hash: SHA256(SHA256(tag) || SHA256(tag) || data...).
pub(crate) fn tagged_hash(tag: &str, parts: &[&[u8]]) -> [u8; 32] {
    let tag_hash = sha256(tag.as_bytes());
    let mut h = Sha256::new();
    h.update(tag_hash);
    h.update(tag_hash);
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hash160_of_empty_is_the_known_constant() {
        // RIPEMD160(SHA256("")) — widely published constant.
        assert_eq!(
            hash160(b""),
            [
                0xb4, 0x72, 0xa2, 0x66, 0xd0, 0xbd, 0x89, 0xc1, 0x37, 0x06, 0xa4, 0x13, 0x2c, 0xcf,
                0xb1, 0x6f, 0x7c, 0x3b, 0x9f, 0xcb
            ]
        );
    }
}
