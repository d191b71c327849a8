//! Hierarchical deterministic keys: derivation paths, BIP32 for secp256k1
//! (via the `bip32` crate on `k256`), SLIP-0010 for ed25519 (implemented here
//! on `hmac` + `sha2`), extended key serialization, and the two wallet kinds
//! of the API: [`HdWallet`] (a seed) and [`KeyWallet`] (one imported key).
//!
//! Specs: BIP32 <https://github.com/bitcoin/bips/blob/master/bip-0032.mediawiki>,
//! SLIP-0010 <https://github.com/satoshilabs/slips/blob/master/slip-0010.md>.
//!
//! Note: `bip32::XPrv`'s `PartialEq` compares the private key with itself
//! (bip32 0.5.3 `ct_eq` builds both sides from `self`); nothing here compares
//! keys with `==`.

use core::fmt;
use core::str::FromStr;

use hmac::{Hmac, Mac};
use sha2::Sha512;
use zeroize::Zeroizing;

use crate::keys::{Ed25519PublicKey, Secp256k1PublicKey};
use crate::secret::{
    Ed25519PrivateKey, Mnemonic, Passphrase, Secp256k1PrivateKey, SecretString, Seed,
};

type HmacSha512 = Hmac<Sha512>;

/// The hardened flag of a BIP32 child number.
pub const HARDENED: u32 = 1 << 31;

/// Maximum derivation depth: the serialized depth is one byte.
pub const MAX_DEPTH: usize = 255;

/// How many results a batch derivation reserves room for up front (the
/// count comes from the caller; more than this grows the vector as usual).
const BATCH_PREALLOC: usize = 1024;

/// Extended key version bytes (BIP32 serialization).
pub mod version {
    /// Mainnet public: `xpub`.
    pub const XPUB: u32 = 0x0488_B21E;
    /// Mainnet private: `xprv`.
    pub const XPRV: u32 = 0x0488_ADE4;
    /// Testnet/signet/regtest public: `tpub`.
    pub const TPUB: u32 = 0x0435_87CF;
    /// Testnet/signet/regtest private: `tprv`.
    pub const TPRV: u32 = 0x0435_8394;
}

/// Errors of derivation paths.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// The path does not start with `m`.
    #[error("derivation path must start with \"m\"")]
    MissingMaster,
    /// A level is empty (`m//1`, trailing `/`).
    #[error("derivation path level {level} is empty")]
    EmptyLevel {
        /// 1-based level.
        level: usize,
    },
    /// A level is not a decimal number with an optional `'`, `h` or `H`.
    #[error("derivation path level {level} is not a number optionally followed by ', h or H")]
    InvalidLevel {
        /// 1-based level.
        level: usize,
    },
    /// An index is 2^31 or more (before hardening).
    #[error("derivation path level {level} index must be below 2147483648")]
    IndexTooLarge {
        /// 1-based level.
        level: usize,
    },
    /// More levels than allowed: 255 (the depth byte of BIP32's
    /// serialization), or the caller's bound
    /// ([`DerivationPath::parse_max_depth`]).
    #[error("derivation path has {depth} levels, at most {max} are allowed")]
    TooDeep {
        /// The depth that was asked for.
        depth: usize,
        /// The largest depth allowed.
        max: usize,
    },
}

/// Errors of key derivation and key import.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HdError {
    /// The derivation path is malformed.
    #[error(transparent)]
    Path(#[from] PathError),
    /// BIP32 seeds are 16 to 64 bytes.
    #[error("seed must be 16 to 64 bytes, got {0}")]
    SeedLength(usize),
    /// SLIP-0010 ed25519 derivation supports hardened levels only.
    #[error("ed25519 derivation requires every level to be hardened; level {level} is not")]
    NonHardenedEd25519 {
        /// 1-based level.
        level: usize,
    },
    /// A derived key was invalid (BIP32: probability below 2^-127).
    #[error("key derivation produced an invalid key")]
    Derivation,
    /// A private key is not 32 bytes of hex (with or without `0x`).
    #[error("private_key must be 32 bytes of hex, with or without 0x")]
    PrivateKeyEncoding,
    /// A private key is 0 or not below the secp256k1 group order.
    #[error("private_key is not a valid secp256k1 private key")]
    PrivateKeyRange,
    /// An unknown curve name.
    #[error("curve must be secp256k1 or ed25519")]
    UnknownCurve,
}

/// Errors of extended key (`xpub`/`xprv`) parsing. BIP32 test vector 5 lists
/// the cases.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtendedKeyError {
    /// Not base58check, or a bad checksum.
    #[error("extended key is not valid base58check")]
    Base58,
    /// The payload is not 78 bytes.
    #[error("extended key must be 78 bytes, got {0}")]
    Length(usize),
    /// The version bytes are not xpub, xprv, tpub or tprv.
    #[error("unknown extended key version {0:#010x}")]
    UnknownVersion(u32),
    /// Depth 0 with a non-zero parent fingerprint.
    #[error("extended key has depth 0 and a non-zero parent fingerprint")]
    ZeroDepthParent,
    /// Depth 0 with a non-zero child number.
    #[error("extended key has depth 0 and a non-zero child number")]
    ZeroDepthIndex,
    /// A private version whose key data does not start with 0x00, or is not a
    /// scalar in 1..n-1.
    #[error("extended private key data is invalid")]
    InvalidPrivateKey,
    /// A public version whose key data is not a compressed point on the curve.
    #[error("extended public key data is invalid")]
    InvalidPublicKey,
    /// The string is an extended key of the other kind (public for private).
    #[error("expected an extended {expected} key")]
    WrongKind {
        /// "public" or "private".
        expected: &'static str,
    },
}

/// The curve of a key wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Curve {
    /// secp256k1 (Ethereum, Bitcoin).
    Secp256k1,
    /// ed25519 (Solana).
    Ed25519,
}

impl Curve {
    /// `"secp256k1"` or `"ed25519"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Curve::Secp256k1 => "secp256k1",
            Curve::Ed25519 => "ed25519",
        }
    }
}

impl fmt::Display for Curve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Curve {
    type Err = HdError;

    fn from_str(s: &str) -> Result<Self, HdError> {
        match s {
            "secp256k1" => Ok(Curve::Secp256k1),
            "ed25519" => Ok(Curve::Ed25519),
            _ => Err(HdError::UnknownCurve),
        }
    }
}

/// One level of a derivation path: a BIP32 child number (index plus the
/// hardened flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChildIndex(u32);

impl ChildIndex {
    /// A non-hardened index; `index` must be below 2^31.
    pub fn normal(index: u32) -> Option<Self> {
        (index < HARDENED).then_some(ChildIndex(index))
    }

    /// A hardened index; `index` must be below 2^31.
    pub fn hardened(index: u32) -> Option<Self> {
        (index < HARDENED).then_some(ChildIndex(index | HARDENED))
    }

    /// From the serialized child number (hardened flag in the top bit).
    pub fn from_raw(raw: u32) -> Self {
        ChildIndex(raw)
    }

    /// The serialized child number.
    pub fn raw(self) -> u32 {
        self.0
    }

    /// The index without the hardened flag.
    pub fn index(self) -> u32 {
        self.0 & !HARDENED
    }

    /// Whether the hardened flag is set.
    pub fn is_hardened(self) -> bool {
        self.0 & HARDENED != 0
    }
}

impl fmt::Display for ChildIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_hardened() {
            write!(f, "{}'", self.index())
        } else {
            write!(f, "{}", self.index())
        }
    }
}

/// A derivation path such as `m/44'/60'/0'/0/7` (at most 255 levels).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct DerivationPath(Vec<ChildIndex>);

impl DerivationPath {
    /// The master key's path, `m`.
    pub fn master() -> Self {
        DerivationPath(Vec::new())
    }

    /// A path from its levels.
    pub fn from_levels(levels: Vec<ChildIndex>) -> Result<Self, PathError> {
        if levels.len() > MAX_DEPTH {
            return Err(PathError::TooDeep {
                depth: levels.len(),
                max: MAX_DEPTH,
            });
        }
        Ok(DerivationPath(levels))
    }

    /// Builds a path from `(index, hardened)` pairs.
    pub fn from_pairs(pairs: &[(u32, bool)]) -> Result<Self, PathError> {
        let mut levels = Vec::with_capacity(pairs.len());
        for (i, &(index, hardened)) in pairs.iter().enumerate() {
            let level = if hardened {
                ChildIndex::hardened(index)
            } else {
                ChildIndex::normal(index)
            };
            levels.push(level.ok_or(PathError::IndexTooLarge { level: i + 1 })?);
        }
        DerivationPath::from_levels(levels)
    }

    /// The API's default Ethereum path `m/44'/60'/{account}'/0/{index}`.
    pub fn ethereum(account: u32, index: u32) -> Result<Self, PathError> {
        DerivationPath::from_pairs(&[
            (44, true),
            (60, true),
            (account, true),
            (0, false),
            (index, false),
        ])
    }

    /// The API's default Solana path `m/44'/501'/{index}'/0'`.
    pub fn solana(index: u32) -> Result<Self, PathError> {
        DerivationPath::from_pairs(&[(44, true), (501, true), (index, true), (0, true)])
    }

    /// A BIP44-style path `m/{purpose}'/{coin}'/{account}'/{change}/{index}`
    /// (BIP44, BIP49, BIP84 and BIP86 share this shape).
    pub fn bip44_style(
        purpose: u32,
        coin: u32,
        account: u32,
        change: u32,
        index: u32,
    ) -> Result<Self, PathError> {
        DerivationPath::from_pairs(&[
            (purpose, true),
            (coin, true),
            (account, true),
            (change, false),
            (index, false),
        ])
    }

    /// The account-level path `m/{purpose}'/{coin}'/{account}'` (where an
    /// xpub is exported).
    pub fn account_level(purpose: u32, coin: u32, account: u32) -> Result<Self, PathError> {
        DerivationPath::from_pairs(&[(purpose, true), (coin, true), (account, true)])
    }

    /// The levels, root first.
    pub fn levels(&self) -> &[ChildIndex] {
        &self.0
    }

    /// Number of levels (0 for `m`).
    pub fn depth(&self) -> usize {
        self.0.len()
    }

    /// This path extended by one level.
    pub fn child(&self, index: ChildIndex) -> Result<Self, PathError> {
        let mut levels = self.0.clone();
        levels.push(index);
        DerivationPath::from_levels(levels)
    }

    /// The first non-hardened level (1-based), if any.
    pub fn first_non_hardened(&self) -> Option<usize> {
        self.0.iter().position(|c| !c.is_hardened()).map(|p| p + 1)
    }
}

impl fmt::Display for DerivationPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("m")?;
        for level in &self.0 {
            write!(f, "/{level}")?;
        }
        Ok(())
    }
}

impl DerivationPath {
    /// Parses a path of at most `max_depth` levels (and never more than
    /// [`MAX_DEPTH`]), counting the levels before parsing any of them.
    pub fn parse_max_depth(s: &str, max_depth: usize) -> Result<Self, PathError> {
        let max = max_depth.min(MAX_DEPTH);
        let rest = s.strip_prefix('m').ok_or(PathError::MissingMaster)?;
        if rest.is_empty() {
            return Ok(DerivationPath::master());
        }
        let rest = rest.strip_prefix('/').ok_or(PathError::MissingMaster)?;
        // One pass over the bytes; no level is parsed when there are too many.
        let depth = rest.bytes().filter(|&b| b == b'/').count() + 1;
        if depth > max {
            return Err(PathError::TooDeep { depth, max });
        }
        let mut levels = Vec::with_capacity(depth);
        for (i, part) in rest.split('/').enumerate() {
            let level = i + 1;
            if part.is_empty() {
                return Err(PathError::EmptyLevel { level });
            }
            let (digits, hardened) = match part.strip_suffix(['\'', 'h', 'H']) {
                Some(d) => (d, true),
                None => (part, false),
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(PathError::InvalidLevel { level });
            }
            // Digits only, so the only parse failure is overflow.
            let index: u32 = digits
                .parse()
                .map_err(|_| PathError::IndexTooLarge { level })?;
            let child = if hardened {
                ChildIndex::hardened(index)
            } else {
                ChildIndex::normal(index)
            };
            levels.push(child.ok_or(PathError::IndexTooLarge { level })?);
        }
        DerivationPath::from_levels(levels)
    }
}

impl FromStr for DerivationPath {
    type Err = PathError;

    /// Parses `m`, `m/44'/60'/0'/0/7`, `m/44h/60h/0h/0/7` (`H` also works),
    /// at most [`MAX_DEPTH`] levels.
    fn from_str(s: &str) -> Result<Self, PathError> {
        DerivationPath::parse_max_depth(s, MAX_DEPTH)
    }
}

/// A BIP32 key fingerprint: the first 4 bytes of HASH160 of the compressed
/// public key.
pub type Fingerprint = [u8; 4];

/// A BIP32 extended public key (secp256k1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendedPublicKey {
    /// Version bytes ([`version::XPUB`], [`version::TPUB`]).
    pub version: u32,
    /// Depth (0 for the master key).
    pub depth: u8,
    /// The parent's fingerprint (zero for the master key).
    pub parent_fingerprint: Fingerprint,
    /// The child number this key was derived with.
    pub child_number: ChildIndex,
    /// The chain code.
    pub chain_code: [u8; 32],
    /// The public key.
    pub public_key: Secp256k1PublicKey,
}

impl ExtendedPublicKey {
    /// The base58check serialization (`xpub...` / `tpub...`).
    pub fn encode(&self) -> String {
        let mut bytes = [0u8; 78];
        write_header(
            &mut bytes,
            self.version,
            self.depth,
            self.parent_fingerprint,
            self.child_number,
            &self.chain_code,
        );
        bytes[45..].copy_from_slice(&self.public_key.to_compressed());
        bs58::encode(&bytes[..]).with_check().into_string()
    }

    /// Parses and validates an extended public key (xpub or tpub).
    pub fn parse(s: &str) -> Result<Self, ExtendedKeyError> {
        let raw = decode_extended(s)?;
        if !raw.public {
            return Err(ExtendedKeyError::WrongKind { expected: "public" });
        }
        let public_key = Secp256k1PublicKey::from_sec1_bytes(&raw.key[..])
            .map_err(|_| ExtendedKeyError::InvalidPublicKey)?;
        Ok(ExtendedPublicKey {
            version: raw.version,
            depth: raw.depth,
            parent_fingerprint: raw.parent_fingerprint,
            child_number: raw.child_number,
            chain_code: *raw.chain_code,
            public_key,
        })
    }

    /// This key's own fingerprint.
    pub fn fingerprint(&self) -> Fingerprint {
        fingerprint(&self.public_key)
    }
}

impl fmt::Display for ExtendedPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

/// A BIP32 extended private key (secp256k1). Secret: `Debug` is redacted.
#[derive(Clone)]
pub struct ExtendedPrivateKey {
    version: u32,
    depth: u8,
    parent_fingerprint: Fingerprint,
    child_number: ChildIndex,
    chain_code: Zeroizing<[u8; 32]>,
    private_key: Secp256k1PrivateKey,
}

impl fmt::Debug for ExtendedPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExtendedPrivateKey(<redacted>)")
    }
}

impl ExtendedPrivateKey {
    /// Parses and validates an extended private key (xprv or tprv).
    pub fn parse(s: &str) -> Result<Self, ExtendedKeyError> {
        let raw = decode_extended(s)?;
        if raw.public {
            return Err(ExtendedKeyError::WrongKind {
                expected: "private",
            });
        }
        if raw.key[0] != 0 {
            return Err(ExtendedKeyError::InvalidPrivateKey);
        }
        let mut scalar = Zeroizing::new([0u8; 32]);
        scalar.copy_from_slice(&raw.key[1..]);
        let private_key = Secp256k1PrivateKey::from_bytes(&scalar)
            .map_err(|_| ExtendedKeyError::InvalidPrivateKey)?;
        Ok(ExtendedPrivateKey {
            version: raw.version,
            depth: raw.depth,
            parent_fingerprint: raw.parent_fingerprint,
            child_number: raw.child_number,
            chain_code: raw.chain_code,
            private_key,
        })
    }

    /// The base58check serialization (`xprv...`). Secret.
    pub fn expose_encoded(&self) -> SecretString {
        let mut bytes = Zeroizing::new([0u8; 78]);
        write_header(
            &mut bytes,
            self.version,
            self.depth,
            self.parent_fingerprint,
            self.child_number,
            &self.chain_code,
        );
        bytes[46..].copy_from_slice(&self.private_key.expose_bytes()[..]);
        SecretString::new(bs58::encode(&bytes[..]).with_check().into_string())
    }

    /// The private key.
    pub fn private_key(&self) -> &Secp256k1PrivateKey {
        &self.private_key
    }

    /// The matching extended public key, serialized with `version`.
    pub fn to_public(&self, version: u32) -> ExtendedPublicKey {
        ExtendedPublicKey {
            version,
            depth: self.depth,
            parent_fingerprint: self.parent_fingerprint,
            child_number: self.child_number,
            chain_code: *self.chain_code,
            public_key: self.private_key.public_key(),
        }
    }

    /// Depth (0 for the master key).
    pub fn depth(&self) -> u8 {
        self.depth
    }

    /// The parent's fingerprint.
    pub fn parent_fingerprint(&self) -> Fingerprint {
        self.parent_fingerprint
    }

    /// The child number.
    pub fn child_number(&self) -> ChildIndex {
        self.child_number
    }
}

fn write_header(
    bytes: &mut [u8; 78],
    version: u32,
    depth: u8,
    parent: Fingerprint,
    child: ChildIndex,
    chain_code: &[u8; 32],
) {
    bytes[..4].copy_from_slice(&version.to_be_bytes());
    bytes[4] = depth;
    bytes[5..9].copy_from_slice(&parent);
    bytes[9..13].copy_from_slice(&child.raw().to_be_bytes());
    bytes[13..45].copy_from_slice(chain_code);
}

struct RawExtended {
    version: u32,
    public: bool,
    depth: u8,
    parent_fingerprint: Fingerprint,
    child_number: ChildIndex,
    chain_code: Zeroizing<[u8; 32]>,
    key: Zeroizing<[u8; 33]>,
}

/// Decodes base58check and checks the structural rules of BIP32
/// serialization that hold for both kinds.
fn decode_extended(s: &str) -> Result<RawExtended, ExtendedKeyError> {
    // 78 bytes encode to at most 111 base58 characters (+ 4 checksum bytes).
    if s.len() > 120 {
        return Err(ExtendedKeyError::Base58);
    }
    let bytes = Zeroizing::new(
        bs58::decode(s)
            .with_check(None)
            .into_vec()
            .map_err(|_| ExtendedKeyError::Base58)?,
    );
    if bytes.len() != 78 {
        return Err(ExtendedKeyError::Length(bytes.len()));
    }
    let version = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let public = match version {
        version::XPUB | version::TPUB => true,
        version::XPRV | version::TPRV => false,
        other => return Err(ExtendedKeyError::UnknownVersion(other)),
    };
    let depth = bytes[4];
    let parent_fingerprint = [bytes[5], bytes[6], bytes[7], bytes[8]];
    let child_number = ChildIndex::from_raw(u32::from_be_bytes([
        bytes[9], bytes[10], bytes[11], bytes[12],
    ]));
    if depth == 0 && parent_fingerprint != [0; 4] {
        return Err(ExtendedKeyError::ZeroDepthParent);
    }
    if depth == 0 && child_number.raw() != 0 {
        return Err(ExtendedKeyError::ZeroDepthIndex);
    }
    let mut chain_code = Zeroizing::new([0u8; 32]);
    chain_code.copy_from_slice(&bytes[13..45]);
    let mut key = Zeroizing::new([0u8; 33]);
    key.copy_from_slice(&bytes[45..78]);
    if public && !matches!(key[0], 2 | 3) {
        return Err(ExtendedKeyError::InvalidPublicKey);
    }
    Ok(RawExtended {
        version,
        public,
        depth,
        parent_fingerprint,
        child_number,
        chain_code,
        key,
    })
}

/// HASH160 (RIPEMD-160 of SHA-256) fingerprint of a compressed public key,
/// computed by `bip32` (which already carries RIPEMD-160).
pub fn fingerprint(public_key: &Secp256k1PublicKey) -> Fingerprint {
    use bip32::PublicKey as _;
    public_key.0.fingerprint()
}

/// A SLIP-0010 ed25519 node: private key and chain code.
#[derive(Clone)]
pub struct Ed25519Node {
    private_key: Ed25519PrivateKey,
    chain_code: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for Ed25519Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ed25519Node(<redacted>)")
    }
}

impl Ed25519Node {
    /// The node's private key.
    pub fn private_key(&self) -> &Ed25519PrivateKey {
        &self.private_key
    }

    /// The node's public key.
    pub fn public_key(&self) -> Ed25519PublicKey {
        self.private_key.public_key()
    }

    /// The chain code. Secret in combination with any public key below it.
    pub fn expose_chain_code(&self) -> &[u8; 32] {
        &self.chain_code
    }
}

/// SLIP-0010 for ed25519: master `I = HMAC-SHA512("ed25519 seed", seed)`,
/// child `I = HMAC-SHA512(c, 0x00 || k || ser32(i))`, hardened only.
fn slip10_ed25519(seed: &[u8], path: &DerivationPath) -> Result<Ed25519Node, HdError> {
    if let Some(level) = path.first_non_hardened() {
        return Err(HdError::NonHardenedEd25519 { level });
    }
    let mut mac = HmacSha512::new_from_slice(b"ed25519 seed").map_err(|_| HdError::Derivation)?;
    mac.update(seed);
    let mut node = slip10_split(mac);
    for level in path.levels() {
        node = slip10_child(&node, *level)?;
    }
    Ok(node.into_node())
}

/// A SLIP-0010 ed25519 node as raw key and chain code.
struct Slip10 {
    key: Zeroizing<[u8; 32]>,
    chain: Zeroizing<[u8; 32]>,
}

impl Slip10 {
    fn into_node(self) -> Ed25519Node {
        Ed25519Node {
            private_key: Ed25519PrivateKey::from_bytes(&self.key),
            chain_code: self.chain,
        }
    }
}

fn slip10_split(mac: HmacSha512) -> Slip10 {
    let out = Zeroizing::new(<[u8; 64]>::from(mac.finalize().into_bytes()));
    let mut key = Zeroizing::new([0u8; 32]);
    let mut chain = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&out[..32]);
    chain.copy_from_slice(&out[32..]);
    Slip10 { key, chain }
}

/// One SLIP-0010 ed25519 step (the level must be hardened: checked by callers).
fn slip10_child(parent: &Slip10, level: ChildIndex) -> Result<Slip10, HdError> {
    let mut mac = HmacSha512::new_from_slice(&parent.chain[..]).map_err(|_| HdError::Derivation)?;
    mac.update(&[0u8]);
    mac.update(&parent.key[..]);
    mac.update(&level.raw().to_be_bytes());
    Ok(slip10_split(mac))
}

/// The levels `parent / (start + i) / tail` of a batch, checked before any
/// derivation: the whole path within [`MAX_DEPTH`], every index in range.
fn batch_levels(
    parent: &DerivationPath,
    start: u32,
    hardened: bool,
    count: u32,
    tail: &[ChildIndex],
) -> Result<(), PathError> {
    let depth = parent.depth() + 1 + tail.len();
    if depth > MAX_DEPTH {
        return Err(PathError::TooDeep {
            depth,
            max: MAX_DEPTH,
        });
    }
    let level = parent.depth() + 1;
    let last = start
        .checked_add(count.saturating_sub(1))
        .ok_or(PathError::IndexTooLarge { level })?;
    let ok = if hardened {
        ChildIndex::hardened(last)
    } else {
        ChildIndex::normal(last)
    };
    ok.map(|_| ()).ok_or(PathError::IndexTooLarge { level })
}

fn batch_index(start: u32, i: u32, hardened: bool, level: usize) -> Result<ChildIndex, PathError> {
    let index = start
        .checked_add(i)
        .ok_or(PathError::IndexTooLarge { level })?;
    if hardened {
        ChildIndex::hardened(index)
    } else {
        ChildIndex::normal(index)
    }
    .ok_or(PathError::IndexTooLarge { level })
}

/// An HD wallet: a BIP32 seed from which every key is derived on demand.
#[derive(Clone)]
pub struct HdWallet {
    seed: Seed,
    master_fingerprint: Fingerprint,
}

impl fmt::Debug for HdWallet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HdWallet")
            .field("seed", &self.seed)
            .field("master_fingerprint", &hex::encode(self.master_fingerprint))
            .finish()
    }
}

impl HdWallet {
    /// The wallet of a BIP39 mnemonic and passphrase.
    pub fn from_mnemonic(mnemonic: &Mnemonic, passphrase: &Passphrase) -> Result<Self, HdError> {
        HdWallet::from_seed(mnemonic.to_seed(passphrase))
    }

    /// The wallet of a raw BIP32 seed (16 to 64 bytes).
    pub fn from_seed(seed: Seed) -> Result<Self, HdError> {
        let len = seed.expose_bytes().len();
        if !(16..=64).contains(&len) {
            return Err(HdError::SeedLength(len));
        }
        let master = bip32_master(seed.expose_bytes())?;
        let master_fingerprint = master.public_key().fingerprint();
        Ok(HdWallet {
            seed,
            master_fingerprint,
        })
    }

    /// The seed. Secret.
    pub fn expose_seed(&self) -> &Seed {
        &self.seed
    }

    /// The BIP32 master key fingerprint (shown as 8 hex characters).
    pub fn master_fingerprint(&self) -> Fingerprint {
        self.master_fingerprint
    }

    fn derive_xprv(&self, path: &DerivationPath) -> Result<bip32::XPrv, HdError> {
        let mut key = bip32_master(self.seed.expose_bytes())?;
        for level in path.levels() {
            key = key
                .derive_child(bip32::ChildNumber(level.raw()))
                .map_err(|_| HdError::Derivation)?;
        }
        Ok(key)
    }

    /// The BIP32 secp256k1 private key at `path`.
    pub fn derive_secp256k1(&self, path: &DerivationPath) -> Result<Secp256k1PrivateKey, HdError> {
        let xprv = self.derive_xprv(path)?;
        Ok(Secp256k1PrivateKey(xprv.private_key().clone()))
    }

    /// The public keys of the non-hardened children `start .. start + count`
    /// of `parent` (e.g. receive addresses under `m/84'/0'/0'/0`), deriving
    /// the parent once.
    pub fn secp256k1_child_public_keys(
        &self,
        parent: &DerivationPath,
        start: u32,
        count: u32,
    ) -> Result<Vec<Secp256k1PublicKey>, HdError> {
        self.secp256k1_public_keys_batch(parent, start, false, count, &[])
    }

    /// The public keys at `parent / (start + i) / tail` for `i` in
    /// `0 .. count`, the index level hardened or not: the parent is derived
    /// once, then `1 + tail.len()` steps per key. Nothing is derived when
    /// the path would be too deep or an index out of range.
    pub fn secp256k1_public_keys_batch(
        &self,
        parent: &DerivationPath,
        start: u32,
        hardened: bool,
        count: u32,
        tail: &[ChildIndex],
    ) -> Result<Vec<Secp256k1PublicKey>, HdError> {
        batch_levels(parent, start, hardened, count, tail)?;
        let level = parent.depth() + 1;
        let xprv = self.derive_xprv(parent)?;
        let mut out = Vec::with_capacity((count as usize).min(BATCH_PREALLOC));
        for i in 0..count {
            let index = batch_index(start, i, hardened, level)?;
            let mut child = xprv
                .derive_child(bip32::ChildNumber(index.raw()))
                .map_err(|_| HdError::Derivation)?;
            for t in tail {
                child = child
                    .derive_child(bip32::ChildNumber(t.raw()))
                    .map_err(|_| HdError::Derivation)?;
            }
            out.push(Secp256k1PublicKey(*child.private_key().verifying_key()));
        }
        Ok(out)
    }

    /// The SLIP-0010 ed25519 public keys at `parent / (start + i)' / tail`
    /// for `i` in `0 .. count` (every level hardened): the parent is derived
    /// once, then `1 + tail.len()` steps per key.
    pub fn ed25519_public_keys_batch(
        &self,
        parent: &DerivationPath,
        start: u32,
        count: u32,
        tail: &[ChildIndex],
    ) -> Result<Vec<Ed25519PublicKey>, HdError> {
        batch_levels(parent, start, true, count, tail)?;
        if let Some(level) = parent.first_non_hardened() {
            return Err(HdError::NonHardenedEd25519 { level });
        }
        if let Some(p) = tail.iter().position(|c| !c.is_hardened()) {
            return Err(HdError::NonHardenedEd25519 {
                level: parent.depth() + 2 + p,
            });
        }
        let level = parent.depth() + 1;
        let seed = self.seed.expose_bytes();
        let mut mac =
            HmacSha512::new_from_slice(b"ed25519 seed").map_err(|_| HdError::Derivation)?;
        mac.update(seed);
        let mut node = slip10_split(mac);
        for l in parent.levels() {
            node = slip10_child(&node, *l)?;
        }
        let mut out = Vec::with_capacity((count as usize).min(BATCH_PREALLOC));
        for i in 0..count {
            let mut child = slip10_child(&node, batch_index(start, i, true, level)?)?;
            for t in tail {
                child = slip10_child(&child, *t)?;
            }
            out.push(child.into_node().public_key());
        }
        Ok(out)
    }

    /// The BIP32 extended private key at `path`, to be serialized with
    /// `version` ([`version::XPRV`] or [`version::TPRV`]).
    pub fn extended_private_key(
        &self,
        path: &DerivationPath,
        version: u32,
    ) -> Result<ExtendedPrivateKey, HdError> {
        let xprv = self.derive_xprv(path)?;
        let attrs = xprv.attrs();
        Ok(ExtendedPrivateKey {
            version,
            depth: attrs.depth,
            parent_fingerprint: attrs.parent_fingerprint,
            child_number: ChildIndex::from_raw(attrs.child_number.0),
            chain_code: Zeroizing::new(attrs.chain_code),
            private_key: Secp256k1PrivateKey(xprv.private_key().clone()),
        })
    }

    /// The BIP32 extended public key at `path` (normally an account path such
    /// as `m/84'/0'/0'`) with `version` ([`version::XPUB`] or
    /// [`version::TPUB`]).
    pub fn extended_public_key(
        &self,
        path: &DerivationPath,
        version: u32,
    ) -> Result<ExtendedPublicKey, HdError> {
        Ok(self.extended_private_key(path, version)?.to_public(version))
    }

    /// The SLIP-0010 ed25519 private key at `path` (every level hardened).
    pub fn derive_ed25519(&self, path: &DerivationPath) -> Result<Ed25519PrivateKey, HdError> {
        Ok(self.derive_ed25519_node(path)?.private_key)
    }

    /// The SLIP-0010 ed25519 node (key and chain code) at `path`.
    pub fn derive_ed25519_node(&self, path: &DerivationPath) -> Result<Ed25519Node, HdError> {
        slip10_ed25519(self.seed.expose_bytes(), path)
    }
}

/// BIP32 master key for any seed length from 16 to 64 bytes (`bip32`'s own
/// constructor accepts only 16, 32 or 64).
fn bip32_master(seed: &[u8]) -> Result<bip32::XPrv, HdError> {
    let mut mac = HmacSha512::new_from_slice(b"Bitcoin seed").map_err(|_| HdError::Derivation)?;
    mac.update(seed);
    let out = Zeroizing::new(<[u8; 64]>::from(mac.finalize().into_bytes()));
    let mut key_bytes = [0u8; 33];
    key_bytes[1..].copy_from_slice(&out[..32]);
    let mut chain_code = [0u8; 32];
    chain_code.copy_from_slice(&out[32..]);
    // `ExtendedKey` zeroizes `key_bytes` on drop.
    let ext = bip32::ExtendedKey {
        prefix: bip32::Prefix::XPRV,
        attrs: bip32::ExtendedKeyAttrs {
            depth: 0,
            parent_fingerprint: [0; 4],
            child_number: bip32::ChildNumber(0),
            chain_code,
        },
        key_bytes,
    };
    bip32::XPrv::try_from(ext).map_err(|_| HdError::Derivation)
}

/// A wallet of one imported private key on one curve.
#[derive(Debug, Clone)]
pub enum KeyWallet {
    /// A secp256k1 key (Ethereum, Bitcoin).
    Secp256k1(Secp256k1PrivateKey),
    /// An ed25519 key (Solana): the 32-byte seed.
    Ed25519(Ed25519PrivateKey),
}

impl KeyWallet {
    /// Imports 32 bytes of hex (with or without `0x`) on `curve`. The error
    /// never repeats any part of the input.
    pub fn from_hex(curve: Curve, hex_key: &str) -> Result<Self, HdError> {
        let digits = hex_key.strip_prefix("0x").unwrap_or(hex_key);
        let mut bytes = Zeroizing::new([0u8; 32]);
        if digits.len() != 64 || hex::decode_to_slice(digits, &mut bytes[..]).is_err() {
            return Err(HdError::PrivateKeyEncoding);
        }
        KeyWallet::from_bytes(curve, &bytes)
    }

    /// Imports 32 raw bytes on `curve`.
    pub fn from_bytes(curve: Curve, bytes: &[u8; 32]) -> Result<Self, HdError> {
        Ok(match curve {
            Curve::Secp256k1 => KeyWallet::Secp256k1(
                Secp256k1PrivateKey::from_bytes(bytes).map_err(|_| HdError::PrivateKeyRange)?,
            ),
            Curve::Ed25519 => KeyWallet::Ed25519(Ed25519PrivateKey::from_bytes(bytes)),
        })
    }

    /// The key's curve.
    pub fn curve(&self) -> Curve {
        match self {
            KeyWallet::Secp256k1(_) => Curve::Secp256k1,
            KeyWallet::Ed25519(_) => Curve::Ed25519,
        }
    }

    /// The private key as 64 lowercase hex digits, no prefix. Secret: only
    /// for `export`.
    pub fn expose_hex(&self) -> SecretString {
        let bytes = match self {
            KeyWallet::Secp256k1(k) => k.expose_bytes(),
            KeyWallet::Ed25519(k) => k.expose_bytes(),
        };
        SecretString::new(hex::encode(&bytes[..]))
    }

    /// The public key bytes: 33-byte compressed secp256k1 or 32-byte ed25519.
    pub fn public_key_bytes(&self) -> Vec<u8> {
        match self {
            KeyWallet::Secp256k1(k) => k.public_key().to_compressed().to_vec(),
            KeyWallet::Ed25519(k) => k.public_key().to_bytes().to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_paths() {
        let p: DerivationPath = "m/44'/60'/0'/0/7".parse().expect("path");
        assert_eq!(p.to_string(), "m/44'/60'/0'/0/7");
        assert_eq!(p, DerivationPath::ethereum(0, 7).expect("eth"));
        assert_eq!(
            p,
            DerivationPath::bip44_style(44, 60, 0, 0, 7).expect("bip44")
        );
        assert_eq!(
            DerivationPath::account_level(84, 1, 2)
                .expect("acct")
                .to_string(),
            "m/84'/1'/2'"
        );
        let h: DerivationPath = "m/44h/60H/0'/0/7".parse().expect("h");
        assert_eq!(h, p);
        assert_eq!("m".parse::<DerivationPath>().expect("m").depth(), 0);
        let max: DerivationPath = "m/2147483647'".parse().expect("max");
        assert_eq!(max.levels()[0].raw(), u32::MAX);
    }

    #[test]
    fn rejects_bad_paths() {
        use PathError::*;
        let cases: &[(&str, PathError)] = &[
            ("", MissingMaster),
            ("44'/60'", MissingMaster),
            ("M/1", MissingMaster),
            ("m1", MissingMaster),
            ("m/", EmptyLevel { level: 1 }),
            ("m//1", EmptyLevel { level: 1 }),
            ("m/1/", EmptyLevel { level: 2 }),
            ("m/x", InvalidLevel { level: 1 }),
            ("m/1/-2", InvalidLevel { level: 2 }),
            ("m/1/+2", InvalidLevel { level: 2 }),
            ("m/1''", InvalidLevel { level: 1 }),
            ("m/'", InvalidLevel { level: 1 }),
            ("m/ 1", InvalidLevel { level: 1 }),
            ("m/2147483648", IndexTooLarge { level: 1 }),
            ("m/2147483648'", IndexTooLarge { level: 1 }),
            ("m/99999999999999999999", IndexTooLarge { level: 1 }),
        ];
        for (input, want) in cases {
            assert_eq!(
                input.parse::<DerivationPath>().as_ref(),
                Err(want),
                "{input}"
            );
        }
        let deep = format!("m{}", "/0".repeat(256));
        assert_eq!(
            deep.parse::<DerivationPath>(),
            Err(TooDeep {
                depth: 256,
                max: 255
            })
        );
        let ok = format!("m{}", "/0".repeat(255));
        assert_eq!(ok.parse::<DerivationPath>().expect("255").depth(), 255);
    }

    #[test]
    fn ed25519_rejects_non_hardened() {
        let w = HdWallet::from_seed(Seed::from_bytes(&[1u8; 32])).expect("wallet");
        let p: DerivationPath = "m/44'/501'/0'/0".parse().expect("path");
        assert!(matches!(
            w.derive_ed25519(&p),
            Err(HdError::NonHardenedEd25519 { level: 4 })
        ));
    }

    #[test]
    fn child_public_keys_match_single_derivation() {
        let w = HdWallet::from_seed(Seed::from_bytes(&[3u8; 64])).expect("wallet");
        let parent: DerivationPath = "m/44'/60'/0'/0".parse().expect("path");
        let keys = w
            .secp256k1_child_public_keys(&parent, 5, 3)
            .expect("children");
        for (i, k) in keys.iter().enumerate() {
            let single = w
                .derive_secp256k1(&DerivationPath::ethereum(0, 5 + i as u32).expect("p"))
                .expect("key");
            assert_eq!(single.public_key().to_compressed(), k.to_compressed());
        }
        assert!(
            w.secp256k1_child_public_keys(&parent, HARDENED - 1, 2)
                .is_err()
        );
    }

    #[test]
    fn batches_match_single_derivation_at_any_index_level() {
        let w = HdWallet::from_seed(Seed::from_bytes(&[5u8; 32])).expect("wallet");
        let h = |i| ChildIndex::hardened(i).expect("index");
        let n = |i| ChildIndex::normal(i).expect("index");
        // secp256k1, a hardened index level with a tail: m/48'/0'/(7+i)'/2'/0/0.
        let parent: DerivationPath = "m/48'/0'".parse().expect("path");
        let tail = [h(2), n(0), n(0)];
        let keys = w
            .secp256k1_public_keys_batch(&parent, 7, true, 3, &tail)
            .expect("batch");
        assert_eq!(keys.len(), 3);
        for (i, k) in keys.iter().enumerate() {
            let p: DerivationPath = format!("m/48'/0'/{}'/2'/0/0", 7 + i).parse().expect("p");
            let single = w.derive_secp256k1(&p).expect("key");
            assert_eq!(single.public_key().to_compressed(), k.to_compressed());
        }
        // ed25519, solana's default shape m/44'/501'/(i)'/0'.
        let parent: DerivationPath = "m/44'/501'".parse().expect("path");
        let keys = w
            .ed25519_public_keys_batch(&parent, 4, 3, &[h(0)])
            .expect("batch");
        for (i, k) in keys.iter().enumerate() {
            let single = w
                .derive_ed25519(&DerivationPath::solana(4 + i as u32).expect("p"))
                .expect("key");
            assert_eq!(single.public_key().to_bytes(), k.to_bytes());
        }
        // Refused before any work: a non-hardened tail on ed25519, an index
        // past 2^31 - 1, a path deeper than MAX_DEPTH.
        assert_eq!(
            w.ed25519_public_keys_batch(&parent, 0, 1, &[n(0)]).err(),
            Some(HdError::NonHardenedEd25519 { level: 4 })
        );
        assert!(
            w.secp256k1_public_keys_batch(&parent, HARDENED - 2, true, 3, &[])
                .is_err()
        );
        let deep = DerivationPath::from_levels(vec![h(1); MAX_DEPTH]).expect("255 levels");
        assert!(matches!(
            w.secp256k1_public_keys_batch(&deep, 0, false, 1, &[]),
            Err(HdError::Path(PathError::TooDeep { depth: 256, .. }))
        ));
    }

    #[test]
    fn a_bounded_parse_counts_levels_before_parsing_them() {
        assert_eq!(
            DerivationPath::parse_max_depth("m/48'/0'/0'/2'/0/0", 6)
                .expect("6 levels")
                .depth(),
            6
        );
        assert_eq!(
            DerivationPath::parse_max_depth("m/1/2/3/4/5/6/7", 6),
            Err(PathError::TooDeep { depth: 7, max: 6 })
        );
        // Too many levels is reported even when a level is garbage.
        assert_eq!(
            DerivationPath::parse_max_depth(&format!("m/x{}", "/0".repeat(20)), 10),
            Err(PathError::TooDeep { depth: 21, max: 10 })
        );
        // The bound never exceeds MAX_DEPTH.
        let deep = format!("m{}", "/0".repeat(256));
        assert_eq!(
            DerivationPath::parse_max_depth(&deep, usize::MAX),
            Err(PathError::TooDeep {
                depth: 256,
                max: 255
            })
        );
    }

    #[test]
    fn seed_length_is_checked() {
        assert_eq!(
            HdWallet::from_seed(Seed::from_bytes(&[0u8; 15])).err(),
            Some(HdError::SeedLength(15))
        );
        assert_eq!(
            HdWallet::from_seed(Seed::from_bytes(&[0u8; 65])).err(),
            Some(HdError::SeedLength(65))
        );
        assert!(HdWallet::from_seed(Seed::from_bytes(&[0u8; 17])).is_ok());
    }

    #[test]
    fn key_wallet_import_errors_do_not_echo_input() {
        let secretish = "zz".repeat(32);
        let err = KeyWallet::from_hex(Curve::Secp256k1, &secretish).expect_err("hex");
        assert_eq!(err, HdError::PrivateKeyEncoding);
        assert!(!err.to_string().contains("zz"));
        assert_eq!(
            KeyWallet::from_hex(Curve::Secp256k1, &"00".repeat(32)).expect_err("zero"),
            HdError::PrivateKeyRange
        );
        let k = KeyWallet::from_hex(Curve::Ed25519, &format!("0x{}", "11".repeat(32))).expect("ok");
        assert_eq!(k.curve(), Curve::Ed25519);
        assert_eq!(k.expose_hex().expose_str(), "11".repeat(32));
    }

    #[test]
    fn hd_wallet_is_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<HdWallet>();
        check::<KeyWallet>();
        check::<ExtendedPrivateKey>();
    }
}
