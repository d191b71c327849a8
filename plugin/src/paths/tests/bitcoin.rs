use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::json;
use wallet_core::bitcoin::{AddressType, CompressedPublicKey, script_pubkey};

use super::*;

pub(super) const FP: [u8; 4] = [0x73, 0xc5, 0xda, 0x0a];
const H: u32 = 0x8000_0000;

fn compact(out: &mut Vec<u8>, n: usize) {
    assert!(n < 0xfd);
    out.push(n as u8);
}

type Kv = Vec<(Vec<u8>, Vec<u8>)>;

fn psbt(unsigned_tx: &[u8], inputs: &[Kv], outputs: &[Kv]) -> String {
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
    B64.encode(out)
}

/// A version-2 transaction spending one made-up outpoint to `outputs`.
fn unsigned_tx(outputs: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut tx = 2u32.to_le_bytes().to_vec();
    tx.push(1);
    tx.extend_from_slice(&[0x42; 32]);
    tx.extend_from_slice(&0u32.to_le_bytes());
    tx.push(0);
    tx.extend_from_slice(&0xffff_fffdu32.to_le_bytes());
    tx.push(outputs.len() as u8);
    for (value, spk) in outputs {
        tx.extend_from_slice(&value.to_le_bytes());
        compact(&mut tx, spk.len());
        tx.extend_from_slice(spk);
    }
    tx.extend_from_slice(&0u32.to_le_bytes());
    tx
}

fn origin(fp: [u8; 4], path: &[u32]) -> Vec<u8> {
    let mut v = fp.to_vec();
    for e in path {
        v.extend_from_slice(&e.to_le_bytes());
    }
    v
}

async fn pubkey(t: &TestBackend, data: Value) -> CompressedPublicKey {
    let r = read_data(t, "wallets/w/addresses/bitcoin", data).await;
    CompressedPublicKey::from_slice(
        &hex::decode(r["public_key"].as_str().expect("pk")).expect("hex"),
    )
    .expect("key")
}

/// A PSBT spending the wallet's first BIP84 receive address to an outside
/// script, with change to the wallet's first change address; `fp` is the
/// fingerprint its derivations name.
pub(super) async fn p2wpkh_psbt(t: &TestBackend, fp: [u8; 4]) -> String {
    let receive = pubkey(t, json!({})).await;
    let change = pubkey(t, json!({"change": 1})).await;
    let outside = {
        let mut s = vec![0x00, 0x14];
        s.extend_from_slice(&[0x11; 20]);
        s
    };
    let tx = unsigned_tx(&[
        (60_000, outside),
        (39_000, script_pubkey(&change, AddressType::P2wpkh)),
    ]);
    let spent = script_pubkey(&receive, AddressType::P2wpkh);
    let mut utxo = 100_000u64.to_le_bytes().to_vec();
    compact(&mut utxo, spent.len());
    utxo.extend_from_slice(&spent);
    let mut in_key = vec![0x06];
    in_key.extend_from_slice(&receive.to_bytes());
    let mut out_key = vec![0x02];
    out_key.extend_from_slice(&change.to_bytes());
    psbt(
        &tx,
        &[vec![
            (vec![0x01], utxo),
            (in_key, origin(fp, &[84 | H, H, H, 0, 0])),
        ]],
        &[vec![], vec![(out_key, origin(fp, &[84 | H, H, H, 1, 0]))]],
    )
}

#[tokio::test]
async fn a_p2wpkh_input_of_the_wallet_is_signed_finalized_and_extracted() {
    let t = backend().await;
    let p = p2wpkh_psbt(&t, FP).await;
    let r = update_data(
        &t,
        "wallets/w/bitcoin/sign-psbt",
        json!({"psbt": p, "finalize": true}),
    )
    .await;
    assert_eq!(r["signed_inputs"], json!([0]));
    assert_eq!(r["signers"].as_array().map(Vec::len), Some(1), "{r:?}");
    assert_eq!(r["address"], json!(ABANDON_BIP84));
    assert_eq!(r["path"], json!("m/84'/0'/0'/0/0"));
    assert_eq!(r["signers"].as_array().map(Vec::len), Some(1));
    let tx = r["transaction"].as_str().expect("transaction");
    // Segwit marker and flag after the version.
    assert!(tx.starts_with("020000000001"), "{tx}");
    assert_eq!(r["txid"].as_str().map(str::len), Some(64));
    assert_ne!(r["psbt"], json!(p));

    // Without finalize: signed, no transaction.
    let r = update_data(&t, "wallets/w/bitcoin/sign-psbt", json!({"psbt": p})).await;
    assert_eq!(r["signed_inputs"], json!([0]));
    assert!(r.get("transaction").is_none());
}

#[tokio::test]
async fn a_psbt_without_an_input_of_the_wallet_is_a_400() {
    let t = backend().await;
    let p = p2wpkh_psbt(&t, [1, 2, 3, 4]).await;
    bad_field(
        update(&t, "wallets/w/bitcoin/sign-psbt", json!({"psbt": p})).await,
        "psbt",
    );
    bad_field(
        update(
            &t,
            "wallets/w/bitcoin/sign-psbt",
            json!({"psbt": "cHNidP8="}),
        )
        .await,
        "psbt",
    );
    bad_field(
        update(&t, "wallets/w/bitcoin/sign-psbt", json!({"psbt": "%%%"})).await,
        "psbt",
    );
    bad_field(
        update(&t, "wallets/w/bitcoin/sign-psbt", json!({})).await,
        "psbt",
    );
    bad_field(
        update(
            &t,
            "wallets/w/bitcoin/sign-psbt",
            json!({"psbt": "x", "network": "moon"}),
        )
        .await,
        "network",
    );
    not_found(
        update(
            &t,
            "wallets/nope/bitcoin/sign-psbt",
            json!({"psbt": "cHNidP8="}),
        )
        .await,
    );
}
