//! In-process tests of `wallets/` and `wallets/{name}` over in-memory storage.

use serde_json::{Value, json};

use crate::backend::testing::{TestBackend, bad_request};
use crate::logical::{Backend, LogicalError, Operation, Response};
use crate::store::keys;

/// The well-known BIP39 test mnemonic; its BIP32 master fingerprint is
/// 73c5da0a (BIP84's test vectors list `[73c5da0a/84'/0'/0']`).
const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon \
                       abandon abandon about";
const SECP_KEY: &str = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

fn assert_rfc3339(s: &str) {
    let parsed = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339);
    assert!(parsed.is_ok(), "created_time {s:?} is not RFC 3339");
}

#[tokio::test]
async fn creating_a_wallet_generates_a_24_word_hd_wallet_by_default() {
    let t = TestBackend::new();
    let r = t.write_ok("wallets/w1", json!({})).await;
    assert_eq!(r.data["name"], json!("w1"));
    assert_eq!(r.data["type"], json!("hd"));
    assert_eq!(r.data["words"], json!(24));
    let fp = r.data["fingerprint"].as_str().expect("fingerprint");
    assert_eq!(fp.len(), 8);
    assert!(
        fp.bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert_eq!(r.data["exportable"], json!(false));
    assert_eq!(r.data["deletion_allowed"], json!(false));
    assert_eq!(r.data["allow_raw_signing"], json!(false));
    assert_eq!(r.data["policies"], json!([]));
    assert!(r.data.get("curve").is_none());
    assert_rfc3339(r.data["created_time"].as_str().expect("time"));
    // Reading returns the same facts.
    let read = t.read_ok("wallets/w1").await;
    assert_eq!(read.data, r.data);
}

#[tokio::test]
async fn generated_mnemonics_have_the_requested_word_count() {
    let t = TestBackend::new();
    let r = t.write_ok("wallets/w12", json!({"words": "12"})).await;
    assert_eq!(r.data["words"], json!(12));
    let msg = bad_request(t.write("wallets/w13", json!({"words": 13})).await);
    assert!(msg.contains("\"words\""), "{msg}");
}

#[tokio::test]
async fn importing_the_abandon_mnemonic_gives_its_known_fingerprint() {
    let t = TestBackend::new();
    let r = t
        .write_ok("wallets/abandon", json!({"mnemonic": ABANDON}))
        .await;
    assert_eq!(r.data["fingerprint"], json!("73c5da0a"));
    assert_eq!(r.data["words"], json!(12));
    // A passphrase gives another seed, hence another master key.
    let r = t
        .write_ok(
            "wallets/abandon-p",
            json!({"mnemonic": ABANDON, "passphrase": "TREZOR"}),
        )
        .await;
    assert_ne!(r.data["fingerprint"], json!("73c5da0a"));
}

#[tokio::test]
async fn importing_a_private_key_makes_a_key_wallet() {
    let t = TestBackend::new();
    let r = t
        .write_ok(
            "wallets/k1",
            json!({"private_key": format!("0x{SECP_KEY}"), "curve": "secp256k1"}),
        )
        .await;
    assert_eq!(r.data["type"], json!("key"));
    assert_eq!(r.data["curve"], json!("secp256k1"));
    assert!(r.data.get("fingerprint").is_none());
    assert!(r.data.get("words").is_none());
    let r = t
        .write_ok(
            "wallets/k2",
            json!({"private_key": SECP_KEY, "curve": "ed25519"}),
        )
        .await;
    assert_eq!(r.data["curve"], json!("ed25519"));
}

#[tokio::test]
async fn bad_key_input_is_a_400_naming_the_field_without_echoing_it() {
    let t = TestBackend::new();
    let msg = bad_request(t.write("wallets/k", json!({"private_key": SECP_KEY})).await);
    assert!(msg.contains("\"curve\""), "{msg}");
    let msg = bad_request(
        t.write(
            "wallets/k",
            json!({"private_key": "abcd1234", "curve": "secp256k1"}),
        )
        .await,
    );
    assert!(
        msg.contains("\"private_key\"") && !msg.contains("abcd1234"),
        "{msg}"
    );
    let zero = "0".repeat(64);
    let msg = bad_request(
        t.write(
            "wallets/k",
            json!({"private_key": zero, "curve": "secp256k1"}),
        )
        .await,
    );
    assert!(msg.contains("\"private_key\""), "{msg}");
    let msg = bad_request(t.write("wallets/k", json!({"curve": "secp256k1"})).await);
    assert!(msg.contains("\"curve\""), "{msg}");
    let msg = bad_request(t.write("wallets/k", json!({"curve": "p256"})).await);
    assert!(msg.contains("\"curve\""), "{msg}");
    let bad_checksum = ABANDON.replace("about", "abandon");
    let msg = bad_request(
        t.write("wallets/k", json!({"mnemonic": bad_checksum}))
            .await,
    );
    assert!(
        msg.contains("\"mnemonic\"") && !msg.contains("abandon"),
        "{msg}"
    );
    let msg = bad_request(
        t.write(
            "wallets/k",
            json!({"mnemonic": ABANDON, "private_key": SECP_KEY, "curve": "secp256k1"}),
        )
        .await,
    );
    assert!(msg.contains("\"private_key\""), "{msg}");
    let msg = bad_request(
        t.write("wallets/k", json!({"mnemonic": ABANDON, "words": 12}))
            .await,
    );
    assert!(msg.contains("\"words\""), "{msg}");
    let msg = bad_request(
        t.write(
            "wallets/k",
            json!({"private_key": SECP_KEY, "curve": "secp256k1", "passphrase": "x"}),
        )
        .await,
    );
    assert!(msg.contains("\"passphrase\""), "{msg}");
    // Nothing was created by any of these.
    assert!(t.list_ok("wallets/").await.is_empty());
}

#[tokio::test]
async fn an_oversized_mnemonic_or_passphrase_is_a_400_naming_the_field_and_the_limit() {
    use crate::paths::wallets::{MAX_MNEMONIC_BYTES, MAX_PASSPHRASE_BYTES};
    let t = TestBackend::new();
    let long_phrase = format!("{ABANDON}{}", " ".repeat(MAX_MNEMONIC_BYTES));
    let msg = bad_request(t.write("wallets/k", json!({"mnemonic": long_phrase})).await);
    assert!(
        msg.contains("\"mnemonic\"") && msg.contains("1024 bytes") && !msg.contains("abandon"),
        "{msg}"
    );
    let long_pass = "p".repeat(MAX_PASSPHRASE_BYTES + 1);
    let msg = bad_request(
        t.write(
            "wallets/k",
            json!({"mnemonic": ABANDON, "passphrase": long_pass}),
        )
        .await,
    );
    assert!(
        msg.contains("\"passphrase\"") && msg.contains("1024 bytes") && !msg.contains("ppp"),
        "{msg}"
    );
    assert!(t.list_ok("wallets/").await.is_empty());
    // At the limit both are accepted.
    let at_limit = format!(
        "{ABANDON}{}",
        " ".repeat(MAX_MNEMONIC_BYTES - ABANDON.len())
    );
    let r = t
        .write_ok(
            "wallets/k",
            json!({"mnemonic": at_limit, "passphrase": "p".repeat(MAX_PASSPHRASE_BYTES)}),
        )
        .await;
    assert_eq!(r.data["words"], json!(12));
}

#[tokio::test]
async fn creating_a_wallet_twice_only_changes_flags() {
    let t = TestBackend::new();
    let first = t.write_ok("wallets/w", json!({"mnemonic": ABANDON})).await;
    let second = t
        .write_ok(
            "wallets/w",
            json!({"deletion_allowed": true, "allow_raw_signing": "true"}),
        )
        .await;
    assert_eq!(second.data["deletion_allowed"], json!(true));
    assert_eq!(second.data["allow_raw_signing"], json!(true));
    assert_eq!(second.data["fingerprint"], first.data["fingerprint"]);
    assert_eq!(second.data["created_time"], first.data["created_time"]);
    // Flags not sent keep their value.
    let third = t
        .write_ok("wallets/w", json!({"allow_raw_signing": false}))
        .await;
    assert_eq!(third.data["deletion_allowed"], json!(true));
    assert_eq!(third.data["allow_raw_signing"], json!(false));
    for (field, value) in [
        ("mnemonic", json!(ABANDON)),
        ("passphrase", json!("p")),
        ("words", json!(12)),
        ("private_key", json!(SECP_KEY)),
        ("curve", json!("secp256k1")),
        ("exportable", json!(true)),
    ] {
        let msg = bad_request(t.write("wallets/w", json!({ field: value })).await);
        assert!(msg.contains(&format!("\"{field}\"")), "{field}: {msg}");
    }
    assert_eq!(
        t.read_ok("wallets/w").await.data["exportable"],
        json!(false)
    );
}

#[tokio::test]
async fn racing_creates_of_one_name_make_exactly_one_wallet() {
    let t = std::sync::Arc::new(TestBackend::new());
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let t = std::sync::Arc::clone(&t);
        tasks.push(tokio::spawn(async move {
            // Every request saw "does not exist" and is a create.
            t.call(
                Operation::Create,
                "wallets/race",
                json!({"mnemonic": ABANDON}),
            )
            .await
        }));
    }
    let mut created = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(_) => created += 1,
            Err(LogicalError::BadRequest(m)) => assert!(m.contains("already exists"), "{m}"),
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(t.list_ok("wallets/").await, vec!["race".to_string()]);
}

#[tokio::test]
async fn create_means_create_and_update_means_update() {
    let t = TestBackend::new();
    // An update of a missing wallet is a 404 and generates nothing.
    let e = t
        .call(
            Operation::Update,
            "wallets/u",
            json!({"deletion_allowed": true}),
        )
        .await
        .expect_err("404");
    assert!(matches!(e, LogicalError::NotFound(_)), "{e:?}");
    assert!(t.storage.keys().is_empty(), "{:?}", t.storage.keys());
    // A create of an existing wallet is a 400 and changes nothing, even
    // without key material in the request.
    t.write_ok("wallets/u", json!({"mnemonic": ABANDON})).await;
    let before = t.storage.raw("wallet/u").expect("stored");
    for body in [json!({}), json!({"allow_raw_signing": true})] {
        let e = t
            .call(Operation::Create, "wallets/u", body)
            .await
            .expect_err("exists");
        assert!(e.to_string().contains("already exists"), "{e}");
    }
    assert_eq!(t.storage.raw("wallet/u").expect("stored"), before);
}

#[tokio::test]
async fn the_existence_check_maps_writes_to_create_then_update() {
    async fn check(t: &TestBackend) -> crate::logical::ExistenceCheck {
        t.backend
            .existence_check(t.request(Operation::Update, "wallets/e", json!({})))
            .await
            .expect("check")
    }
    let t = TestBackend::new();
    let before = check(&t).await;
    assert!(before.check_found && !before.exists);
    t.write_ok("wallets/e", json!({})).await;
    let after = check(&t).await;
    assert!(after.check_found && after.exists);
}

#[tokio::test]
async fn listing_returns_sorted_names_and_an_empty_list_when_there_are_none() {
    let t = TestBackend::new();
    assert!(t.list_ok("wallets/").await.is_empty());
    for name in ["b", "a.1", "C-2"] {
        t.write_ok(&format!("wallets/{name}"), json!({"words": 12}))
            .await;
    }
    assert_eq!(t.list_ok("wallets/").await, vec!["C-2", "a.1", "b"]);
    assert_eq!(t.list_ok("wallets").await, vec!["C-2", "a.1", "b"]);
}

#[tokio::test]
async fn invalid_names_are_400s_naming_the_name_field() {
    let t = TestBackend::new();
    let long = "a".repeat(129);
    for name in ["-x", ".x", "a b", "a%2Fb", "ä", long.as_str()] {
        let msg = bad_request(t.write(&format!("wallets/{name}"), json!({})).await);
        assert!(msg.contains("\"name\""), "{name}: {msg}");
        let msg = bad_request(
            t.call(Operation::Read, &format!("wallets/{name}"), json!({}))
                .await,
        );
        assert!(msg.contains("\"name\""), "{name}: {msg}");
    }
    let ok = "a".repeat(128);
    t.write_ok(&format!("wallets/{ok}"), json!({"words": 12}))
        .await;
}

#[tokio::test]
async fn unknown_wallets_are_404s_and_unknown_paths_or_operations_are_rejected() {
    let t = TestBackend::new();
    let missing = t.call(Operation::Read, "wallets/nope", Value::Null).await;
    assert!(matches!(missing, Err(LogicalError::NotFound(m)) if m.contains("nope")));
    let missing = t.call(Operation::Delete, "wallets/nope", Value::Null).await;
    assert!(matches!(missing, Err(LogicalError::NotFound(_))));
    assert!(matches!(
        t.call(Operation::Read, "nothing/here", Value::Null).await,
        Err(LogicalError::UnsupportedPath)
    ));
    assert!(matches!(
        t.call(Operation::Read, "wallets/a/b/c/d/e", Value::Null)
            .await,
        Err(LogicalError::UnsupportedPath)
    ));
    assert!(matches!(
        t.call(Operation::Read, "wallets/", Value::Null).await,
        Err(LogicalError::UnsupportedOperation)
    ));
    assert!(matches!(
        t.call(Operation::List, "wallets/x", Value::Null).await,
        Err(LogicalError::UnsupportedOperation)
    ));
    assert!(matches!(
        t.call(Operation::Patch, "wallets/x", json!({})).await,
        Err(LogicalError::UnsupportedOperation)
    ));
}

#[tokio::test]
async fn deletion_is_refused_unless_allowed_and_removes_policies_and_counters() {
    let t = TestBackend::new();
    t.write_ok("wallets/d", json!({"words": 12})).await;
    t.write_ok("wallets/keep", json!({"words": 12})).await;
    // Policies and counters of both wallets, written as the policy paths will.
    for name in ["d", "keep"] {
        for key in [
            keys::policy(name, "ethereum"),
            keys::policy(name, "bitcoin"),
            keys::counter(name, "ethereum", "1"),
            keys::counter(name, "bitcoin", "bitcoin"),
        ] {
            use crate::logical::Storage;
            t.storage
                .put(&key, zeroize::Zeroizing::new(b"{\"version\":1}".to_vec()))
                .await
                .expect("put");
        }
    }
    assert_eq!(
        t.read_ok("wallets/d").await.data["policies"],
        json!(["bitcoin", "ethereum"])
    );
    let msg = bad_request(t.call(Operation::Delete, "wallets/d", Value::Null).await);
    assert!(msg.contains("deletion_allowed"), "{msg}");
    t.write_ok("wallets/d", json!({"deletion_allowed": true}))
        .await;
    let deleted = t
        .call(Operation::Delete, "wallets/d", Value::Null)
        .await
        .expect("delete");
    assert!(deleted.is_none());
    assert_eq!(t.list_ok("wallets/").await, vec!["keep"]);
    let left: Vec<String> = t.storage.keys();
    assert!(
        left.iter().all(|k| !k.contains("/d/") && k != "wallet/d"),
        "{left:?}"
    );
    assert_eq!(left.len(), 5, "the other wallet's entries stay: {left:?}");
    assert!(matches!(
        t.call(Operation::Read, "wallets/d", Value::Null).await,
        Err(LogicalError::NotFound(_))
    ));
}

#[tokio::test]
async fn another_nodes_write_is_seen_after_invalidation() {
    let active = TestBackend::new();
    let standby = TestBackend::with_storage(std::sync::Arc::clone(&active.storage));
    active.write_ok("wallets/ha", json!({"words": 12})).await;
    // The standby caches the wallet on first read.
    assert_eq!(
        standby.read_ok("wallets/ha").await.data["deletion_allowed"],
        json!(false)
    );
    assert_eq!(standby.backend.state().store.cached_wallets(), 1);
    active
        .write_ok("wallets/ha", json!({"deletion_allowed": true}))
        .await;
    // Without the host's InvalidateKey the standby still serves its cache...
    assert_eq!(
        standby.read_ok("wallets/ha").await.data["deletion_allowed"],
        json!(false)
    );
    // ...and after it, the stored entry.
    standby.backend.invalidate(&keys::wallet("ha")).await;
    assert_eq!(standby.backend.state().store.cached_wallets(), 0);
    assert_eq!(
        standby.read_ok("wallets/ha").await.data["deletion_allowed"],
        json!(true)
    );
    // Keys of other kinds leave the wallet cache alone.
    standby
        .backend
        .invalidate(&keys::policy("ha", "ethereum"))
        .await;
    assert_eq!(standby.backend.state().store.cached_wallets(), 1);
}

#[tokio::test]
async fn a_write_on_read_only_storage_keeps_the_hosts_error_text() {
    let t = TestBackend::new();
    t.write_ok("wallets/ro", json!({"words": 12})).await;
    t.storage.set_read_only(true);
    let err = t
        .write("wallets/ro", json!({"deletion_allowed": true}))
        .await
        .expect_err("read-only");
    assert!(matches!(&err, LogicalError::Storage(_)));
    assert_eq!(err.to_string(), crate::logical::memory::READONLY_ERROR);
    // Reads still work on a standby.
    t.read_ok("wallets/ro").await;
}

#[tokio::test]
async fn stored_entries_carry_a_version_and_newer_ones_are_refused() {
    use crate::logical::Storage;
    let t = TestBackend::new();
    t.write_ok("wallets/v", json!({"words": 12})).await;
    let raw = t.storage.raw(&keys::wallet("v")).expect("stored");
    let stored: Value = serde_json::from_slice(&raw).expect("json");
    assert_eq!(stored["version"], json!(1));
    t.storage
        .put(
            &keys::wallet("future"),
            zeroize::Zeroizing::new(br#"{"version":99,"name":"future"}"#.to_vec()),
        )
        .await
        .expect("put");
    let err = t
        .call(Operation::Read, "wallets/future", Value::Null)
        .await
        .expect_err("newer");
    assert!(
        matches!(&err, LogicalError::Internal(m) if m.contains("newer")),
        "{err}"
    );
}

#[tokio::test]
async fn unknown_fields_are_ignored_with_a_warning() {
    let t = TestBackend::new();
    let r = t
        .write_ok("wallets/u", json!({"words": 12, "colour": "red"}))
        .await;
    assert_eq!(
        r.warnings,
        vec!["Endpoint ignored these unrecognized parameters: [colour]".to_string()]
    );
}

#[tokio::test]
async fn help_and_openapi_describe_the_wallet_paths_and_fields() {
    let t = TestBackend::new();
    let help = t
        .call(Operation::Help, "wallets/x", Value::Null)
        .await
        .expect("help")
        .expect("response");
    let text = help.data["help"].as_str().expect("text");
    for needle in [
        "Create, update, read or delete a wallet.",
        "mnemonic (string)",
        "deletion_allowed (bool)",
    ] {
        assert!(text.contains(needle), "help lacks {needle:?}:\n{text}");
    }
    let root = t
        .call(
            Operation::Help,
            "",
            json!({"requestResponsePrefix": "vault-plugin-crypto"}),
        )
        .await
        .expect("root help")
        .expect("response");
    let doc = &root.data["openapi"];
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.contains_key("/wallets/"));
    assert!(paths.contains_key("/wallets/{name}"));
    let item = &paths["/wallets/{name}"];
    assert_eq!(item["x-vault-createSupported"], json!(true));
    assert_eq!(
        item["parameters"][0]["schema"]["pattern"],
        json!(crate::logical::field::NAME_PATTERN)
    );
    let props = &item["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"];
    for field in [
        "mnemonic",
        "passphrase",
        "words",
        "private_key",
        "curve",
        "exportable",
        "deletion_allowed",
        "allow_raw_signing",
    ] {
        let desc = props[field]["description"].as_str().unwrap_or("");
        assert!(desc.ends_with('.'), "{field} lacks a sentence: {desc:?}");
    }
    assert_eq!(props["words"]["enum"], json!([12, 15, 18, 21, 24]));
    assert_eq!(props["mnemonic"]["format"], json!("password"));
}

#[test]
fn the_wallet_prefix_is_seal_wrapped() {
    let sp = crate::backend::new(Default::default()).special_paths();
    assert_eq!(sp.seal_wrap_storage, vec!["wallet/".to_string()]);
    assert!(sp.unauthenticated.is_empty() && sp.root.is_empty());
}

fn all_text(responses: &[Response]) -> String {
    responses
        .iter()
        .map(|r| format!("{} {:?}", Value::Object(r.data.clone()), r.warnings))
        .collect()
}

#[tokio::test]
async fn no_response_contains_the_mnemonic_passphrase_or_private_key() {
    let t = TestBackend::new();
    let passphrase = "correct horse battery staple";
    let mut responses = vec![
        t.write_ok(
            "wallets/s1",
            json!({"mnemonic": ABANDON, "passphrase": passphrase, "exportable": true}),
        )
        .await,
        t.write_ok(
            "wallets/s2",
            json!({"private_key": SECP_KEY, "curve": "secp256k1"}),
        )
        .await,
        t.write_ok("wallets/s1", json!({"deletion_allowed": true}))
            .await,
        t.read_ok("wallets/s1").await,
        t.read_ok("wallets/s2").await,
    ];
    let generated = t.write_ok("wallets/s3", json!({})).await;
    responses.push(generated);
    responses.push(t.read_ok("wallets/s3").await);
    for path in ["", "wallets/s1"] {
        responses.push(
            t.call(Operation::Help, path, Value::Null)
                .await
                .expect("help")
                .expect("response"),
        );
    }
    let text = all_text(&responses);
    assert!(
        !text.contains("abandon"),
        "a response contains the mnemonic"
    );
    assert!(
        !text.contains(passphrase),
        "a response contains the passphrase"
    );
    assert!(
        !text.contains(SECP_KEY),
        "a response contains the private key"
    );
    // The generated mnemonic: no response carries any 24-word run of its words.
    let stored: Value =
        serde_json::from_slice(&t.storage.raw(&keys::wallet("s3")).expect("s3")).expect("json");
    let phrase = stored["mnemonic"].as_str().expect("stored mnemonic");
    assert!(!text.contains(phrase));
    // The secrets are where they belong: in storage.
    let dump = String::from_utf8_lossy(&t.storage.dump()).to_string();
    assert!(dump.contains(ABANDON) && dump.contains(passphrase) && dump.contains(SECP_KEY));
    // And the decoded wallets print no secret in Debug.
    let cached = t
        .backend
        .state()
        .store
        .wallet(t.storage.as_ref(), "s1")
        .await
        .expect("load")
        .expect("s1");
    let debug = format!("{cached:?}");
    assert!(
        !debug.contains("abandon") && !debug.contains(passphrase),
        "{debug}"
    );
}
