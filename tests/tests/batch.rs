//! `batch_input` on the signing paths through a real server (issue 16):
//! results in order, one error per failing item, a policy refusal failing its
//! item alone with its rule, a daily limit crossed in the middle of a batch,
//! the 1000-item bound, and every item's signature verified on its own
//! (ed25519-dalek, alloy), independently of the plugin.

mod engine_common;

use std::str::FromStr;

use alloy_consensus::{Transaction, TxEnvelope};
use alloy_dyn_abi::TypedData;
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{Address, B256, Signature, U256};
use base64::Engine as _;
use ed25519_dalek::{Verifier, VerifyingKey};
use engine_common::{B64, Engine, expect_400_naming, st, unhex};
use serde_json::{Value, json};

/// m/44'/501'/0'/0' and m/44'/60'/0'/0/0 of the "abandon … about" mnemonic
/// (as in engine_solana.rs and engine_ethereum.rs).
const SOL0: &str = "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk";
const ETH0: &str = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94";
const TO: &str = "0x3535353535353535353535353535353535353535";

fn eth0() -> Address {
    Address::from_str(ETH0).expect("address")
}

#[track_caller]
fn results(r: &integration_tests::Reply, n: usize) -> Vec<Value> {
    r.expect_status(200);
    let v = r.data()["batch_results"]
        .as_array()
        .unwrap_or_else(|| panic!("no batch_results: {}", r.body))
        .clone();
    assert_eq!(v.len(), n, "{}", r.body);
    v
}

#[track_caller]
fn item_error(v: &Value, naming: &str) {
    let e = v["error"]
        .as_str()
        .unwrap_or_else(|| panic!("item did not fail: {v}"));
    assert!(
        e.contains(naming),
        "the item's error does not name {naming}: {e}"
    );
    assert!(v.get("signature").is_none(), "{v}");
}

#[track_caller]
fn verify_ed25519(v: &Value, message: &[u8]) {
    assert!(v.get("error").is_none(), "{v}");
    let key: [u8; 32] = bs58::decode(SOL0)
        .into_vec()
        .expect("b58")
        .try_into()
        .expect("32");
    let key = VerifyingKey::from_bytes(&key).expect("key");
    let sig: [u8; 64] = bs58::decode(st(v, "signature"))
        .into_vec()
        .expect("b58")
        .try_into()
        .expect("64");
    key.verify(message, &ed25519_dalek::Signature::from_bytes(&sig))
        .unwrap_or_else(|e| panic!("signature of {message:?} does not verify: {e}"));
    assert_eq!(st(v, "public_key"), SOL0);
}

#[track_caller]
fn recover_personal(v: &Value, message: &str) {
    assert!(v.get("error").is_none(), "{v}");
    let sig = Signature::from_raw(&unhex(st(v, "signature"))).expect("signature");
    assert_eq!(
        sig.recover_address_from_msg(message).expect("recover"),
        eth0(),
        "{message}"
    );
}

#[test]
fn solana_and_ethereum_messages_keep_their_order_and_fail_alone() {
    let e = Engine::start();
    e.abandon("a", json!({}));

    // solana: item 2 is not base64, item 4 could be a transaction message.
    let msgs: Vec<Vec<u8>> = (0..6)
        .map(|i| format!("batch message {i}").into_bytes())
        .collect();
    let mut items: Vec<Value> = msgs
        .iter()
        .map(|m| json!({"message": B64.encode(m)}))
        .collect();
    items[2] = json!({"message": "!not base64"});
    // A legacy message header with one signer and an account: refused (403)
    // by sign-message policy or not.
    let mut tx_like = vec![1u8, 0, 1, 2];
    tx_like.extend([9u8; 64]);
    tx_like.extend([0u8; 32]);
    tx_like.push(0);
    let tx_single = e.write(
        "crypto/wallets/a/solana/sign-message",
        json!({"message": B64.encode(&tx_like)}),
    );
    tx_single.expect_status(403);
    items[4] = json!({"message": B64.encode(&tx_like)});
    let r = e.write(
        "crypto/wallets/a/solana/sign-message",
        json!({"batch_input": items}),
    );
    let res = results(&r, 6);
    for (i, v) in res.iter().enumerate() {
        match i {
            2 => item_error(v, "message"),
            4 => item_error(v, "transaction"),
            _ => verify_ed25519(v, &msgs[i]),
        }
    }

    // A shared field applies to every item, an item's own value wins, and
    // the path's wallet wins over an item's `name`.
    let r = e.write(
        "crypto/wallets/a/solana/sign-message",
        json!({"message": B64.encode(b"shared"), "batch_input": [
            {}, {"message": B64.encode(b"own")}, {"name": "other"}
        ]}),
    );
    let res = results(&r, 3);
    verify_ed25519(&res[0], b"shared");
    verify_ed25519(&res[1], b"own");
    verify_ed25519(&res[2], b"shared");

    // ethereum personal_sign: item 1 sends both forms, item 3 neither.
    let texts: Vec<String> = (0..5).map(|i| format!("hello {i}")).collect();
    let mut items: Vec<Value> = texts.iter().map(|t| json!({"message": t})).collect();
    items[1] = json!({"message": "x", "message_hex": "0x00"});
    items[3] = json!({});
    let r = e.write(
        "crypto/wallets/a/ethereum/sign-message",
        json!({"batch_input": items}),
    );
    let res = results(&r, 5);
    for (i, v) in res.iter().enumerate() {
        match i {
            1 | 3 => item_error(v, "message"),
            _ => recover_personal(v, &texts[i]),
        }
    }
}

#[test]
fn typed_data_and_raw_hashes_are_signed_item_by_item() {
    let e = Engine::start();
    e.abandon("a", json!({"allow_raw_signing": true}));

    let mail = |contents: &str| {
        json!({
            "types": {
                "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}],
                "Mail": [{"name": "contents", "type": "string"}]
            },
            "primaryType": "Mail",
            "domain": {"name": "Batch", "chainId": 1},
            "message": {"contents": contents}
        })
    };
    let items = json!([
        {"typed_data": mail("one")},
        {"typed_data": {"primaryType": "Nope"}},
        {"typed_data": mail("three")},
    ]);
    let r = e.write(
        "crypto/wallets/a/ethereum/sign-typed-data",
        json!({"batch_input": items}),
    );
    let res = results(&r, 3);
    item_error(&res[1], "typed_data");
    for (i, contents) in [(0, "one"), (2, "three")] {
        let td: TypedData = serde_json::from_value(mail(contents)).expect("typed data");
        let hash = td.eip712_signing_hash().expect("hash");
        assert_eq!(unhex(st(&res[i], "hash")), hash.to_vec());
        let sig = Signature::from_raw(&unhex(st(&res[i], "signature"))).expect("sig");
        assert_eq!(
            sig.recover_address_from_prehash(&hash).expect("recover"),
            eth0()
        );
    }

    let hashes: Vec<B256> = (0u8..4).map(|i| B256::repeat_byte(i + 1)).collect();
    let mut items: Vec<Value> = hashes
        .iter()
        .map(|h| json!({"hash": h.to_string()}))
        .collect();
    items[2] = json!({"hash": "0x1234"});
    let r = e.write(
        "crypto/sign-hash/a",
        json!({"chain": "ethereum", "batch_input": items}),
    );
    let res = results(&r, 4);
    for (i, v) in res.iter().enumerate() {
        if i == 2 {
            item_error(v, "hash");
            continue;
        }
        let sig = Signature::from_raw(&unhex(st(v, "signature"))).expect("sig");
        assert_eq!(
            sig.recover_address_from_prehash(&hashes[i])
                .expect("recover"),
            eth0()
        );
    }
}

#[test]
fn a_policy_refuses_items_alone_and_a_daily_limit_is_crossed_mid_batch() {
    let e = Engine::start();
    e.abandon("p", json!({}));
    let r = e.write(
        "crypto/policies/p/ethereum",
        json!({"max_value_per_day": "250", "allowed_chain_ids": [1]}),
    );
    assert!(matches!(r.status, 200 | 204), "{}", r.body);
    let tx = |chain_id: u64, nonce: u64, value: u64| {
        json!({"chain_id": chain_id, "nonce": nonce, "gas_limit": 21000, "gas_price": 1,
               "to": TO, "value": value.to_string()})
    };
    // 100 + 100 fit; chain 5 is not allowed; the next 100 would make 300
    // (refused, nothing counted); 50 brings the day to exactly 250.
    let items = json!([
        tx(1, 0, 100),
        tx(1, 1, 100),
        tx(5, 2, 1),
        tx(1, 3, 100),
        tx(1, 4, 50)
    ]);
    let r = e.write(
        "crypto/wallets/p/ethereum/sign-transaction",
        json!({"batch_input": items}),
    );
    let res = results(&r, 5);
    item_error(&res[2], "policy allowed_chain_ids");
    item_error(&res[3], "policy max_value_per_day");
    for (i, nonce, value) in [(0, 0u64, 100u64), (1, 1, 100), (4, 4, 50)] {
        let v = &res[i];
        let raw = unhex(st(v, "signed_transaction"));
        let env = TxEnvelope::decode_2718_exact(&raw).expect("alloy decodes");
        let TxEnvelope::Legacy(signed) = &env else {
            panic!("not legacy: {env:?}")
        };
        assert_eq!(signed.recover_signer().expect("recover"), eth0());
        assert_eq!(signed.tx().nonce(), nonce);
        assert_eq!(signed.tx().value(), U256::from(value));
        assert!(v["intent"].is_object(), "{v}");
    }
    // The day is spent: one more wei is refused, in a batch or alone.
    let r = e.write(
        "crypto/wallets/p/ethereum/sign-transaction",
        json!({"batch_input": [tx(1, 5, 1)]}),
    );
    item_error(&results(&r, 1)[0], "policy max_value_per_day");
    let r = e.write("crypto/wallets/p/ethereum/sign-transaction", tx(1, 5, 1));
    r.expect_status(403);

    // A policy on solana refuses message signing item by item too.
    let r = e.write(
        "crypto/policies/p/solana",
        json!({"allow_message_signing": false}),
    );
    assert!(matches!(r.status, 200 | 204), "{}", r.body);
    let r = e.write(
        "crypto/wallets/p/solana/sign-message",
        json!({"batch_input": [{"message": B64.encode(b"x")}, {"message": "!"}]}),
    );
    let res = results(&r, 2);
    item_error(&res[0], "policy allow_message_signing");
    item_error(&res[1], "message");
}

#[test]
fn batch_input_is_bounded_and_checked() {
    let e = Engine::start();
    e.abandon("a", json!({}));
    let path = "crypto/wallets/a/solana/sign-message";
    let item = json!({"message": base64::engine::general_purpose::STANDARD.encode(b"m")});
    // The maximum is accepted, every item signed. 1000 items are sent in
    // the CLI form (the list as one JSON string): as a JSON array they would
    // exceed the host's own limit on strings per body (OpenBao's listener
    // refuses "high complexity" JSON before the plugin sees it).
    let many = |n: usize| Value::String(Value::Array(vec![item.clone(); n]).to_string());
    let r = e.write(path, json!({"batch_input": many(1000)}));
    let res = results(&r, 1000);
    assert!(res.iter().all(|v| v["signature"].is_string()));
    verify_ed25519(&res[999], b"m");
    // One more is a 400 naming the field; so are the malformed forms.
    for body in [
        json!({"batch_input": many(1001)}),
        json!({"batch_input": []}),
        json!({"batch_input": "x"}),
        json!({"batch_input": [item.clone(), 7]}),
        json!({"batch_input": [{"batch_input": [item.clone()]}]}),
    ] {
        expect_400_naming(&e.write(path, body), "batch_input");
    }
    // The array form works up to the host's limit.
    let r = e.write(path, json!({"batch_input": vec![item.clone(); 100]}));
    assert_eq!(results(&r, 100).len(), 100);
    // A path without batches ignores the field with a warning, as any
    // unknown field (solana/sign-transaction is not batched).
    let r = e.write(
        "crypto/wallets/a/solana/sign-transaction",
        json!({"batch_input": [item]}),
    );
    expect_400_naming(&r, "transaction");
}

#[test]
fn the_sdk_returns_one_result_per_item_and_policy_refusals_as_item_errors() {
    use vault_crypto_sdk::ethereum::SignMessage;
    use vault_crypto_sdk::solana::SolanaSignMessage;
    use vault_crypto_sdk::{Client, Config};
    let e = Engine::start();
    e.abandon("a", json!({}));
    let client =
        Client::new(Config::new([e.s.addr.clone()]).with_token(integration_tests::ROOT_TOKEN))
            .expect("client");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let msgs = [b"one".as_slice(), b"two".as_slice()];
        let reqs: Vec<SolanaSignMessage> = msgs.iter().map(|m| SolanaSignMessage::new(m)).collect();
        let out = client
            .solana()
            .sign_message_batch("a", &reqs)
            .await
            .expect("batch");
        assert_eq!(out.len(), 2);
        for (r, m) in out.iter().zip(msgs) {
            let sig = r.as_ref().expect("signed");
            verify_ed25519(
                &json!({"signature": sig.signature, "public_key": sig.public_key}),
                m,
            );
        }
        // Refused before sending: no item, or an item without a message.
        assert!(client.solana().sign_message_batch("a", &[]).await.is_err());
        let mut bad = SignMessage::text("x");
        bad.message = None;
        assert!(
            client
                .ethereum()
                .sign_message_batch("a", &[bad])
                .await
                .is_err()
        );
        // A policy refusal is the item's error, not the call's.
        let r = e.write(
            "crypto/policies/a/solana",
            json!({"allow_message_signing": false}),
        );
        assert!(matches!(r.status, 200 | 204), "{}", r.body);
        let out = client
            .solana()
            .sign_message_batch("a", &reqs)
            .await
            .expect("batch");
        for r in &out {
            let err = r.as_ref().expect_err("refused");
            assert!(err.is_policy_refusal(), "{err}");
            assert!(err.message.contains("allow_message_signing"), "{err}");
        }
    });
}
