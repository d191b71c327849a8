//! Networks, address types and their default BIP-44/49/84/86 derivation paths.

use core::fmt;
use core::str::FromStr;

use super::BitcoinError;

/// The hardened bit of a BIP-32 path element.
pub const HARDENED: u32 = 0x8000_0000;

/// A Bitcoin network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Network {
    /// Mainnet.
    #[default]
    Bitcoin,
    /// Testnet (3 or 4: the address encoding is the same).
    Testnet,
    /// Signet.
    Signet,
    /// Regtest.
    Regtest,
}

impl Network {
    /// The name used in the API (`bitcoin`, `testnet`, `signet`, `regtest`).
    pub fn as_str(self) -> &'static str {
        match self {
            Network::Bitcoin => "bitcoin",
            Network::Testnet => "testnet",
            Network::Signet => "signet",
            Network::Regtest => "regtest",
        }
    }

    /// Whether this is a test network (coin type 1, `tpub`).
    pub fn is_test(self) -> bool {
        !matches!(self, Network::Bitcoin)
    }

    /// BIP-44 coin type: 0 on mainnet, 1 on every test network.
    pub fn coin_type(self) -> u32 {
        if self.is_test() { 1 } else { 0 }
    }

    /// BIP-173 human-readable part of segwit addresses.
    pub fn bech32_hrp(self) -> &'static str {
        match self {
            Network::Bitcoin => "bc",
            Network::Testnet | Network::Signet => "tb",
            Network::Regtest => "bcrt",
        }
    }

    /// Base58Check version byte of P2PKH addresses.
    pub fn p2pkh_version(self) -> u8 {
        if self.is_test() { 0x6f } else { 0x00 }
    }

    /// Base58Check version byte of P2SH addresses.
    pub fn p2sh_version(self) -> u8 {
        if self.is_test() { 0xc4 } else { 0x05 }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Network {
    type Err = BitcoinError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "bitcoin" | "mainnet" => Ok(Network::Bitcoin),
            "testnet" => Ok(Network::Testnet),
            "signet" => Ok(Network::Signet),
            "regtest" => Ok(Network::Regtest),
            other => Err(BitcoinError::UnknownNetwork(truncate(other))),
        }
    }
}

/// The kind of single-key output script (and address) a key is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AddressType {
    /// Native segwit v0 (BIP-84, `bc1q…`).
    #[default]
    P2wpkh,
    /// Taproot key path with no script tree (BIP-86, `bc1p…`).
    P2tr,
    /// Segwit v0 nested in P2SH (BIP-49, `3…`).
    P2shP2wpkh,
    /// Legacy pay-to-pubkey-hash (BIP-44, `1…`).
    P2pkh,
}

impl AddressType {
    /// The name used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            AddressType::P2wpkh => "p2wpkh",
            AddressType::P2tr => "p2tr",
            AddressType::P2shP2wpkh => "p2sh-p2wpkh",
            AddressType::P2pkh => "p2pkh",
        }
    }

    /// The BIP-43 purpose of the default derivation path.
    pub fn purpose(self) -> u32 {
        match self {
            AddressType::P2wpkh => 84,
            AddressType::P2tr => 86,
            AddressType::P2shP2wpkh => 49,
            AddressType::P2pkh => 44,
        }
    }
}

impl fmt::Display for AddressType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AddressType {
    type Err = BitcoinError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "p2wpkh" => Ok(AddressType::P2wpkh),
            "p2tr" => Ok(AddressType::P2tr),
            "p2sh-p2wpkh" => Ok(AddressType::P2shP2wpkh),
            "p2pkh" => Ok(AddressType::P2pkh),
            other => Err(BitcoinError::UnknownAddressType(truncate(other))),
        }
    }
}

/// Echo at most 32 characters of a bad name back in an error.
fn truncate(s: &str) -> String {
    s.chars().take(32).collect()
}

/// The account-level path `m/{purpose}'/{coin}'/{account}'`.
pub fn account_path(
    address_type: AddressType,
    network: Network,
    account: u32,
) -> Result<[u32; 3], BitcoinError> {
    if account >= HARDENED {
        return Err(BitcoinError::InvalidPath("account must be below 2^31"));
    }
    Ok([
        address_type.purpose() | HARDENED,
        network.coin_type() | HARDENED,
        account | HARDENED,
    ])
}

/// The default path `m/{purpose}'/{coin}'/{account}'/{change}/{index}`.
pub fn default_path(
    address_type: AddressType,
    network: Network,
    account: u32,
    change: u32,
    index: u32,
) -> Result<[u32; 5], BitcoinError> {
    let [p, c, a] = account_path(address_type, network, account)?;
    if change > 1 {
        return Err(BitcoinError::InvalidPath("change must be 0 or 1"));
    }
    if index >= HARDENED {
        return Err(BitcoinError::InvalidPath("index must be below 2^31"));
    }
    Ok([p, c, a, change, index])
}

/// Render a path as `m/84'/0'/0'/0/7` (apostrophe for hardened, as in api.md).
pub fn format_path(path: &[u32]) -> String {
    let mut s = String::from("m");
    for &e in path {
        s.push('/');
        s.push_str(&(e & !HARDENED).to_string());
        if e & HARDENED != 0 {
            s.push('\'');
        }
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_round_trip() {
        for n in [
            Network::Bitcoin,
            Network::Testnet,
            Network::Signet,
            Network::Regtest,
        ] {
            assert_eq!(n.as_str().parse::<Network>(), Ok(n));
        }
        for t in [
            AddressType::P2wpkh,
            AddressType::P2tr,
            AddressType::P2shP2wpkh,
            AddressType::P2pkh,
        ] {
            assert_eq!(t.as_str().parse::<AddressType>(), Ok(t));
        }
        assert_eq!(AddressType::default(), AddressType::P2wpkh);
    }

    #[test]
    fn unknown_names_are_clear_errors() {
        let e = "litecoin".parse::<Network>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown network \"litecoin\": expected bitcoin, testnet, signet or regtest"
        );
        let e = "p2wsh".parse::<AddressType>().unwrap_err();
        assert!(e.to_string().starts_with("unknown address type \"p2wsh\""));
    }

    #[test]
    fn default_paths_follow_the_purposes_and_coin_types() {
        let p = default_path(AddressType::P2tr, Network::Signet, 2, 1, 7).unwrap();
        assert_eq!(format_path(&p), "m/86'/1'/2'/1/7");
        let p = default_path(AddressType::P2wpkh, Network::Bitcoin, 0, 0, 0).unwrap();
        assert_eq!(format_path(&p), "m/84'/0'/0'/0/0");
        let p = default_path(AddressType::P2shP2wpkh, Network::Regtest, 0, 0, 3).unwrap();
        assert_eq!(format_path(&p), "m/49'/1'/0'/0/3");
        let p = default_path(AddressType::P2pkh, Network::Testnet, 1, 0, 0).unwrap();
        assert_eq!(format_path(&p), "m/44'/1'/1'/0/0");
        assert!(default_path(AddressType::P2pkh, Network::Bitcoin, 0, 2, 0).is_err());
        assert!(default_path(AddressType::P2pkh, Network::Bitcoin, HARDENED, 0, 0).is_err());
        assert!(default_path(AddressType::P2pkh, Network::Bitcoin, 0, 0, HARDENED).is_err());
    }
}
