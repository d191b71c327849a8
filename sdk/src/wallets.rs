//! `wallets/`, `wallets/:name`, `export/:name`.

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::client::{Client, check_name};
use crate::error::Result;

/// Curve of a `key` wallet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Curve {
    /// secp256k1 (Ethereum, Bitcoin).
    Secp256k1,
    /// ed25519 (Solana).
    Ed25519,
}

/// Body of `wallets/:name` create. Everything optional; the default generates a 24-word
/// mnemonic with every dangerous flag off.
///
/// Secret fields are zeroized on drop and never shown by `Debug`.
#[derive(Clone, Default, Serialize, Zeroize, ZeroizeOnDrop)]
#[non_exhaustive]
pub struct CreateWallet {
    /// Import this BIP39 mnemonic instead of generating one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mnemonic: Option<String>,
    /// BIP39 passphrase (hd only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passphrase: Option<String>,
    /// Word count when generating: 12, 15, 18, 21 or 24.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub words: Option<u8>,
    /// Import one raw private key (hex) as a `key` wallet; requires `curve`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
    /// Curve of `private_key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[zeroize(skip)]
    pub curve: Option<Curve>,
    /// Whether `export` may ever return the secret; only settable at creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exportable: Option<bool>,
    /// Whether the wallet may be deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_allowed: Option<bool>,
    /// Whether `sign-hash` (raw digests, bypassing policy) is allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_raw_signing: Option<bool>,
}

impl fmt::Debug for CreateWallet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |o: &Option<String>| o.as_ref().map(|_| "<redacted>");
        f.debug_struct("CreateWallet")
            .field("mnemonic", &redact(&self.mnemonic))
            .field("passphrase", &redact(&self.passphrase))
            .field("words", &self.words)
            .field("private_key", &redact(&self.private_key))
            .field("curve", &self.curve)
            .field("exportable", &self.exportable)
            .field("deletion_allowed", &self.deletion_allowed)
            .field("allow_raw_signing", &self.allow_raw_signing)
            .finish()
    }
}

impl CreateWallet {
    /// Generate a new HD wallet with `words` words.
    pub fn generate(words: u8) -> Self {
        let mut c = Self::default();
        c.words = Some(words);
        c
    }

    /// Import a BIP39 mnemonic.
    pub fn from_mnemonic(mnemonic: impl Into<String>) -> Self {
        let mut c = Self::default();
        c.mnemonic = Some(mnemonic.into());
        c
    }

    /// Import one private key on `curve`.
    pub fn from_private_key(private_key: impl Into<String>, curve: Curve) -> Self {
        let mut c = Self::default();
        c.private_key = Some(private_key.into());
        c.curve = Some(curve);
        c
    }

    /// Set the BIP39 passphrase.
    pub fn with_passphrase(mut self, passphrase: impl Into<String>) -> Self {
        self.passphrase = Some(passphrase.into());
        self
    }

    /// Set `exportable`.
    pub fn exportable(mut self, yes: bool) -> Self {
        self.exportable = Some(yes);
        self
    }

    /// Set `deletion_allowed`.
    pub fn deletion_allowed(mut self, yes: bool) -> Self {
        self.deletion_allowed = Some(yes);
        self
    }

    /// Set `allow_raw_signing`.
    pub fn allow_raw_signing(mut self, yes: bool) -> Self {
        self.allow_raw_signing = Some(yes);
        self
    }
}

/// Body of an update to an existing wallet: only these two flags may change.
#[derive(Clone, Debug, Default, Serialize)]
#[non_exhaustive]
pub struct UpdateWallet {
    /// New `deletion_allowed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_allowed: Option<bool>,
    /// New `allow_raw_signing`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_raw_signing: Option<bool>,
}

impl UpdateWallet {
    /// Set `deletion_allowed`.
    pub fn deletion_allowed(mut self, yes: bool) -> Self {
        self.deletion_allowed = Some(yes);
        self
    }

    /// Set `allow_raw_signing`.
    pub fn allow_raw_signing(mut self, yes: bool) -> Self {
        self.allow_raw_signing = Some(yes);
        self
    }
}

/// Public facts of a wallet (read and create/update responses).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct WalletInfo {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// `hd` or `key`.
    #[serde(rename = "type", default)]
    pub wallet_type: String,
    /// Curve (key wallets).
    #[serde(default)]
    pub curve: Option<String>,
    /// BIP32 master key fingerprint, 8 hex chars (hd).
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// Mnemonic word count (hd).
    #[serde(default)]
    pub words: Option<u32>,
    /// Whether `export` works.
    #[serde(default)]
    pub exportable: bool,
    /// Whether delete works.
    #[serde(default)]
    pub deletion_allowed: bool,
    /// Whether `sign-hash` works.
    #[serde(default)]
    pub allow_raw_signing: bool,
    /// RFC 3339 creation time.
    #[serde(default)]
    pub created_time: Option<String>,
    /// Chains with a policy.
    #[serde(default)]
    pub policies: Vec<String>,
}

/// The secret of an exportable wallet. Zeroized on drop, redacted `Debug`, not `Serialize`.
#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
#[non_exhaustive]
pub struct WalletExport {
    /// BIP39 mnemonic (hd).
    #[serde(default)]
    pub mnemonic: Option<String>,
    /// BIP39 passphrase (hd).
    #[serde(default)]
    pub passphrase: Option<String>,
    /// Private key hex (key).
    #[serde(default)]
    pub private_key: Option<String>,
    /// Curve (key).
    #[serde(default)]
    pub curve: Option<String>,
}

impl WalletExport {
    /// The mnemonic, as a zeroizing copy.
    pub fn mnemonic(&self) -> Option<Zeroizing<String>> {
        self.mnemonic.clone().map(Zeroizing::new)
    }

    /// The private key, as a zeroizing copy.
    pub fn private_key(&self) -> Option<Zeroizing<String>> {
        self.private_key.clone().map(Zeroizing::new)
    }
}

impl fmt::Debug for WalletExport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WalletExport")
            .field("mnemonic", &self.mnemonic.as_ref().map(|_| "<redacted>"))
            .field(
                "passphrase",
                &self.passphrase.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "private_key",
                &self.private_key.as_ref().map(|_| "<redacted>"),
            )
            .field("curve", &self.curve)
            .finish()
    }
}

/// The `wallets/` API area. Obtained with [`Client::wallets`].
#[derive(Clone, Copy, Debug)]
pub struct Wallets<'a> {
    pub(crate) client: &'a Client,
}

impl Client {
    /// Wallet management: create, read, update, delete, list, export.
    pub fn wallets(&self) -> Wallets<'_> {
        Wallets { client: self }
    }
}

impl Wallets<'_> {
    /// Names of all wallets (empty when there are none).
    pub async fn list(&self) -> Result<Vec<String>> {
        self.client.engine_list("wallets/").await
    }

    /// Create a wallet.
    ///
    /// ```no_run
    /// # async fn demo(client: vault_crypto_sdk::Client) -> vault_crypto_sdk::Result<()> {
    /// use vault_crypto_sdk::wallets::CreateWallet;
    /// let w = client.wallets().create("treasury", &CreateWallet::generate(24)).await?;
    /// println!("{} fingerprint {:?}", w.name, w.fingerprint);
    /// # Ok(()) }
    /// ```
    ///
    /// Create means create: on an existing name this fails with a 400 for which
    /// [`Error::is_already_exists`](crate::Error::is_already_exists) is true, and nothing
    /// changes; `Ok` means this call created the wallet. (The request always carries a
    /// create-only field, `exportable`, so the server can never treat it as an update of
    /// an existing wallet's flags.)
    pub async fn create(&self, name: &str, req: &CreateWallet) -> Result<WalletInfo> {
        check_name("name", name)?;
        let mut req = req.clone();
        if req.exportable.is_none() {
            req.exportable = Some(false);
        }
        self.client
            .engine_write(&format!("wallets/{name}"), &req)
            .await
    }

    /// Change `deletion_allowed` / `allow_raw_signing` of an existing wallet.
    pub async fn update(&self, name: &str, req: &UpdateWallet) -> Result<WalletInfo> {
        check_name("name", name)?;
        self.client
            .engine_write(&format!("wallets/{name}"), req)
            .await
    }

    /// Public facts of a wallet; 404 ([`Error::is_not_found`](crate::Error::is_not_found))
    /// when unknown.
    pub async fn read(&self, name: &str) -> Result<WalletInfo> {
        check_name("name", name)?;
        self.client
            .engine_read(&format!("wallets/{name}"), &())
            .await
    }

    /// Delete a wallet (only when `deletion_allowed`).
    pub async fn delete(&self, name: &str) -> Result<()> {
        check_name("name", name)?;
        self.client.engine_delete(&format!("wallets/{name}")).await
    }

    /// The secret of an `exportable` wallet (403 otherwise).
    pub async fn export(&self, name: &str) -> Result<WalletExport> {
        check_name("name", name)?;
        self.client
            .engine_read(&format!("export/{name}"), &())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_request_debug_never_shows_secrets() {
        let r = CreateWallet::from_mnemonic("abandon abandon about").with_passphrase("pw");
        let d = format!("{r:?}");
        assert!(!d.contains("abandon"));
        assert!(!d.contains("pw\""));
        let v = serde_json::to_value(&r).expect("ser");
        assert_eq!(v["mnemonic"], "abandon abandon about");
        assert!(v.get("exportable").is_none());
    }

    #[test]
    fn export_debug_never_shows_secrets() {
        let e: WalletExport = serde_json::from_value(
            serde_json::json!({"private_key": "0xdeadbeef", "curve": "secp256k1"}),
        )
        .expect("de");
        assert!(!format!("{e:?}").contains("deadbeef"));
        assert_eq!(
            e.private_key().as_deref().map(String::as_str),
            Some("0xdeadbeef")
        );
    }
}
