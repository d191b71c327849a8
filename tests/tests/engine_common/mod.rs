//! Shared fixtures for the `engine_*` black-box tests of the `crypto/` API
//! (docs/api.md) against a real dev server.
//!
//! [`Engine`] wraps a [`DevServer`] and records every response body (HTTP
//! and CLI) a test receives, plus the secrets the test knows about (the
//! mnemonics and private keys it imported, and keys derived from them by an
//! independent implementation). When the test ends without a panic, every
//! recorded body except `export`'s, and the server log, is scanned for every
//! secret in every usual encoding.
//!
//! Key derivation here uses rust-bitcoin's BIP32 and a SLIP-0010 written
//! from the spec, never the plugin's own code.

#![allow(dead_code)]

use std::str::FromStr;
use std::sync::Mutex;

use alloy_primitives::{Address, U256};
use base64::Engine as _;
use bitcoin::bip32::{DerivationPath, Xpriv};
use bitcoin::hashes::{Hash, HashEngine, Hmac, HmacEngine, sha512};
use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
use integration_tests::{DevServer, Reply};
use serde_json::Value;

/// The BIP39/BIP84/BIP86 test mnemonic ("abandon" x11 + "about").
pub const ABANDON: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

pub const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

struct Seen {
    what: String,
    text: String,
    exempt: bool,
}

/// A dev server with the plugin mounted at `crypto/`, recording every reply.
pub struct Engine {
    pub s: DevServer,
    seen: Mutex<Vec<Seen>>,
    secrets: Mutex<Vec<(String, String)>>,
}

impl Engine {
    pub fn start() -> Self {
        Self {
            s: DevServer::with_plugin(),
            seen: Mutex::new(Vec::new()),
            secrets: Mutex::new(Vec::new()),
        }
    }

    fn record(&self, what: String, text: String, exempt: bool) {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(Seen { what, text, exempt });
    }

    fn record_reply(&self, method: &str, path: &str, r: &Reply) {
        // Only a successful read of `export` may carry the secret.
        let exempt = method == "GET" && path.contains("/export/") && r.status == 200;
        self.record(format!("{method} {path}"), r.body.to_string(), exempt);
    }

    /// Registers a secret as text (searched verbatim).
    pub fn secret_text(&self, label: &str, s: &str) {
        if !s.is_empty() {
            self.secrets
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push((label.to_string(), s.to_string()));
        }
    }

    /// Registers secret bytes: searched as lower/upper hex (the `0x` form
    /// contains the bare one), base64 and base58.
    pub fn secret_bytes(&self, label: &str, b: &[u8]) {
        let h = hex::encode(b);
        self.secret_text(&format!("{label} (hex)"), &h);
        self.secret_text(&format!("{label} (HEX)"), &h.to_uppercase());
        self.secret_text(&format!("{label} (base64)"), &B64.encode(b));
        self.secret_text(&format!("{label} (base58)"), &bs58::encode(b).into_string());
    }

    /// Registers an hd wallet's secrets: mnemonic, passphrase, seed, the
    /// master key and the private keys of the default paths used in tests.
    pub fn secret_hd(&self, mnemonic: &str, passphrase: &str) {
        self.secret_text("mnemonic", mnemonic);
        // A passphrase made of ordinary words could occur by chance; tests
        // use distinctive ones.
        self.secret_text("passphrase", passphrase);
        let seed = seed(mnemonic, passphrase);
        self.secret_bytes("seed", &seed);
        let secp = Secp256k1::new();
        let master = Xpriv::new_master(bitcoin::NetworkKind::Main, &seed).expect("master");
        self.secret_text("master xprv", &master.to_string());
        self.secret_bytes("master key", &master.private_key.secret_bytes());
        self.secret_bytes("master chain code", master.chain_code.as_bytes());
        for p in [
            "m/44'/60'/0'",
            "m/84'/0'/0'",
            "m/86'/0'/0'",
            "m/49'/0'/0'",
            "m/44'/0'/0'",
            "m/84'/1'/0'",
        ] {
            let x = master
                .derive_priv(&secp, &DerivationPath::from_str(p).expect("path"))
                .expect("derive");
            self.secret_text(&format!("xprv {p}"), &x.to_string());
            let t = Xpriv {
                network: bitcoin::NetworkKind::Test,
                ..x
            };
            self.secret_text(&format!("tprv {p}"), &t.to_string());
            for leaf in ["0/0", "0/1", "0/2", "1/0", "0/7"] {
                let k = secp_key(&seed, &format!("{p}/{leaf}")).0;
                self.secret_bytes(&format!("key {p}/{leaf}"), &k.secret_bytes());
            }
        }
        for i in 0..3 {
            let k = slip10_ed25519(&seed, &format!("m/44'/501'/{i}'/0'"));
            self.secret_bytes(&format!("ed25519 seed m/44'/501'/{i}'/0'"), &k);
            let sk = ed25519_dalek::SigningKey::from_bytes(&k);
            self.secret_bytes("solana keypair", &sk.to_keypair_bytes());
        }
    }

    /// Registers a key wallet's private key (and for ed25519 the keypair).
    pub fn secret_key(&self, curve: &str, key: &[u8; 32]) {
        self.secret_bytes("private key", key);
        if curve == "ed25519" {
            let sk = ed25519_dalek::SigningKey::from_bytes(key);
            self.secret_bytes("solana keypair", &sk.to_keypair_bytes());
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        let r = self.s.get(path);
        self.record_reply("GET", path, &r);
        r
    }

    pub fn list(&self, path: &str) -> Reply {
        let r = self.s.list(path);
        self.record_reply("LIST", path, &r);
        r
    }

    pub fn write(&self, path: &str, body: Value) -> Reply {
        let r = self.s.write(path, body);
        self.record_reply("POST", path, &r);
        r
    }

    pub fn delete(&self, path: &str) -> Reply {
        let r = self.s.delete(path);
        self.record_reply("DELETE", path, &r);
        r
    }

    /// Runs the CLI; returns (success, stdout, stderr), all recorded.
    pub fn cli(&self, args: &[&str]) -> (bool, String, String) {
        let out = self.s.cli(args);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let exempt = out.status.success() && args.iter().any(|a| a.contains("crypto/export/"));
        self.record(
            format!("cli {args:?}"),
            format!("{stdout}\n{stderr}"),
            exempt,
        );
        (out.status.success(), stdout, stderr)
    }

    /// Runs the CLI with `-format=json` after the subcommand; panics unless
    /// it succeeds and prints JSON.
    #[track_caller]
    pub fn cli_json(&self, sub: &str, args: &[&str]) -> Value {
        let mut all = vec![sub, "-format=json"];
        all.extend_from_slice(args);
        let (ok, out, err) = self.cli(&all);
        assert!(ok, "bao {all:?} failed: {out}\n{err}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("bao {all:?}: not JSON ({e}): {out}"))
    }

    /// Creates (imports) an hd wallet from `mnemonic` with extra fields,
    /// registering its secrets first.
    #[track_caller]
    pub fn import_hd(&self, name: &str, mnemonic: &str, extra: Value) -> Reply {
        let passphrase = extra["passphrase"].as_str().unwrap_or("").to_string();
        self.secret_hd(mnemonic, &passphrase);
        let mut body = serde_json::json!({"mnemonic": mnemonic});
        if let Value::Object(m) = extra {
            for (k, v) in m {
                body[k] = v;
            }
        }
        let r = self.write(&format!("crypto/wallets/{name}"), body);
        r.expect_status(200);
        r
    }

    /// Imports the "abandon ... about" mnemonic as `name`.
    #[track_caller]
    pub fn abandon(&self, name: &str, extra: Value) -> Reply {
        self.import_hd(name, ABANDON, extra)
    }

    /// Imports one private key as a key wallet.
    #[track_caller]
    pub fn import_key(&self, name: &str, curve: &str, key: &[u8; 32], extra: Value) -> Reply {
        self.secret_key(curve, key);
        let mut body = serde_json::json!({"private_key": hex::encode(key), "curve": curve});
        if let Value::Object(m) = extra {
            for (k, v) in m {
                body[k] = v;
            }
        }
        let r = self.write(&format!("crypto/wallets/{name}"), body);
        r.expect_status(200);
        r
    }

    /// Records a body as if it were a response (for the scanner's own
    /// positive control).
    pub fn record_body(&self, what: &str, text: &str) {
        self.record(what.to_string(), text.to_string(), false);
    }

    /// Forgets every recorded body.
    pub fn forget_recorded(&self) {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    /// Number of recorded responses (for tests that want to prove the scan
    /// saw something).
    pub fn recorded(&self) -> usize {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// Asserts no recorded body (except a successful export) and no line of
    /// the server log contains a registered secret.
    pub fn assert_no_secret_leaked(&self) {
        let secrets = self
            .secrets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for s in seen.iter().filter(|s| !s.exempt) {
            for (label, secret) in &secrets {
                assert!(
                    !s.text.contains(secret.as_str()),
                    "the response to {} contains the {label}: {}",
                    s.what,
                    s.text
                );
            }
        }
        let log = self.s.log();
        for (label, secret) in &secrets {
            assert!(
                !log.contains(secret.as_str()),
                "the server log contains the {label}"
            );
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.assert_no_secret_leaked();
        }
    }
}

/// BIP39 seed, by the `bip39` crate.
pub fn seed(mnemonic: &str, passphrase: &str) -> [u8; 64] {
    bip39::Mnemonic::parse_in(bip39::Language::English, mnemonic)
        .expect("valid mnemonic")
        .to_seed(passphrase)
}

/// A secp256k1 key at `path`, by rust-bitcoin's BIP32.
pub fn secp_key(seed: &[u8], path: &str) -> (SecretKey, PublicKey) {
    let secp = Secp256k1::new();
    let master = Xpriv::new_master(bitcoin::NetworkKind::Main, seed).expect("master");
    let x = master
        .derive_priv(&secp, &DerivationPath::from_str(path).expect("path"))
        .expect("derive");
    (x.private_key, x.private_key.public_key(&secp))
}

/// The Ethereum address of a secp256k1 public key.
pub fn eth_address(pk: &PublicKey) -> Address {
    Address::from_raw_public_key(&pk.serialize_uncompressed()[1..])
}

/// SLIP-0010 ed25519 derivation (hardened levels only), from the spec.
pub fn slip10_ed25519(seed: &[u8], path: &str) -> [u8; 32] {
    let mut e = HmacEngine::<sha512::Hash>::new(b"ed25519 seed");
    e.input(seed);
    let i = Hmac::<sha512::Hash>::from_engine(e).to_byte_array();
    let (mut key, mut chain) = (i[..32].to_vec(), i[32..].to_vec());
    for level in path.trim_start_matches("m/").split('/') {
        let n: u32 = level.trim_end_matches('\'').parse().expect("level");
        assert!(level.ends_with('\''), "SLIP-0010 ed25519 is hardened only");
        let mut e = HmacEngine::<sha512::Hash>::new(&chain);
        e.input(&[0]);
        e.input(&key);
        e.input(&(n | 0x8000_0000).to_be_bytes());
        let i = Hmac::<sha512::Hash>::from_engine(e).to_byte_array();
        key = i[..32].to_vec();
        chain = i[32..].to_vec();
    }
    key.try_into().expect("32 bytes")
}

/// The Solana address (base58 public key) of an ed25519 seed.
pub fn solana_address(key: &[u8; 32]) -> String {
    let sk = ed25519_dalek::SigningKey::from_bytes(key);
    bs58::encode(sk.verifying_key().as_bytes()).into_string()
}

/// A string field of a JSON value; panics naming the field otherwise.
#[track_caller]
pub fn st<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("no string {field} in {v}"))
}

/// An integer that may come as a JSON number, a decimal string or `0x` hex.
#[track_caller]
pub fn num(v: &Value) -> U256 {
    match v {
        Value::Number(n) => U256::from_str(&n.to_string()).expect("number"),
        Value::String(s) if s.starts_with("0x") => {
            U256::from_str_radix(&s[2..], 16).expect("hex number")
        }
        Value::String(s) => U256::from_str(s).expect("decimal number"),
        other => panic!("not a number: {other}"),
    }
}

/// `0x` hex to bytes.
#[track_caller]
pub fn unhex(s: &str) -> Vec<u8> {
    let t = s
        .strip_prefix("0x")
        .unwrap_or_else(|| panic!("{s} lacks 0x"));
    assert_eq!(t, t.to_lowercase(), "hex must be lowercase: {s}");
    hex::decode(t).expect("hex")
}

/// Asserts a 400 whose message names `field`.
#[track_caller]
pub fn expect_400_naming(r: &Reply, field: &str) {
    r.expect_status(400);
    assert!(
        r.errors().contains(field),
        "the 400 does not name {field}: {}",
        r.body
    );
}

/// Asserts a 403 whose message names `rule`.
#[track_caller]
pub fn expect_403_naming(r: &Reply, rule: &str) {
    r.expect_status(403);
    assert!(
        r.errors().contains(rule),
        "the 403 does not name {rule}: {}",
        r.body
    );
}

// ---------------------------------------------------------------------------
// PSBTs, built and verified with rust-bitcoin (independent of the plugin).

use bitcoin::absolute::LockTime;
use bitcoin::bip32::Fingerprint;
use bitcoin::key::TapTweak;
use bitcoin::psbt::Psbt;
use bitcoin::sighash::{EcdsaSighashType, Prevouts, SighashCache, TapSighashType};
use bitcoin::transaction::Version;
use bitcoin::{
    Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness, XOnlyPublicKey,
};

/// The wallet's master fingerprint for [`ABANDON`].
pub fn abandon_fp() -> Fingerprint {
    Fingerprint::from_str("73c5da0a").expect("fp")
}

/// The script a key at `path` of `seed` locks to, for an input `kind`
/// (`p2wpkh`, `p2sh-p2wpkh`, `p2pkh`, `p2tr`), and its redeem script.
pub fn script_for(kind: &str, pk: &PublicKey) -> (ScriptBuf, Option<ScriptBuf>) {
    let cpk = bitcoin::CompressedPublicKey(*pk);
    let secp = Secp256k1::verification_only();
    match kind {
        "p2wpkh" => (ScriptBuf::new_p2wpkh(&cpk.wpubkey_hash()), None),
        "p2sh-p2wpkh" => {
            let redeem = ScriptBuf::new_p2wpkh(&cpk.wpubkey_hash());
            (ScriptBuf::new_p2sh(&redeem.script_hash()), Some(redeem))
        }
        "p2pkh" => (ScriptBuf::new_p2pkh(&cpk.pubkey_hash()), None),
        "p2tr" => (
            ScriptBuf::new_p2tr(&secp, pk.x_only_public_key().0, None),
            None,
        ),
        other => panic!("unknown input kind {other}"),
    }
}

/// Builds unsigned PSBTs (BIP-174 v0).
pub struct PsbtBuilder {
    tx: Transaction,
    inputs: Vec<bitcoin::psbt::Input>,
    outputs: Vec<bitcoin::psbt::Output>,
    /// The previous outputs, in input order.
    pub prevouts: Vec<TxOut>,
    /// Segwit v0 inputs carry only the witness UTXO (no previous
    /// transaction), so their amounts are not proven (CVE-2020-14199).
    witness_utxo_only: bool,
}

impl Default for PsbtBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl PsbtBuilder {
    pub fn new() -> Self {
        Self {
            tx: Transaction {
                version: Version::TWO,
                lock_time: LockTime::ZERO,
                input: vec![],
                output: vec![],
            },
            inputs: vec![],
            outputs: vec![],
            prevouts: vec![],
            witness_utxo_only: false,
        }
    }

    /// Inputs added after this call carry only the witness UTXO.
    pub fn witness_utxo_only(mut self) -> Self {
        self.witness_utxo_only = true;
        self
    }

    /// An input spending `sats` locked to the key at `path` of `seed`,
    /// with the key origin `fp`/`path` (BIP32 derivation or, for p2tr,
    /// tap_key_origins).
    pub fn input(
        mut self,
        kind: &str,
        seed: &[u8],
        fp: Fingerprint,
        path: &str,
        sats: u64,
    ) -> Self {
        let (_, pk) = secp_key(seed, path);
        let (spk, redeem) = script_for(kind, &pk);
        let prevout = TxOut {
            value: Amount::from_sat(sats),
            script_pubkey: spk,
        };
        // A distinct previous transaction per input.
        let prev_tx = Transaction {
            version: Version::TWO,
            lock_time: LockTime::from_consensus(self.inputs.len() as u32 + 1),
            input: vec![TxIn {
                previous_output: OutPoint::null(),
                script_sig: ScriptBuf::new(),
                sequence: Sequence::MAX,
                witness: Witness::new(),
            }],
            output: vec![prevout.clone()],
        };
        self.tx.input.push(TxIn {
            previous_output: OutPoint {
                txid: prev_tx.compute_txid(),
                vout: 0,
            },
            script_sig: ScriptBuf::new(),
            sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
            witness: Witness::new(),
        });
        let origin = (fp, DerivationPath::from_str(path).expect("path"));
        let mut input = bitcoin::psbt::Input::default();
        match kind {
            "p2tr" => {
                let x = XOnlyPublicKey::from(pk);
                input.witness_utxo = Some(prevout.clone());
                input.tap_internal_key = Some(x);
                input.tap_key_origins.insert(x, (vec![], origin));
            }
            "p2pkh" => {
                input.non_witness_utxo = Some(prev_tx);
                input.bip32_derivation.insert(pk, origin);
            }
            _ => {
                // As wallets do since CVE-2020-14199: the whole previous
                // transaction proves the amount.
                if !self.witness_utxo_only {
                    input.non_witness_utxo = Some(prev_tx);
                }
                input.witness_utxo = Some(prevout.clone());
                input.redeem_script = redeem;
                input.bip32_derivation.insert(pk, origin);
            }
        }
        self.inputs.push(input);
        self.prevouts.push(prevout);
        self
    }

    /// An output paying `sats` to `address` (any network).
    pub fn pay(mut self, address: &str, sats: u64) -> Self {
        let a = bitcoin::Address::from_str(address)
            .expect("address")
            .assume_checked();
        self.tx.output.push(TxOut {
            value: Amount::from_sat(sats),
            script_pubkey: a.script_pubkey(),
        });
        self.outputs.push(bitcoin::psbt::Output::default());
        self
    }

    /// A change output back to the wallet, with its key origin.
    pub fn change(
        mut self,
        kind: &str,
        seed: &[u8],
        fp: Fingerprint,
        path: &str,
        sats: u64,
    ) -> Self {
        let (_, pk) = secp_key(seed, path);
        let (spk, redeem) = script_for(kind, &pk);
        self.tx.output.push(TxOut {
            value: Amount::from_sat(sats),
            script_pubkey: spk,
        });
        let origin = (fp, DerivationPath::from_str(path).expect("path"));
        let mut out = bitcoin::psbt::Output::default();
        if kind == "p2tr" {
            let x = XOnlyPublicKey::from(pk);
            out.tap_internal_key = Some(x);
            out.tap_key_origins.insert(x, (vec![], origin));
        } else {
            out.redeem_script = redeem;
            out.bip32_derivation.insert(pk, origin);
        }
        self.outputs.push(out);
        self
    }

    pub fn build(self) -> Psbt {
        let mut psbt = Psbt::from_unsigned_tx(self.tx).expect("unsigned tx");
        psbt.inputs = self.inputs;
        psbt.outputs = self.outputs;
        psbt
    }

    pub fn base64(self) -> String {
        B64.encode(self.build().serialize())
    }
}

/// Verifies input `idx` of a finalized transaction: the signature in its
/// witness / script_sig verifies against the BIP-143 / BIP-341 / legacy
/// sighash for `pk`, with low S for ECDSA.
#[track_caller]
pub fn verify_input(tx: &Transaction, idx: usize, prevouts: &[TxOut], kind: &str, pk: &PublicKey) {
    let secp = Secp256k1::verification_only();
    let mut cache = SighashCache::new(tx);
    let input = &tx.input[idx];
    let check_ecdsa = |sig_bytes: &[u8], digest: [u8; 32]| {
        let sig = bitcoin::ecdsa::Signature::from_slice(sig_bytes).expect("DER signature");
        assert_eq!(sig.sighash_type, EcdsaSighashType::All, "input {idx}");
        let mut low = sig.signature;
        low.normalize_s();
        assert_eq!(low, sig.signature, "input {idx}: high S");
        secp.verify_ecdsa(
            &bitcoin::secp256k1::Message::from_digest(digest),
            &sig.signature,
            pk,
        )
        .unwrap_or_else(|e| panic!("input {idx}: the ECDSA signature does not verify: {e}"));
    };
    match kind {
        "p2wpkh" | "p2sh-p2wpkh" => {
            let w: Vec<&[u8]> = input.witness.iter().collect();
            assert_eq!(w.len(), 2, "input {idx}: witness {:?}", input.witness);
            assert_eq!(w[1], pk.serialize(), "input {idx}: witness pubkey");
            let (spk, redeem) = script_for(kind, pk);
            assert_eq!(prevouts[idx].script_pubkey, spk);
            let code = match &redeem {
                Some(r) => {
                    let push = bitcoin::script::Builder::new()
                        .push_slice(
                            <&bitcoin::script::PushBytes>::try_from(r.as_bytes()).expect("push"),
                        )
                        .into_script();
                    assert_eq!(input.script_sig, push, "input {idx}: script_sig");
                    r.clone()
                }
                None => {
                    assert!(input.script_sig.is_empty(), "input {idx}: script_sig");
                    spk
                }
            };
            let h = cache
                .p2wpkh_signature_hash(idx, &code, prevouts[idx].value, EcdsaSighashType::All)
                .expect("sighash");
            check_ecdsa(w[0], h.to_byte_array());
        }
        "p2pkh" => {
            assert!(input.witness.is_empty());
            let pushes: Vec<Vec<u8>> = input
                .script_sig
                .instructions()
                .map(|i| {
                    i.expect("instruction")
                        .push_bytes()
                        .expect("push")
                        .as_bytes()
                        .to_vec()
                })
                .collect();
            assert_eq!(pushes.len(), 2, "input {idx}: script_sig");
            assert_eq!(pushes[1], pk.serialize().to_vec());
            let h = cache
                .legacy_signature_hash(
                    idx,
                    &prevouts[idx].script_pubkey,
                    EcdsaSighashType::All.to_u32(),
                )
                .expect("sighash");
            check_ecdsa(&pushes[0], h.to_byte_array());
        }
        "p2tr" => {
            let w: Vec<&[u8]> = input.witness.iter().collect();
            assert_eq!(w.len(), 1, "input {idx}: key-path witness");
            let (sig, ty) = match w[0].len() {
                64 => (w[0], TapSighashType::Default),
                65 => (
                    &w[0][..64],
                    TapSighashType::from_consensus_u8(w[0][64]).expect("type"),
                ),
                n => panic!("input {idx}: taproot signature of {n} bytes"),
            };
            let h = cache
                .taproot_key_spend_signature_hash(idx, &Prevouts::All(prevouts), ty)
                .expect("sighash");
            let (tweaked, _) = XOnlyPublicKey::from(*pk).tap_tweak(&secp, None);
            let sig = bitcoin::secp256k1::schnorr::Signature::from_slice(sig).expect("schnorr");
            secp.verify_schnorr(
                &sig,
                &bitcoin::secp256k1::Message::from_digest(h.to_byte_array()),
                &tweaked.to_x_only_public_key(),
            )
            .unwrap_or_else(|e| panic!("input {idx}: the BIP-340 signature does not verify: {e}"));
        }
        other => panic!("unknown kind {other}"),
    }
}

/// A mainnet P2WPKH address of another seed (BIP39's "legal winner"
/// vector), `index` selecting the key: a recipient that is not this wallet.
pub fn foreign_address(index: u32) -> String {
    let s = seed(
        "legal winner thank year wave sausage worth useful legal winner thank yellow",
        "",
    );
    let (_, pk) = secp_key(&s, &format!("m/84'/0'/0'/0/{index}"));
    bitcoin::Address::p2wpkh(
        &bitcoin::CompressedPublicKey(pk),
        bitcoin::KnownHrp::Mainnet,
    )
    .to_string()
}
