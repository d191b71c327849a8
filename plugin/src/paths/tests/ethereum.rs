use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
use serde_json::json;
use wallet_core::ethereum::{eip191_hash, keccak256};

use super::*;

/// The EIP-155 example: key 0x4646…46, nonce 9, 20 gwei, 21000 gas, 1 ether to 0x3535…35.
const EIP155_KEY: &str = "4646464646464646464646464646464646464646464646464646464646464646";
const EIP155_SIGNED: &str = "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83";

fn hexd(s: &str) -> Vec<u8> {
    hex::decode(s.trim_start_matches("0x")).expect("hex")
}

/// Recovers the Ethereum address from a 65-byte r||s||v signature over a digest.
fn recover(sig: &str, digest: &[u8; 32]) -> String {
    let b = hexd(sig);
    assert_eq!(b.len(), 65);
    let s = Signature::from_slice(&b[..64]).expect("sig");
    assert!(s.normalize_s().is_none(), "signature must be low-S");
    let rid = RecoveryId::from_byte(b[64] - 27).expect("v");
    let vk = VerifyingKey::recover_from_prehash(digest, &s, rid).expect("recover");
    let pk =
        wallet_core::Secp256k1PublicKey::from_sec1_bytes(&vk.to_encoded_point(true).to_bytes())
            .expect("pk");
    wallet_core::ethereum::address(&pk).to_checksum()
}

#[tokio::test]
async fn the_eip155_example_transaction_signs_to_its_known_bytes() {
    let t = TestBackend::new();
    t.write_ok(
        "wallets/k",
        json!({"private_key": EIP155_KEY, "curve": "secp256k1"}),
    )
    .await;
    let r = update_data(
        &t,
        "wallets/k/ethereum/sign-transaction",
        json!({
            "chain_id": 1, "nonce": "9", "gas_price": "0x4a817c800", "gas_limit": 21000,
            "to": "0x3535353535353535353535353535353535353535",
            "value": "1000000000000000000"
        }),
    )
    .await;
    assert_eq!(r["signed_transaction"], json!(EIP155_SIGNED));
    assert_eq!(r["type"], json!("legacy"));
    assert_eq!(r["v"], json!(37));
    assert_eq!(
        r["r"],
        json!("0x28ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276")
    );
    assert_eq!(
        r["from"],
        json!("0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F")
    );
    assert_eq!(r["path"], json!("m"));
    let hash = keccak256(&hexd(EIP155_SIGNED));
    assert_eq!(
        r["transaction_hash"],
        json!(format!("0x{}", hex::encode(hash)))
    );
}

#[tokio::test]
async fn typed_transactions_default_to_eip1559_and_carry_the_y_parity() {
    let t = backend().await;
    let r = update_data(
        &t,
        "wallets/w/ethereum/sign-transaction",
        json!({
            "chain_id": "0x1", "nonce": 0, "gas_limit": "21000",
            "max_fee_per_gas": "30000000000", "max_priority_fee_per_gas": "1000000000",
            "to": "0x3535353535353535353535353535353535353535", "value": "1",
            "access_list": [{"address": "0x3535353535353535353535353535353535353535",
                              "storage_keys": [format!("0x{}", "00".repeat(32))]}]
        }),
    )
    .await;
    assert_eq!(r["type"], json!("eip1559"));
    assert_eq!(r["from"], json!(ABANDON_ETH));
    assert_eq!(r["path"], json!("m/44'/60'/0'/0/0"));
    assert!(r["v"] == json!(0) || r["v"] == json!(1));
    assert!(
        r["signed_transaction"]
            .as_str()
            .is_some_and(|s| s.starts_with("0x02"))
    );

    let r = update_data(
        &t,
        "wallets/w/ethereum/sign-transaction",
        json!({"type": "eip2930", "chain_id": 5, "nonce": 1, "gas_limit": 60000,
               "gas_price": 1, "data": "0x6000", "access_list": "[]"}),
    )
    .await;
    assert_eq!(r["type"], json!("eip2930"));
    assert!(
        r["signed_transaction"]
            .as_str()
            .is_some_and(|s| s.starts_with("0x01"))
    );
}

#[tokio::test]
async fn bad_transaction_fields_are_400s_naming_them() {
    let t = backend().await;
    let p = "wallets/w/ethereum/sign-transaction";
    let base = json!({"chain_id": 1, "nonce": 0, "gas_limit": 21000, "gas_price": 1});
    let with = |k: &str, v: Value| {
        let mut d = base.clone();
        d[k] = v;
        d
    };
    bad_field(
        update(&t, p, json!({"nonce": 0, "gas_limit": 1, "gas_price": 1})).await,
        "chain_id",
    );
    bad_field(update(&t, p, with("to", json!("0x12"))).await, "to");
    bad_field(
        update(
            &t,
            p,
            with("to", json!("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD")),
        )
        .await,
        "to",
    );
    bad_field(update(&t, p, with("data", json!("0xabc"))).await, "data");
    bad_field(
        update(
            &t,
            p,
            with("data", json!(format!("0x{}", "00".repeat(128 * 1024 + 1)))),
        )
        .await,
        "data",
    );
    bad_field(update(&t, p, with("value", json!("-1"))).await, "value");
    bad_field(
        update(&t, p, with("nonce", json!("18446744073709551616"))).await,
        "nonce",
    );
    // max_fee_per_gas makes it eip1559, where gas_price does not belong.
    bad_field(
        update(&t, p, with("max_fee_per_gas", json!(1))).await,
        "gas_price",
    );
    let mut legacy = with("max_fee_per_gas", json!(1));
    legacy["type"] = json!("legacy");
    bad_field(update(&t, p, legacy).await, "max_fee_per_gas");
    bad_field(
        update(&t, p, with("access_list", json!([{"address": "nope"}]))).await,
        "access_list[0].address",
    );
    bad_field(update(&t, p, with("type", json!("eip4848"))).await, "type");
    bad_field(update(&t, p, with("chain_id", json!(0))).await, "chain_id");
    bad_field(update(&t, p, with("change", json!(1))).await, "change");
    let mut no_price = base.clone();
    if let Some(m) = no_price.as_object_mut() {
        m.remove("gas_price");
    }
    bad_field(update(&t, p, no_price).await, "gas_price");
    not_found(update(&t, "wallets/nope/ethereum/sign-transaction", base.clone()).await);
}

#[tokio::test]
async fn personal_sign_recovers_to_the_signer() {
    let t = backend().await;
    let r = update_data(
        &t,
        "wallets/w/ethereum/sign-message",
        json!({"message": "hello"}),
    )
    .await;
    let digest = eip191_hash(b"hello");
    assert_eq!(r["hash"], json!(format!("0x{}", hex::encode(digest))));
    assert_eq!(r["address"], json!(ABANDON_ETH));
    let sig = r["signature"].as_str().expect("signature");
    assert_eq!(recover(sig, &digest), ABANDON_ETH);
    let v = hexd(sig)[64];
    assert!(v == 27 || v == 28);
    // The same bytes as hex sign the same digest.
    let h = update_data(
        &t,
        "wallets/w/ethereum/sign-message",
        json!({"message_hex": "0x68656c6c6f"}),
    )
    .await;
    assert_eq!(h["signature"], r["signature"]);
    // Another index signs with another key.
    let other = update_data(
        &t,
        "wallets/w/ethereum/sign-message",
        json!({"message": "hello", "index": 1}),
    )
    .await;
    assert_eq!(other["path"], json!("m/44'/60'/0'/0/1"));
    assert_eq!(
        recover(other["signature"].as_str().expect("sig"), &digest),
        other["address"].as_str().expect("a")
    );
}

#[tokio::test]
async fn sign_message_needs_exactly_one_of_message_or_message_hex() {
    let t = backend().await;
    let p = "wallets/w/ethereum/sign-message";
    bad_field(update(&t, p, json!({})).await, "message");
    bad_field(
        update(&t, p, json!({"message": "a", "message_hex": "0x61"})).await,
        "message_hex",
    );
    bad_field(
        update(&t, p, json!({"message_hex": "61"})).await,
        "message_hex",
    );
    bad_field(
        update(&t, p, json!({"message": "a".repeat(1024 * 1024 + 1)})).await,
        "message",
    );
}

fn mail() -> Value {
    json!({
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}
            ],
            "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
            "Mail": [{"name": "from", "type": "Person"}, {"name": "to", "type": "Person"},
                     {"name": "contents", "type": "string"}]
        },
        "primaryType": "Mail",
        "domain": {"name": "Ether Mail", "version": "1", "chainId": 1,
                   "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},
        "message": {
            "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
            "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
            "contents": "Hello, Bob!"
        }
    })
}

#[tokio::test]
async fn the_eip712_mail_example_signs_to_its_known_signature() {
    let t = TestBackend::new();
    // EIP-712's example signer: keccak256("cow").
    let cow = hex::encode(keccak256(b"cow"));
    t.write_ok(
        "wallets/cow",
        json!({"private_key": cow, "curve": "secp256k1"}),
    )
    .await;
    let r = update_data(
        &t,
        "wallets/cow/ethereum/sign-typed-data",
        json!({"typed_data": mail()}),
    )
    .await;
    assert_eq!(
        r["hash"],
        json!("0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2")
    );
    assert_eq!(
        r["domain_separator"],
        json!("0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f")
    );
    assert_eq!(
        r["signature"],
        json!(
            "0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b915621c"
        )
    );
    assert_eq!(
        r["address"],
        json!("0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826")
    );
    // As a JSON string it is the same request.
    let s = update_data(
        &t,
        "wallets/cow/ethereum/sign-typed-data",
        json!({"typed_data": mail().to_string()}),
    )
    .await;
    assert_eq!(s["signature"], r["signature"]);
}

#[tokio::test]
async fn bad_typed_data_is_a_400_naming_typed_data() {
    let t = backend().await;
    let p = "wallets/w/ethereum/sign-typed-data";
    bad_field(update(&t, p, json!({})).await, "typed_data");
    bad_field(
        update(&t, p, json!({"typed_data": "[1]"})).await,
        "typed_data",
    );
    let mut m = mail();
    m["primaryType"] = json!("Nope");
    bad_field(update(&t, p, json!({"typed_data": m})).await, "typed_data");
    let mut m = mail();
    m["domain"]["chainId"] = json!("18446744073709551616");
    bad_field(update(&t, p, json!({"typed_data": m})).await, "typed_data");
    let mut m = mail();
    m["message"]["contents"] = json!("x".repeat(1024 * 1024));
    bad_field(update(&t, p, json!({"typed_data": m})).await, "typed_data");
}

/// An access list is bounded like calldata: at most 4096 addresses and
/// storage keys (128 KiB), counted before anything is parsed. Before, a
/// 32 MiB body (the CLI's string form has no host limit on its entries)
/// signed a 15 MB transaction.
#[tokio::test]
async fn an_access_list_above_the_transaction_size_limit_is_refused() {
    let t = backend().await;
    let p = "wallets/w/ethereum/sign-transaction";
    let key = format!("0x{}", "00".repeat(32));
    let list = |keys: usize| {
        json!([{"address": "0x3535353535353535353535353535353535353535",
                "storage_keys": vec![key.clone(); keys]}])
    };
    let tx = |list: Value| {
        json!({"type": "eip2930", "chain_id": 1, "nonce": 0, "gas_limit": 21000,
               "gas_price": 1, "access_list": list.to_string()})
    };
    let msg = crate::backend::testing::bad_request(update(&t, p, tx(list(4096))).await);
    assert!(
        msg.contains("\"access_list\"") && msg.contains("4096"),
        "{msg}"
    );
    // At the bound: one address and 4095 keys sign.
    let r = update_data(&t, p, tx(list(4095))).await;
    assert_eq!(r["type"], json!("eip2930"));
}
