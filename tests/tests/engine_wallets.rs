//! `wallets/:name` and `wallets/:name/export` through a real server
//! (docs/api.md "Wallets"), the secrecy of every response, and the 404/405
//! of every path family.

mod engine_common;

use base64::Engine as _;
use bitcoin::bip32::Xpriv;
use bitcoin::secp256k1::Secp256k1;
use engine_common::{ABANDON, B64, Engine, expect_400_naming, seed, st};
use serde_json::{Value, json};

fn fingerprint_of(seed: &[u8]) -> String {
    let master = Xpriv::new_master(bitcoin::NetworkKind::Main, seed).expect("master");
    master.fingerprint(&Secp256k1::new()).to_string()
}

fn looks_like_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b't')
        && b[13] == b':'
        && b[16] == b':'
        && (s.ends_with('Z') || s.ends_with('z') || s[19..].contains(['+', '-']))
}

#[test]
fn an_imported_mnemonic_reports_only_public_facts_and_its_bip32_master_fingerprint() {
    let e = Engine::start();
    let created = e.abandon("abandon", json!({}));
    let read = e.get("crypto/wallets/abandon");
    read.expect_status(200);
    for d in [created.data(), read.data()] {
        assert_eq!(d["name"], "abandon");
        assert_eq!(d["type"], "hd");
        // The BIP32 master fingerprint of this mnemonic is 73c5da0a
        // (BIP84/BIP86 test vectors); rust-bitcoin agrees.
        assert_eq!(d["fingerprint"], "73c5da0a");
        assert_eq!(
            d["fingerprint"],
            fingerprint_of(&seed(ABANDON, "")).as_str()
        );
        assert_eq!(d["words"], 12);
        assert_eq!(d["exportable"], false);
        assert_eq!(d["deletion_allowed"], false);
        assert_eq!(d["allow_raw_signing"], false);
        assert_eq!(d["policies"], json!([]));
        assert!(looks_like_rfc3339(st(d, "created_time")), "{d}");
        for secret in ["mnemonic", "passphrase", "seed", "private_key", "xprv"] {
            assert!(d.get(secret).is_none(), "{secret} returned: {d}");
        }
    }
    assert_eq!(
        created.data()["created_time"],
        read.data()["created_time"],
        "the creation time must not change on read"
    );
}

#[test]
fn generated_wallets_have_every_allowed_word_count_and_a_valid_mnemonic() {
    let e = Engine::start();
    for (name, words) in [
        ("w12", Some(12)),
        ("w15", Some(15)),
        ("w18", Some(18)),
        ("w21", Some(21)),
        ("w24", Some(24)),
        ("wdefault", None),
    ] {
        let mut body = json!({"exportable": true});
        if let Some(w) = words {
            body["words"] = json!(w);
        }
        let created = e.write(&format!("crypto/wallets/{name}"), body);
        created.expect_status(200);
        let want = words.unwrap_or(24);
        assert_eq!(created.data()["words"], want, "{name}");
        let export = e.get(&format!("crypto/export/{name}"));
        export.expect_status(200);
        let mnemonic = st(export.data(), "mnemonic").to_string();
        assert_eq!(mnemonic.split(' ').count(), want as usize, "{name}");
        let parsed = bip39::Mnemonic::parse_in(bip39::Language::English, &mnemonic)
            .expect("a valid BIP39 mnemonic");
        // Not the all-zero entropy: generated from real randomness.
        assert!(parsed.to_entropy().iter().any(|&b| b != 0));
        assert_eq!(
            created.data()["fingerprint"],
            fingerprint_of(&parsed.to_seed("")).as_str(),
            "the fingerprint must be the exported mnemonic's"
        );
        // From now on this mnemonic must appear in no other response
        // (including the create response recorded above).
        e.secret_hd(&mnemonic, "");
    }
    let a = e.get("crypto/export/w24");
    let b = e.get("crypto/export/wdefault");
    assert_ne!(a.data()["mnemonic"], b.data()["mnemonic"]);
}

#[test]
fn a_passphrase_changes_the_master_key_and_export_returns_mnemonic_and_passphrase() {
    let e = Engine::start();
    let pass = "Correct-Horse-9f3a-passphrase";
    let created = e.abandon("pp", json!({"passphrase": pass, "exportable": true}));
    assert_eq!(
        created.data()["fingerprint"],
        fingerprint_of(&seed(ABANDON, pass)).as_str()
    );
    assert_ne!(created.data()["fingerprint"], "73c5da0a");
    assert_eq!(created.data()["exportable"], true);
    let export = e.get("crypto/export/pp");
    export.expect_status(200);
    assert_eq!(export.data()["mnemonic"], ABANDON);
    assert_eq!(export.data()["passphrase"], pass);
    // Positive control of the secrets scan: this body does hold the secret.
    assert!(export.body.to_string().contains(ABANDON));
    let (ok, out, err) = e.cli(&["read", "-format=json", "crypto/export/pp"]);
    assert!(ok, "{out}{err}");
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["data"]["mnemonic"], ABANDON);
}

#[test]
fn export_is_a_403_unless_the_wallet_was_created_exportable_which_cannot_change_later() {
    let e = Engine::start();
    e.abandon("locked", json!({}));
    let r = e.get("crypto/export/locked");
    r.expect_status(403);
    assert!(r.errors().contains("exportable"), "{}", r.body);
    expect_400_naming(
        &e.write("crypto/wallets/locked", json!({"exportable": true})),
        "exportable",
    );
    e.get("crypto/export/locked").expect_status(403);
    let (ok, out, err) = e.cli(&["read", "crypto/export/locked"]);
    assert!(!ok, "the CLI export of a locked wallet succeeded: {out}");
    assert!(err.contains("403") || err.contains("exportable"), "{err}");
}

#[test]
fn key_wallets_report_their_curve_and_round_trip_the_private_key_through_export() {
    let e = Engine::start();
    let secp: [u8; 32] =
        hex::decode("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
            .expect("hex")
            .try_into()
            .expect("32");
    let ed: [u8; 32] = [0x9d; 32];
    // With a 0x prefix, as api.md allows.
    e.secret_key("secp256k1", &secp);
    let created = e.write(
        "crypto/wallets/ks",
        json!({"private_key": format!("0x{}", hex::encode(secp)), "curve": "secp256k1", "exportable": true}),
    );
    created.expect_status(200);
    e.import_key("ke", "ed25519", &ed, json!({"exportable": true}));
    e.import_key("locked", "secp256k1", &secp, json!({}));
    for (name, curve, key) in [("ks", "secp256k1", secp), ("ke", "ed25519", ed)] {
        let read = e.get(&format!("crypto/wallets/{name}"));
        read.expect_status(200);
        assert_eq!(read.data()["type"], "key");
        assert_eq!(read.data()["curve"], curve);
        assert_eq!(read.data()["exportable"], true);
        let export = e.get(&format!("crypto/export/{name}"));
        export.expect_status(200);
        assert_eq!(export.data()["curve"], curve);
        let got = st(export.data(), "private_key");
        assert_eq!(
            got.trim_start_matches("0x").to_lowercase(),
            hex::encode(key),
            "{name}"
        );
        assert!(export.data().get("mnemonic").is_none());
    }
    e.get("crypto/export/locked").expect_status(403);
}

#[test]
fn create_only_fields_sent_to_an_existing_wallet_are_400s_and_the_flags_can_change() {
    let e = Engine::start();
    e.abandon("w", json!({}));
    for (field, value) in [
        ("mnemonic", json!(ABANDON)),
        ("passphrase", json!("Other-Passphrase-77")),
        ("words", json!(12)),
        (
            "private_key",
            json!("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"),
        ),
        ("curve", json!("secp256k1")),
        ("exportable", json!(true)),
    ] {
        let r = e.write("crypto/wallets/w", json!({ field: value }));
        expect_400_naming(&r, field);
    }
    e.secret_text("passphrase", "Other-Passphrase-77");
    let changed = e.write(
        "crypto/wallets/w",
        json!({"deletion_allowed": true, "allow_raw_signing": true}),
    );
    changed.expect_status(200);
    let read = e.get("crypto/wallets/w");
    assert_eq!(read.data()["deletion_allowed"], true);
    assert_eq!(read.data()["allow_raw_signing"], true);
    assert_eq!(
        read.data()["fingerprint"],
        "73c5da0a",
        "the key must not change"
    );
    e.write("crypto/wallets/w", json!({"allow_raw_signing": false}))
        .expect_status(200);
    let read = e.get("crypto/wallets/w");
    assert_eq!(read.data()["allow_raw_signing"], false);
    assert_eq!(read.data()["deletion_allowed"], true, "untouched flag kept");
}

#[test]
fn invalid_mnemonics_and_keys_are_400s_naming_the_field_that_never_echo_the_secret() {
    let e = Engine::start();
    // Valid words, wrong checksum (checked independently).
    let bad_checksum = "legal winner thank year wave sausage worth useful legal winner thank thank";
    assert!(bip39::Mnemonic::parse_in(bip39::Language::English, bad_checksum).is_err());
    // One word that is not in the English list.
    let bad_word = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon zyzzogeton";
    let eleven = "legal winner thank year wave sausage worth useful legal winner thank";
    for m in [bad_checksum, bad_word, eleven] {
        let r = e.write("crypto/wallets/m", json!({ "mnemonic": m }));
        expect_400_naming(&r, "mnemonic");
        let body = r.body.to_string().to_lowercase();
        for word in m.split(' ').filter(|w| *w != "abandon") {
            assert!(
                !body.contains(word),
                "the error echoes the mnemonic word {word:?}: {body}"
            );
        }
    }
    let key = "c0ffee11c0ffee22c0ffee33c0ffee44c0ffee55c0ffee66c0ffee77c0ffee88";
    for (body, field) in [
        (
            json!({"private_key": &key[..62], "curve": "secp256k1"}),
            "private_key",
        ),
        (
            json!({"private_key": format!("{key}00"), "curve": "secp256k1"}),
            "private_key",
        ),
        (
            json!({"private_key": format!("zz{}", &key[2..]), "curve": "secp256k1"}),
            "private_key",
        ),
        // The secp256k1 group order is not a valid key.
        (
            json!({"private_key": "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", "curve": "secp256k1"}),
            "private_key",
        ),
        (json!({"private_key": key}), "curve"),
        (json!({"private_key": key, "curve": "p256"}), "curve"),
        (
            json!({"private_key": key, "curve": "secp256k1", "mnemonic": ABANDON}),
            "mnemonic",
        ),
        (
            json!({"private_key": key, "curve": "secp256k1", "passphrase": "Pass-Only-For-HD-5"}),
            "passphrase",
        ),
    ] {
        let r = e.write("crypto/wallets/k", body.clone());
        expect_400_naming(&r, field);
        let text = r.body.to_string().to_lowercase();
        assert!(
            !text.contains(&key[2..40]),
            "the error echoes the key: {text}"
        );
        assert!(
            !text.contains("fffffffebaaedce6af48a03bbfd25e8cd0364141"),
            "{text}"
        );
        assert!(
            !text.contains("abandon"),
            "the error echoes the mnemonic: {text}"
        );
        assert!(!text.contains("pass-only-for-hd"), "{text}");
    }
    e.secret_text("key", key);
    e.secret_text("passphrase", "Pass-Only-For-HD-5");
    e.secret_text("mnemonic", bad_checksum);
    e.get("crypto/wallets/m").expect_status(404);
    e.get("crypto/wallets/k").expect_status(404);
}

#[test]
fn names_outside_the_pattern_are_400s_naming_name_and_the_longest_valid_name_works() {
    let e = Engine::start();
    let longest = format!("a{}", "b".repeat(127));
    e.write(&format!("crypto/wallets/{longest}"), json!({}))
        .expect_status(200);
    e.write("crypto/wallets/ok.name_1-2", json!({}))
        .expect_status(200);
    for bad in [
        format!("a{}", "b".repeat(128)),
        ".dot".to_string(),
        "_under".to_string(),
        "sp%20ace".to_string(),
        "semi;colon".to_string(),
    ] {
        let r = e.write(&format!("crypto/wallets/{bad}"), json!({}));
        expect_400_naming(&r, "name");
    }
    let listed = e.list("crypto/wallets");
    let mut keys: Vec<String> = listed.data()["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k.as_str().expect("str").to_string())
        .collect();
    keys.sort();
    assert_eq!(keys, vec![longest, "ok.name_1-2".to_string()]);
}

/// A well-formed legacy Solana transaction: one (empty) signature slot, one
/// signer account, a blockhash, no instructions.
fn minimal_solana_transaction() -> String {
    let mut t = vec![1u8];
    t.extend([0u8; 64]);
    t.extend([1u8, 0, 0, 1]);
    t.extend([7u8; 32]);
    t.extend([0x42u8; 32]);
    t.push(0);
    B64.encode(t)
}

/// Every path family with a request that would succeed on an existing wallet.
fn families() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        ("GET", "wallets/nobody", Value::Null),
        ("GET", "export/nobody", Value::Null),
        ("GET", "wallets/nobody/xpub", Value::Null),
        ("GET", "wallets/nobody/addresses/ethereum", Value::Null),
        ("GET", "wallets/nobody/addresses/bitcoin", Value::Null),
        ("GET", "wallets/nobody/addresses/solana", Value::Null),
        ("GET", "policies/nobody/ethereum", Value::Null),
        (
            "POST",
            "policies/nobody/ethereum",
            json!({"allowed_chain_ids": [1]}),
        ),
        (
            "POST",
            "wallets/nobody/ethereum/sign-transaction",
            json!({"chain_id": 1, "nonce": 0, "gas_limit": 21000, "gas_price": 1,
                   "to": "0x000000000000000000000000000000000000dEaD"}),
        ),
        (
            "POST",
            "wallets/nobody/ethereum/sign-message",
            json!({"message": "hi"}),
        ),
        (
            "POST",
            "wallets/nobody/ethereum/sign-typed-data",
            json!({"typed_data": {"types": {"EIP712Domain": []}, "primaryType": "EIP712Domain", "domain": {}, "message": {}}}),
        ),
        (
            "POST",
            "wallets/nobody/ethereum/sign-authorization",
            json!({"chain_id": 1, "nonce": 0, "address": "0x000000000000000000000000000000000000dEaD"}),
        ),
        (
            "POST",
            "wallets/nobody/bitcoin/sign-psbt",
            json!({"psbt": "cHNidP8BAAoCAAAAAAAAAAAAAAA="}),
        ),
        (
            "POST",
            "wallets/nobody/solana/sign-message",
            json!({"message": "aGk="}),
        ),
        (
            "POST",
            "wallets/nobody/solana/sign-transaction",
            json!({ "transaction": minimal_solana_transaction() }),
        ),
        (
            "POST",
            "sign-hash/nobody",
            json!({"chain": "ethereum", "hash": format!("0x{}", "11".repeat(32))}),
        ),
    ]
}

#[test]
fn an_unknown_wallet_is_a_404_on_every_path_family() {
    let e = Engine::start();
    for (method, path, body) in families() {
        let full = format!("crypto/{path}");
        let r = match method {
            "GET" => e.get(&full),
            _ => e.write(&full, body),
        };
        assert_eq!(r.status, 404, "{method} {path}: {}", r.body);
    }
    // Deleting an unknown wallet's policy is a 404 as well.
    let r = e.delete("crypto/policies/nobody/ethereum");
    assert_eq!(r.status, 404, "{}", r.body);
}

#[test]
fn operations_a_path_does_not_support_are_405() {
    let e = Engine::start();
    e.abandon("w", json!({}));
    for path in [
        "wallets/w/ethereum/sign-transaction",
        "wallets/w/ethereum/sign-message",
        "wallets/w/ethereum/sign-typed-data",
        "wallets/w/ethereum/sign-authorization",
        "wallets/w/bitcoin/sign-psbt",
        "wallets/w/solana/sign-message",
        "wallets/w/solana/sign-transaction",
        "sign-hash/w",
        "export/w",
        "wallets/w/xpub",
        "wallets/w/addresses/ethereum",
        "policies/w/ethereum/check",
    ] {
        let r = e.delete(&format!("crypto/{path}"));
        assert_eq!(r.status, 405, "DELETE {path}: {}", r.body);
    }
    for path in ["export/w", "wallets/w/xpub", "wallets/w/addresses/bitcoin"] {
        let r = e.write(&format!("crypto/{path}"), json!({}));
        assert_eq!(r.status, 405, "POST {path}: {}", r.body);
    }
    for path in [
        "wallets/w/ethereum/sign-message",
        "sign-hash/w",
        "wallets/w/bitcoin/sign-psbt",
        "policies/w/ethereum/check",
    ] {
        let r = e.get(&format!("crypto/{path}"));
        assert_eq!(r.status, 405, "GET {path}: {}", r.body);
    }
    // The old locations of administration are gone.
    for path in [
        "wallets/w/export",
        "wallets/w/policy/ethereum",
        "wallets/w/sign-hash",
    ] {
        let r = e.get(&format!("crypto/{path}"));
        assert!(
            r.status == 404 || r.status == 405,
            "GET {path}: {} {}",
            r.status,
            r.body
        );
    }
    // The wallet is untouched.
    e.get("crypto/wallets/w").expect_status(200);
}

#[test]
fn the_secret_scan_finds_a_mnemonic_or_key_in_any_non_export_body() {
    let e = Engine::start();
    e.abandon("x", json!({"exportable": true}));
    assert!(e.recorded() > 0);
    e.assert_no_secret_leaked();
    let export = e.s.get("crypto/export/x");
    export.expect_status(200);
    // The same body, had it come from any other path, is caught.
    e.record_body("a pretend read", &export.body.to_string());
    let caught =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| e.assert_no_secret_leaked()));
    assert!(caught.is_err(), "the scan missed the mnemonic");
    // And so is a derived private key, in any of its encodings.
    e.forget_recorded();
    let (sk, _) = engine_common::secp_key(&seed(ABANDON, ""), "m/44'/60'/0'/0/0");
    for text in [
        format!("0x{}", hex::encode(sk.secret_bytes())),
        hex::encode(sk.secret_bytes()).to_uppercase(),
    ] {
        e.record_body("a pretend signature", &format!("{{\"k\":\"{text}\"}}"));
        let caught =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| e.assert_no_secret_leaked()));
        assert!(caught.is_err(), "the scan missed {text}");
        e.forget_recorded();
    }
}
