//! Output scripts and addresses for single secp256k1 keys (BIP-13/16/141/173/341/350).

use bech32::{Fe32, Hrp, segwit};
use k256::elliptic_curve::PrimeField;
use k256::elliptic_curve::group::prime::PrimeCurveAffine;
use k256::elliptic_curve::ops::MulByGenerator;
use k256::elliptic_curve::point::AffineCoordinates;
use k256::elliptic_curve::sec1::ToEncodedPoint;
use k256::{AffinePoint, FieldBytes, ProjectivePoint, PublicKey, Scalar};

use super::hash::{hash160, sha256d, tagged_hash};
use super::{AddressType, BitcoinError, Network};

/// A validated compressed secp256k1 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CompressedPublicKey([u8; 33]);

impl core::fmt::Debug for CompressedPublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "CompressedPublicKey(")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

impl CompressedPublicKey {
    /// Validate 33 bytes as a compressed point on the curve.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, BitcoinError> {
        if bytes.len() != 33 || !(bytes[0] == 2 || bytes[0] == 3) {
            return Err(BitcoinError::InvalidPublicKey);
        }
        PublicKey::from_sec1_bytes(bytes).map_err(|_| BitcoinError::InvalidPublicKey)?;
        let mut out = [0u8; 33];
        out.copy_from_slice(bytes);
        Ok(Self(out))
    }

    /// From a k256 public key.
    pub fn from_k256(pk: &PublicKey) -> Self {
        let ep = pk.to_encoded_point(true);
        let mut out = [0u8; 33];
        out.copy_from_slice(ep.as_bytes());
        Self(out)
    }

    /// The 33 bytes.
    pub fn to_bytes(&self) -> [u8; 33] {
        self.0
    }

    /// The BIP-340 x-only key (the x coordinate).
    pub fn x_only(&self) -> [u8; 32] {
        let mut x = [0u8; 32];
        x.copy_from_slice(&self.0[1..]);
        x
    }
}

/// BIP-341 `taproot_tweak_pubkey`: returns the output key x and whether its y is odd.
///
/// `merkle_root` is `None` for a key-path-only output (BIP-86), in which case
/// the tweak commits to the internal key alone.
pub fn taproot_tweak_public_key(
    internal_x: &[u8; 32],
    merkle_root: Option<&[u8; 32]>,
) -> Result<([u8; 32], bool), BitcoinError> {
    let p = lift_x(internal_x)?;
    let t = taproot_tweak_scalar(internal_x, merkle_root)?;
    let q = (ProjectivePoint::from(p) + ProjectivePoint::mul_by_generator(&t)).to_affine();
    if bool::from(q.is_identity()) {
        return Err(BitcoinError::InvalidXOnlyKey);
    }
    let mut x = [0u8; 32];
    x.copy_from_slice(&q.x());
    Ok((x, bool::from(q.y_is_odd())))
}

/// `int(hashTapTweak(x || merkle_root))`, failing if it is not below the group order.
pub(crate) fn taproot_tweak_scalar(
    internal_x: &[u8; 32],
    merkle_root: Option<&[u8; 32]>,
) -> Result<Scalar, BitcoinError> {
    let h = match merkle_root {
        Some(root) => tagged_hash("TapTweak", &[internal_x, root]),
        None => tagged_hash("TapTweak", &[internal_x]),
    };
    Option::from(Scalar::from_repr(FieldBytes::from(h))).ok_or(BitcoinError::InvalidXOnlyKey)
}

/// BIP-340 `lift_x`: the point with this x and even y.
pub(crate) fn lift_x(x: &[u8; 32]) -> Result<AffinePoint, BitcoinError> {
    let mut sec1 = [0u8; 33];
    sec1[0] = 0x02;
    sec1[1..].copy_from_slice(x);
    PublicKey::from_sec1_bytes(&sec1)
        .map(|pk| *pk.as_affine())
        .map_err(|_| BitcoinError::InvalidXOnlyKey)
}

/// The scriptPubKey paying to this key with this address type.
pub fn script_pubkey(pubkey: &CompressedPublicKey, address_type: AddressType) -> Vec<u8> {
    match address_type {
        AddressType::P2wpkh => p2wpkh_script(&hash160(&pubkey.0)),
        AddressType::P2shP2wpkh => {
            let redeem = p2wpkh_script(&hash160(&pubkey.0));
            p2sh_script(&hash160(&redeem))
        }
        AddressType::P2pkh => p2pkh_script(&hash160(&pubkey.0)),
        AddressType::P2tr => {
            // Valid compressed keys always lift and tweak; the error arm is
            // unreachable except with negligible probability (t >= n).
            match taproot_tweak_public_key(&pubkey.x_only(), None) {
                Ok((q, _)) => p2tr_script(&q),
                Err(_) => Vec::new(),
            }
        }
    }
}

/// The address of this key for an address type and network.
pub fn address(
    pubkey: &CompressedPublicKey,
    address_type: AddressType,
    network: Network,
) -> Result<String, BitcoinError> {
    let spk = script_pubkey(pubkey, address_type);
    address_from_script(&spk, network).ok_or(BitcoinError::InvalidPublicKey)
}

/// The address of a scriptPubKey on a network, if it has a standard one
/// (P2PKH, P2SH, or any segwit version); `None` otherwise (e.g. OP_RETURN).
pub fn address_from_script(script: &[u8], network: Network) -> Option<String> {
    match script {
        [0x76, 0xa9, 0x14, h @ .., 0x88, 0xac] if h.len() == 20 => {
            Some(base58check(network.p2pkh_version(), h))
        }
        [0xa9, 0x14, h @ .., 0x87] if h.len() == 20 => Some(base58check(network.p2sh_version(), h)),
        [v, len, program @ ..]
            if (*v == 0 || (0x51..=0x60).contains(v))
                && usize::from(*len) == program.len()
                && (2..=40).contains(&program.len()) =>
        {
            let version = if *v == 0 { 0 } else { v - 0x50 };
            let hrp = Hrp::parse(network.bech32_hrp()).ok()?;
            let fe = Fe32::try_from(version).ok()?;
            segwit::encode(hrp, fe, program).ok()
        }
        _ => None,
    }
}

/// Which family of networks an address is written for. Base58 versions
/// and the `tb` prefix are shared by testnet, signet and regtest (which
/// also has `bcrt`), so an address only tells main from test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NetworkFamily {
    /// Mainnet: P2PKH version 0x00, P2SH 0x05, `bc1…`.
    Main,
    /// Testnet, signet and regtest: versions 0x6f and 0xc4, `tb1…`, `bcrt1…`.
    Test,
}

impl NetworkFamily {
    /// The family of a network.
    pub fn of(network: Network) -> Self {
        if network.is_test() {
            NetworkFamily::Test
        } else {
            NetworkFamily::Main
        }
    }
}

/// The longest address [`script_from_address`] reads (BIP-173's limit for
/// bech32 strings; base58 addresses are at most 35 characters).
pub const MAX_ADDRESS_LEN: usize = 90;

/// The scriptPubKey an address pays, and the family of networks it is
/// written for.
///
/// Reads base58check P2PKH and P2SH addresses (versions 0x00/0x05 main,
/// 0x6f/0xc4 test, a 20-byte hash) and segwit addresses of any version
/// with the prefixes `bc`, `tb` or `bcrt`, strictly: the `bech32` crate
/// checks the checksum and its variant (bech32 for version 0, bech32m for
/// 1 to 16, BIP-350), the program length (20 or 32 bytes for version 0, 2
/// to 40 otherwise), zero padding, the 90-character limit and that upper
/// and lower case are not mixed. As in rust-bitcoin, a string that is not
/// a valid segwit address is read as base58.
///
/// Policies compare the scripts: `bc1q…` and the same program written as
/// `tb1q…` pay the same script, and no network setting changes that.
pub fn script_from_address(s: &str) -> Result<(Vec<u8>, NetworkFamily), BitcoinError> {
    if s.len() > MAX_ADDRESS_LEN {
        return Err(BitcoinError::InvalidAddress("longer than 90 characters"));
    }
    match segwit::decode(s) {
        Ok((hrp, version, program)) => {
            let family = if hrp == bech32::hrp::BC {
                NetworkFamily::Main
            } else if hrp == bech32::hrp::TB || hrp == bech32::hrp::BCRT {
                NetworkFamily::Test
            } else {
                return Err(BitcoinError::InvalidAddress(
                    "segwit prefix is not bc, tb or bcrt",
                ));
            };
            let v = version.to_u8();
            // bech32 guarantees version <= 16 and 2..=40 program bytes.
            let op = if v == 0 { 0x00 } else { 0x50 + v };
            let len = u8::try_from(program.len())
                .map_err(|_| BitcoinError::InvalidAddress("witness program too long"))?;
            let mut script = Vec::with_capacity(2 + program.len());
            script.push(op);
            script.push(len);
            script.extend_from_slice(&program);
            Ok((script, family))
        }
        Err(_) => {
            let lower = s.to_ascii_lowercase();
            let looks_segwit = ["bc1", "tb1", "bcrt1"].iter().any(|p| lower.starts_with(p));
            let data =
                base58check_decode(s).ok_or(BitcoinError::InvalidAddress(if looks_segwit {
                    "not a valid bech32/bech32m segwit address"
                } else {
                    "not a valid base58check or segwit address"
                }))?;
            let (version, hash) = match data.split_first() {
                Some((v, h)) if h.len() == 20 => (*v, h),
                _ => {
                    return Err(BitcoinError::InvalidAddress(
                        "base58 payload is not 21 bytes",
                    ));
                }
            };
            let mut h = [0u8; 20];
            h.copy_from_slice(hash);
            match version {
                0x00 => Ok((p2pkh_script(&h), NetworkFamily::Main)),
                0x6f => Ok((p2pkh_script(&h), NetworkFamily::Test)),
                0x05 => Ok((p2sh_script(&h), NetworkFamily::Main)),
                0xc4 => Ok((p2sh_script(&h), NetworkFamily::Test)),
                _ => Err(BitcoinError::InvalidAddress("unknown base58 version byte")),
            }
        }
    }
}

pub(crate) fn p2wpkh_script(h: &[u8; 20]) -> Vec<u8> {
    let mut s = vec![0x00, 0x14];
    s.extend_from_slice(h);
    s
}

pub(crate) fn p2pkh_script(h: &[u8; 20]) -> Vec<u8> {
    let mut s = vec![0x76, 0xa9, 0x14];
    s.extend_from_slice(h);
    s.extend_from_slice(&[0x88, 0xac]);
    s
}

pub(crate) fn p2sh_script(h: &[u8; 20]) -> Vec<u8> {
    let mut s = vec![0xa9, 0x14];
    s.extend_from_slice(h);
    s.push(0x87);
    s
}

pub(crate) fn p2tr_script(x: &[u8; 32]) -> Vec<u8> {
    let mut s = vec![0x51, 0x20];
    s.extend_from_slice(x);
    s
}

/// Base58Check: version || payload || first 4 bytes of dSHA256.
pub(crate) fn base58check(version: u8, payload: &[u8]) -> String {
    let mut data = Vec::with_capacity(1 + payload.len() + 4);
    data.push(version);
    data.extend_from_slice(payload);
    let check = sha256d(&data);
    data.extend_from_slice(&check[..4]);
    bs58::encode(data).into_string()
}

/// Decode Base58Check, returning the payload with its version bytes.
pub(crate) fn base58check_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() > 128 {
        return None;
    }
    let mut data = bs58::decode(s).into_vec().ok()?;
    if data.len() < 4 {
        return None;
    }
    let split = data.len() - 4;
    let check = sha256d(&data[..split]);
    if check[..4] != data[split..] {
        return None;
    }
    data.truncate(split);
    Some(data)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn non_standard_scripts_have_no_address() {
        assert_eq!(
            address_from_script(&[0x6a, 0x01, 0x00], Network::Bitcoin),
            None
        );
        assert_eq!(address_from_script(&[], Network::Bitcoin), None);
        // witness v0 with a 21-byte program is invalid
        let mut s = vec![0x00, 21];
        s.extend_from_slice(&[0u8; 21]);
        assert_eq!(address_from_script(&s, Network::Bitcoin), None);
    }

    #[test]
    fn invalid_public_keys_are_refused() {
        assert!(CompressedPublicKey::from_slice(&[2u8; 32]).is_err());
        assert!(CompressedPublicKey::from_slice(&[4u8; 33]).is_err());
        // x = 5 has no point on the curve
        let mut b = [0u8; 33];
        b[0] = 2;
        b[32] = 5;
        assert!(CompressedPublicKey::from_slice(&b).is_err());
    }
}
