use serde_json::json;

use super::*;

#[tokio::test]
async fn sign_hash_signs_raw_digests_only_with_allow_raw_signing() {
    let t = backend().await;
    let digest = format!("0x{}", "ab".repeat(32));
    let r = update_data(
        &t,
        "sign-hash/w",
        json!({"chain": "ethereum", "hash": digest}),
    )
    .await;
    assert_eq!(r["address"], json!(ABANDON_ETH));
    let sig = r["signature"].as_str().expect("sig");
    assert_eq!(sig.len(), 2 + 130);
    assert!(sig.ends_with("1b") || sig.ends_with("1c"), "{sig}");

    let b = update_data(
        &t,
        "sign-hash/w",
        json!({"chain": "bitcoin", "hash": digest}),
    )
    .await;
    assert_eq!(b["address"], json!(ABANDON_BIP84));
    let s = update_data(
        &t,
        "sign-hash/w",
        json!({"chain": "solana", "hash": "0x0102"}),
    )
    .await;
    assert_eq!(s["public_key"], json!(ABANDON_SOL));
    assert!(
        s["signature"]
            .as_str()
            .is_some_and(|x| !x.starts_with("0x"))
    );

    let msg = forbidden(
        update(
            &t,
            "sign-hash/plain",
            json!({"chain": "ethereum", "hash": digest}),
        )
        .await,
    );
    assert!(msg.contains("allow_raw_signing"), "{msg}");
    bad_field(
        update(
            &t,
            "sign-hash/w",
            json!({"chain": "ethereum", "hash": "0x01"}),
        )
        .await,
        "hash",
    );
    bad_field(
        update(
            &t,
            "sign-hash/w",
            json!({"chain": "ethereum", "hash": "zz"}),
        )
        .await,
        "hash",
    );
    bad_field(
        update(&t, "sign-hash/w", json!({"hash": digest})).await,
        "chain",
    );
    not_found(
        update(
            &t,
            "sign-hash/nope",
            json!({"chain": "ethereum", "hash": digest}),
        )
        .await,
    );
}

/// Every response text of a session over one exportable wallet with a passphrase.
#[tokio::test]
async fn no_response_except_export_contains_the_mnemonic_passphrase_or_private_key() {
    let t = TestBackend::new();
    let passphrase = "correct horse battery staple";
    t.write_ok(
        "wallets/s",
        json!({"mnemonic": ABANDON, "passphrase": passphrase, "allow_raw_signing": true, "exportable": true}),
    )
    .await;
    let key = "4646464646464646464646464646464646464646464646464646464646464646";
    t.write_ok(
        "wallets/k",
        json!({"private_key": key, "curve": "secp256k1", "allow_raw_signing": true}),
    )
    .await;
    let digest = format!("0x{}", "ab".repeat(32));
    let mut texts = Vec::new();
    for w in ["s", "k"] {
        for (op, path, data) in [
            (
                Operation::Read,
                format!("wallets/{w}/addresses/ethereum"),
                json!({}),
            ),
            (
                Operation::Read,
                format!("wallets/{w}/addresses/bitcoin"),
                json!({}),
            ),
            (
                Operation::Read,
                format!("wallets/{w}/xpub"),
                json!({"chain": "bitcoin"}),
            ),
            (
                Operation::Update,
                format!("wallets/{w}/ethereum/sign-message"),
                json!({"message": "m"}),
            ),
            (
                Operation::Update,
                format!("sign-hash/{w}"),
                json!({"chain": "ethereum", "hash": digest}),
            ),
            (
                Operation::Update,
                format!("wallets/{w}/ethereum/sign-transaction"),
                json!({"chain_id": 1, "nonce": 0, "gas_limit": 21000, "gas_price": 1}),
            ),
            (
                Operation::Read,
                format!("wallets/{w}/addresses/solana"),
                json!({}),
            ),
            (
                Operation::Update,
                format!("wallets/{w}/solana/sign-message"),
                json!({"message": "aGk="}),
            ),
        ] {
            let text = match t.call(op, &path, data).await {
                Ok(Some(r)) => serde_json::to_string(&r.data).expect("json"),
                Ok(None) => String::new(),
                Err(e) => e.to_string(),
            };
            texts.push(text);
        }
    }
    let all = texts.join("\n");
    assert!(!all.contains("abandon"), "a response contains the mnemonic");
    assert!(
        !all.contains(passphrase),
        "a response contains the passphrase"
    );
    assert!(!all.contains(key), "a response contains the private key");
    // The export path does return them (the positive control).
    let r = t.read_ok("export/s").await;
    assert_eq!(r.data["passphrase"], json!(passphrase));
}

#[tokio::test]
async fn every_engine_path_has_help_and_described_fields() {
    for p in crate::backend::paths() {
        assert!(
            !p.help_synopsis.is_empty(),
            "{} has no synopsis",
            p.pattern.as_str()
        );
        assert!(
            !p.help_description.is_empty(),
            "{} has no description",
            p.pattern.as_str()
        );
        for f in &p.fields {
            assert!(
                f.description.ends_with('.'),
                "{}: field {} needs a full-sentence description",
                p.pattern.as_str(),
                f.name
            );
        }
    }
}
