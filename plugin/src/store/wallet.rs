//! Wallets as stored and as cached.
//!
//! [`WalletEntry`] is the storage form (JSON, versioned). It is the one
//! place where secret material is serialized, and only into host storage
//! (seal-wrapped, see `backend::special_paths`); it is zeroized on drop and
//! redacted in `Debug`. [`Wallet`] is the decoded form kept in the cache:
//! its secrets live in wallet-core's secret types, and an HD wallet keeps
//! its derived seed so that a signature does not re-run BIP39's 2048
//! PBKDF2 rounds.

use serde::{Deserialize, Serialize};
use wallet_core::hd::{Curve, HdWallet, KeyWallet};
use wallet_core::mnemonic::WordCount;
use wallet_core::{Mnemonic, Passphrase};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::access::WalletCodec;
use super::entry::Versioned;
use crate::logical::LogicalError;

/// The stored form of a wallet. Version 1.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct WalletEntry {
    pub version: u32,
    pub name: String,
    /// `hd` or `key`.
    #[serde(rename = "type")]
    pub kind: String,
    /// RFC 3339.
    pub created_time: String,
    pub exportable: bool,
    pub deletion_allowed: bool,
    pub allow_raw_signing: bool,
    /// hd: the normalized BIP39 phrase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mnemonic: Option<String>,
    /// hd: the BIP39 passphrase (empty when none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passphrase: Option<String>,
    /// key: `secp256k1` or `ed25519`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curve: Option<String>,
    /// key: 64 lowercase hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
}

impl std::fmt::Debug for WalletEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalletEntry")
            .field("version", &self.version)
            .field("name", &self.name)
            .field("type", &self.kind)
            .field("secrets", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl Versioned for WalletEntry {
    const KIND: &'static str = "wallet";
    const VERSION: u32 = 1;
    fn version(&self) -> u32 {
        self.version
    }
}

/// The key material of a wallet.
#[derive(Debug, Clone)]
pub enum WalletKeys {
    Hd {
        mnemonic: Mnemonic,
        passphrase: Passphrase,
        /// The seed and master fingerprint, derived once when decoded.
        hd: HdWallet,
    },
    Key(KeyWallet),
}

/// A decoded wallet. `Debug` shows no secret (wallet-core's types redact).
#[derive(Debug, Clone)]
pub struct Wallet {
    pub name: String,
    pub created_time: String,
    pub exportable: bool,
    pub deletion_allowed: bool,
    pub allow_raw_signing: bool,
    pub keys: WalletKeys,
}

/// Where the keys of a new wallet come from.
pub enum KeySource {
    /// Generate a mnemonic of this many words from OS randomness.
    Generate { words: u64, passphrase: Passphrase },
    /// Import a mnemonic (validated, checksum verified).
    Mnemonic {
        phrase: zeroize::Zeroizing<String>,
        passphrase: Passphrase,
    },
    /// Import one private key (hex) on a curve.
    Key {
        curve: Curve,
        hex: zeroize::Zeroizing<String>,
    },
}

/// The flags of a new wallet.
#[derive(Debug, Clone, Copy, Default)]
pub struct WalletFlags {
    pub exportable: bool,
    pub deletion_allowed: bool,
    pub allow_raw_signing: bool,
}

impl Wallet {
    /// Builds a new wallet. Errors are 400s naming the field; none quotes
    /// the secret input.
    pub fn create(
        name: &str,
        source: KeySource,
        flags: WalletFlags,
        created_time: String,
    ) -> Result<Self, LogicalError> {
        let keys = match source {
            KeySource::Generate { words, passphrase } => {
                let count = WordCount::try_from(words).map_err(|_| {
                    LogicalError::BadRequest(
                        "invalid value for field \"words\": must be one of 12, 15, 18, 21, 24"
                            .into(),
                    )
                })?;
                let mnemonic = Mnemonic::generate(count)
                    .map_err(|e| LogicalError::Internal(format!("mnemonic generation: {e}")))?;
                hd_keys(mnemonic, passphrase)?
            }
            KeySource::Mnemonic { phrase, passphrase } => {
                let mnemonic = Mnemonic::parse(&phrase).map_err(|e| {
                    LogicalError::BadRequest(format!("invalid value for field \"mnemonic\": {e}"))
                })?;
                hd_keys(mnemonic, passphrase)?
            }
            KeySource::Key { curve, hex } => {
                let key = KeyWallet::from_hex(curve, &hex).map_err(|e| {
                    LogicalError::BadRequest(format!(
                        "invalid value for field \"private_key\": {e}"
                    ))
                })?;
                WalletKeys::Key(key)
            }
        };
        Ok(Wallet {
            name: name.to_string(),
            created_time,
            exportable: flags.exportable,
            deletion_allowed: flags.deletion_allowed,
            allow_raw_signing: flags.allow_raw_signing,
            keys,
        })
    }

    /// `hd` or `key`.
    pub fn kind(&self) -> &'static str {
        match self.keys {
            WalletKeys::Hd { .. } => "hd",
            WalletKeys::Key(_) => "key",
        }
    }

    /// hd: the BIP32 master key fingerprint as 8 lowercase hex characters.
    pub fn fingerprint_hex(&self) -> Option<String> {
        match &self.keys {
            WalletKeys::Hd { hd, .. } => Some(hex::encode(hd.master_fingerprint())),
            WalletKeys::Key(_) => None,
        }
    }

    /// hd: the number of mnemonic words.
    pub fn words(&self) -> Option<usize> {
        match &self.keys {
            WalletKeys::Hd { mnemonic, .. } => Some(mnemonic.word_count()),
            WalletKeys::Key(_) => None,
        }
    }

    /// key: the curve.
    pub fn curve(&self) -> Option<Curve> {
        match &self.keys {
            WalletKeys::Hd { .. } => None,
            WalletKeys::Key(k) => Some(k.curve()),
        }
    }
}

fn hd_keys(mnemonic: Mnemonic, passphrase: Passphrase) -> Result<WalletKeys, LogicalError> {
    let hd = HdWallet::from_mnemonic(&mnemonic, &passphrase)
        .map_err(|e| LogicalError::Internal(format!("seed derivation: {e}")))?;
    Ok(WalletKeys::Hd {
        mnemonic,
        passphrase,
        hd,
    })
}

impl WalletCodec for Wallet {
    type Entry = WalletEntry;

    fn decode(entry: WalletEntry) -> Result<Self, LogicalError> {
        let corrupt =
            |what: &str| LogicalError::Internal(format!("stored wallet entry is corrupt: {what}"));
        let keys = match entry.kind.as_str() {
            "hd" => {
                let phrase = entry
                    .mnemonic
                    .as_deref()
                    .ok_or_else(|| corrupt("no mnemonic"))?;
                let mnemonic = Mnemonic::parse(phrase).map_err(|_| corrupt("bad mnemonic"))?;
                let passphrase = Passphrase::new(entry.passphrase.as_deref().unwrap_or(""));
                hd_keys(mnemonic, passphrase)?
            }
            "key" => {
                let curve: Curve = entry
                    .curve
                    .as_deref()
                    .ok_or_else(|| corrupt("no curve"))?
                    .parse()
                    .map_err(|_| corrupt("bad curve"))?;
                let hex = entry
                    .private_key
                    .as_deref()
                    .ok_or_else(|| corrupt("no key"))?;
                WalletKeys::Key(KeyWallet::from_hex(curve, hex).map_err(|_| corrupt("bad key"))?)
            }
            _ => return Err(corrupt("unknown type")),
        };
        Ok(Wallet {
            name: entry.name.clone(),
            created_time: entry.created_time.clone(),
            exportable: entry.exportable,
            deletion_allowed: entry.deletion_allowed,
            allow_raw_signing: entry.allow_raw_signing,
            keys,
        })
    }

    fn encode(&self) -> Result<WalletEntry, LogicalError> {
        let mut entry = WalletEntry {
            version: WalletEntry::VERSION,
            name: self.name.clone(),
            kind: self.kind().to_string(),
            created_time: self.created_time.clone(),
            exportable: self.exportable,
            deletion_allowed: self.deletion_allowed,
            allow_raw_signing: self.allow_raw_signing,
            mnemonic: None,
            passphrase: None,
            curve: None,
            private_key: None,
        };
        match &self.keys {
            WalletKeys::Hd {
                mnemonic,
                passphrase,
                ..
            } => {
                entry.mnemonic = Some(mnemonic.expose_phrase().to_string());
                entry.passphrase = Some(passphrase.expose_passphrase().to_string());
            }
            WalletKeys::Key(k) => {
                entry.curve = Some(k.curve().as_str().to_string());
                entry.private_key = Some(k.expose_hex().expose_str().to_string());
            }
        }
        Ok(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::derived::DerivedKey;
    use wallet_core::hd::DerivationPath;

    const PHRASE: &str =
        "legal winner thank year wave sausage worth useful legal winner thank yellow";

    /// Every rendering of a value that must not show key material.
    fn renderings(v: &impl std::fmt::Debug) -> String {
        format!("{v:?}\n{v:#?}")
    }

    #[test]
    fn debug_of_decoded_wallets_and_cached_keys_shows_no_key_material() {
        let mnemonic = Mnemonic::parse(PHRASE).expect("mnemonic");
        let passphrase = Passphrase::new("correct horse");
        let seed_hex = hex::encode(mnemonic.to_seed(&passphrase).expose_bytes());
        let hd = HdWallet::from_mnemonic(&mnemonic, &passphrase).expect("hd");
        let eth = hd
            .derive_secp256k1(&DerivationPath::ethereum(0, 0).expect("path"))
            .expect("key");
        let sol = hd
            .derive_ed25519(&DerivationPath::solana(0).expect("path"))
            .expect("key");
        let eth_hex = hex::encode(*eth.expose_bytes());
        let sol_hex = hex::encode(*sol.expose_bytes());
        let imported_hex = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
        let imported = KeyWallet::from_hex(Curve::Secp256k1, imported_hex).expect("key");
        let hd_wallet = Wallet {
            name: "w".into(),
            created_time: String::new(),
            exportable: false,
            deletion_allowed: false,
            allow_raw_signing: false,
            keys: WalletKeys::Hd {
                mnemonic,
                passphrase,
                hd,
            },
        };
        let key_wallet = Wallet {
            keys: WalletKeys::Key(imported),
            ..hd_wallet.clone()
        };
        let shown = [
            renderings(&hd_wallet),
            renderings(&key_wallet),
            renderings(&DerivedKey::secp256k1(eth)),
            renderings(&DerivedKey::ed25519(sol)),
        ]
        .join("\n");
        let mut needles = vec![
            seed_hex,
            eth_hex,
            sol_hex,
            imported_hex.to_string(),
            "correct horse".to_string(),
        ];
        needles.extend(PHRASE.split(' ').map(str::to_string));
        for needle in needles {
            assert!(!shown.contains(&needle), "Debug shows {needle:?}:\n{shown}");
            assert!(
                !shown.contains(&needle.to_uppercase()),
                "Debug shows {needle:?} (upper case)"
            );
        }
        // The positive control: the renderings are not empty shells.
        assert!(
            shown.contains("Wallet") && shown.contains("Secp256k1"),
            "{shown}"
        );
    }
}
