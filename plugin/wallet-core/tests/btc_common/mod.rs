//! Shared helpers of the Bitcoin policy and differential tests: PSBTs are
//! built with rust-bitcoin (an independent encoder) and read by ours.
#![allow(dead_code, clippy::unwrap_used)]

use std::cell::Cell;
use std::collections::BTreeMap;

use bip32::{ChildNumber, XPrv};
use bitcoin::bip32::{DerivationPath, Fingerprint};
use bitcoin::hashes::Hash as _;
use bitcoin::psbt::{Input, Output, Psbt as BtcPsbt, PsbtSighashType};
use bitcoin::{
    Amount, OutPoint, ScriptBuf, Sequence, Transaction as BtcTx, TxIn as BtcTxIn,
    TxOut as BtcTxOut, Txid, Witness, absolute, transaction,
};
use k256::ecdsa::SigningKey;
use wallet_core::bitcoin::{
    AddressType, BitcoinError, CompressedPublicKey, HARDENED, Psbt, Secp256k1KeySource,
    script_pubkey,
};

/// `m/84'/0'/0'/1/3` → path elements with the hardened bit.
pub fn path(s: &str) -> Vec<u32> {
    s.trim_start_matches('m')
        .split('/')
        .filter(|e| !e.is_empty())
        .map(|e| match e.strip_suffix('\'') {
            Some(n) => n.parse::<u32>().unwrap() | HARDENED,
            None => e.parse::<u32>().unwrap(),
        })
        .collect()
}

/// A BIP-32 wallet over the RustCrypto `bip32` crate, counting how many
/// private and public keys it hands out.
pub struct Hd {
    pub master: XPrv,
    pub signing_keys_given: Cell<usize>,
    pub public_keys_given: Cell<usize>,
}

impl Hd {
    pub fn new(seed: &[u8]) -> Self {
        Self {
            master: XPrv::new(seed).unwrap(),
            signing_keys_given: Cell::new(0),
            public_keys_given: Cell::new(0),
        }
    }

    pub fn sk(&self, p: &[u32]) -> SigningKey {
        let mut k = self.master.clone();
        for &e in p {
            k = k.derive_child(ChildNumber(e)).unwrap();
        }
        k.private_key().clone()
    }

    pub fn pk(&self, p: &str) -> CompressedPublicKey {
        pubkey_of(&self.sk(&path(p)))
    }

    pub fn fp(&self) -> [u8; 4] {
        self.master.public_key().fingerprint()
    }
}

impl Secp256k1KeySource for Hd {
    fn master_fingerprint(&self) -> [u8; 4] {
        self.fp()
    }
    fn derive_signing_key(&self, p: &[u32]) -> Result<SigningKey, BitcoinError> {
        self.signing_keys_given
            .set(self.signing_keys_given.get() + 1);
        Ok(self.sk(p))
    }
    fn derive_public_key(&self, p: &[u32]) -> Result<CompressedPublicKey, BitcoinError> {
        self.public_keys_given.set(self.public_keys_given.get() + 1);
        Ok(pubkey_of(&self.sk(p)))
    }
}

/// A key wallet: one key, its own fingerprint, the path `m`.
pub struct SingleKey(pub SigningKey);

impl SingleKey {
    pub fn pk(&self) -> CompressedPublicKey {
        pubkey_of(&self.0)
    }
}

impl Secp256k1KeySource for SingleKey {
    fn master_fingerprint(&self) -> [u8; 4] {
        use ripemd::Digest as _;
        let h: [u8; 20] =
            ripemd::Ripemd160::digest(sha2::Sha256::digest(self.pk().to_bytes())).into();
        [h[0], h[1], h[2], h[3]]
    }
    fn derive_signing_key(&self, p: &[u32]) -> Result<SigningKey, BitcoinError> {
        if p.is_empty() {
            Ok(self.0.clone())
        } else {
            Err(BitcoinError::KeyDerivation)
        }
    }
    fn is_single_key(&self) -> bool {
        true
    }
}

pub fn pubkey_of(sk: &SigningKey) -> CompressedPublicKey {
    CompressedPublicKey::from_slice(&sk.verifying_key().to_encoded_point(true).to_bytes()).unwrap()
}

pub fn btc_pk(pk: &CompressedPublicKey) -> bitcoin::secp256k1::PublicKey {
    bitcoin::secp256k1::PublicKey::from_slice(&pk.to_bytes()).unwrap()
}

pub fn btc_xonly(pk: &CompressedPublicKey) -> bitcoin::secp256k1::XOnlyPublicKey {
    bitcoin::secp256k1::XOnlyPublicKey::from_slice(&pk.x_only()).unwrap()
}

pub fn origin(fp: [u8; 4], p: &[u32]) -> (Fingerprint, DerivationPath) {
    let children: Vec<bitcoin::bip32::ChildNumber> = p
        .iter()
        .map(|&e| bitcoin::bip32::ChildNumber::from(e))
        .collect();
    (Fingerprint::from(fp), DerivationPath::from(children))
}

pub fn spk(pk: &CompressedPublicKey, t: AddressType) -> ScriptBuf {
    ScriptBuf::from_bytes(script_pubkey(pk, t))
}

pub fn txout(value: u64, script: ScriptBuf) -> BtcTxOut {
    BtcTxOut {
        value: Amount::from_sat(value),
        script_pubkey: script,
    }
}

/// An unsigned version-2 transaction spending `prevouts` to `outputs`.
pub fn unsigned_tx(prevouts: &[OutPoint], outputs: Vec<BtcTxOut>) -> BtcTx {
    BtcTx {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input: prevouts
            .iter()
            .map(|&previous_output| BtcTxIn {
                previous_output,
                script_sig: ScriptBuf::new(),
                sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
                witness: Witness::new(),
            })
            .collect(),
        output: outputs,
    }
}

pub fn outpoint(n: u8) -> OutPoint {
    OutPoint {
        txid: Txid::from_byte_array([n; 32]),
        vout: u32::from(n),
    }
}

/// A previous transaction paying `out` at output `vout`, and the outpoint.
pub fn prev_tx(out: BtcTxOut, vout: u32, salt: u8) -> (BtcTx, OutPoint) {
    let mut outputs: Vec<BtcTxOut> = (0..vout)
        .map(|i| txout(1_000 + u64::from(i), ScriptBuf::from_bytes(vec![0x51])))
        .collect();
    outputs.push(out);
    let tx = unsigned_tx(&[outpoint(salt)], outputs);
    let op = OutPoint {
        txid: tx.compute_txid(),
        vout,
    };
    (tx, op)
}

/// The PSBT as rust-bitcoin serializes it, read by our parser.
pub fn ours(p: &BtcPsbt) -> Psbt {
    Psbt::parse(&p.serialize()).unwrap()
}

pub fn psbt(tx: BtcTx, inputs: Vec<Input>, outputs: Vec<Output>) -> BtcPsbt {
    let mut p = BtcPsbt::from_unsigned_tx(tx).unwrap();
    assert_eq!(p.inputs.len(), inputs.len());
    assert_eq!(p.outputs.len(), outputs.len());
    p.inputs = inputs;
    p.outputs = outputs;
    p
}

/// An input of ours paying `t` to the key at `p`, with a witness UTXO.
pub fn our_input(hd: &Hd, p: &str, t: AddressType, value: u64) -> Input {
    let pk = hd.pk(p);
    let mut i = Input {
        witness_utxo: Some(txout(value, spk(&pk, t))),
        ..Default::default()
    };
    let ks = origin(hd.fp(), &path(p));
    match t {
        AddressType::P2tr => {
            i.tap_key_origins.insert(btc_xonly(&pk), (Vec::new(), ks));
            i.tap_internal_key = Some(btc_xonly(&pk));
        }
        _ => {
            i.bip32_derivation = BTreeMap::from([(btc_pk(&pk), ks)]);
        }
    }
    if t == AddressType::P2shP2wpkh {
        i.redeem_script = Some(spk(&pk, AddressType::P2wpkh));
    }
    i
}

pub fn with_sighash(mut i: Input, t: u32) -> Input {
    i.sighash_type = Some(PsbtSighashType::from_u32(t));
    i
}

/// An output paying `t` to the key at `p` (as its derivation says).
pub fn our_output(hd: &Hd, p: &str, t: AddressType) -> (ScriptBuf, Output) {
    let pk = hd.pk(p);
    let mut o = Output::default();
    let ks = origin(hd.fp(), &path(p));
    match t {
        AddressType::P2tr => {
            o.tap_key_origins.insert(btc_xonly(&pk), (Vec::new(), ks));
            o.tap_internal_key = Some(btc_xonly(&pk));
        }
        _ => {
            o.bip32_derivation = BTreeMap::from([(btc_pk(&pk), ks)]);
        }
    }
    (spk(&pk, t), o)
}
