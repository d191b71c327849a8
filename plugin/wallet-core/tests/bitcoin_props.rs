//! Property tests: the PSBT parser never panics on hostile bytes, and every
//! signature the signer makes verifies against the derived key.
#![allow(clippy::unwrap_used)]

use k256::ecdsa::signature::hazmat::PrehashVerifier;
use k256::ecdsa::{Signature, SigningKey};
use proptest::prelude::*;
use wallet_core::bitcoin::*;

struct OneKey(SigningKey);

const FP: [u8; 4] = [1, 2, 3, 4];

impl Secp256k1KeySource for OneKey {
    fn master_fingerprint(&self) -> [u8; 4] {
        FP
    }
    fn derive_signing_key(&self, path: &[u32]) -> Result<SigningKey, BitcoinError> {
        if path.len() == 5 {
            Ok(self.0.clone())
        } else {
            Err(BitcoinError::KeyDerivation)
        }
    }
}

fn compact(out: &mut Vec<u8>, n: usize) {
    assert!(n < 0xfd);
    out.push(n as u8);
}

type Kv = Vec<(Vec<u8>, Vec<u8>)>;

fn psbt_bytes(unsigned_tx: &[u8], maps: &[Kv]) -> Vec<u8> {
    let mut out = b"psbt\xff".to_vec();
    out.push(1);
    out.push(0);
    if unsigned_tx.len() < 0xfd {
        out.push(unsigned_tx.len() as u8);
    } else {
        out.push(0xfd);
        out.extend_from_slice(&(unsigned_tx.len() as u16).to_le_bytes());
    }
    out.extend_from_slice(unsigned_tx);
    out.push(0);
    for m in maps {
        for (k, v) in m {
            compact(&mut out, k.len());
            out.extend_from_slice(k);
            if v.len() < 0xfd {
                compact(&mut out, v.len());
            } else {
                out.push(0xfd);
                out.extend_from_slice(&(v.len() as u16).to_le_bytes());
            }
            out.extend_from_slice(v);
        }
        out.push(0);
    }
    out
}

fn origin(path: &[u32]) -> Vec<u8> {
    let mut v = FP.to_vec();
    for e in path {
        v.extend_from_slice(&e.to_le_bytes());
    }
    v
}

fn txout(value: u64, spk: &[u8]) -> Vec<u8> {
    let mut v = value.to_le_bytes().to_vec();
    compact(&mut v, spk.len());
    v.extend_from_slice(spk);
    v
}

/// A transaction spending `prevouts` (txid, vout) to two outputs.
fn tx_bytes(prevouts: &[([u8; 32], u32)], outputs: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut t = 2u32.to_le_bytes().to_vec();
    t.push(prevouts.len() as u8);
    for (txid, vout) in prevouts {
        t.extend_from_slice(txid);
        t.extend_from_slice(&vout.to_le_bytes());
        t.push(0);
        t.extend_from_slice(&0xffff_fffdu32.to_le_bytes());
    }
    t.push(outputs.len() as u8);
    for (v, s) in outputs {
        t.extend_from_slice(&txout(*v, s));
    }
    t.extend_from_slice(&0u32.to_le_bytes());
    t
}

fn field(psbt: &Psbt, input: usize, key: &[u8]) -> Option<Vec<u8>> {
    // Our own parse exposes no map accessor publicly; search the bytes of a
    // re-serialization instead, walking the maps.
    let b = psbt.serialize();
    let mut pos = 5;
    let mut map = 0;
    let rd = |pos: &mut usize| -> usize {
        let x = b[*pos];
        *pos += 1;
        if x < 0xfd {
            x as usize
        } else {
            let v = u16::from_le_bytes([b[*pos], b[*pos + 1]]) as usize;
            *pos += 2;
            v
        }
    };
    while pos < b.len() {
        let kl = rd(&mut pos);
        if kl == 0 {
            map += 1;
            continue;
        }
        let k = b[pos..pos + kl].to_vec();
        pos += kl;
        let vl = rd(&mut pos);
        let v = b[pos..pos + vl].to_vec();
        pos += vl;
        if map == input + 1 && k == key {
            return Some(v);
        }
    }
    None
}

const ECDSA_TYPES: [u32; 6] = [0x01, 0x02, 0x03, 0x81, 0x82, 0x83];
const TAPROOT_TYPES: [u32; 7] = [0x00, 0x01, 0x02, 0x03, 0x81, 0x82, 0x83];

/// Options that allow every sighash type (these tests exercise the signer).
fn any_sighash(finalize: bool, aux_rand: [u8; 32]) -> SignOptions {
    SignOptions {
        finalize,
        aux_rand,
        allowed_sighash: TAPROOT_TYPES.to_vec(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = Psbt::parse(&bytes);
        let mut with_magic = b"psbt\xff".to_vec();
        with_magic.extend_from_slice(&bytes);
        let _ = Psbt::parse(&with_magic);
        let _ = Transaction::parse(&bytes);
        let _ = Psbt::from_base64(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_valid_psbts_never_panic(
        secret in any::<[u8; 32]>(),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let Ok(sk) = SigningKey::from_slice(&secret) else { return Ok(()); };
        let (bytes, _) = three_input_psbt(&sk, [1, 0, 0x81]);
        let mut b = bytes.clone();
        for (at, x) in flips {
            let n = b.len();
            b[at % n] ^= x;
        }
        b.truncate(cut % (bytes.len() + 1));
        if let Ok(p) = Psbt::parse(&b) {
            let keys = OneKey(sk);
            let _ = sign_psbt(&p, &keys, &any_sighash(true, [7; 32]));
            let _ = summarize_psbt(&p, &keys, Network::Regtest);
        }
    }

    #[test]
    fn every_signature_verifies_for_random_keys_and_sighash_types(
        secret in any::<[u8; 32]>(),
        t in (0usize..6, 0usize..6, 0usize..7),
        aux in any::<[u8; 32]>(),
    ) {
        let Ok(sk) = SigningKey::from_slice(&secret) else { return Ok(()); };
        let types = [ECDSA_TYPES[t.0], ECDSA_TYPES[t.1], TAPROOT_TYPES[t.2]];
        let (bytes, prev) = three_input_psbt(&sk, types);
        let psbt = Psbt::parse(&bytes).unwrap();
        let keys = OneKey(sk.clone());
        let out = sign_psbt(&psbt, &keys, &any_sighash(false, aux)).unwrap();
        prop_assert_eq!(&out.signed_inputs, &vec![0, 1, 2]);
        let tx = psbt.unsigned_tx();
        let pk = CompressedPublicKey::from_slice(&sk.verifying_key().to_encoded_point(true).to_bytes()).unwrap();
        let mut key = vec![0x02];
        key.extend_from_slice(&pk.to_bytes());
        let vk = sk.verifying_key();

        // input 0: P2WPKH, BIP-143
        let sig = field(&out.psbt, 0, &key).unwrap();
        prop_assert_eq!(u32::from(*sig.last().unwrap()), types[0]);
        let der = Signature::from_der(&sig[..sig.len() - 1]).unwrap();
        prop_assert!(der.normalize_s().is_none(), "low-S");
        let h = hash160(&pk.to_bytes());
        let mut code = vec![0x76, 0xa9, 0x14];
        code.extend_from_slice(&h);
        code.extend_from_slice(&[0x88, 0xac]);
        let digest = segwit_v0_sighash(tx, 0, &code, prev[0].value, types[0]).unwrap();
        prop_assert!(vk.verify_prehash(&digest, &der).is_ok());

        // input 1: P2PKH, legacy
        let sig = field(&out.psbt, 1, &key).unwrap();
        let der = Signature::from_der(&sig[..sig.len() - 1]).unwrap();
        let digest = legacy_sighash(tx, 1, &prev[1].script_pubkey, types[1]);
        prop_assert!(vk.verify_prehash(&digest, &der).is_ok());

        // input 2: P2TR key path, BIP-341, verified against the output key
        let sig = field(&out.psbt, 2, &[0x13]).unwrap();
        prop_assert_eq!(sig.len(), if types[2] == 0 { 64 } else { 65 });
        let digest = taproot_key_spend_sighash(tx, 2, Prevouts::All(&prev), types[2] as u8).unwrap();
        let (q, _) = taproot_tweak_public_key(&pk.x_only(), None).unwrap();
        let qk = k256::schnorr::VerifyingKey::from_bytes(&q).unwrap();
        let s = k256::schnorr::Signature::try_from(&sig[..64]).unwrap();
        prop_assert!(qk.verify_raw(&digest, &s).is_ok());

        // Finalizing and extracting gives a transaction with every input's data.
        let fin = sign_psbt(&psbt, &keys, &any_sighash(true, aux)).unwrap();
        let raw = fin.transaction.unwrap();
        let signed = Transaction::parse(&raw).unwrap();
        prop_assert_eq!(signed.inputs[0].witness.len(), 2);
        prop_assert!(!signed.inputs[1].script_sig.is_empty());
        prop_assert_eq!(signed.inputs[2].witness.len(), 1);
        prop_assert_eq!(fin.txid.unwrap(), signed.txid_hex());
    }
}

/// hash160 for the tests (RIPEMD160 ∘ SHA256) via the address module.
fn hash160(pk: &[u8]) -> [u8; 20] {
    use ripemd::Digest as _;
    let s = sha2::Sha256::digest(pk);
    ripemd::Ripemd160::digest(s).into()
}

/// A PSBT with a P2WPKH, a P2PKH and a P2TR input of `sk`, with the given
/// sighash types, three outputs (the second is change to us, P2WPKH on the
/// internal chain `m/84'/0'/0'/1/1`).
fn three_input_psbt(sk: &SigningKey, types: [u32; 3]) -> (Vec<u8>, Vec<TxOut>) {
    let pk = CompressedPublicKey::from_slice(&sk.verifying_key().to_encoded_point(true).to_bytes())
        .unwrap();
    let spk_w = script_pubkey(&pk, AddressType::P2wpkh);
    let spk_l = script_pubkey(&pk, AddressType::P2pkh);
    let spk_t = script_pubkey(&pk, AddressType::P2tr);
    // The legacy input's previous transaction.
    let prev_tx = tx_bytes(&[([9; 32], 0)], &[(50_000, spk_l.clone())]);
    let prev_txid = Transaction::parse(&prev_tx).unwrap().txid_bytes();
    let unsigned = tx_bytes(
        &[([1; 32], 0), (prev_txid, 0), ([3; 32], 1)],
        &[
            (
                70_000,
                vec![0x00, 0x14].into_iter().chain([0xaa; 20]).collect(),
            ),
            (20_000, spk_w.clone()),
            (1_000, spk_t.clone()),
        ],
    );
    let path = |i: u32| vec![0x8000_0054, 0x8000_0000, 0x8000_0000, 0, i];
    let mut kw = vec![0x06];
    kw.extend_from_slice(&pk.to_bytes());
    let mut kt = vec![0x16];
    kt.extend_from_slice(&pk.x_only());
    let mut tap_origin = vec![0u8];
    tap_origin.extend_from_slice(&origin(&path(2)));
    let ty = |t: u32| (vec![0x03], t.to_le_bytes().to_vec());
    let maps = vec![
        vec![
            (vec![0x01], txout(30_000, &spk_w)),
            (kw.clone(), origin(&path(0))),
            ty(types[0]),
        ],
        vec![
            (vec![0x00], prev_tx),
            (kw.clone(), origin(&path(1))),
            ty(types[1]),
        ],
        vec![
            (vec![0x01], txout(15_000, &spk_t)),
            (kt, tap_origin),
            ty(types[2]),
        ],
        vec![],
        vec![(
            vec![0x02].into_iter().chain(pk.to_bytes()).collect(),
            origin(&[0x8000_0054, 0x8000_0000, 0x8000_0000, 1, 1]),
        )],
        vec![],
    ];
    let prev = vec![
        TxOut {
            value: 30_000,
            script_pubkey: spk_w,
        },
        TxOut {
            value: 50_000,
            script_pubkey: spk_l,
        },
        TxOut {
            value: 15_000,
            script_pubkey: spk_t,
        },
    ];
    (psbt_bytes(&unsigned, &maps), prev)
}

#[test]
fn summary_finds_change_outputs_and_values() {
    let sk = SigningKey::from_slice(&[0x11; 32]).unwrap();
    let (bytes, _) = three_input_psbt(&sk, [1, 1, 0]);
    let psbt = Psbt::parse(&bytes).unwrap();
    let s = summarize_psbt(&psbt, &OneKey(sk), Network::Bitcoin).unwrap();
    assert_eq!(s.outputs.len(), 3);
    assert!(!s.outputs[0].is_change);
    assert!(s.outputs[1].is_change, "p2wpkh output with our derivation");
    // Output 2 pays our taproot key but carries no derivation: not change.
    assert!(!s.outputs[2].is_change);
    assert_eq!(s.spend_value, 71_000);
    assert_eq!(s.fee, Some(95_000 - 91_000));
    assert!(s.outputs[0].address.as_deref().unwrap().starts_with("bc1q"));
}

#[test]
fn a_psbt_with_no_input_of_ours_is_refused_and_untouched_inputs_stay() {
    let sk = SigningKey::from_slice(&[0x11; 32]).unwrap();
    let other = SigningKey::from_slice(&[0x22; 32]).unwrap();
    let (bytes, _) = three_input_psbt(&sk, [1, 1, 0]);
    let psbt = Psbt::parse(&bytes).unwrap();
    // Same fingerprint, other key: the derived key does not match.
    assert_eq!(
        sign_psbt(&psbt, &OneKey(other), &SignOptions::default()),
        Err(BitcoinError::NothingToSign)
    );
}

#[test]
fn unsupported_sighash_types_are_refused_for_our_inputs() {
    let sk = SigningKey::from_slice(&[0x11; 32]).unwrap();
    // 0x00 (SIGHASH_DEFAULT) is taproot-only; 0x04 is no sighash type.
    for types in [[0, 1, 0], [1, 4, 0], [1, 1, 0x84]] {
        let (bytes, _) = three_input_psbt(&sk, types);
        let psbt = Psbt::parse(&bytes).unwrap();
        let e = sign_psbt(&psbt, &OneKey(sk.clone()), &SignOptions::default()).unwrap_err();
        assert!(e.to_string().ends_with("unsupported sighash type"), "{e}");
    }
}

#[test]
fn errors_never_show_key_material() {
    let sk = SigningKey::from_slice(&[0x11; 32]).unwrap();
    let dbg = format!(
        "{:?} {:?}",
        OneKeyDebug(&sk),
        SignOptions {
            finalize: true,
            aux_rand: [0x11; 32],
            allowed_sighash: vec![],
        }
    );
    assert!(!dbg.contains("1111111111"), "{dbg}");
}

struct OneKeyDebug<'a>(&'a SigningKey);
impl std::fmt::Debug for OneKeyDebug<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}
