//! Hardening scenarios against a real OpenBao dev server (no mock of the
//! host anywhere):
//!
//! 1. no secret reaches the server log (which carries the plugin's stderr),
//!    the file audit log or a response, with everything logged at trace;
//! 2. process hygiene: no plugin outlives a SIGKILLed server, and the plugin
//!    is not dumpable;
//! 3. a `kill -9` of the plugin under signing load fails only requests in
//!    flight, and every signature returned verifies;
//! 4. corrupt, old and newer storage entries written through `sys/raw`;
//! 5. resource bounds: oversized or too deeply nested input is a 4xx naming
//!    the field or the limit, never a 500, and the process keeps serving.
//!
//! Run with `--nocapture` to see the figures each scenario prints.

mod engine_common;

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use bitcoin::bip32::{DerivationPath, Xpriv};
use bitcoin::hashes::{Hash, HashEngine, Hmac, HmacEngine, sha512};
use bitcoin::secp256k1::Secp256k1;
use engine_common::{PsbtBuilder, foreign_address, secp_key, seed, slip10_ed25519, st};
use integration_tests::{DevServer, PLUGIN_NAME, Reply, ServerOptions, wait_until};
use serde_json::{Value, json};
use sha2::Digest;

// ---------------------------------------------------------------------------
// Secret scanning

/// Needles shorter than this are not searched (they would match by chance).
const MIN_NEEDLE: usize = 16;

/// Every form in which a secret could be written down: the text itself,
/// lower and upper hex, base58, and base64 (standard and URL-safe) at each of
/// the three byte alignments, so that a secret inside a larger base64 blob
/// (a storage entry, a protobuf) is found too.
#[derive(Default)]
struct Secrets {
    needles: Vec<(String, String)>,
    known: std::collections::HashSet<String>,
}

/// The base64 characters that depend only on `bytes` when they sit at
/// offset `k` (mod 3) in a longer buffer.
fn base64_aligned(engine: &impl base64::Engine, bytes: &[u8], k: usize) -> String {
    let mut buf = vec![0u8; k];
    buf.extend_from_slice(bytes);
    let enc = engine.encode(&buf);
    let start = (8 * k).div_ceil(6);
    let end = 8 * (k + bytes.len()) / 6;
    enc[start..end].to_string()
}

impl Secrets {
    fn add(&mut self, label: String, needle: String) {
        assert!(
            needle.len() >= MIN_NEEDLE,
            "needle for {label} is too short to search: {needle:?}"
        );
        // A key shared by several paths (a common prefix) is searched once.
        if self.known.insert(needle.clone()) {
            self.needles.push((label, needle));
        }
    }

    /// A secret as text (mnemonic, passphrase, xprv), and its UTF-8 bytes in
    /// every encoding.
    fn text(&mut self, label: &str, s: &str) {
        self.add(label.to_string(), s.to_string());
        self.encodings(label, s.as_bytes());
    }

    /// Secret bytes (seed, key), in every encoding.
    fn bytes(&mut self, label: &str, b: &[u8]) {
        self.encodings(label, b);
    }

    fn encodings(&mut self, label: &str, b: &[u8]) {
        let h = hex::encode(b);
        self.add(format!("{label} (hex)"), h.clone());
        self.add(format!("{label} (HEX)"), h.to_uppercase());
        self.add(format!("{label} (base58)"), bs58::encode(b).into_string());
        for k in 0..3 {
            self.add(
                format!("{label} (base64+{k})"),
                base64_aligned(&STANDARD_NO_PAD, b, k),
            );
            self.add(
                format!("{label} (base64url+{k})"),
                base64_aligned(&URL_SAFE_NO_PAD, b, k),
            );
        }
    }

    /// How often each needle occurs in `hay` (only the ones that do). An
    /// index on the first [`MIN_NEEDLE`] bytes keeps this fast for
    /// hundreds of needles over megabytes of logs in a debug build.
    fn hits(&self, hay: &str) -> BTreeMap<String, usize> {
        let mut index: HashMap<&[u8], Vec<usize>> = HashMap::new();
        let mut first2 = vec![false; 1 << 16];
        for (i, (_, n)) in self.needles.iter().enumerate() {
            let b = n.as_bytes();
            index.entry(&b[..MIN_NEEDLE]).or_default().push(i);
            first2[usize::from(b[0]) << 8 | usize::from(b[1])] = true;
        }
        let hay = hay.as_bytes();
        let mut out = BTreeMap::new();
        for pos in 0..hay.len().saturating_sub(MIN_NEEDLE - 1) {
            if !first2[usize::from(hay[pos]) << 8 | usize::from(hay[pos + 1])] {
                continue;
            }
            if let Some(cands) = index.get(&hay[pos..pos + MIN_NEEDLE]) {
                for &i in cands {
                    let (label, n) = &self.needles[i];
                    if hay[pos..].starts_with(n.as_bytes()) {
                        *out.entry(label.clone()).or_insert(0) += 1;
                    }
                }
            }
        }
        out
    }

    fn total(&self, hay: &str) -> usize {
        self.hits(hay).values().sum()
    }
}

fn sha256(s: &str) -> [u8; 32] {
    sha2::Sha256::digest(s.as_bytes()).into()
}

/// Registers an extended private key in its mainnet and testnet forms.
fn register_xprv(sec: &mut Secrets, label: &str, x: &Xpriv) {
    sec.text(&format!("{label} xprv"), &x.to_string());
    let t = Xpriv {
        network: bitcoin::NetworkKind::Test,
        ..*x
    };
    sec.text(&format!("{label} tprv"), &t.to_string());
}

/// The BIP32 path's private keys at every depth below the master, and the
/// extended private keys at account depth (3), as rust-bitcoin derives them.
fn register_bip32(sec: &mut Secrets, label: &str, seed: &[u8], path: &str) {
    let secp = Secp256k1::new();
    let master = Xpriv::new_master(bitcoin::NetworkKind::Main, seed).expect("master");
    let p = DerivationPath::from_str(path).expect("path");
    for depth in 1..=p.len() {
        let sub: DerivationPath = p[..depth].to_vec().into();
        let x = master.derive_priv(&secp, &sub).expect("derive");
        sec.bytes(&format!("{label} key {sub}"), &x.private_key.secret_bytes());
        if depth == 3 {
            register_xprv(sec, &format!("{label} {sub}"), &x);
        }
    }
}

/// SLIP-0010 ed25519 master key and chain code.
fn slip10_master(seed: &[u8]) -> [u8; 64] {
    let mut e = HmacEngine::<sha512::Hash>::new(b"ed25519 seed");
    e.input(seed);
    Hmac::<sha512::Hash>::from_engine(e).to_byte_array()
}

/// The SLIP-0010 keys at every depth of a solana path, and the 64-byte
/// keypair (seed || public key) of the leaf.
fn register_slip10(sec: &mut Secrets, label: &str, seed: &[u8], path: &str) {
    let levels: Vec<&str> = path.trim_start_matches("m/").split('/').collect();
    for depth in 1..=levels.len() {
        let sub = format!("m/{}", levels[..depth].join("/"));
        let k = slip10_ed25519(seed, &sub);
        sec.bytes(&format!("{label} ed25519 key {sub}"), &k);
        if depth == levels.len() {
            let sk = ed25519_dalek::SigningKey::from_bytes(&k);
            sec.bytes(
                &format!("{label} ed25519 keypair {sub}"),
                &sk.to_keypair_bytes(),
            );
        }
    }
}

/// Everything secret about an hd wallet whose keys at `bip32` and `slip10`
/// paths the scenario uses.
fn register_hd(
    sec: &mut Secrets,
    label: &str,
    mnemonic: &str,
    passphrase: &str,
    bip32: &[&str],
    slip10: &[&str],
) {
    sec.text(&format!("{label} mnemonic"), mnemonic);
    if !passphrase.is_empty() {
        sec.text(&format!("{label} passphrase"), passphrase);
    }
    let s = seed(mnemonic, passphrase);
    sec.bytes(&format!("{label} seed"), &s);
    let master = Xpriv::new_master(bitcoin::NetworkKind::Main, &s).expect("master");
    sec.bytes(
        &format!("{label} bip32 master key"),
        &master.private_key.secret_bytes(),
    );
    sec.bytes(
        &format!("{label} bip32 master chain code"),
        master.chain_code.as_bytes(),
    );
    register_xprv(sec, &format!("{label} master"), &master);
    let m = slip10_master(&s);
    sec.bytes(&format!("{label} slip10 master key"), &m[..32]);
    sec.bytes(&format!("{label} slip10 master chain code"), &m[32..]);
    for p in bip32 {
        register_bip32(sec, label, &s, p);
    }
    for p in slip10 {
        register_slip10(sec, label, &s, p);
    }
}

/// Records every reply of the scenario, to scan the bodies afterwards.
struct Recorder<'a> {
    s: &'a DevServer,
    seen: Mutex<Vec<(String, String, bool)>>,
}

impl<'a> Recorder<'a> {
    fn new(s: &'a DevServer) -> Self {
        Self {
            s,
            seen: Mutex::new(Vec::new()),
        }
    }

    fn record(&self, method: &str, path: &str, r: Reply) -> Reply {
        // Only a successful read of `export` may carry a secret.
        let exempt = method == "GET" && path.contains("/export/") && r.status == 200;
        self.seen.lock().expect("lock").push((
            format!("{method} {path}"),
            r.body.to_string(),
            exempt,
        ));
        r
    }

    fn get(&self, path: &str) -> Reply {
        self.record("GET", path, self.s.get(path))
    }

    fn list(&self, path: &str) -> Reply {
        self.record("LIST", path, self.s.list(path))
    }

    fn write(&self, path: &str, body: Value) -> Reply {
        self.record("POST", path, self.s.write(path, body))
    }

    fn delete(&self, path: &str) -> Reply {
        self.record("DELETE", path, self.s.delete(path))
    }

    /// Asserts a 4xx of `status` whose message names `word`.
    #[track_caller]
    fn refuse(&self, path: &str, body: Value, status: u16, word: &str) {
        let r = self.write(path, body);
        r.expect_status(status);
        assert!(
            r.errors().contains(word),
            "the {status} for {path} does not name {word}: {}",
            r.body
        );
    }
}

/// A legacy Solana message with one signer transferring lamports to
/// `recipient` (System Program transfer), from the wire format.
fn solana_transfer(signer: [u8; 32], recipient: [u8; 32]) -> Vec<u8> {
    let mut m = vec![1, 0, 1, 3];
    m.extend_from_slice(&signer);
    m.extend_from_slice(&recipient);
    m.extend_from_slice(&[0u8; 32]); // System Program
    m.extend_from_slice(&[0x42; 32]); // recent blockhash
    m.extend_from_slice(&[1, 2, 2, 0, 1, 12]); // one instruction: program 2, accounts 0 1, 12 bytes
    m.extend_from_slice(&[2, 0, 0, 0]);
    m.extend_from_slice(&5000u64.to_le_bytes());
    // A transaction: one empty signature slot, then the message.
    let mut t = vec![1];
    t.extend_from_slice(&[0u8; 64]);
    t.extend(m);
    t
}

fn b58_32(s: &str) -> [u8; 32] {
    bs58::decode(s)
        .into_vec()
        .expect("base58")
        .try_into()
        .expect("32 bytes")
}

/// The known hd wallet: BIP39's 24-word vector, with a distinctive passphrase.
const MNEMONIC: &str = "void come effort suffer camp survey warrior heavy shoot primary clutch crush \
                        open amazing screen patrol group space point ten exist slush involve unfold";
const PASSPHRASE: &str = "hardening passphrase Zq7#vL9!kP2";

/// The paths whose keys the scenario uses (every prefix is registered too).
const BIP32_PATHS: &[&str] = &[
    "m/44'/60'/0'/0/0",
    "m/44'/60'/0'/0/1",
    "m/44'/60'/0'/0/2",
    "m/44'/60'/0'/0/7",
    "m/44'/60'/1'/0/0",
    "m/84'/0'/0'/0/0",
    "m/84'/0'/0'/0/1",
    "m/84'/0'/0'/1/0",
    "m/84'/1'/0'/0/0",
    "m/84'/1'/0'/0/1",
    "m/86'/0'/0'/0/0",
    "m/86'/0'/0'/0/1",
    "m/86'/1'/0'/0/0",
    "m/86'/1'/0'/0/1",
    "m/49'/0'/0'/0/0",
    "m/49'/0'/0'/0/1",
    "m/44'/0'/0'/0/0",
    "m/44'/0'/0'/0/1",
];
const SLIP10_PATHS: &[&str] = &["m/44'/501'/0'/0'", "m/44'/501'/1'/0'", "m/44'/501'/2'/0'"];

/// A 32-byte value planted in paths (as a wallet name) so that the scan
/// must find it in each log: standard base64 with a `+` and no `/`, and
/// both base64 forms starting with a letter or digit (a valid name).
fn control_secret() -> [u8; 32] {
    (0..10_000)
        .map(|i| sha256(&format!("hardening planted control {i}")))
        .find(|c| {
            let std = STANDARD_NO_PAD.encode(c);
            let url = URL_SAFE_NO_PAD.encode(c);
            std.contains('+')
                && !std.contains('/')
                && std.as_bytes()[0].is_ascii_alphanumeric()
                && url.as_bytes()[0].is_ascii_alphanumeric()
        })
        .expect("a control value")
}

/// The lines of the server log that the plugin wrote to its stderr (hclog
/// JSON re-logged by the host under the plugin's logger name).
fn plugin_lines(log: &str) -> String {
    log.lines()
        .filter(|l| l.contains("vault-plugin-crypto.vault-plugin-crypto: "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path of api.md, with known secrets and with failures that carry a
/// secret in their input, on a server and a plugin both logging at trace
/// and a file audit device (declared in the server's config: OpenBao 2.x
/// refuses `sys/audit` over the API). Then the plugin's stderr lines, the
/// whole server log, the audit log and every response but a successful
/// export are scanned for every secret in every encoding.
///
/// The audit device keeps its default, HMAC'd values: every string of
/// request and response *data* is hashed, and what it records verbatim
/// (paths, error messages, warnings) is exactly where a secret echoed by the
/// plugin would show. `log_raw` would record the caller's own mnemonic in
/// the request data by the operator's choice, which says nothing about the
/// plugin, so it is not used; instead the test proves the device saw each
/// secret-bearing request by finding the HMAC `sys/audit-hash` computes.
#[test]
fn no_secret_reaches_the_logs_the_audit_log_or_a_response_even_at_trace_level() {
    let s = DevServer::start_with(&ServerOptions {
        audit_file: true,
        log_level: Some("trace".into()),
        ..ServerOptions::default()
    });
    s.register().expect_status(204);
    s.enable_with_options("crypto", json!({"log_level": "trace"}))
        .expect_status(204);
    let r = Recorder::new(&s);
    let mut sec = Secrets::default();

    // The scanner's own check: a mnemonic inside a base64 blob, at each
    // alignment, is found.
    {
        let mut probe = Secrets::default();
        probe.text("m", MNEMONIC);
        for pad in ["", "x", "xy"] {
            let blob = STANDARD.encode(format!("{pad}{{\"mnemonic\":\"{MNEMONIC}\"}}"));
            assert!(probe.total(&blob) > 0, "base64 at offset {}", pad.len());
        }
    }

    // --- Wallets with known secrets.
    register_hd(
        &mut sec,
        "hd",
        MNEMONIC,
        PASSPHRASE,
        BIP32_PATHS,
        SLIP10_PATHS,
    );
    let k1 = sha256("hardening secp256k1 key wallet");
    let k2 = sha256("hardening ed25519 key wallet");
    sec.bytes("secp256k1 key", &k1);
    sec.bytes("ed25519 key", &k2);
    sec.bytes(
        "ed25519 keypair",
        &ed25519_dalek::SigningKey::from_bytes(&k2).to_keypair_bytes(),
    );
    let created = r.write(
        "crypto/wallets/hd",
        json!({"mnemonic": MNEMONIC, "passphrase": PASSPHRASE}),
    );
    created.expect_status(200);
    r.write(
        "crypto/wallets/hd-export",
        json!({"mnemonic": MNEMONIC, "passphrase": PASSPHRASE,
               "exportable": true, "deletion_allowed": true}),
    )
    .expect_status(200);
    r.write(
        "crypto/wallets/k-secp",
        json!({"private_key": format!("0x{}", hex::encode(k1)), "curve": "secp256k1",
               "exportable": true, "deletion_allowed": true}),
    )
    .expect_status(200);
    r.write(
        "crypto/wallets/k-ed",
        json!({"private_key": hex::encode(k2), "curve": "ed25519",
               "exportable": true, "deletion_allowed": true}),
    )
    .expect_status(200);
    r.write(
        "crypto/wallets/generated",
        json!({"words": 12, "exportable": true, "deletion_allowed": true}),
    )
    .expect_status(200);

    // --- Failures with a secret in the input.
    let m3 = "legal winner thank year wave sausage worth useful legal winner thank yellow";
    let words: Vec<&str> = MNEMONIC.split(' ').collect();
    let bad_checksum = bip39::Language::English
        .word_list()
        .iter()
        .map(|w| format!("{} {w}", words[..23].join(" ")))
        .find(|p| {
            matches!(
                bip39::Mnemonic::parse_in(bip39::Language::English, p),
                Err(bip39::Error::InvalidChecksum)
            )
        })
        .expect("a last word with a wrong checksum");
    let unknown_word = m3.replace("sausage", "sausagex");
    let eleven = m3.rsplit_once(' ').expect("words").0.to_string();
    let p2 = "second passphrase Wm4$tR8&nQ1";
    let p3 = "third passphrase Hy6*uJ3^eD5";
    let p4 = "fourth passphrase Lk2@pO0%sA9 ";
    let k3 = sha256("hardening key sent to an existing wallet");
    let k4 = sha256("hardening malformed key");
    let k4_short = hex::encode(k4)[..63].to_string();
    let mut k4_nonhex = hex::encode(k4);
    k4_nonhex.replace_range(10..11, "g");
    let k4_long = format!("0x{}00", hex::encode(k4));
    // secp256k1's group order n: 32 bytes, out of range for a key.
    let order = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
    register_hd(&mut sec, "m3", m3, "", &[], &[]);
    sec.text("wrong-checksum mnemonic", &bad_checksum);
    sec.text("unknown-word mnemonic", &unknown_word);
    sec.text("11-word mnemonic", &eleven);
    for (l, p) in [("p2", p2), ("p3", p3), ("p4", p4)] {
        sec.text(l, p);
    }
    sec.bytes("k3", &k3);
    sec.bytes("k4", &k4);
    sec.text("k4 (63 digits)", &k4_short);
    sec.text("k4 (non-hex)", &k4_nonhex);
    sec.text("k4 (66 digits)", &k4_long);
    sec.text("group order as a key", order);

    let w = "crypto/wallets";
    r.refuse(
        &format!("{w}/f1"),
        json!({"mnemonic": bad_checksum}),
        400,
        "mnemonic",
    );
    r.refuse(
        &format!("{w}/f2"),
        json!({"mnemonic": unknown_word, "passphrase": p2}),
        400,
        "mnemonic",
    );
    r.refuse(
        &format!("{w}/f3"),
        json!({"mnemonic": eleven}),
        400,
        "mnemonic",
    );
    r.refuse(&format!("{w}/hd"), json!({"mnemonic": m3}), 400, "mnemonic");
    r.refuse(
        &format!("{w}/hd"),
        json!({"passphrase": p2}),
        400,
        "passphrase",
    );
    r.refuse(
        &format!("{w}/k-secp"),
        json!({"private_key": hex::encode(k3), "curve": "secp256k1"}),
        400,
        "private_key",
    );
    r.refuse(
        &format!("{w}/f4"),
        json!({"mnemonic": m3, "private_key": hex::encode(k3), "curve": "secp256k1"}),
        400,
        "private_key",
    );
    r.refuse(
        &format!("{w}/f5"),
        json!({"private_key": hex::encode(k3), "curve": "ed25519", "passphrase": p3}),
        400,
        "passphrase",
    );
    for bad in [&k4_short, &k4_nonhex, &k4_long] {
        r.refuse(
            &format!("{w}/f6"),
            json!({"private_key": bad, "curve": "secp256k1"}),
            400,
            "private_key",
        );
    }
    r.refuse(
        &format!("{w}/f6"),
        json!({"private_key": order, "curve": "secp256k1"}),
        400,
        "private_key",
    );
    r.refuse(
        &format!("{w}/f6"),
        json!({"private_key": hex::encode(k3)}),
        400,
        "curve",
    );
    r.refuse(
        &format!("{w}/f7"),
        json!({"mnemonic": m3, "passphrase": [p3]}),
        400,
        "passphrase",
    );
    r.refuse(
        &format!("{w}/f7"),
        json!({"mnemonic": {"phrase": m3}}),
        400,
        "mnemonic",
    );
    r.refuse(
        &format!("{w}/-bad"),
        json!({"mnemonic": m3, "passphrase": p3}),
        400,
        "name",
    );
    r.refuse(
        &format!("{w}/f8"),
        json!({"mnemonic": m3, "curve": "secp256k1"}),
        400,
        "curve",
    );
    r.refuse(
        &format!("{w}/f9"),
        json!({"mnemonic": m3, "passphrase": p4.repeat(40)}),
        400,
        "passphrase",
    );

    // --- Every other path of api.md, successes and refusals.
    r.list(&format!("{w}/")).expect_status(200);
    r.get(&format!("{w}/hd")).expect_status(200);
    r.write(&format!("{w}/hd"), json!({"allow_raw_signing": false}))
        .expect_status(200);
    let denied = r.get("crypto/export/hd");
    denied.expect_status(403);
    for chain in ["ethereum", "solana"] {
        r.get(&format!("{w}/hd/addresses/{chain}?count=3"))
            .expect_status(200);
        r.get(&format!("{w}/generated/addresses/{chain}"))
            .expect_status(200);
    }
    r.get(&format!("{w}/hd/addresses/ethereum?path=m/44'/60'/0'/0/7"))
        .expect_status(200);
    for (ty, net) in [
        ("p2wpkh", "bitcoin"),
        ("p2tr", "bitcoin"),
        ("p2sh-p2wpkh", "bitcoin"),
        ("p2pkh", "bitcoin"),
        ("p2wpkh", "testnet"),
        ("p2tr", "testnet"),
    ] {
        r.get(&format!(
            "{w}/hd/addresses/bitcoin?address_type={ty}&network={net}&count=2"
        ))
        .expect_status(200);
    }
    r.get(&format!("{w}/k-secp/addresses/ethereum"))
        .expect_status(200);
    r.get(&format!("{w}/k-secp/addresses/bitcoin"))
        .expect_status(200);
    r.get(&format!("{w}/k-ed/addresses/solana"))
        .expect_status(200);
    r.get(&format!("{w}/k-ed/addresses/ethereum"))
        .expect_status(400);
    r.get(&format!("{w}/k-secp/addresses/ethereum?index=1"))
        .expect_status(400);
    for q in [
        "chain=ethereum",
        "chain=ethereum&account=1",
        "chain=bitcoin",
        "chain=bitcoin&address_type=p2tr&network=testnet",
        "chain=bitcoin&address_type=p2sh-p2wpkh",
        "chain=bitcoin&address_type=p2pkh",
    ] {
        r.get(&format!("{w}/hd/xpub?{q}")).expect_status(200);
    }
    r.get(&format!("{w}/hd/xpub?chain=solana"))
        .expect_status(400);
    r.get(&format!("{w}/k-secp/xpub")).expect_status(400);

    // Policies.
    r.write(
        "crypto/policies/hd/ethereum",
        json!({"allowed_chain_ids": [1], "max_value_per_tx": "1000000", "max_value_per_day": "5000000",
               "allow_arbitrary_typed_data": true}),
    )
    .expect_status(200);
    r.write(
        "crypto/policies/hd/bitcoin",
        json!({"max_value_per_tx": 100000}),
    )
    .expect_status(200);
    r.get("crypto/policies/hd/ethereum").expect_status(200);
    r.get("crypto/policies/hd/solana").expect_status(404);

    // Ethereum.
    let to = alloy_primitives::Address::from([0x35; 20]).to_checksum(None);
    let tx = format!("{w}/hd/ethereum/sign-transaction");
    r.write(
        &tx,
        json!({"chain_id": 1, "nonce": 0, "gas_limit": 21000, "to": to, "value": "1000",
               "gas_price": "1000000000"}),
    )
    .expect_status(200);
    r.write(
        &tx,
        json!({"chain_id": 1, "nonce": 1, "gas_limit": 30000, "to": to, "value": "1000",
               "type": "eip2930", "gas_price": "1000000000",
               "access_list": [{"address": to, "storage_keys": [format!("0x{}", "00".repeat(32))]}]}),
    )
    .expect_status(200);
    r.write(
        &tx,
        json!({"chain_id": 1, "nonce": 2, "gas_limit": 21000, "to": to, "value": "1000",
               "max_fee_per_gas": "30000000000", "max_priority_fee_per_gas": "1000000000",
               "account": 1}),
    )
    .expect_status(200);
    r.refuse(
        &tx,
        json!({"chain_id": 1, "nonce": 3, "gas_limit": 21000, "to": to, "value": "2000000",
               "gas_price": "1"}),
        403,
        "max_value_per_tx",
    );
    r.refuse(
        &tx,
        json!({"chain_id": 5, "nonce": 3, "gas_limit": 21000, "to": to, "gas_price": "1"}),
        403,
        "allowed_chain_ids",
    );
    r.write(
        &format!("{w}/k-secp/ethereum/sign-transaction"),
        json!({"chain_id": 1, "nonce": 0, "gas_limit": 21000, "to": to, "gas_price": "1"}),
    )
    .expect_status(200);
    for (wallet, body) in [
        ("hd", json!({"message": "hello from the hardening test"})),
        ("hd", json!({"message_hex": "0xdeadbeef", "index": 2})),
        ("k-secp", json!({"message": "key wallet"})),
        ("generated", json!({"message": "generated wallet"})),
    ] {
        r.write(&format!("{w}/{wallet}/ethereum/sign-message"), body)
            .expect_status(200);
    }
    let typed = json!({
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}],
            "Note": [{"name": "text", "type": "string"}, {"name": "amount", "type": "uint256"}]
        },
        "primaryType": "Note",
        "domain": {"name": "hardening", "chainId": 1},
        "message": {"text": "typed", "amount": "7"}
    });
    r.write(
        &format!("{w}/hd/ethereum/sign-typed-data"),
        json!({"typed_data": typed}),
    )
    .expect_status(200);
    let mut typed5 = typed.clone();
    typed5["domain"]["chainId"] = json!(5);
    r.refuse(
        &format!("{w}/hd/ethereum/sign-typed-data"),
        json!({"typed_data": typed5}),
        403,
        "allowed_chain_ids",
    );

    // Bitcoin: one input of each kind this wallet can sign, and change.
    let hd_seed = seed(MNEMONIC, PASSPHRASE);
    let fp = Xpriv::new_master(bitcoin::NetworkKind::Main, &hd_seed)
        .expect("master")
        .fingerprint(&Secp256k1::new());
    let psbt = PsbtBuilder::new()
        .input("p2wpkh", &hd_seed, fp, "m/84'/0'/0'/0/0", 30_000)
        .input("p2tr", &hd_seed, fp, "m/86'/0'/0'/0/0", 30_000)
        .input("p2sh-p2wpkh", &hd_seed, fp, "m/49'/0'/0'/0/0", 30_000)
        .input("p2pkh", &hd_seed, fp, "m/44'/0'/0'/0/0", 30_000)
        .pay(&foreign_address(0), 50_000)
        .change("p2wpkh", &hd_seed, fp, "m/84'/0'/0'/1/0", 60_000)
        .base64();
    let signed = r.write(
        &format!("{w}/hd/bitcoin/sign-psbt"),
        json!({"psbt": psbt, "finalize": true}),
    );
    signed.expect_status(200);
    assert_eq!(signed.data()["signed_inputs"], json!([0, 1, 2, 3]));
    let big = PsbtBuilder::new()
        .input("p2wpkh", &hd_seed, fp, "m/84'/0'/0'/0/1", 300_000)
        .pay(&foreign_address(1), 200_000)
        .base64();
    r.refuse(
        &format!("{w}/hd/bitcoin/sign-psbt"),
        json!({"psbt": big}),
        403,
        "max_value_per_tx",
    );

    // Solana.
    let sol0 = r.get(&format!("{w}/hd/addresses/solana"));
    let sol0 = st(sol0.data(), "address").to_string();
    let ked = r.get(&format!("{w}/k-ed/addresses/solana"));
    let ked = st(ked.data(), "address").to_string();
    for (wallet, addr, extra) in [
        ("hd", &sol0, json!({})),
        ("k-ed", &ked, json!({})),
        ("generated", &String::new(), json!({})),
    ] {
        let mut body = json!({"message": STANDARD.encode(b"solana message")});
        if let Value::Object(m) = extra {
            for (k, v) in m {
                body[k] = v;
            }
        }
        r.write(&format!("{w}/{wallet}/solana/sign-message"), body)
            .expect_status(200);
        if !addr.is_empty() {
            let t = solana_transfer(b58_32(addr), [7; 32]);
            r.write(
                &format!("{w}/{wallet}/solana/sign-transaction"),
                json!({"transaction": STANDARD.encode(t)}),
            )
            .expect_status(200);
        }
    }
    r.write(
        &format!("{w}/hd/solana/sign-message"),
        json!({"message": STANDARD.encode(b"index 1"), "index": 1}),
    )
    .expect_status(200);
    let t = solana_transfer([9; 32], [7; 32]);
    r.refuse(
        &format!("{w}/hd/solana/sign-transaction"),
        json!({"transaction": STANDARD.encode(t)}),
        400,
        "transaction",
    );

    // sign-hash: refused, then allowed.
    let digest = format!("0x{}", hex::encode(sha256("digest")));
    r.refuse(
        "crypto/sign-hash/hd",
        json!({"chain": "ethereum", "hash": digest}),
        403,
        "allow_raw_signing",
    );
    r.write(&format!("{w}/hd"), json!({"allow_raw_signing": true}))
        .expect_status(200);
    for (chain, extra) in [
        ("ethereum", json!({})),
        ("bitcoin", json!({"address_type": "p2tr"})),
        ("solana", json!({"index": 2})),
    ] {
        let mut body = json!({"chain": chain, "hash": digest});
        if let Value::Object(m) = extra {
            for (k, v) in m {
                body[k] = v;
            }
        }
        // hd has ethereum and bitcoin policies: a raw digest is refused for
        // a wallet with a policy on any chain, whatever allow_raw_signing says.
        let reply = r.write("crypto/sign-hash/hd", body);
        reply.expect_status(403);
        assert!(
            reply.errors().contains("raw_signing"),
            "{chain}: {}",
            reply.body
        );
    }
    r.write(
        "crypto/sign-hash/k-ed",
        json!({"chain": "solana", "hash": digest}),
    )
    .expect_status(403);

    // Exports (the only place a secret may be returned), then deletes.
    let exported = r.get("crypto/export/hd-export");
    exported.expect_status(200);
    assert_eq!(exported.data()["mnemonic"], MNEMONIC);
    assert_eq!(exported.data()["passphrase"], PASSPHRASE);
    r.get("crypto/export/k-secp").expect_status(200);
    r.get("crypto/export/k-ed").expect_status(200);
    let gen_export = r.get("crypto/export/generated");
    gen_export.expect_status(200);
    let gen_mnemonic = st(gen_export.data(), "mnemonic").to_string();
    register_hd(
        &mut sec,
        "generated",
        &gen_mnemonic,
        "",
        &["m/44'/60'/0'/0/0"],
        &["m/44'/501'/0'/0'"],
    );
    r.delete("crypto/policies/hd/bitcoin").expect_status(204);
    r.delete(&format!("{w}/hd")).expect_status(400);
    for name in ["hd-export", "k-secp", "k-ed", "generated"] {
        r.delete(&format!("{w}/{name}")).expect_status(204);
    }
    r.get(&format!("{w}/k-secp")).expect_status(404);
    r.list(&format!("{w}/")).expect_status(200);

    // --- Positive controls.
    // (1) A planted value, sent as a wallet name in each encoding: the
    // host's trace log, the plugin's debug line and the audit log record
    // request paths verbatim, so the scan must find it in each.
    let control = control_secret();
    let mut ctl = Secrets::default();
    ctl.bytes("control", &control);
    let planted = [
        hex::encode(control),
        hex::encode_upper(control),
        bs58::encode(control).into_string(),
        URL_SAFE_NO_PAD.encode(control),
        STANDARD_NO_PAD.encode(control),
    ];
    for p in &planted {
        let reply = s.get(&format!("{w}/{p}"));
        assert!(matches!(reply.status, 400 | 404), "{}", reply.body);
    }
    // The plugin's stderr reaches the server log asynchronously.
    let last = planted.last().expect("planted").clone();
    let flushed = wait_until(Duration::from_secs(10), || {
        plugin_lines(&s.log()).contains(&last).then_some(())
    });
    assert!(
        flushed.is_some(),
        "the plugin's debug line for the planted path never reached the server log"
    );
    // (2) The audit device saw every secret-bearing request and HMAC'd it:
    // the HMAC the device computes for the mnemonic (and the others) is in
    // the log (read before asking, so the asking cannot have put it there).
    let audit_before = s.audit_log();
    for (label, input) in [
        ("mnemonic", MNEMONIC),
        ("passphrase", PASSPHRASE),
        ("wrong-checksum mnemonic", bad_checksum.as_str()),
        ("k4 (non-hex)", k4_nonhex.as_str()),
    ] {
        let h = s.write("sys/audit-hash/file", json!({"input": input}));
        h.expect_status(200);
        let hash = st(h.data(), "hash").to_string();
        assert!(
            audit_before.contains(&hash),
            "the audit log has no HMAC of the {label}: the request was not audited"
        );
    }

    // --- The scan.
    let log = s.log();
    let plugin = plugin_lines(&log);
    let audit = s.audit_log();
    // Error messages are recorded verbatim (only data values are HMAC'd),
    // which is where a secret echoed by the plugin would show.
    assert!(
        audit.contains("mnemonic checksum is invalid"),
        "the audit log lacks the refusals' error text"
    );
    let seen = r.seen.lock().expect("lock").clone();
    let responses: String = seen
        .iter()
        .filter(|(_, _, exempt)| !exempt)
        .map(|(what, body, _)| format!("{what}\n{body}\n"))
        .collect();
    let exports: String = seen
        .iter()
        .filter(|(_, _, exempt)| *exempt)
        .map(|(_, body, _)| body.as_str())
        .collect();
    eprintln!(
        "secret scan: {} needles over {} requests",
        sec.needles.len(),
        seen.len()
    );
    let mut leaks = Vec::new();
    for (name, hay) in [
        ("plugin stderr lines", &plugin),
        ("server log", &log),
        ("audit log", &audit),
        ("responses (except exports)", &responses),
    ] {
        let hits = sec.hits(hay);
        let ctl_hits = ctl.hits(hay);
        eprintln!(
            "  {name}: {} bytes, {} lines; secret hits {}; planted-control hits {} ({:?})",
            hay.len(),
            hay.lines().count(),
            hits.values().sum::<usize>(),
            ctl_hits.values().sum::<usize>(),
            ctl_hits.keys().collect::<Vec<_>>()
        );
        for (label, n) in hits {
            leaks.push(format!("{name}: {label} x{n}"));
        }
        if name != "responses (except exports)" {
            for enc in ["hex", "HEX", "base58", "base64url+0", "base64+0"] {
                let label = format!("control ({enc})");
                assert!(
                    ctl_hits.contains_key(&label),
                    "the scan did not find the planted {label} in the {name}: it could not fail"
                );
            }
        }
    }
    let export_hits = sec.total(&exports);
    eprintln!("  successful exports (exempt): secret hits {export_hits}");
    assert!(
        export_hits > 0,
        "the scan did not find the exported secrets in the export responses"
    );
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
}

// ---------------------------------------------------------------------------
// 2. Process hygiene

#[test]
fn after_kill_9_of_the_server_no_plugin_process_remains_within_10_seconds() {
    let mut s = DevServer::with_plugin();
    s.write("crypto/wallets/w", json!({})).expect_status(200);
    let pid = s.plugin_pid();
    let t = Instant::now();
    // SIGKILL: the server cannot run its shutdown (Cleanup, Shutdown); only
    // the plugin's own parent-death handling can end it.
    s.kill();
    let gone = wait_until(Duration::from_secs(10), || {
        s.plugin_pids().is_empty().then(|| t.elapsed())
    });
    eprintln!("server SIGKILL: plugin {pid} gone after {gone:?}");
    assert!(
        gone.is_some(),
        "plugin processes outlived the SIGKILLed server by 10 s: {:?}",
        s.plugin_pids()
    );
}

/// The user `nobody`, whom a test running as root starts the server as:
/// root may read any process, so as root the check would mean nothing.
const NOBODY: u32 = 65534;

fn proc_uid(pid: i32) -> u32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|u| u.parse().ok())
        .expect("Uid line")
}

fn proc_file_owner(pid: i32, file: &str) -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/proc/{pid}/{file}"))
        .expect("proc file")
        .uid()
}

/// Reads a file as `user` without capabilities (switching to it when the
/// test runs as root): whether it succeeded, and what `cat` said.
fn read_as(user: u32, path: &str) -> (bool, String) {
    use std::os::unix::process::CommandExt;
    let mut cat = std::process::Command::new("cat");
    cat.arg(path).stdin(std::process::Stdio::null());
    if proc_uid(std::process::id() as i32) == 0 {
        cat.uid(user).gid(user);
    }
    let out = cat.output().expect("run cat");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    )
}

/// PR_SET_DUMPABLE=0 has two observables for a process of an ordinary
/// user: the kernel makes its /proc/<pid> files belong to root, and another
/// process of the *same* user can no longer read its memory or environment
/// (ptrace access mode checks). The server, run as the same user and
/// dumpable, is the control.
#[test]
fn the_plugin_is_not_dumpable_so_its_own_user_cannot_read_its_environment_or_memory() {
    let me = proc_uid(std::process::id() as i32);
    let user = if me == 0 { NOBODY } else { me };
    let s = DevServer::start_with(&ServerOptions {
        run_as: (me == 0).then_some((NOBODY, NOBODY)),
        ..ServerOptions::default()
    });
    s.register().expect_status(204);
    s.enable("crypto").expect_status(204);
    s.write("crypto/wallets/w", json!({})).expect_status(200);
    let plugin = s.plugin_pid();
    let server = i32::try_from(s.pid()).expect("pid");
    assert_eq!(proc_uid(server), user, "the server does not run as {user}");
    assert_eq!(proc_uid(plugin), user, "the plugin does not run as {user}");

    // Control: the dumpable server's files are its user's, and readable.
    assert_eq!(proc_file_owner(server, "environ"), user);
    let (ok, err) = read_as(user, &format!("/proc/{server}/environ"));
    assert!(
        ok,
        "control failed: user {user} cannot read the server's environ: {err}"
    );

    for file in ["environ", "mem", "maps", "auxv"] {
        assert_eq!(
            proc_file_owner(plugin, file),
            0,
            "/proc/{plugin}/{file} belongs to the plugin's user: the process is dumpable"
        );
    }
    for file in ["environ", "mem"] {
        let (ok, err) = read_as(user, &format!("/proc/{plugin}/{file}"));
        assert!(
            !ok && err.contains("Permission denied"),
            "user {user} could read the plugin's {file}: {err}"
        );
    }
    eprintln!(
        "dumpable check (uid {user}): server {server}'s /proc files owned by {user} and \
         readable; plugin {plugin}'s owned by 0, environ and mem refused"
    );
}

// ---------------------------------------------------------------------------
// 3. A plugin crash under load

/// One signing request of the load.
struct Sent {
    thread: usize,
    seq: usize,
    wallet: usize,
    chain: &'static str,
    message: String,
    start: Duration,
    end: Duration,
    /// 0 for a transport error.
    status: u16,
    body: Value,
}

struct LoadWallet {
    name: String,
    fingerprint: String,
    eth: alloy_primitives::Address,
    sol: String,
}

fn load_wallet_facts(s: &DevServer, name: &str) -> LoadWallet {
    let w = s.get(&format!("crypto/wallets/{name}"));
    w.expect_status(200);
    let eth = s.get(&format!("crypto/wallets/{name}/addresses/ethereum"));
    eth.expect_status(200);
    let sol = s.get(&format!("crypto/wallets/{name}/addresses/solana"));
    sol.expect_status(200);
    LoadWallet {
        name: name.to_string(),
        fingerprint: st(w.data(), "fingerprint").to_string(),
        eth: st(eth.data(), "address").parse().expect("address"),
        sol: st(sol.data(), "address").to_string(),
    }
}

/// Whether a successful reply carries a valid signature of the request's
/// message by the wallet's key (recovered / verified independently).
fn signature_verifies(sent: &Sent, w: &LoadWallet) -> Result<(), String> {
    let data = &sent.body["data"];
    match sent.chain {
        "ethereum" => {
            let hex_sig = data["signature"].as_str().ok_or("no signature")?;
            let bytes = hex::decode(hex_sig.trim_start_matches("0x")).map_err(|e| e.to_string())?;
            let sig = alloy_primitives::Signature::from_raw(&bytes).map_err(|e| e.to_string())?;
            let from = sig
                .recover_address_from_msg(sent.message.as_bytes())
                .map_err(|e| e.to_string())?;
            if from != w.eth || data["address"] != json!(w.eth.to_checksum(None)) {
                return Err(format!("recovered {from}, wallet {}", w.eth));
            }
        }
        _ => {
            let sig: [u8; 64] = bs58::decode(data["signature"].as_str().ok_or("no signature")?)
                .into_vec()
                .map_err(|e| e.to_string())?
                .try_into()
                .map_err(|_| "not 64 bytes".to_string())?;
            let key = ed25519_dalek::VerifyingKey::from_bytes(&b58_32(&w.sol))
                .map_err(|e| e.to_string())?;
            key.verify_strict(
                sent.message.as_bytes(),
                &ed25519_dalek::Signature::from_bytes(&sig),
            )
            .map_err(|e| e.to_string())?;
            if data["public_key"] != json!(w.sol) {
                return Err(format!("signed by {}", data["public_key"]));
            }
        }
    }
    Ok(())
}

fn ms(d: Duration, origin: Duration) -> i128 {
    d.as_millis() as i128 - origin.as_millis() as i128
}

#[test]
fn kill_9_of_the_plugin_under_load_fails_only_in_the_crash_window_and_signatures_verify() {
    const THREADS: usize = 8;
    let s = DevServer::with_plugin();
    let wallets: Vec<LoadWallet> = (0..3)
        .map(|i| {
            let name = format!("load-{i}");
            s.write(&format!("crypto/wallets/{name}"), json!({}))
                .expect_status(200);
            load_wallet_facts(&s, &name)
        })
        .collect();
    let pid = s.plugin_pid();
    let stop = AtomicBool::new(false);
    let sent: Mutex<Vec<Sent>> = Mutex::new(Vec::new());
    let t0 = Instant::now();
    let (kill_at, reaped_at, restarted) = std::thread::scope(|sc| {
        for thread in 0..THREADS {
            let (s, stop, sent, wallets) = (&s, &stop, &sent, &wallets);
            sc.spawn(move || {
                let chain = if thread % 2 == 0 {
                    "ethereum"
                } else {
                    "solana"
                };
                let mut seq = 0;
                while !stop.load(Ordering::Relaxed) {
                    let wallet = (thread + seq) % wallets.len();
                    let message = format!("load thread {thread} request {seq}");
                    let body = if chain == "ethereum" {
                        json!({"message": message})
                    } else {
                        json!({"message": STANDARD.encode(&message)})
                    };
                    let path = format!(
                        "crypto/wallets/{}/{chain}/sign-message",
                        wallets[wallet].name
                    );
                    let start = t0.elapsed();
                    let (status, body) = match s.try_request("POST", &path, Some(body)) {
                        Ok(r) => (r.status, r.body),
                        Err(e) => (0, json!({ "errors": [e] })),
                    };
                    let end = t0.elapsed();
                    sent.lock().expect("lock").push(Sent {
                        thread,
                        seq,
                        wallet,
                        chain,
                        message,
                        start,
                        end,
                        status,
                        body,
                    });
                    seq += 1;
                }
            });
        }
        std::thread::sleep(Duration::from_millis(1500));
        let kill_at = t0.elapsed();
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        )
        .expect("kill the plugin");
        // The host reaps its child when it notices the exit (go-plugin then
        // logs "plugin process exited" and cancels the client's context):
        // polled every millisecond, for 10 s at most.
        let proc_dir = format!("/proc/{pid}");
        let reaped_at = (0..10_000).find_map(|_| {
            if std::path::Path::new(&proc_dir).exists() {
                std::thread::sleep(Duration::from_millis(1));
                None
            } else {
                Some(t0.elapsed())
            }
        });
        let restarted = wait_until(Duration::from_secs(15), || {
            s.plugin_pids()
                .into_iter()
                .find(|p| *p != pid)
                .map(|p| (p, t0.elapsed()))
        });
        // Keep the load on after the restart.
        std::thread::sleep(Duration::from_millis(2000));
        stop.store(true, Ordering::Relaxed);
        (kill_at, reaped_at, restarted)
    });
    let sent = sent.into_inner().expect("lock");
    let reaped_at = reaped_at.expect("the host did not reap the killed plugin within 10 s");
    let (new_pid, restarted_at) =
        restarted.expect("the host did not restart the plugin within 15 s");
    let ok: Vec<&Sent> = sent.iter().filter(|x| x.status == 200).collect();
    let failed: Vec<&Sent> = sent.iter().filter(|x| x.status != 200).collect();
    eprintln!(
        "crash under load: {THREADS} threads, {} sent, {} succeeded, {} failed; plugin {pid} \
         killed at {} ms, reaped +{} ms, new plugin {new_pid} seen +{} ms; run {} ms",
        sent.len(),
        ok.len(),
        failed.len(),
        kill_at.as_millis(),
        ms(reaped_at, kill_at),
        ms(restarted_at, kill_at),
        t0.elapsed().as_millis()
    );
    // What failed, by kind: the host's error for a request in flight when
    // the process died, or for one it tried to send to the dead socket.
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for f in &failed {
        let text = f.body["errors"].to_string();
        let kind = [
            "error reading from server",
            "authentication handshake failed",
            "connection refused",
            "internal error",
        ]
        .into_iter()
        .find(|k| text.contains(k))
        .unwrap_or(&text);
        *kinds.entry(format!("{} {kind}", f.status)).or_insert(0) += 1;
    }
    let in_flight = failed.iter().filter(|f| f.start < kill_at).count();
    let last_sent = failed.iter().map(|f| f.start).max().unwrap_or(kill_at);
    let last_answered = failed.iter().map(|f| f.end).max().unwrap_or(kill_at);
    eprintln!(
        "  failures: {in_flight} in flight at the kill, {} sent after it; the last sent {:+} ms \
         and answered {:+} ms after the kill; by kind: {kinds:?}",
        failed.len() - in_flight,
        ms(last_sent, kill_at),
        ms(last_answered, kill_at),
    );
    for f in failed.iter().take(12) {
        eprintln!(
            "  failed: thread {} request {} ({}) sent {:+} ms, answered {:+} ms after the kill: \
             {} {}",
            f.thread,
            f.seq,
            f.chain,
            ms(f.start, kill_at),
            ms(f.end, kill_at),
            f.status,
            f.body["errors"]
        );
    }

    // Every signature returned verifies for its wallet.
    for x in &ok {
        if let Err(e) = signature_verifies(x, &wallets[x.wallet]) {
            panic!(
                "thread {} request {}: the {} signature does not verify: {e}",
                x.thread, x.seq, x.chain
            );
        }
    }
    // Signing went on before the kill and after the restart.
    assert!(
        ok.iter().any(|x| x.end < kill_at),
        "nothing signed before the kill"
    );
    assert!(
        ok.iter().any(|x| x.start > restarted_at),
        "nothing signed after the restart"
    );
    // The bound is a window, not a count. A request fails if it was in
    // flight when the process died, or if the host sent it before it had
    // noticed the exit: OpenBao 2.7.2 then dials the dead socket (refused,
    // or accepted by the dying socket's backlog and reset) and answers 500
    // at once, so a client that retries immediately fails again, and how
    // many fail depends on the request rate. The host reaps the process
    // within milliseconds, but keeps failing requests for some tens of
    // milliseconds more (observed: up to ~40 ms after the kill on this
    // 2-core machine under load); once its client's context is cancelled it
    // restarts the plugin and retries once, and nothing fails. So: every
    // failure is a 500 answered after the kill, within one second of it,
    // and sent before the new process was up.
    assert!(
        reaped_at - kill_at < Duration::from_secs(2),
        "the host took {} ms to reap the plugin",
        ms(reaped_at, kill_at)
    );
    for f in &failed {
        assert!(
            f.status == 500
                && f.end >= kill_at
                && f.end <= kill_at + Duration::from_secs(1)
                && f.start <= restarted_at,
            "a request outside the crash window failed: sent {:+} ms, answered {:+} ms \
             (restart seen {:+} ms): {} {}",
            ms(f.start, kill_at),
            ms(f.end, kill_at),
            ms(restarted_at, kill_at),
            f.status,
            f.body
        );
    }
    assert!(
        in_flight <= THREADS,
        "{in_flight} requests in flight for {THREADS} threads"
    );
    // The wallets are intact.
    for w in &wallets {
        let again = load_wallet_facts(&s, &w.name);
        assert_eq!(again.fingerprint, w.fingerprint);
        assert_eq!(again.eth, w.eth);
        assert_eq!(again.sol, w.sol);
    }
}

// ---------------------------------------------------------------------------
// 4. Corrupt, old and newer storage entries
//
// Entries are written with `sys/raw/logical/<mount uuid>/<key>` (the dev
// server runs with `raw_storage_endpoint = true`). The plugin caches decoded
// wallets and hears of storage changes only through `InvalidateKey`, which
// the host sends on replication, never for a `sys/raw` write: so every
// entry below is written under a name the plugin has never read, and the
// one test of an overwritten, cached wallet reloads the plugin first.

const ABANDON: &str = engine_common::ABANDON;

fn raw_put(s: &DevServer, uuid: &str, key: &str, bytes: &[u8]) {
    let r = s.write(
        &format!("sys/raw/logical/{uuid}/{key}"),
        json!({"value": STANDARD.encode(bytes), "encoding": "base64"}),
    );
    assert!(
        matches!(r.status, 200 | 204),
        "raw write of {key}: {}",
        r.body
    );
}

fn raw_get(s: &DevServer, uuid: &str, key: &str) -> Value {
    let r = s.get(&format!("sys/raw/logical/{uuid}/{key}"));
    r.expect_status(200);
    serde_json::from_str(st(r.data(), "value")).expect("a JSON entry")
}

/// A wallet entry as this plugin (schema version 1) writes it.
fn hd_entry(name: &str, mnemonic: &str) -> Value {
    json!({
        "version": 1, "name": name, "type": "hd", "created_time": "2024-01-02T03:04:05Z",
        "exportable": false, "deletion_allowed": true, "allow_raw_signing": false,
        "mnemonic": mnemonic, "passphrase": ""
    })
}

fn key_entry(name: &str, curve: &str, key: &str) -> Value {
    json!({
        "version": 1, "name": name, "type": "key", "created_time": "2024-01-02T03:04:05Z",
        "exportable": false, "deletion_allowed": true, "allow_raw_signing": false,
        "curve": curve, "private_key": key
    })
}

/// Asserts a 500 whose message contains `what` and no registered secret.
#[track_caller]
fn expect_500(r: &Reply, what: &str, sec: &Secrets) {
    r.expect_status(500);
    assert!(
        r.errors().contains(what),
        "the 500 does not say {what:?}: {}",
        r.body
    );
    assert_eq!(sec.total(&r.body.to_string()), 0, "{}", r.body);
}

/// Signs an EIP-191 message with `name` and checks the signer.
#[track_caller]
fn eth_signs(s: &DevServer, name: &str, want: alloy_primitives::Address) {
    let msg = format!("still serving {name}");
    let r = s.write(
        &format!("crypto/wallets/{name}/ethereum/sign-message"),
        json!({ "message": msg }),
    );
    r.expect_status(200);
    let bytes = hex::decode(st(r.data(), "signature").trim_start_matches("0x")).expect("hex");
    let sig = alloy_primitives::Signature::from_raw(&bytes).expect("signature");
    assert_eq!(
        sig.recover_address_from_msg(msg.as_bytes())
            .expect("recover"),
        want
    );
}

fn eth_address_of(s: &DevServer, name: &str) -> alloy_primitives::Address {
    let r = s.get(&format!("crypto/wallets/{name}/addresses/ethereum"));
    r.expect_status(200);
    st(r.data(), "address").parse().expect("address")
}

#[test]
fn corrupt_old_and_newer_entries_fail_alone_with_a_clear_500_and_current_ones_are_read() {
    let s = DevServer::start_with(&ServerOptions {
        raw_storage: true,
        ..ServerOptions::default()
    });
    s.register().expect_status(204);
    s.enable("crypto").expect_status(204);
    let uuid = s.mount_uuid("crypto");
    s.write("crypto/wallets/good", json!({})).expect_status(200);
    let good = eth_address_of(&s, "good");
    eth_signs(&s, "good", good);

    let mut sec = Secrets::default();
    let abandon_eth =
        engine_common::eth_address(&secp_key(&seed(ABANDON, ""), "m/44'/60'/0'/0/0").1);

    // (a) The current schema, written by someone else, is read and used.
    raw_put(
        &s,
        &uuid,
        "wallet/ext-hd",
        hd_entry("ext-hd", ABANDON).to_string().as_bytes(),
    );
    let r = s.get("crypto/wallets/ext-hd");
    r.expect_status(200);
    assert_eq!(r.data()["fingerprint"], "73c5da0a");
    assert_eq!(eth_address_of(&s, "ext-hd"), abandon_eth);
    eth_signs(&s, "ext-hd", abandon_eth);
    // A key stored in a form the reader accepts but the writer never
    // produces (0x, upper case) is read, and the next write under the
    // wallet's lock stores the canonical form: the write-back half of
    // upgrade-on-read.
    let k = sha256("hardening stored key");
    sec.bytes("stored key", &k);
    let k_addr = engine_common::eth_address(
        &bitcoin::secp256k1::SecretKey::from_slice(&k)
            .expect("key")
            .public_key(&Secp256k1::new()),
    );
    raw_put(
        &s,
        &uuid,
        "wallet/ext-key",
        key_entry(
            "ext-key",
            "secp256k1",
            &format!("0x{}", hex::encode_upper(k)),
        )
        .to_string()
        .as_bytes(),
    );
    assert_eq!(eth_address_of(&s, "ext-key"), k_addr);
    s.write("crypto/wallets/ext-key", json!({"allow_raw_signing": true}))
        .expect_status(200);
    let stored = raw_get(&s, &uuid, "wallet/ext-key");
    assert_eq!(stored["version"], 1);
    assert_eq!(stored["allow_raw_signing"], true);
    assert_eq!(stored["private_key"], hex::encode(k));

    // Older and newer versions. Schema 1 is the only one this plugin has
    // ever written, so no older schema exists to upgrade from: an entry
    // without `version` (what a pre-versioning writer would have left) is
    // refused as version 0, and a newer one as newer.
    let m_old = "legal winner thank year wave sausage worth useful legal winner thank yellow";
    let m_new = "letter advice cage absurd amount doctor acoustic avoid letter advice cage above";
    sec.text("unversioned entry's mnemonic", m_old);
    sec.text("newer entry's mnemonic", m_new);
    let mut v0 = hd_entry("v0", m_old);
    v0.as_object_mut().expect("object").remove("version");
    raw_put(&s, &uuid, "wallet/v0", v0.to_string().as_bytes());
    let mut v2 = hd_entry("v2", m_new);
    v2["version"] = json!(2);
    raw_put(&s, &uuid, "wallet/v2", v2.to_string().as_bytes());
    expect_500(
        &s.get("crypto/wallets/v0"),
        "stored wallet entry has unsupported version 0",
        &sec,
    );
    expect_500(
        &s.get("crypto/wallets/v2"),
        "newer than this plugin supports (1); upgrade the plugin",
        &sec,
    );

    // (b) Corrupt entries: each is a 500 for that wallet alone.
    let m_trunc = "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong";
    let full = hd_entry("truncated", m_trunc).to_string();
    let cut = full.find("zoo wrong").expect("mnemonic in entry");
    sec.text("truncated entry's mnemonic", &m_trunc[..32]);
    let bad_checksum = ABANDON.replace("about", "abandon");
    sec.text("bad-checksum entry's mnemonic", &bad_checksum);
    let k_bad = format!("{}zz", &hex::encode(sha256("hardening corrupt key"))[..62]);
    sec.text("corrupt key", &k_bad);
    let mut version_text = hd_entry("version-text", m_trunc);
    version_text["version"] = json!("one");
    let mut no_mnemonic = hd_entry("no-mnemonic", ABANDON);
    no_mnemonic
        .as_object_mut()
        .expect("object")
        .remove("mnemonic");
    let mut unknown_type = hd_entry("unknown-type", ABANDON);
    unknown_type["type"] = json!("multisig");
    let mut garbage = sha256("garbage").to_vec();
    garbage.extend_from_slice(&[0xff, 0x00, 0xfe]);
    let corrupt: Vec<(&str, Vec<u8>, &str)> = vec![
        ("garbage", garbage, "stored wallet entry is corrupt"),
        (
            "truncated",
            full.as_bytes()[..cut].to_vec(),
            "stored wallet entry is corrupt",
        ),
        (
            "version-text",
            version_text.to_string().into_bytes(),
            "stored wallet entry is corrupt",
        ),
        (
            "bad-checksum",
            hd_entry("bad-checksum", &bad_checksum)
                .to_string()
                .into_bytes(),
            "stored wallet entry is corrupt: bad mnemonic",
        ),
        (
            "bad-key",
            key_entry("bad-key", "secp256k1", &k_bad)
                .to_string()
                .into_bytes(),
            "stored wallet entry is corrupt: bad key",
        ),
        (
            "no-mnemonic",
            no_mnemonic.to_string().into_bytes(),
            "stored wallet entry is corrupt: no mnemonic",
        ),
        (
            "unknown-type",
            unknown_type.to_string().into_bytes(),
            "stored wallet entry is corrupt: unknown type",
        ),
    ];
    for (name, bytes, _) in &corrupt {
        raw_put(&s, &uuid, &format!("wallet/{name}"), bytes);
    }
    for (name, _, what) in &corrupt {
        expect_500(&s.get(&format!("crypto/wallets/{name}")), what, &sec);
        expect_500(
            &s.write(
                &format!("crypto/wallets/{name}/solana/sign-message"),
                json!({"message": "aGk="}),
            ),
            what,
            &sec,
        );
        expect_500(
            &s.write(
                &format!("crypto/wallets/{name}"),
                json!({"deletion_allowed": true}),
            ),
            what,
            &sec,
        );
        // Every other wallet keeps working.
        s.get("crypto/wallets/good").expect_status(200);
        eth_signs(&s, "good", good);
        eth_signs(&s, "ext-hd", abandon_eth);
    }
    let listed = s.list("crypto/wallets");
    listed.expect_status(200);
    assert_eq!(
        listed.data()["keys"].as_array().map(Vec::len),
        Some(5 + corrupt.len()),
        "{}",
        listed.body
    );

    // A corrupt policy fails the signatures it governs, and only those. The
    // plugin caches policies (a sys/raw write sends no InvalidateKey), so a
    // reload makes it read storage again.
    raw_put(&s, &uuid, "policy/ext-hd/ethereum", b"{\"version\":1,");
    let before = s.plugin_pid();
    s.write("sys/plugins/reload/backend", json!({"plugin": PLUGIN_NAME}))
        .expect_status(200);
    let reloaded = wait_until(Duration::from_secs(20), || {
        let p = s.plugin_pids();
        (p.len() == 1 && p[0] != before).then(|| p[0])
    });
    assert!(reloaded.is_some(), "the plugin was not reloaded");
    expect_500(
        &s.write(
            "crypto/wallets/ext-hd/ethereum/sign-transaction",
            json!({"chain_id": 1, "nonce": 0, "gas_limit": 21000, "gas_price": 1,
                   "to": alloy_primitives::Address::from([0x35; 20]).to_checksum(None)}),
        ),
        "stored policy entry is corrupt",
        &sec,
    );
    expect_500(
        &s.get("crypto/policies/ext-hd/ethereum"),
        "stored policy entry is corrupt",
        &sec,
    );
    // personal_sign is governed by the ethereum policy too
    // (allow_message_signing); another chain's signatures are not.
    expect_500(
        &s.write(
            "crypto/wallets/ext-hd/ethereum/sign-message",
            json!({"message": "hi"}),
        ),
        "stored policy entry is corrupt",
        &sec,
    );
    s.write(
        "crypto/wallets/ext-hd/solana/sign-message",
        json!({"message": "aGk="}),
    )
    .expect_status(200);
    let read = s.get("crypto/wallets/ext-hd");
    read.expect_status(200);
    assert_eq!(read.data()["policies"], json!(["ethereum"]));
    eth_signs(&s, "good", good);

    // A cached wallet overwritten in storage: the cache still answers (no
    // InvalidateKey for sys/raw) until the plugin is reloaded; then the
    // corruption is seen, and the other wallets still work.
    raw_put(&s, &uuid, "wallet/good", b"\x00not an entry");
    s.get("crypto/wallets/good").expect_status(200);
    let before = s.plugin_pid();
    s.write("sys/plugins/reload/backend", json!({"plugin": PLUGIN_NAME}))
        .expect_status(200);
    let after = wait_until(Duration::from_secs(20), || {
        let p = s.plugin_pids();
        (p.len() == 1 && p[0] != before).then(|| p[0])
    });
    assert!(after.is_some(), "the plugin was not reloaded");
    expect_500(
        &s.get("crypto/wallets/good"),
        "stored wallet entry is corrupt",
        &sec,
    );
    // ext-hd's ethereum policy is corrupt; its other chains still sign.
    s.write(
        "crypto/wallets/ext-hd/solana/sign-message",
        json!({"message": "aGk="}),
    )
    .expect_status(200);
    assert_eq!(eth_address_of(&s, "ext-key"), k_addr);

    // The failures were logged (path and reason), without secrets.
    let logged = wait_until(Duration::from_secs(10), || {
        let log = s.log();
        log.lines()
            .any(|l| {
                l.contains("request failed")
                    && l.contains("wallets/bad-key")
                    && l.contains("corrupt: bad key")
            })
            .then_some(log)
    });
    let log = logged.expect("no log line for the corrupt wallet");
    assert_eq!(
        sec.hits(&log),
        BTreeMap::new(),
        "secrets of stored entries in the server log"
    );
    eprintln!(
        "storage: {} corrupt entries, 1 unversioned, 1 newer, 1 corrupt policy: each a 500 for \
         its own wallet; {} secret hits in the server log",
        corrupt.len() + 1,
        sec.total(&log)
    );
}

// ---------------------------------------------------------------------------
// 5. Resource bounds

/// Sends one oversized request and asserts a 4xx whose message contains
/// every one of `names` (the field, the limit); prints what it cost.
#[track_caller]
fn refused(
    s: &DevServer,
    label: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
    names: &[&str],
) {
    let size = body.as_ref().map(|b| b.to_string().len()).unwrap_or(0);
    let t = Instant::now();
    let r = s
        .try_request(method, path, body)
        .unwrap_or_else(|e| panic!("{label}: transport error {e}"));
    let took = t.elapsed();
    let text = r.errors();
    eprintln!(
        "  {label}: {size} byte body -> {} in {} ms: {}",
        r.status,
        took.as_millis(),
        text.replace('\n', " ")
            .chars()
            .take(160)
            .collect::<String>()
    );
    assert!(
        (400..500).contains(&r.status),
        "{label}: expected a 4xx, got {}: {}",
        r.status,
        r.body
    );
    // A body above the plugin's own limit is refused before any field is
    // parsed: that refusal names the limit instead of the field.
    let body_limit = text.contains("larger than the plugin's limit of 8388608 bytes");
    if body_limit {
        return;
    }
    for n in names {
        assert!(
            text.contains(n),
            "{label}: the refusal does not name {n}: {text}"
        );
    }
}

/// Typed data whose primary type nests `depth` structs.
fn nested_typed_data(depth: usize) -> Value {
    let mut types = serde_json::Map::new();
    types.insert("EIP712Domain".into(), json!([]));
    for i in 0..depth {
        let member = if i + 1 == depth {
            json!([{"name": "v", "type": "uint8"}])
        } else {
            json!([{"name": "n", "type": format!("T{}", i + 1)}])
        };
        types.insert(format!("T{i}"), member);
    }
    let mut message = json!({"v": 1});
    for _ in 1..depth {
        message = json!({ "n": message });
    }
    json!({"types": types, "primaryType": "T0", "domain": {}, "message": message})
}

#[test]
fn oversized_or_too_deep_input_is_a_4xx_naming_the_field_or_limit_and_the_plugin_serves_on() {
    let s = DevServer::with_plugin();
    s.write("crypto/wallets/w", json!({"allow_raw_signing": true}))
        .expect_status(200);
    let pid = s.plugin_pid();
    let w = "crypto/wallets/w";
    const MB10: usize = 10 * 1024 * 1024;
    let post = |label: &str, path: &str, body: Value, names: &[&str]| {
        refused(&s, label, "POST", path, Some(body), names);
    };
    eprintln!("resource bounds:");

    // Message sizes.
    post(
        "solana message of 10 MiB",
        &format!("{w}/solana/sign-message"),
        json!({"message": STANDARD.encode(vec![0u8; MB10])}),
        &["\"message\"", "1048576 bytes"],
    );
    post(
        "ethereum message of 10 MiB",
        &format!("{w}/ethereum/sign-message"),
        json!({"message": "a".repeat(MB10)}),
        &["\"message\"", "1048576 bytes"],
    );
    post(
        "ethereum message_hex of 5 MiB",
        &format!("{w}/ethereum/sign-message"),
        json!({"message_hex": format!("0x{}", "ab".repeat(MB10 / 2))}),
        &["\"message_hex\"", "1048576 bytes"],
    );
    // Typed data: size, struct depth, value count, type count, JSON depth.
    let mut huge = nested_typed_data(1);
    huge["types"]["T0"] = json!([{"name": "v", "type": "string"}]);
    huge["message"] = json!({"v": "x".repeat(MB10)});
    post(
        "typed data with a 10 MiB string",
        &format!("{w}/ethereum/sign-typed-data"),
        json!({ "typed_data": huge }),
        &["\"typed_data\"", "1048576 bytes"],
    );
    post(
        "typed data nesting 40 structs",
        &format!("{w}/ethereum/sign-typed-data"),
        json!({ "typed_data": nested_typed_data(40) }),
        &["typed_data", "nesting exceeds 32 levels"],
    );
    let mut many = nested_typed_data(1);
    many["types"]["T0"] = json!([{"name": "xs", "type": "uint8[]"}]);
    many["message"] = json!({ "xs": vec![0u8; 150_000] });
    post(
        "typed data with 150 000 values",
        &format!("{w}/ethereum/sign-typed-data"),
        json!({ "typed_data": many }),
        &["typed_data is too large"],
    );
    let mut types = nested_typed_data(1);
    for i in 0..300 {
        types["types"][format!("Unused{i}")] = json!([]);
    }
    post(
        "typed data declaring 300 types",
        &format!("{w}/ethereum/sign-typed-data"),
        json!({ "typed_data": types }),
        &["typed_data is too large"],
    );
    let mut deep = json!(1);
    for _ in 0..200 {
        deep = json!([deep]);
    }
    let mut deep_td = nested_typed_data(1);
    deep_td["message"]["v"] = deep;
    post(
        "typed data with JSON nested 200 deep",
        &format!("{w}/ethereum/sign-typed-data"),
        json!({ "typed_data": deep_td }),
        &["nested too deeply", "128 levels"],
    );
    // Ethereum transaction fields.
    let tx = json!({"chain_id": 1, "nonce": 0, "gas_limit": 21000, "gas_price": 1});
    let mut data = tx.clone();
    data["data"] = json!(format!("0x{}", "00".repeat(MB10 / 2)));
    post(
        "calldata of 5 MiB",
        &format!("{w}/ethereum/sign-transaction"),
        data,
        &["\"data\"", "131072 bytes"],
    );
    let mut value = tx.clone();
    value["value"] = json!(format!("1{}", "0".repeat(100_000)));
    post(
        "value of 100 001 digits",
        &format!("{w}/ethereum/sign-transaction"),
        value,
        &["\"value\""],
    );
    // Bitcoin, Solana, sign-hash.
    post(
        "psbt of 5.4 MB",
        &format!("{w}/bitcoin/sign-psbt"),
        json!({"psbt": "A".repeat(5_400_000)}),
        &["\"psbt\"", "4000000 bytes"],
    );
    post(
        "solana transaction of 70 KB",
        &format!("{w}/solana/sign-transaction"),
        json!({"transaction": STANDARD.encode(vec![1u8; 70_000])}),
        &["\"transaction\"", "65536 bytes"],
    );
    post(
        "sign-hash of 70 KB",
        "crypto/sign-hash/w",
        json!({"chain": "solana", "hash": format!("0x{}", "00".repeat(70_000))}),
        &["\"hash\"", "65536 bytes"],
    );
    // Key selection and address batches.
    post(
        "derivation path of 5 M levels",
        &format!("{w}/ethereum/sign-message"),
        json!({"message": "x", "path": format!("m{}", "/0".repeat(5_000_000))}),
        &["\"path\""],
    );
    refused(
        &s,
        "1001 addresses",
        "GET",
        &format!("{w}/addresses/ethereum?count=1001"),
        None,
        &["\"count\""],
    );
    let t = Instant::now();
    let batch = s.get(&format!("{w}/addresses/bitcoin?count=1000"));
    batch.expect_status(200);
    assert_eq!(
        batch.data()["addresses"].as_array().map(Vec::len),
        Some(1000)
    );
    eprintln!(
        "  1000 addresses (the limit): 200 in {} ms",
        t.elapsed().as_millis()
    );
    // Wallet creation.
    post(
        "mnemonic of 10 MiB",
        "crypto/wallets/big",
        json!({"mnemonic": "abandon ".repeat(MB10 / 8)}),
        &["\"mnemonic\"", "1024 bytes"],
    );
    post(
        "passphrase of 10 MiB",
        "crypto/wallets/big",
        json!({"passphrase": "p".repeat(MB10)}),
        &["\"passphrase\"", "1024 bytes"],
    );
    post(
        "private key of 10 MiB",
        "crypto/wallets/big",
        json!({"private_key": "a".repeat(MB10), "curve": "secp256k1"}),
        &["\"private_key\""],
    );
    s.get("crypto/wallets/big").expect_status(404);
    // Policy lists: the plugin's 1000 entries, and the host's own limit of
    // 1000 strings per JSON body, which comes first for a JSON list.
    post(
        "1001 allowed chain ids",
        "crypto/policies/w/ethereum",
        json!({"allowed_chain_ids": (1..=1001).collect::<Vec<u32>>()}),
        &["\"allowed_chain_ids\"", "at most 1000 entries"],
    );
    let recipients: Vec<String> = (0..1001).map(|i| format!("0x{i:040x}")).collect();
    post(
        "1001 recipients in one comma-separated string",
        "crypto/policies/w/ethereum",
        json!({"allowed_recipients": recipients.join(",")}),
        &["\"allowed_recipients\"", "at most 1000 entries"],
    );
    post(
        "1001 recipients as a JSON list (the host's limit)",
        "crypto/policies/w/ethereum",
        json!({ "allowed_recipients": recipients }),
        &["exceeded maximum number of strings"],
    );
    // The host's body limit (32 MiB by default) comes before the plugin.
    post(
        "a 40 MB body (the host's limit)",
        &format!("{w}/solana/sign-message"),
        json!({"message": STANDARD.encode(vec![0u8; 30_000_000])}),
        &[],
    );

    // The same process is still serving.
    assert_eq!(s.plugin_pids(), vec![pid], "the plugin process changed");
    s.write(
        &format!("{w}/solana/sign-message"),
        json!({"message": "aGk="}),
    )
    .expect_status(200);
    s.get("crypto/policies/w/ethereum").expect_status(404);
}

// ---------------------------------------------------------------------------
// 6. Crafted requests that aborted or hung the plugin (issue 11, "No request
// takes the plugin down"): each is a 4xx in bounded time, from the same
// process, which then still signs.

/// The longest any refused request here may take: every refusal is a bound
/// checked before the work, so this is parsing time on a loaded CI machine.
const REFUSAL_BUDGET: Duration = Duration::from_secs(30);

/// Like [`refused`], and the answer came within [`REFUSAL_BUDGET`].
#[track_caller]
fn refused_in_time(s: &DevServer, label: &str, path: &str, body: Value, names: &[&str]) {
    let t = Instant::now();
    refused(s, label, "POST", path, Some(body), names);
    assert!(
        t.elapsed() < REFUSAL_BUDGET,
        "{label}: took {:?}, more than {REFUSAL_BUDGET:?}",
        t.elapsed()
    );
}

/// A PSBT (BIP-174 bytes) of one P2WPKH input of the "abandon" wallet at
/// m/84'/0'/0'/0/0 paying a foreign address.
fn abandon_psbt() -> bitcoin::psbt::Psbt {
    let seed = engine_common::seed(engine_common::ABANDON, "");
    PsbtBuilder::new()
        .input(
            "p2wpkh",
            &seed,
            engine_common::abandon_fp(),
            "m/84'/0'/0'/0/0",
            20_000,
        )
        .pay(&foreign_address(0), 10_000)
        .build()
}

/// Raw PSBT bytes: magic, the global map holding `unsigned_tx` plus
/// `extra_global` pairs, then `maps` (already serialized input and output
/// maps, each ending in 0x00).
fn raw_psbt(unsigned_tx: &[u8], extra_global: &[(Vec<u8>, Vec<u8>)], maps: &[u8]) -> Vec<u8> {
    fn compact(out: &mut Vec<u8>, n: usize) {
        match n {
            0..=0xfc => out.push(n as u8),
            0xfd..=0xffff => {
                out.push(0xfd);
                out.extend_from_slice(&(n as u16).to_le_bytes());
            }
            _ => {
                out.push(0xfe);
                out.extend_from_slice(&(n as u32).to_le_bytes());
            }
        }
    }
    let mut b = b"psbt\xff".to_vec();
    b.extend_from_slice(&[0x01, 0x00]);
    compact(&mut b, unsigned_tx.len());
    b.extend_from_slice(unsigned_tx);
    for (k, v) in extra_global {
        compact(&mut b, k.len());
        b.extend_from_slice(k);
        compact(&mut b, v.len());
        b.extend_from_slice(v);
    }
    b.push(0x00);
    b.extend_from_slice(maps);
    b
}

#[test]
fn crafted_inputs_that_aborted_or_hung_the_plugin_are_4xx_in_bounded_time_from_the_same_process() {
    let s = DevServer::with_plugin();
    s.write(
        "crypto/wallets/ab",
        json!({"mnemonic": engine_common::ABANDON}),
    )
    .expect_status(200);
    let pid = s.plugin_pid();
    let w = "crypto/wallets/ab";
    eprintln!("crafted inputs:");

    // 1. Stack overflow (abort): a member type of 400 000 array dimensions
    // was parsed by one recursion per dimension, past the 2 MiB stack of
    // the runtime's threads. Both API forms of typed_data.
    let dims = json!({
        "types": {"T": [{"name": "x", "type": format!("uint8{}", "[]".repeat(400_000))}]},
        "primaryType": "T", "domain": {}, "message": {"x": []}
    });
    refused_in_time(
        &s,
        "typed data member type of 400 000 array dimensions (object)",
        &format!("{w}/ethereum/sign-typed-data"),
        json!({ "typed_data": dims }),
        &["typed_data", "at most 256 bytes"],
    );
    refused_in_time(
        &s,
        "typed data member type of 400 000 array dimensions (string)",
        &format!("{w}/ethereum/sign-typed-data"),
        json!({ "typed_data": dims.to_string() }),
        &["typed_data", "at most 256 bytes"],
    );
    let dims33 = json!({
        "types": {"T": [{"name": "x", "type": format!("uint8{}", "[]".repeat(33))}]},
        "primaryType": "T", "domain": {}, "message": {"x": []}
    });
    refused_in_time(
        &s,
        "typed data member type of 33 array dimensions",
        &format!("{w}/ethereum/sign-typed-data"),
        json!({ "typed_data": dims33 }),
        &["typed_data", "more than 32 array dimensions"],
    );
    // Many members (a JSON string: the host counts the strings of a body).
    let members: Vec<Value> = (0..1025)
        .map(|i| json!({"name": format!("m{i}"), "type": "bool"}))
        .collect();
    let wide = json!({"types": {"T": members}, "primaryType": "T", "domain": {}, "message": {}});
    refused_in_time(
        &s,
        "typed data declaring 1025 members",
        &format!("{w}/ethereum/sign-typed-data"),
        json!({ "typed_data": wide.to_string() }),
        &["typed_data is too large"],
    );

    // 2. Hang: the PSBT map reader checked for a duplicate key by scanning
    // the map for every pair: 600 000 unknown global keys took hours.
    let unsigned = bitcoin::consensus::serialize(&abandon_psbt().unsigned_tx);
    let keys: Vec<(Vec<u8>, Vec<u8>)> = (0..600_000u32)
        .map(|i| {
            let b = i.to_be_bytes();
            (vec![0xfc, b[1], b[2], b[3]], vec![])
        })
        .collect();
    let b = raw_psbt(&unsigned, &keys, &[0x00, 0x00]);
    assert!(b.len() < 4_000_000, "{}", b.len());
    refused_in_time(
        &s,
        "psbt with 600 000 global keys",
        &format!("{w}/bitcoin/sign-psbt"),
        json!({"psbt": STANDARD.encode(&b)}),
        &["\"psbt\"", "fingerprint"],
    );

    // 3. Hang: every bip32_derivation naming the wallet's fingerprint was
    // derived, at up to 255 levels each: 3 000 of them, minutes of CPU.
    let mut p = abandon_psbt();
    let secp = Secp256k1::new();
    let deep: Vec<bitcoin::bip32::ChildNumber> = (0..255)
        .map(|i| bitcoin::bip32::ChildNumber::from_normal_idx(i).expect("index"))
        .collect();
    for k in 1..=3000u32 {
        let mut sk = [0u8; 32];
        sk[28..].copy_from_slice(&k.to_be_bytes());
        let pk = bitcoin::secp256k1::SecretKey::from_slice(&sk)
            .expect("key")
            .public_key(&secp);
        let mut path = deep.clone();
        path[0] = bitcoin::bip32::ChildNumber::from_normal_idx(k).expect("index");
        p.inputs[0]
            .bip32_derivation
            .insert(pk, (engine_common::abandon_fp(), path.into()));
    }
    let bytes = p.serialize();
    assert!(bytes.len() < 4_000_000, "{}", bytes.len());
    refused_in_time(
        &s,
        "psbt with 3 000 key origins of 255 levels",
        &format!("{w}/bitcoin/sign-psbt"),
        json!({"psbt": STANDARD.encode(&bytes)}),
        &["\"psbt\"", "derivation steps", "at most 16384"],
    );

    // 4. Hang: signing is quadratic in the transaction (legacy sighash, and
    // our BIP-143/BIP-341 code): the unsigned transaction is bounded by
    // Bitcoin's standard size, 100 000 bytes.
    let mut p = abandon_psbt();
    p.unsigned_tx.output.push(bitcoin::TxOut {
        value: bitcoin::Amount::from_sat(1),
        script_pubkey: bitcoin::ScriptBuf::from_bytes(vec![0x6a; 100_000]),
    });
    p.outputs.push(Default::default());
    refused_in_time(
        &s,
        "psbt whose unsigned transaction is 100 100 bytes",
        &format!("{w}/bitcoin/sign-psbt"),
        json!({"psbt": STANDARD.encode(p.serialize())}),
        &["\"psbt\"", "at most 100000"],
    );

    // 5. Seconds of CPU per request: 1000 addresses of a 255-level path
    // with a hardened index level, each derived from the seed.
    let t = Instant::now();
    refused(
        &s,
        "1000 addresses of a 255-level path",
        "GET",
        &format!(
            "{w}/addresses/ethereum?count=1000&path=m{}/0'",
            "/0".repeat(254)
        ),
        None,
        // The path's depth bound (10 levels) now refuses it before count x depth.
        &["\"path\"", "at most 10"],
    );
    assert!(t.elapsed() < REFUSAL_BUDGET, "{:?}", t.elapsed());

    // The same process is still serving, and signs.
    assert_eq!(s.plugin_pids(), vec![pid], "the plugin process changed");
    let r = s.write(
        &format!("{w}/bitcoin/sign-psbt"),
        json!({"psbt": STANDARD.encode(abandon_psbt().serialize())}),
    );
    r.expect_status(200);
    assert_eq!(r.data()["signed_inputs"], json!([0]));
}

/// An access list as JSON text that takes about `size` bytes of a JSON body:
/// one address with as many 32-byte storage keys as fit.
fn access_list_text(size: usize) -> String {
    let key = format!("\"0x{}\"", "00".repeat(32));
    // In the body each quote is escaped: a key takes its length, two
    // backslashes and a comma.
    let n = size / (key.len() + 3) - 2;
    let keys = vec![key.as_str(); n].join(",");
    format!(
        "[{{\"address\":\"0x3535353535353535353535353535353535353535\",\"storage_keys\":[{keys}]}}]"
    )
}

/// The host's largest body (`max_request_size`, 32 MiB by default): a body
/// just below it reaches every signing path, which refuses it with a 4xx
/// naming the field, in bounded time, from the same process.
#[test]
fn a_body_just_below_the_hosts_maximum_size_is_a_4xx_at_every_signing_path() {
    let s = DevServer::with_plugin();
    s.write("crypto/wallets/w", json!({"allow_raw_signing": true}))
        .expect_status(200);
    let pid = s.plugin_pid();
    let w = "crypto/wallets/w";
    // 32 MiB less room for the rest of the JSON body.
    const BIG: usize = 32 * 1024 * 1024 - 4096;
    eprintln!("bodies of {BIG} bytes:");
    let cases: Vec<(&str, String, Value, Vec<&str>)> = vec![
        (
            "ethereum calldata",
            format!("{w}/ethereum/sign-transaction"),
            json!({"chain_id": 1, "nonce": 0, "gas_limit": 21000, "gas_price": 1,
                   "data": format!("0x{}", "0".repeat(BIG - 2))}),
            vec!["\"data\"", "131072 bytes"],
        ),
        (
            "ethereum value digits",
            format!("{w}/ethereum/sign-transaction"),
            json!({"chain_id": 1, "nonce": 0, "gas_limit": 21000, "gas_price": 1,
                   "value": "9".repeat(BIG)}),
            vec!["\"value\""],
        ),
        (
            "ethereum access list (the CLI's string form)",
            format!("{w}/ethereum/sign-transaction"),
            json!({"type": "eip2930", "chain_id": 1, "nonce": 0, "gas_limit": 21000,
                   "gas_price": 1, "access_list": access_list_text(BIG)}),
            vec!["\"access_list\"", "at most 4096"],
        ),
        (
            "ethereum message",
            format!("{w}/ethereum/sign-message"),
            json!({"message": "a".repeat(BIG)}),
            vec!["\"message\"", "1048576 bytes"],
        ),
        (
            "typed data as a string",
            format!("{w}/ethereum/sign-typed-data"),
            json!({"typed_data": format!("{{\"a\":\"{}\"}}", "x".repeat(BIG - 10))}),
            vec!["\"typed_data\"", "1048576 bytes"],
        ),
        (
            "psbt",
            format!("{w}/bitcoin/sign-psbt"),
            json!({"psbt": "A".repeat(BIG)}),
            vec!["\"psbt\"", "4000000 bytes"],
        ),
        (
            "solana transaction",
            format!("{w}/solana/sign-transaction"),
            json!({"transaction": "A".repeat(BIG)}),
            vec!["\"transaction\"", "65536 bytes"],
        ),
        (
            "solana message",
            format!("{w}/solana/sign-message"),
            json!({"message": "A".repeat(BIG)}),
            vec!["\"message\"", "1048576 bytes"],
        ),
        (
            "sign-hash",
            "crypto/sign-hash/w".to_string(),
            json!({"chain": "ethereum", "hash": format!("0x{}", "0".repeat(BIG - 2))}),
            vec!["\"hash\"", "65536 bytes"],
        ),
        (
            "derivation path",
            format!("{w}/ethereum/sign-message"),
            json!({"message": "x", "path": format!("m{}", "/0".repeat(BIG / 2 - 1))}),
            vec!["\"path\""],
        ),
        (
            "mnemonic",
            "crypto/wallets/big".to_string(),
            json!({"mnemonic": "a".repeat(BIG)}),
            vec!["\"mnemonic\"", "1024 bytes"],
        ),
    ];
    for (label, path, body, names) in cases {
        refused_in_time(&s, label, &path, body, &names);
    }
    assert_eq!(s.plugin_pids(), vec![pid], "the plugin process changed");
    s.write(
        &format!("{w}/ethereum/sign-message"),
        json!({"message": "still here"}),
    )
    .expect_status(200);
}
