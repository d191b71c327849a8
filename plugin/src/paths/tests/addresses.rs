use serde_json::json;

use super::*;
use crate::logical::Backend;

#[tokio::test]
async fn the_abandon_mnemonic_derives_its_known_addresses_on_every_chain() {
    let t = backend().await;
    let eth = read_data(&t, "wallets/w/addresses/ethereum", json!({})).await;
    assert_eq!(eth["chain"], json!("ethereum"));
    assert_eq!(eth["address"], json!(ABANDON_ETH));
    assert_eq!(eth["path"], json!("m/44'/60'/0'/0/0"));
    let pk = eth["public_key"].as_str().expect("public key");
    assert!(pk.starts_with("0x") && pk.len() == 2 + 66, "{pk}");

    let btc = read_data(&t, "wallets/w/addresses/bitcoin", json!({})).await;
    assert_eq!(btc["address"], json!(ABANDON_BIP84));
    assert_eq!(btc["path"], json!("m/84'/0'/0'/0/0"));
    assert_eq!(btc["public_key"].as_str().map(str::len), Some(66));

    let tr = read_data(
        &t,
        "wallets/w/addresses/bitcoin",
        json!({"address_type": "p2tr"}),
    )
    .await;
    assert_eq!(tr["address"], json!(ABANDON_BIP86));
    assert_eq!(tr["path"], json!("m/86'/0'/0'/0/0"));

    let sol = read_data(&t, "wallets/w/addresses/solana", json!({})).await;
    assert_eq!(sol["address"], json!(ABANDON_SOL));
    assert_eq!(sol["path"], json!("m/44'/501'/0'/0'"));
    assert_eq!(sol["public_key"].as_str().map(str::len), Some(64));
}

#[tokio::test]
async fn default_paths_follow_the_table_of_api_md() {
    let t = backend().await;
    let cases = [
        (
            "ethereum",
            json!({"account": 2, "index": 7}),
            "m/44'/60'/2'/0/7",
        ),
        (
            "bitcoin",
            json!({"account": 1, "change": 1, "index": 3}),
            "m/84'/0'/1'/1/3",
        ),
        ("bitcoin", json!({"network": "testnet"}), "m/84'/1'/0'/0/0"),
        (
            "bitcoin",
            json!({"network": "regtest", "address_type": "p2tr"}),
            "m/86'/1'/0'/0/0",
        ),
        (
            "bitcoin",
            json!({"address_type": "p2sh-p2wpkh"}),
            "m/49'/0'/0'/0/0",
        ),
        (
            "bitcoin",
            json!({"address_type": "p2pkh", "network": "signet"}),
            "m/44'/1'/0'/0/0",
        ),
        ("solana", json!({"index": 4}), "m/44'/501'/4'/0'"),
        (
            "ethereum",
            json!({"path": "m/44h/60h/0h/0/7", "index": 99}),
            "m/44'/60'/0'/0/7",
        ),
    ];
    for (chain, data, path) in cases {
        let r = read_data(&t, &format!("wallets/w/addresses/{chain}"), data.clone()).await;
        assert_eq!(r["path"], json!(path), "{chain} {data}");
    }
    let tb = read_data(
        &t,
        "wallets/w/addresses/bitcoin",
        json!({"network": "testnet"}),
    )
    .await;
    assert!(
        tb["address"]
            .as_str()
            .is_some_and(|a| a.starts_with("tb1q"))
    );
    let p2sh = read_data(
        &t,
        "wallets/w/addresses/bitcoin",
        json!({"address_type": "p2sh-p2wpkh"}),
    )
    .await;
    assert!(p2sh["address"].as_str().is_some_and(|a| a.starts_with('3')));
    let legacy = read_data(
        &t,
        "wallets/w/addresses/bitcoin",
        json!({"address_type": "p2pkh"}),
    )
    .await;
    assert!(
        legacy["address"]
            .as_str()
            .is_some_and(|a| a.starts_with('1'))
    );
}

#[tokio::test]
async fn a_batch_lists_count_addresses_matching_single_reads() {
    let t = backend().await;
    for (chain, extra) in [
        ("ethereum", json!({})),
        ("bitcoin", json!({"address_type": "p2tr"})),
        ("solana", json!({})),
    ] {
        let mut data = extra.clone();
        data["count"] = json!(5);
        data["index"] = json!(3);
        let r = read_data(&t, &format!("wallets/w/addresses/{chain}"), data).await;
        let list = r["addresses"].as_array().expect("addresses");
        assert_eq!(list.len(), 5);
        for (n, entry) in list.iter().enumerate() {
            let i = 3 + n as i64;
            assert_eq!(entry["index"], json!(i));
            let mut one = extra.clone();
            one["index"] = json!(i);
            let single = read_data(&t, &format!("wallets/w/addresses/{chain}"), one).await;
            assert_eq!(entry["address"], single["address"], "{chain} {i}");
            assert_eq!(entry["path"], single["path"]);
            assert_eq!(entry["public_key"], single["public_key"]);
        }
        assert_eq!(r["address"], list[0]["address"]);
    }
    let r = read_data(&t, "wallets/w/addresses/ethereum", json!({"count": 1000})).await;
    assert_eq!(r["addresses"].as_array().map(Vec::len), Some(1000));
}

#[tokio::test]
async fn bad_key_selection_is_a_400_naming_the_field() {
    let t = backend().await;
    let p = "wallets/w/addresses/ethereum";
    bad_field(read(&t, p, json!({"count": 0})).await, "count");
    bad_field(read(&t, p, json!({"count": 1001})).await, "count");
    bad_field(read(&t, p, json!({"index": -1})).await, "index");
    bad_field(read(&t, p, json!({"index": 2147483648i64})).await, "index");
    bad_field(read(&t, p, json!({"path": "44'/60'"})).await, "path");
    bad_field(read(&t, p, json!({"change": 1})).await, "change");
    bad_field(read(&t, p, json!({"network": "testnet"})).await, "network");
    bad_field(
        read(&t, p, json!({"address_type": "p2tr"})).await,
        "address_type",
    );
    bad_field(
        read(&t, "wallets/w/addresses/bitcoin", json!({"change": 2})).await,
        "change",
    );
    bad_field(
        read(
            &t,
            "wallets/w/addresses/bitcoin",
            json!({"network": "mainnet2"}),
        )
        .await,
        "network",
    );
    bad_field(
        read(
            &t,
            "wallets/w/addresses/solana",
            json!({"path": "m/44'/501'/0'/0"}),
        )
        .await,
        "path",
    );
    bad_field(
        read(&t, "wallets/w/addresses/solana", json!({"account": 1})).await,
        "account",
    );
    bad_field(
        read(&t, "wallets/w/addresses/dogecoin", json!({})).await,
        "chain",
    );
    bad_field(
        read(&t, p, json!({"index": 2147483647i64, "count": 2})).await,
        "count",
    );
    let msg = not_found(read(&t, "wallets/nope/addresses/ethereum", json!({})).await);
    assert!(msg.contains("nope"));
}

#[tokio::test]
async fn key_wallets_have_one_key_on_their_own_curve() {
    let t = TestBackend::new();
    t.write_ok(
        "wallets/k",
        json!({"private_key": "4646464646464646464646464646464646464646464646464646464646464646", "curve": "secp256k1"}),
    )
    .await;
    let r = read_data(&t, "wallets/k/addresses/ethereum", json!({})).await;
    // The EIP-155 example key's address.
    assert_eq!(
        r["address"],
        json!("0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F")
    );
    assert_eq!(r["path"], json!("m"));
    for f in ["index", "account", "path"] {
        let v = if f == "path" { json!("m/0") } else { json!(0) };
        bad_field(
            read(&t, "wallets/k/addresses/ethereum", json!({f: v})).await,
            f,
        );
    }
    bad_field(
        read(&t, "wallets/k/addresses/bitcoin", json!({"change": 0})).await,
        "change",
    );
    bad_field(
        read(&t, "wallets/k/addresses/ethereum", json!({"count": 2})).await,
        "count",
    );
    let msg = bad_request(read(&t, "wallets/k/addresses/solana", json!({})).await);
    assert!(msg.contains("secp256k1") && msg.contains("solana"), "{msg}");
    t.write_ok(
        "wallets/e",
        json!({"private_key": "0x".to_string() + &"11".repeat(32), "curve": "ed25519"}),
    )
    .await;
    let r = read_data(&t, "wallets/e/addresses/solana", json!({})).await;
    assert_eq!(r["path"], json!("m"));
    bad_request(read(&t, "wallets/e/addresses/ethereum", json!({})).await);
}

#[tokio::test]
async fn derived_keys_are_cached_and_dropped_with_the_wallet() {
    let t = backend().await;
    let state = t.backend.state();
    read_data(&t, "wallets/w/addresses/ethereum", json!({})).await;
    read_data(&t, "wallets/w/addresses/solana", json!({})).await;
    assert_eq!(state.store.derived_keys().len_for("w"), 2);
    // A second read hits the cache (no new entry).
    read_data(&t, "wallets/w/addresses/ethereum", json!({})).await;
    assert_eq!(state.store.derived_keys().len_for("w"), 2);
    // Another node changed the wallet: invalidation drops its keys too.
    t.backend.invalidate("wallet/w").await;
    assert_eq!(state.store.derived_keys().len_for("w"), 0);
    read_data(&t, "wallets/w/addresses/ethereum", json!({})).await;
    assert_eq!(state.store.derived_keys().len_for("w"), 1);
    // Cleanup forgets everything.
    t.backend.cleanup().await;
    assert!(state.store.derived_keys().is_empty());
}

#[tokio::test]
async fn a_wallet_recreated_under_the_same_name_never_uses_the_old_keys() {
    let t = TestBackend::new();
    t.write_ok(
        "wallets/r",
        json!({"mnemonic": ABANDON, "deletion_allowed": true}),
    )
    .await;
    let old = read_data(&t, "wallets/r/addresses/ethereum", json!({})).await;
    assert_eq!(old["address"], json!(ABANDON_ETH));
    t.call(Operation::Delete, "wallets/r", json!({}))
        .await
        .expect("delete");
    t.write_ok("wallets/r", json!({"words": 12})).await;
    let new = read_data(&t, "wallets/r/addresses/ethereum", json!({})).await;
    assert_ne!(new["address"], old["address"]);
}

/// Regression (seconds of CPU per request): 1000 addresses of a 255-level
/// path whose index level is hardened were each derived from the seed,
/// 255 000 levels with a scalar multiplication each. Now an explicit path
/// has at most 10 levels, and a batch derives its parent once (both checked
/// before any derivation).
#[tokio::test]
async fn a_batch_of_deep_paths_is_refused_before_deriving() {
    let t = backend().await;
    let deep = format!("m{}/0'", "/0".repeat(254));
    let r = read(
        &t,
        "wallets/w/addresses/ethereum",
        json!({"count": 1000, "path": deep}),
    )
    .await;
    match r {
        Err(LogicalError::BadRequest(m)) => {
            assert!(m.contains("\"path\"") && m.contains("at most 10"), "{m}")
        }
        other => panic!("expected a 400, got {:?}", other.map(|_| ())),
    }
    // The deepest allowed batches: 1000 addresses at depth 10, hardened
    // (solana) and not (ethereum).
    for (chain, level) in [("solana", "/0'"), ("ethereum", "/0")] {
        let d = read_data(
            &t,
            &format!("wallets/w/addresses/{chain}"),
            json!({"count": 1000, "path": format!("m{}", level.repeat(10))}),
        )
        .await;
        assert_eq!(d["addresses"].as_array().map(Vec::len), Some(1000));
    }
}
