use serde_json::json;
use wallet_core::bitcoin::verify_checksum;

use super::*;

#[tokio::test]
async fn export_returns_the_secret_only_of_exportable_wallets() {
    let t = backend().await;
    let r = t.read_ok("export/w").await;
    assert_eq!(r.data["mnemonic"], json!(ABANDON));
    assert_eq!(r.data["passphrase"], json!(""));
    assert_eq!(r.data["type"], json!("hd"));
    let msg = forbidden(read(&t, "export/plain", json!({})).await);
    assert!(msg.contains("exportable"), "{msg}");
    assert!(!msg.contains("abandon"));
    not_found(read(&t, "export/nope", json!({})).await);

    let key = "4646464646464646464646464646464646464646464646464646464646464646";
    t.write_ok(
        "wallets/k",
        json!({"private_key": format!("0x{key}"), "curve": "secp256k1", "exportable": true}),
    )
    .await;
    let r = t.read_ok("export/k").await;
    assert_eq!(r.data["private_key"], json!(key));
    assert_eq!(r.data["curve"], json!("secp256k1"));
    assert!(r.data.get("mnemonic").is_none());
}

#[tokio::test]
async fn xpub_serializes_the_account_key_with_a_checksummed_descriptor() {
    let t = backend().await;
    let eth = read_data(&t, "wallets/w/xpub", json!({})).await;
    assert_eq!(eth["path"], json!("m/44'/60'/0'"));
    assert_eq!(eth["fingerprint"], json!("73c5da0a"));
    assert!(eth["xpub"].as_str().is_some_and(|x| x.starts_with("xpub")));
    assert!(eth.get("descriptor").is_none());

    let btc = read_data(&t, "wallets/w/xpub", json!({"chain": "bitcoin"})).await;
    assert_eq!(btc["path"], json!("m/84'/0'/0'"));
    let xpub = btc["xpub"].as_str().expect("xpub");
    let d = btc["descriptor"].as_str().expect("descriptor");
    assert!(
        d.starts_with(&format!("wpkh([73c5da0a/84'/0'/0']{xpub}/<0;1>/*)#")),
        "{d}"
    );
    assert!(verify_checksum(d));

    let tr = read_data(
        &t,
        "wallets/w/xpub",
        json!({"chain": "bitcoin", "address_type": "p2tr", "network": "testnet", "account": 3}),
    )
    .await;
    assert_eq!(tr["path"], json!("m/86'/1'/3'"));
    assert!(tr["xpub"].as_str().is_some_and(|x| x.starts_with("tpub")));
    assert!(
        tr["descriptor"]
            .as_str()
            .is_some_and(|d| d.starts_with("tr([73c5da0a/86'/1'/3']tpub"))
    );

    let explicit = read_data(
        &t,
        "wallets/w/xpub",
        json!({"chain": "bitcoin", "path": "m/84'/0'/0'"}),
    )
    .await;
    assert_eq!(explicit["xpub"], btc["xpub"]);
}

#[tokio::test]
async fn xpub_is_a_400_for_solana_key_wallets_and_bad_fields() {
    let t = backend().await;
    bad_field(
        read(&t, "wallets/w/xpub", json!({"chain": "solana"})).await,
        "chain",
    );
    bad_field(
        read(&t, "wallets/w/xpub", json!({"chain": "tron"})).await,
        "chain",
    );
    bad_field(
        read(&t, "wallets/w/xpub", json!({"network": "testnet"})).await,
        "network",
    );
    bad_field(
        read(&t, "wallets/w/xpub", json!({"path": "x"})).await,
        "path",
    );
    t.write_ok(
        "wallets/k",
        json!({"private_key": "11".repeat(32), "curve": "secp256k1"}),
    )
    .await;
    let msg = bad_request(read(&t, "wallets/k/xpub", json!({})).await);
    assert!(msg.contains("key wallet"), "{msg}");
    not_found(read(&t, "wallets/nope/xpub", json!({})).await);
}
