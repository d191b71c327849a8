use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::json;
use wallet_core::solana::parse_address;

use super::*;

fn sig_bytes(s: &str) -> [u8; 64] {
    bs58_decode(s).try_into().expect("64 bytes")
}

fn bs58_decode(s: &str) -> Vec<u8> {
    // wallet-core parses addresses; signatures we decode by hand (base58 of 64 bytes).
    let alphabet = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut out: Vec<u8> = Vec::new();
    for c in s.bytes() {
        let mut carry = alphabet.iter().position(|&a| a == c).expect("base58") as u32;
        for b in out.iter_mut().rev() {
            carry += u32::from(*b) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            out.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let zeros = s.bytes().take_while(|&c| c == b'1').count();
    let mut v = vec![0u8; zeros];
    v.extend(out);
    v
}

/// A legacy message: one required signer (`signer`), the system program,
/// one instruction.
fn legacy_message(signer: &[u8; 32]) -> Vec<u8> {
    let mut m = vec![1u8, 0, 1, 2];
    m.extend_from_slice(signer);
    m.extend_from_slice(&[0u8; 32]);
    m.extend_from_slice(&[7u8; 32]); // recent blockhash
    m.extend_from_slice(&[1, 1, 1, 0, 4, 2, 0, 0, 0]);
    m
}

#[tokio::test]
async fn sign_message_returns_a_base58_signature_that_verifies() {
    let t = backend().await;
    let r = update_data(
        &t,
        "wallets/w/solana/sign-message",
        json!({"message": B64.encode(b"hi")}),
    )
    .await;
    assert_eq!(r["public_key"], json!(ABANDON_SOL));
    assert_eq!(r["address"], json!(ABANDON_SOL));
    assert_eq!(r["path"], json!("m/44'/501'/0'/0'"));
    let pk = parse_address(ABANDON_SOL).expect("address");
    assert!(pk.verify(b"hi", &sig_bytes(r["signature"].as_str().expect("sig"))));
    bad_field(
        update(
            &t,
            "wallets/w/solana/sign-message",
            json!({"message": "!!"}),
        )
        .await,
        "message",
    );
    bad_field(
        update(&t, "wallets/w/solana/sign-message", json!({})).await,
        "message",
    );
    bad_field(
        update(
            &t,
            "wallets/w/solana/sign-message",
            json!({"message": "aGk=", "path": "m/44'/501'/0'/0"}),
        )
        .await,
        "path",
    );
}

#[tokio::test]
async fn sign_transaction_places_the_signature_in_the_signer_slot() {
    let t = backend().await;
    let pk = parse_address(ABANDON_SOL).expect("address").to_bytes();
    let message = legacy_message(&pk);
    // A bare message becomes a transaction with one signature slot.
    let r = update_data(
        &t,
        "wallets/w/solana/sign-transaction",
        json!({"transaction": B64.encode(&message)}),
    )
    .await;
    let tx = B64
        .decode(r["transaction"].as_str().expect("tx"))
        .expect("base64");
    assert_eq!(tx[0], 1);
    assert_eq!(&tx[65..], &message[..]);
    let sig = sig_bytes(r["signature"].as_str().expect("sig"));
    assert_eq!(&tx[1..65], &sig[..]);
    assert!(
        parse_address(ABANDON_SOL)
            .expect("pk")
            .verify(&message, &sig)
    );
    assert_eq!(r["signer_index"], json!(0));
    // A serialized transaction with an empty slot gives the same result.
    let mut unsigned = vec![1u8];
    unsigned.extend_from_slice(&[0u8; 64]);
    unsigned.extend_from_slice(&message);
    let again = update_data(
        &t,
        "wallets/w/solana/sign-transaction",
        json!({"transaction": B64.encode(&unsigned)}),
    )
    .await;
    assert_eq!(again["transaction"], r["transaction"]);
}

#[tokio::test]
async fn a_transaction_the_key_does_not_sign_is_a_400() {
    let t = backend().await;
    let p = "wallets/w/solana/sign-transaction";
    let msg = bad_request(
        update(
            &t,
            p,
            json!({"transaction": B64.encode(legacy_message(&[9u8; 32]))}),
        )
        .await,
    );
    assert!(msg.contains("not a required signer"), "{msg}");
    bad_field(
        update(&t, p, json!({"transaction": B64.encode([1u8, 2, 3])})).await,
        "transaction",
    );
    bad_field(
        update(
            &t,
            p,
            json!({"transaction": B64.encode(vec![0u8; 70 * 1024])}),
        )
        .await,
        "transaction",
    );
    t.write_ok(
        "wallets/k",
        json!({"private_key": "11".repeat(32), "curve": "secp256k1"}),
    )
    .await;
    bad_request(
        update(
            &t,
            "wallets/k/solana/sign-message",
            json!({"message": "aGk="}),
        )
        .await,
    );
}
