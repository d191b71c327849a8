//! Known-answer tests for `wallet_core::bitcoin`, from the spec vectors kept
//! as data under `tests/vectors/bitcoin/` (sources in its README.md).
#![allow(clippy::unwrap_used)]

use std::str::FromStr;

use bip32::{ChildNumber, DerivationPath, Prefix, XPrv};
use k256::ecdsa::SigningKey;
use serde_json::Value;
use wallet_core::bitcoin::*;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn h32(s: &str) -> [u8; 32] {
    h(s).try_into().unwrap()
}

fn load(name: &str) -> Value {
    let path = format!(
        "{}/tests/vectors/bitcoin/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn parse_path(p: &str) -> Vec<u32> {
    DerivationPath::from_str(p)
        .unwrap()
        .iter()
        .map(|c| c.into())
        .collect()
}

fn seed(phrase: &str) -> [u8; 64] {
    bip39::Mnemonic::parse(phrase).unwrap().to_seed("")
}

/// A BIP-32 key source backed by the `bip32` crate (an independent implementation).
struct Bip32Keys(XPrv);

impl Bip32Keys {
    fn from_mnemonic(phrase: &str) -> Self {
        Self(XPrv::new(seed(phrase)).unwrap())
    }
}

impl Secp256k1KeySource for Bip32Keys {
    fn master_fingerprint(&self) -> [u8; 4] {
        self.0.public_key().fingerprint()
    }
    fn derive_signing_key(&self, path: &[u32]) -> Result<SigningKey, BitcoinError> {
        let mut k = self.0.clone();
        for &e in path {
            k = k
                .derive_child(ChildNumber(e))
                .map_err(|_| BitcoinError::KeyDerivation)?;
        }
        Ok(k.private_key().clone())
    }
}

/// A key source holding explicit keys by path (for the BIP-143/341 examples).
struct FixedKeys(Vec<(Vec<u32>, SigningKey)>);

const FIXED_FP: [u8; 4] = [0xd3, 0x4d, 0xb3, 0x3f];

impl Secp256k1KeySource for FixedKeys {
    fn master_fingerprint(&self) -> [u8; 4] {
        FIXED_FP
    }
    fn derive_signing_key(&self, path: &[u32]) -> Result<SigningKey, BitcoinError> {
        self.0
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, k)| k.clone())
            .ok_or(BitcoinError::KeyDerivation)
    }
}

fn pubkey_of(sk: &SigningKey) -> CompressedPublicKey {
    CompressedPublicKey::from_slice(&sk.verifying_key().to_encoded_point(true).to_bytes()).unwrap()
}

// ---- a tiny PSBT writer for building test inputs ----

fn compact(out: &mut Vec<u8>, n: usize) {
    if n < 0xfd {
        out.push(n as u8);
    } else {
        out.push(0xfd);
        out.extend_from_slice(&(n as u16).to_le_bytes());
    }
}

type Kv = Vec<(Vec<u8>, Vec<u8>)>;

fn psbt_bytes(unsigned_tx: &[u8], inputs: &[Kv], outputs: &[Kv]) -> Vec<u8> {
    let mut out = b"psbt\xff".to_vec();
    let mut maps = vec![vec![(vec![0u8], unsigned_tx.to_vec())]];
    maps.extend(inputs.iter().cloned());
    maps.extend(outputs.iter().cloned());
    for m in maps {
        for (k, v) in m {
            compact(&mut out, k.len());
            out.extend_from_slice(&k);
            compact(&mut out, v.len());
            out.extend_from_slice(&v);
        }
        out.push(0);
    }
    out
}

fn witness_utxo(value: u64, spk: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut v = value.to_le_bytes().to_vec();
    compact(&mut v, spk.len());
    v.extend_from_slice(spk);
    (vec![0x01], v)
}

fn origin(fp: [u8; 4], path: &[u32]) -> Vec<u8> {
    let mut v = fp.to_vec();
    for e in path {
        v.extend_from_slice(&e.to_le_bytes());
    }
    v
}

fn bip32_derivation(
    ty: u8,
    pk: &CompressedPublicKey,
    fp: [u8; 4],
    path: &[u32],
) -> (Vec<u8>, Vec<u8>) {
    let mut k = vec![ty];
    k.extend_from_slice(&pk.to_bytes());
    (k, origin(fp, path))
}

fn tap_derivation(ty: u8, x: &[u8; 32], fp: [u8; 4], path: &[u32]) -> (Vec<u8>, Vec<u8>) {
    let mut k = vec![ty];
    k.extend_from_slice(x);
    let mut v = vec![0u8]; // no leaf hashes: key path
    v.extend_from_slice(&origin(fp, path));
    (k, v)
}

fn input_field(psbt: &Psbt, i: usize, key: &[u8]) -> Option<Vec<u8>> {
    // Re-parse through the public serializer: find key in input map i.
    let bytes = psbt.serialize();
    let mut pos = 5;
    let read_compact = |pos: &mut usize| -> usize {
        let b = bytes[*pos];
        *pos += 1;
        if b < 0xfd {
            b as usize
        } else {
            let v = u16::from_le_bytes([bytes[*pos], bytes[*pos + 1]]) as usize;
            *pos += 2;
            v
        }
    };
    let mut map_index = 0usize;
    loop {
        let kl = read_compact(&mut pos);
        if kl == 0 {
            map_index += 1;
            if map_index > psbt.unsigned_tx().inputs.len() {
                return None;
            }
            continue;
        }
        let k = bytes[pos..pos + kl].to_vec();
        pos += kl;
        let vl = read_compact(&mut pos);
        let v = bytes[pos..pos + vl].to_vec();
        pos += vl;
        if map_index == i + 1 && k == key {
            return Some(v);
        }
    }
}

// ---- addresses ----

#[test]
fn bip84_addresses_from_the_published_public_keys() {
    let v = load("addresses.json");
    for a in v["bip84"]["addresses"].as_array().unwrap() {
        let pk = CompressedPublicKey::from_slice(&h(a["pubkey"].as_str().unwrap())).unwrap();
        assert_eq!(
            address(&pk, AddressType::P2wpkh, Network::Bitcoin).unwrap(),
            a["address"].as_str().unwrap()
        );
    }
}

#[test]
fn bip84_keys_derive_from_the_mnemonic_at_the_default_paths() {
    let v = load("addresses.json");
    let keys = Bip32Keys::from_mnemonic(v["mnemonic"].as_str().unwrap());
    let paths = [(0, 0), (0, 1), (1, 0)];
    for (a, (change, index)) in v["bip84"]["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .zip(paths)
    {
        let path = default_path(AddressType::P2wpkh, Network::Bitcoin, 0, change, index).unwrap();
        assert_eq!(format_path(&path), a["path"].as_str().unwrap());
        let pk = keys.derive_public_key(&path).unwrap();
        assert_eq!(pk.to_bytes().to_vec(), h(a["pubkey"].as_str().unwrap()));
    }
}

#[test]
fn bip86_taproot_keys_scripts_and_addresses() {
    let v = load("addresses.json");
    let keys = Bip32Keys::from_mnemonic(v["mnemonic"].as_str().unwrap());
    for a in v["bip86"]["addresses"].as_array().unwrap() {
        let path = parse_path(a["path"].as_str().unwrap());
        let pk = keys.derive_public_key(&path).unwrap();
        assert_eq!(pk.x_only(), h32(a["internal_key"].as_str().unwrap()));
        let (q, _) = taproot_tweak_public_key(&pk.x_only(), None).unwrap();
        assert_eq!(q, h32(a["output_key"].as_str().unwrap()));
        assert_eq!(
            script_pubkey(&pk, AddressType::P2tr),
            h(a["script_pubkey"].as_str().unwrap())
        );
        assert_eq!(
            address(&pk, AddressType::P2tr, Network::Bitcoin).unwrap(),
            a["address"].as_str().unwrap()
        );
    }
    // The account xpub the descriptor is built from.
    let acct = account_path(AddressType::P2tr, Network::Bitcoin, 0).unwrap();
    assert_eq!(
        format_path(&acct),
        v["bip86"]["account_path"].as_str().unwrap()
    );
    let xprv = XPrv::derive_from_path(
        seed(v["mnemonic"].as_str().unwrap()),
        &"m/86'/0'/0'".parse().unwrap(),
    )
    .unwrap();
    assert_eq!(
        xprv.public_key().to_string(Prefix::XPUB),
        v["bip86"]["account_xpub"].as_str().unwrap()
    );
}

#[test]
fn bip49_testnet_nested_segwit_address() {
    let v = &load("addresses.json")["bip49_testnet"];
    let pk = CompressedPublicKey::from_slice(&h(v["pubkey"].as_str().unwrap())).unwrap();
    assert_eq!(
        address(&pk, AddressType::P2shP2wpkh, Network::Testnet).unwrap(),
        v["address"].as_str().unwrap()
    );
    // Signet shares testnet's encodings; regtest shares its base58 versions.
    assert_eq!(
        address(&pk, AddressType::P2shP2wpkh, Network::Signet).unwrap(),
        v["address"].as_str().unwrap()
    );
    let path = default_path(AddressType::P2shP2wpkh, Network::Testnet, 0, 0, 0).unwrap();
    assert_eq!(format_path(&path), v["path"].as_str().unwrap());
    let keys = Bip32Keys::from_mnemonic(load("addresses.json")["mnemonic"].as_str().unwrap());
    assert_eq!(keys.derive_public_key(&path).unwrap(), pk);
}

#[test]
fn slip132_first_addresses_of_purposes_44_49_84() {
    let v = load("addresses.json");
    let keys = Bip32Keys::from_mnemonic(v["mnemonic"].as_str().unwrap());
    for a in v["slip132"]["addresses"].as_array().unwrap() {
        let t: AddressType = a["type"].as_str().unwrap().parse().unwrap();
        let path = default_path(t, Network::Bitcoin, 0, 0, 0).unwrap();
        assert_eq!(format_path(&path), a["path"].as_str().unwrap());
        let pk = keys.derive_public_key(&path).unwrap();
        assert_eq!(
            address(&pk, t, Network::Bitcoin).unwrap(),
            a["address"].as_str().unwrap()
        );
    }
}

#[test]
fn test_network_encodings() {
    let v = load("addresses.json");
    let pk =
        CompressedPublicKey::from_slice(&h(v["bip84"]["addresses"][0]["pubkey"].as_str().unwrap()))
            .unwrap();
    let tb = address(&pk, AddressType::P2wpkh, Network::Testnet).unwrap();
    assert!(tb.starts_with("tb1q"));
    assert_eq!(
        address(&pk, AddressType::P2wpkh, Network::Signet).unwrap(),
        tb
    );
    assert!(
        address(&pk, AddressType::P2wpkh, Network::Regtest)
            .unwrap()
            .starts_with("bcrt1q")
    );
    assert!(
        address(&pk, AddressType::P2tr, Network::Regtest)
            .unwrap()
            .starts_with("bcrt1p")
    );
    let m = address(&pk, AddressType::P2pkh, Network::Testnet).unwrap();
    assert!(m.starts_with('m') || m.starts_with('n'));
    assert!(
        address(&pk, AddressType::P2shP2wpkh, Network::Regtest)
            .unwrap()
            .starts_with('2')
    );
}

// ---- descriptors ----

#[test]
fn bip380_checksum_vectors() {
    let v = load("bip380-checksums.json");
    for d in v["valid"]
        .as_array()
        .unwrap()
        .iter()
        .chain(v["bip393"]["valid"].as_array().unwrap())
    {
        let d = d.as_str().unwrap();
        assert!(verify_checksum(d), "{d}");
        let (body, sum) = d.rsplit_once('#').unwrap();
        assert_eq!(descriptor_checksum(body).unwrap(), sum);
    }
    for c in v["invalid"].as_array().unwrap() {
        assert!(
            !verify_checksum(c["descriptor"].as_str().unwrap()),
            "{}",
            c["case"]
        );
    }
}

#[test]
fn account_descriptors_for_every_address_type() {
    let v = load("addresses.json");
    let xpub = v["bip86"]["account_xpub"].as_str().unwrap();
    let keys = Bip32Keys::from_mnemonic(v["mnemonic"].as_str().unwrap());
    let fp = keys.master_fingerprint();
    let acct = account_path(AddressType::P2tr, Network::Bitcoin, 0).unwrap();
    let d = account_descriptor(AddressType::P2tr, fp, &acct, xpub).unwrap();
    assert!(
        d.starts_with(&format!("tr([73c5da0a/86'/0'/0']{xpub}/<0;1>/*)#")),
        "{d}"
    );
    assert!(verify_checksum(&d));
    let acct = account_path(AddressType::P2pkh, Network::Bitcoin, 0).unwrap();
    let x44 = v["slip132"]["addresses"][0]["account_xpub"]
        .as_str()
        .unwrap();
    let d = account_descriptor(AddressType::P2pkh, fp, &acct, x44).unwrap();
    assert!(d.starts_with("pkh([73c5da0a/44'/0'/0']xpub6Bos"));
    let d = account_descriptor(AddressType::P2shP2wpkh, fp, &acct, x44).unwrap();
    assert!(d.starts_with("sh(wpkh([73c5da0a/44'/0'/0']") && d.contains("/<0;1>/*))#"));
    let d = account_descriptor(AddressType::P2wpkh, [0xd3, 0x4d, 0xb3, 0x3f], &acct, x44).unwrap();
    assert!(d.starts_with("wpkh([d34db33f/"));
    assert!(account_descriptor(AddressType::P2wpkh, fp, &acct, "xpubnotakey").is_err());
    // A zpub is not a BIP-32 xpub/tpub serialization.
    assert!(
        account_descriptor(
            AddressType::P2wpkh,
            fp,
            &acct,
            v["bip84"]["account_xpub_zpub"].as_str().unwrap()
        )
        .is_err()
    );
}

// ---- sighashes ----

#[test]
fn legacy_sighash_matches_bitcoin_core_vectors() {
    let v = load("sighash-legacy.json");
    for t in v["vectors"].as_array().unwrap() {
        let tx = Transaction::parse(&h(t[0].as_str().unwrap())).unwrap();
        let script = h(t[1].as_str().unwrap());
        let idx = t[2].as_u64().unwrap() as usize;
        let ht = t[3].as_i64().unwrap() as i32 as u32;
        let mut got = legacy_sighash(&tx, idx, &script, ht);
        got.reverse();
        assert_eq!(hex::encode(got), t[4].as_str().unwrap());
    }
}

#[test]
fn bip143_examples_sighash_and_signature() {
    let v = load("bip143.json");
    for name in ["native_p2wpkh", "p2sh_p2wpkh"] {
        let e = &v[name];
        let tx = Transaction::parse(&h(e["unsigned_tx"].as_str().unwrap())).unwrap();
        let idx = e["input_index"].as_u64().unwrap() as usize;
        let sighash = segwit_v0_sighash(
            &tx,
            idx,
            &h(e["script_code"].as_str().unwrap()),
            e["amount_sats"].as_u64().unwrap(),
            e["hash_type"].as_u64().unwrap() as u32,
        )
        .unwrap();
        assert_eq!(
            hex::encode(sighash),
            e["sighash"].as_str().unwrap(),
            "{name}"
        );
        let sk = SigningKey::from_slice(&h(e["private_key"].as_str().unwrap())).unwrap();
        assert_eq!(
            pubkey_of(&sk).to_bytes().to_vec(),
            h(e["public_key"].as_str().unwrap())
        );
    }
}

/// The BIP-143 examples through the whole signer: PSBT in, finalized tx out.
#[test]
fn bip143_examples_through_sign_psbt() {
    let v = load("bip143.json");
    // P2SH-P2WPKH: the only input is ours, so the transaction is extracted.
    let e = &v["p2sh_p2wpkh"];
    let sk = SigningKey::from_slice(&h(e["private_key"].as_str().unwrap())).unwrap();
    let pk = pubkey_of(&sk);
    let path = vec![HARDENED | 49, HARDENED | 1, HARDENED, 0, 0];
    let inputs = vec![vec![
        witness_utxo(
            e["amount_sats"].as_u64().unwrap(),
            &h(e["script_pubkey"].as_str().unwrap()),
        ),
        bip32_derivation(0x06, &pk, FIXED_FP, &path),
    ]];
    let unsigned = h(e["unsigned_tx"].as_str().unwrap());
    let psbt = Psbt::parse(&psbt_bytes(&unsigned, &inputs, &[vec![], vec![]])).unwrap();
    let keys = FixedKeys(vec![(path.clone(), sk)]);
    let out = sign_psbt(
        &psbt,
        &keys,
        &SignOptions {
            finalize: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(out.signed_inputs, vec![0]);
    let tx = out.transaction.unwrap();
    let expected = Transaction::parse(&h(e["signed_tx"].as_str().unwrap())).unwrap();
    let got = Transaction::parse(&tx).unwrap();
    // RFC 6979 nonces: the signature is the published one, byte for byte.
    assert_eq!(got, expected);
    assert_eq!(hex::encode(&tx), e["signed_tx"].as_str().unwrap());
    assert_eq!(out.txid.unwrap(), expected.txid_hex());

    // Native P2WPKH: input 0 is someone else's P2PK, so only a partial signature.
    let e = &v["native_p2wpkh"];
    let sk = SigningKey::from_slice(&h(e["private_key"].as_str().unwrap())).unwrap();
    let pk = pubkey_of(&sk);
    let path = vec![HARDENED | 84, HARDENED, HARDENED, 0, 1];
    let inputs = vec![
        vec![],
        vec![
            witness_utxo(
                e["amount_sats"].as_u64().unwrap(),
                &h(e["script_pubkey"].as_str().unwrap()),
            ),
            bip32_derivation(0x06, &pk, FIXED_FP, &path),
        ],
    ];
    let unsigned = h(e["unsigned_tx"].as_str().unwrap());
    let psbt = Psbt::parse(&psbt_bytes(&unsigned, &inputs, &[vec![], vec![]])).unwrap();
    let keys = FixedKeys(vec![(path, sk)]);
    let out = sign_psbt(
        &psbt,
        &keys,
        &SignOptions {
            finalize: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(out.signed_inputs, vec![1]);
    assert!(out.transaction.is_none());
    let mut partial_key = vec![0x02];
    partial_key.extend_from_slice(&pk.to_bytes());
    let fin = input_field(&out.psbt, 1, &[0x08]).unwrap();
    let sig = h(e["signature"].as_str().unwrap());
    // final witness = [sig, pubkey]
    let mut expected = vec![2u8, sig.len() as u8];
    expected.extend_from_slice(&sig);
    expected.push(33);
    expected.extend_from_slice(&pk.to_bytes());
    assert_eq!(fin, expected);
    assert!(
        input_field(&out.psbt, 1, &partial_key).is_none(),
        "finalizer clears partial sigs"
    );
}

#[test]
fn bip341_scriptpubkey_vectors() {
    let v = load("bip341-wallet-test-vectors.json");
    for t in v["scriptPubKey"].as_array().unwrap() {
        let internal = h32(t["given"]["internalPubkey"].as_str().unwrap());
        let root = t["intermediary"]["merkleRoot"].as_str().map(h32);
        let (q, _) = taproot_tweak_public_key(&internal, root.as_ref()).unwrap();
        assert_eq!(
            hex::encode(q),
            t["intermediary"]["tweakedPubkey"].as_str().unwrap()
        );
        let mut spk = vec![0x51, 0x20];
        spk.extend_from_slice(&q);
        assert_eq!(
            hex::encode(&spk),
            t["expected"]["scriptPubKey"].as_str().unwrap()
        );
        assert_eq!(
            address_from_script(&spk, Network::Bitcoin).unwrap(),
            t["expected"]["bip350Address"].as_str().unwrap()
        );
    }
}

#[test]
fn bip341_key_path_sighashes_tweaks_and_signatures() {
    let v = load("bip341-wallet-test-vectors.json");
    let kp = &v["keyPathSpending"][0];
    let tx = Transaction::parse(&h(kp["given"]["rawUnsignedTx"].as_str().unwrap())).unwrap();
    let utxos: Vec<TxOut> = kp["given"]["utxosSpent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| TxOut {
            value: u["amountSats"].as_u64().unwrap(),
            script_pubkey: h(u["scriptPubKey"].as_str().unwrap()),
        })
        .collect();
    let cases = kp["inputSpending"].as_array().unwrap();
    assert!(cases.len() >= 7);
    for c in cases {
        let idx = c["given"]["txinIndex"].as_u64().unwrap() as usize;
        let ht = c["given"]["hashType"].as_u64().unwrap() as u8;
        let root = c["given"]["merkleRoot"].as_str().map(h32);
        let msg = taproot_sigmsg(&tx, idx, Prevouts::All(&utxos), ht).unwrap();
        // The vectors' sigMsg includes the 0x00 epoch byte of hashTapSighash.
        assert_eq!(
            format!("00{}", hex::encode(&msg)),
            c["intermediary"]["sigMsg"].as_str().unwrap()
        );
        let sighash = taproot_key_spend_sighash(&tx, idx, Prevouts::All(&utxos), ht).unwrap();
        assert_eq!(
            hex::encode(sighash),
            c["intermediary"]["sigHash"].as_str().unwrap()
        );
        if ht & 0x80 != 0 {
            let one = taproot_key_spend_sighash(&tx, idx, Prevouts::One(&utxos[idx]), ht).unwrap();
            assert_eq!(one, sighash);
        }
        let sk =
            SigningKey::from_slice(&h(c["given"]["internalPrivkey"].as_str().unwrap())).unwrap();
        assert_eq!(
            hex::encode(pubkey_of(&sk).x_only()),
            c["intermediary"]["internalPubkey"].as_str().unwrap()
        );
        let tweaked = taproot_tweaked_signing_key(&sk, root.as_ref()).unwrap();
        let expected_tweaked =
            k256::schnorr::SigningKey::from_bytes(&h(c["intermediary"]["tweakedPrivkey"]
                .as_str()
                .unwrap()))
            .unwrap();
        assert_eq!(tweaked.verifying_key(), expected_tweaked.verifying_key());
        // The vectors' signatures use all-zero aux randomness.
        let sig = tweaked.sign_raw(&sighash, &[0u8; 32]).unwrap();
        let mut w = sig.to_bytes().to_vec();
        if ht != 0 {
            w.push(ht);
        }
        assert_eq!(
            hex::encode(w),
            c["expected"]["witness"][0].as_str().unwrap()
        );
    }
}

/// BIP-341's key-path transaction through the whole signer: every
/// taproot input signed from one PSBT, witnesses byte for byte.
#[test]
fn bip341_key_path_vectors_through_sign_psbt() {
    let v = load("bip341-wallet-test-vectors.json");
    let kp = &v["keyPathSpending"][0];
    let unsigned = h(kp["given"]["rawUnsignedTx"].as_str().unwrap());
    let utxos = kp["given"]["utxosSpent"].as_array().unwrap();
    let mut inputs: Vec<Kv> = utxos
        .iter()
        .map(|u| {
            vec![witness_utxo(
                u["amountSats"].as_u64().unwrap(),
                &h(u["scriptPubKey"].as_str().unwrap()),
            )]
        })
        .collect();
    let mut keys = Vec::new();
    let mut expected = Vec::new();
    for c in kp["inputSpending"].as_array().unwrap() {
        let idx = c["given"]["txinIndex"].as_u64().unwrap() as usize;
        let sk =
            SigningKey::from_slice(&h(c["given"]["internalPrivkey"].as_str().unwrap())).unwrap();
        let x = pubkey_of(&sk).x_only();
        let path = vec![HARDENED | 86, HARDENED, HARDENED, 0, idx as u32];
        inputs[idx].push(tap_derivation(0x16, &x, FIXED_FP, &path));
        inputs[idx].push((vec![0x17], x.to_vec()));
        if let Some(r) = c["given"]["merkleRoot"].as_str() {
            inputs[idx].push((vec![0x18], h(r)));
        }
        inputs[idx].push((
            vec![0x03],
            (c["given"]["hashType"].as_u64().unwrap() as u32)
                .to_le_bytes()
                .to_vec(),
        ));
        keys.push((path, sk));
        expected.push((idx, h(c["expected"]["witness"][0].as_str().unwrap())));
    }
    let tx = Transaction::parse(&unsigned).unwrap();
    let outputs = vec![vec![]; tx.outputs.len()];
    let psbt = Psbt::parse(&psbt_bytes(&unsigned, &inputs, &outputs)).unwrap();
    // The vectors use every sighash type: refused by default, before any
    // signature (input 0 asks for SIGHASH_SINGLE, 0x03)...
    let keys = FixedKeys(keys);
    assert_eq!(
        sign_psbt(&psbt, &keys, &SignOptions::default()),
        Err(BitcoinError::SighashNotAllowed {
            index: 0,
            sighash: 0x03
        })
    );
    // ...and signed when allowed.
    let options = SignOptions {
        allowed_sighash: [0x02, 0x03, 0x81, 0x82, 0x83].to_vec(),
        ..Default::default()
    };
    let out = sign_psbt(&psbt, &keys, &options).unwrap();
    let mut want: Vec<usize> = expected.iter().map(|(i, _)| *i).collect();
    want.sort();
    assert_eq!(out.signed_inputs, want);
    for (idx, w) in expected {
        assert_eq!(
            input_field(&out.psbt, idx, &[0x13]).unwrap(),
            w,
            "input {idx}"
        );
    }
}

// ---- BIP-174 ----

#[test]
fn bip174_invalid_psbts_are_rejected() {
    let v = load("bip174.json");
    for c in v["invalid"].as_array().unwrap() {
        assert!(
            Psbt::from_base64(c["base64"].as_str().unwrap()).is_err(),
            "accepted: {}",
            c["case"]
        );
    }
}

#[test]
fn bip174_valid_psbts_parse_and_round_trip() {
    let v = load("bip174.json");
    for c in v["valid"].as_array().unwrap() {
        let b64 = c["base64"].as_str().unwrap();
        let p = Psbt::from_base64(b64).unwrap_or_else(|e| panic!("{}: {e}", c["case"]));
        assert_eq!(p.to_base64(), b64, "{}", c["case"]);
    }
}

/// BIP-174's signer-check failures, with the BIP's own master key: none of
/// them may yield a signature.
#[test]
fn bip174_signer_checks_refuse_to_sign() {
    let v = load("bip174.json");
    let tprv = "tprv8ZgxMBicQKsPd9TeAdPADNnSyH9SSUUbTVeFszDE23Ki6TBB5nCefAdHkK8Fm3qMQR6sHwA56zqRmKmxnHk37JkiFzvncDqoKmPWubu7hDF";
    let keys = Bip32Keys(XPrv::from_str(tprv).unwrap());
    for c in v["fails_signer_checks"].as_array().unwrap() {
        let p = Psbt::from_base64(c["base64"].as_str().unwrap()).unwrap();
        let r = sign_psbt(&p, &keys, &SignOptions::default());
        assert!(r.is_err(), "signed: {}", c["case"]);
    }
}
