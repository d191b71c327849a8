//! In-process tests of `policies/{name}/{chain}` over in-memory storage.

use serde_json::{Value, json};

use crate::backend::testing::{TestBackend, bad_request};
use crate::logical::{Backend, LogicalError, Operation};
use crate::store::keys;

/// EIP-55 examples (the EIP's own test list).
const ETH_A: &str = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
const ETH_B: &str = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359";
/// BIP-173 / BIP-350 examples and well-known base58 addresses.
const BTC_P2WPKH: &str = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4";
const BTC_P2TR: &str = "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297";
const BTC_TESTNET: &str = "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx";
const BTC_P2PKH: &str = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2";
const BTC_P2SH: &str = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy";

fn litecoin() -> String {
    let hrp = bech32::Hrp::parse("ltc").expect("hrp");
    bech32::segwit::encode(hrp, bech32::segwit::VERSION_0, &[7u8; 20]).expect("encodes")
}

async fn with_wallet() -> TestBackend {
    let t = TestBackend::new();
    t.write_ok("wallets/w", json!({})).await;
    t
}

#[tokio::test]
async fn an_ethereum_policy_is_created_read_and_listed_on_the_wallet() {
    let t = with_wallet().await;
    let r = t
        .write_ok(
            "policies/w/ethereum",
            json!({
                "allowed_chain_ids": [1, "137", "0xa"],
                "allowed_recipients": [ETH_A.to_lowercase()],
                "denied_recipients": ETH_B,
                "max_value_per_tx": "0xde0b6b3a7640000",
                "max_value_per_day": 2_000_000_000_000_000_000_u64,
                "allow_contract_creation": false,
            }),
        )
        .await;
    assert_eq!(r.data["chain"], json!("ethereum"));
    assert_eq!(r.data["allowed_chain_ids"], json!([1, 137, 10]));
    // Stored lower-case, shown EIP-55 checksummed.
    assert_eq!(r.data["allowed_recipients"], json!([ETH_A]));
    assert_eq!(r.data["denied_recipients"], json!([ETH_B]));
    assert_eq!(r.data["max_value_per_tx"], json!("1000000000000000000"));
    assert_eq!(r.data["max_value_per_day"], json!("2000000000000000000"));
    assert_eq!(r.data["allow_contract_creation"], json!(false));
    let read = t.read_ok("policies/w/ethereum").await;
    assert_eq!(read.data, r.data);
    assert_eq!(
        t.read_ok("wallets/w").await.data["policies"],
        json!(["ethereum"])
    );
    let raw = t
        .storage
        .raw(&keys::policy("w", "ethereum"))
        .expect("stored");
    let raw = String::from_utf8(raw.to_vec()).expect("utf8");
    assert!(raw.contains("\"version\":2"), "{raw}");
    assert!(raw.contains(&ETH_A.to_lowercase()), "{raw}");
}

#[tokio::test]
async fn a_new_policy_has_no_restrictions_and_contract_creation_defaults_to_true() {
    let t = with_wallet().await;
    let r = t.write_ok("policies/w/ethereum", json!({})).await;
    assert_eq!(r.data["allowed_chain_ids"], json!([]));
    assert_eq!(r.data["allowed_recipients"], json!([]));
    assert_eq!(r.data["denied_recipients"], json!([]));
    assert_eq!(r.data["allow_contract_creation"], json!(true));
    // Every rule in force is shown, defaults included.
    assert_eq!(r.data["max_value_per_tx"], Value::Null);
    assert_eq!(r.data["max_value_per_day"], Value::Null);
    assert_eq!(r.data["allow_message_signing"], json!(true));
    assert_eq!(r.data["allow_arbitrary_calldata"], json!(false));
    assert_eq!(r.data["allow_unlimited_approvals"], json!(false));
    assert_eq!(r.data["allow_arbitrary_typed_data"], json!(false));
    assert_eq!(r.data["token_limits"], json!({}));
    assert_eq!(r.data["allowed_contracts"], json!({}));
    assert_eq!(r.data["allowed_typed_data"], json!([]));
}

#[tokio::test]
async fn an_unknown_field_is_a_400_naming_it_and_create_means_create() {
    let t = with_wallet().await;
    // A misspelled limit must not leave the operator believing in it.
    let msg = bad_request(
        t.write("policies/w/ethereum", json!({"max_value_per_txx": "1"}))
            .await,
    );
    assert!(msg.contains("\"max_value_per_txx\""), "{msg}");
    assert_eq!(t.read_ok("wallets/w").await.data["policies"], json!([]));
    // Update of a missing policy: 404, nothing stored.
    let e = t
        .call(
            Operation::Update,
            "policies/w/ethereum",
            json!({"max_value_per_tx": "1"}),
        )
        .await
        .expect_err("404");
    assert!(matches!(e, LogicalError::NotFound(_)), "{e:?}");
    t.write_ok("policies/w/ethereum", json!({"max_value_per_tx": "1"}))
        .await;
    // Create of an existing one: 400, unchanged.
    let e = t
        .call(
            Operation::Create,
            "policies/w/ethereum",
            json!({"max_value_per_tx": "2"}),
        )
        .await
        .expect_err("400");
    assert!(e.to_string().contains("already exists"), "{e}");
    assert_eq!(
        t.read_ok("policies/w/ethereum").await.data["max_value_per_tx"],
        json!("1")
    );
}

#[tokio::test]
async fn updating_changes_only_the_fields_sent_and_empty_values_remove_limits() {
    let t = with_wallet().await;
    t.write_ok(
        "policies/w/ethereum",
        json!({"max_value_per_tx": "5", "max_value_per_day": "9", "denied_recipients": [ETH_B],
               "allowed_chain_ids": [1]}),
    )
    .await;
    let r = t
        .write_ok("policies/w/ethereum", json!({"max_value_per_tx": 7}))
        .await;
    assert_eq!(r.data["max_value_per_tx"], json!("7"));
    assert_eq!(r.data["max_value_per_day"], json!("9"));
    assert_eq!(r.data["denied_recipients"], json!([ETH_B]));
    // The CLI form: `max_value_per_day=` and `denied_recipients=`.
    let r = t
        .write_ok(
            "policies/w/ethereum",
            json!({"max_value_per_day": "", "denied_recipients": ""}),
        )
        .await;
    assert_eq!(r.data["max_value_per_day"], Value::Null);
    assert_eq!(r.data["denied_recipients"], json!([]));
    assert_eq!(r.data["max_value_per_tx"], json!("7"));
}

#[tokio::test]
async fn a_bitcoin_policy_accepts_addresses_of_every_network_and_type() {
    let t = with_wallet().await;
    let upper = BTC_P2WPKH.to_uppercase();
    let r = t
        .write_ok(
            "policies/w/bitcoin",
            json!({
                "allowed_recipients": [BTC_P2WPKH, BTC_P2TR, BTC_TESTNET, BTC_P2PKH, BTC_P2SH],
                "denied_recipients": [upper],
                "max_value_per_tx": "100000",
                "max_value_per_day": 1_000_000,
            }),
        )
        .await;
    assert_eq!(
        r.data["allowed_recipients"],
        json!([BTC_P2WPKH, BTC_P2TR, BTC_TESTNET, BTC_P2PKH, BTC_P2SH])
    );
    // Bech32 is case-insensitive: the upper-case form is stored in lower case.
    assert_eq!(r.data["denied_recipients"], json!([BTC_P2WPKH]));
    assert_eq!(r.data["max_value_per_day"], json!("1000000"));
    assert!(r.data.get("allowed_chain_ids").is_none());
    assert!(r.data.get("allow_contract_creation").is_none());
    assert_eq!(r.data["allowed_sighash_types"], json!([]));
    assert_eq!(r.data["max_fee"], Value::Null);
    assert_eq!(
        t.read_ok("wallets/w").await.data["policies"],
        json!(["bitcoin"])
    );
}

#[tokio::test]
async fn fields_of_another_chain_are_400s_naming_the_field() {
    let t = with_wallet().await;
    for (chain, field, value) in [
        ("bitcoin", "allowed_chain_ids", json!([1])),
        ("bitcoin", "allow_contract_creation", json!(false)),
        ("bitcoin", "token_limits", json!({})),
        ("solana", "allowed_chain_ids", json!([1])),
        ("solana", "allowed_sighash_types", json!(["NONE"])),
        ("ethereum", "allowed_programs", json!([])),
    ] {
        let msg = bad_request(
            t.write(&format!("policies/w/{chain}"), json!({ field: value }))
                .await,
        );
        assert!(
            msg.contains(&format!("\"{field}\"")),
            "{chain} {field}: {msg}"
        );
    }
    // Nothing was stored by the refused writes.
    assert_eq!(t.read_ok("wallets/w").await.data["policies"], json!([]));
}

#[tokio::test]
async fn solana_policies_have_their_own_fields() {
    let t = with_wallet().await;
    let r = t.write_ok("policies/w/solana", json!({})).await;
    assert_eq!(r.data["chain"], json!("solana"));
    assert_eq!(r.data["allowed_programs"], json!([]));
    assert_eq!(r.data["allow_message_signing"], json!(true));
    let mint = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
    let r = t
        .write_ok(
            "policies/w/solana",
            json!({"token_limits": {mint: {"max_value_per_tx": "5"}},
                   "max_value_per_day": "100", "max_priority_fee": 1000}),
        )
        .await;
    assert_eq!(
        r.data["token_limits"],
        json!({mint: {"max_value_per_tx": "5", "max_value_per_day": null}})
    );
    assert_eq!(r.data["max_priority_fee"], json!("1000"));
    let msg = bad_request(
        t.write(
            "policies/w/solana",
            json!({"allowed_programs": ["not-base58!"]}),
        )
        .await,
    );
    assert!(msg.contains("\"allowed_programs\""), "{msg}");
    assert_eq!(
        t.read_ok("wallets/w").await.data["policies"],
        json!(["solana"])
    );
}

#[tokio::test]
async fn malformed_values_are_400s_naming_the_field() {
    let t = with_wallet().await;
    let cases = [
        ("ethereum", "allowed_chain_ids", json!(["mainnet"])),
        ("ethereum", "allowed_chain_ids", json!([-1])),
        (
            "ethereum",
            "allowed_chain_ids",
            json!(["18446744073709551616"]),
        ),
        ("ethereum", "allowed_recipients", json!(["0x1234"])),
        ("ethereum", "allowed_recipients", json!([BTC_P2WPKH])),
        (
            "ethereum",
            "denied_recipients",
            json!(["5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"]),
        ),
        (
            "ethereum",
            "denied_recipients",
            json!(["0xZaAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"]),
        ),
        ("bitcoin", "allowed_recipients", json!([ETH_A])),
        // A bad bech32 checksum, mixed case, and a bad base58 checksum.
        (
            "bitcoin",
            "denied_recipients",
            json!(["bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5"]),
        ),
        (
            "bitcoin",
            "denied_recipients",
            json!(["bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"]),
        ),
        (
            "bitcoin",
            "allowed_recipients",
            json!(["1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3"]),
        ),
        // A valid segwit address of another coin (litecoin's `ltc`).
        ("bitcoin", "allowed_recipients", json!([litecoin()])),
        ("ethereum", "max_value_per_tx", json!("-1")),
        ("ethereum", "max_value_per_tx", json!("1.5")),
        ("bitcoin", "max_value_per_day", json!("0xzz")),
        ("bitcoin", "max_value_per_day", json!(1e3)),
        ("ethereum", "allow_contract_creation", json!("maybe")),
        ("ethereum", "allowed_recipients", json!({"a": 1})),
    ];
    for (chain, field, value) in cases {
        let msg = bad_request(
            t.write(
                &format!("policies/w/{chain}"),
                json!({ field: value.clone() }),
            )
            .await,
        );
        assert!(
            msg.contains(&format!("\"{field}\"")),
            "{chain} {field}={value}: {msg}"
        );
    }
    let too_many: Vec<String> = (0..1001).map(|i| format!("0x{i:040x}")).collect();
    let msg = bad_request(
        t.write(
            "policies/w/ethereum",
            json!({ "denied_recipients": too_many }),
        )
        .await,
    );
    assert!(msg.contains("\"denied_recipients\""), "{msg}");
    assert_eq!(t.read_ok("wallets/w").await.data["policies"], json!([]));
}

#[tokio::test]
async fn an_unknown_chain_is_a_400_naming_the_chain_field() {
    let t = with_wallet().await;
    let msg = bad_request(t.write("policies/w/dogecoin", json!({})).await);
    assert!(msg.contains("\"chain\""), "{msg}");
    let msg = bad_request(
        t.call(Operation::Read, "policies/w/dogecoin", Value::Null)
            .await,
    );
    assert!(msg.contains("\"chain\""), "{msg}");
}

#[tokio::test]
async fn an_unknown_wallet_is_a_404_for_every_operation() {
    let t = TestBackend::new();
    for op in [Operation::Read, Operation::Delete] {
        let r = t.call(op, "policies/nope/ethereum", Value::Null).await;
        assert!(
            matches!(&r, Err(LogicalError::NotFound(m)) if m.contains("nope")),
            "{r:?}"
        );
    }
    let r = t
        .write("policies/nope/ethereum", json!({"max_value_per_tx": "1"}))
        .await;
    assert!(
        matches!(&r, Err(LogicalError::NotFound(m)) if m.contains("nope")),
        "{r:?}"
    );
    assert!(t.storage.keys().is_empty(), "{:?}", t.storage.keys());
}

#[tokio::test]
async fn a_missing_policy_reads_as_nothing_and_deleting_removes_it() {
    let t = with_wallet().await;
    let r = t
        .call(Operation::Read, "policies/w/bitcoin", Value::Null)
        .await
        .expect("read");
    assert!(r.is_none());
    t.write_ok("policies/w/bitcoin", json!({"max_value_per_tx": 1}))
        .await;
    t.write_ok("policies/w/ethereum", json!({})).await;
    assert_eq!(
        t.read_ok("wallets/w").await.data["policies"],
        json!(["bitcoin", "ethereum"])
    );
    let r = t
        .call(Operation::Delete, "policies/w/bitcoin", Value::Null)
        .await
        .expect("delete");
    assert!(r.is_none());
    assert_eq!(
        t.read_ok("wallets/w").await.data["policies"],
        json!(["ethereum"])
    );
    // Deleting again is not an error (like Vault's deletes).
    t.call(Operation::Delete, "policies/w/bitcoin", Value::Null)
        .await
        .expect("delete again");
}

#[tokio::test]
async fn the_existence_check_maps_writes_to_create_then_update() {
    let t = with_wallet().await;
    async fn check(t: &TestBackend) -> crate::logical::ExistenceCheck {
        let req = t.request(Operation::Update, "policies/w/ethereum", json!({}));
        t.backend.existence_check(req).await.expect("check")
    }
    let c = check(&t).await;
    assert!(c.check_found && !c.exists);
    t.write_ok("policies/w/ethereum", json!({})).await;
    let c = check(&t).await;
    assert!(c.check_found && c.exists);
    // A bad chain does not fail the check (the handler answers the 400).
    let req = t.request(Operation::Update, "policies/w/doge", json!({}));
    let c = t.backend.existence_check(req).await.expect("check");
    assert!(!c.exists);
}

#[tokio::test]
async fn the_existence_check_fills_no_cache() {
    // It runs before the host's ACL check: any token can send it.
    let t = with_wallet().await;
    let store = &t.backend.state().store;
    let before = store.cached_policies();
    for i in 0..50 {
        let req = t.request(
            Operation::Update,
            &format!("policies/w{i}/ethereum"),
            json!({}),
        );
        t.backend.existence_check(req).await.expect("check");
    }
    assert_eq!(store.cached_policies(), before);
}

#[tokio::test]
async fn deleting_the_wallet_removes_its_policies_and_counters() {
    let t = TestBackend::new();
    t.write_ok("wallets/w", json!({"deletion_allowed": true}))
        .await;
    t.write_ok(
        "policies/w/ethereum",
        json!({"max_value_per_day": 10, "allowed_chain_ids": [1]}),
    )
    .await;
    let state = t.backend.state();
    crate::policy::enforce(
        state,
        t.storage.as_ref(),
        "w",
        &crate::policy::Intent::EthereumTransaction(crate::policy::intent::EthTransaction {
            blobs: None,
            authorizations: Vec::new(),
            chain_id: 1,
            to: Some(wallet_core::ethereum::Address::parse_field(ETH_A, "to").expect("address")),
            value: ruint::aliases::U256::from(3u8),
            max_fee: ruint::aliases::U256::ZERO,
            tx_type: "legacy",
            call: Ok(wallet_core::ethereum::intent::CallIntent::Plain),
        }),
    )
    .await
    .expect("within the limit");
    assert!(
        t.storage
            .raw(&keys::counter("w", "ethereum", "1"))
            .is_some()
    );
    t.call(Operation::Delete, "wallets/w", Value::Null)
        .await
        .expect("delete");
    assert!(t.storage.keys().is_empty(), "{:?}", t.storage.keys());
}

#[tokio::test]
async fn a_policy_write_on_read_only_storage_keeps_the_hosts_error_text() {
    let t = with_wallet().await;
    t.storage.set_read_only(true);
    let r = t
        .write("policies/w/ethereum", json!({"max_value_per_tx": 1}))
        .await;
    match r {
        Err(e @ LogicalError::Storage(_)) => {
            assert_eq!(e.to_string(), crate::logical::memory::READONLY_ERROR)
        }
        other => panic!("expected the storage error, got {other:?}"),
    }
}

#[tokio::test]
async fn help_and_openapi_describe_the_policy_path_and_its_fields() {
    let t = TestBackend::new();
    let r = t
        .call(Operation::Help, "policies/w/ethereum", Value::Null)
        .await
        .expect("help")
        .expect("response");
    let help = r.data["help"].as_str().expect("help text");
    for field in [
        "allowed_chain_ids",
        "allowed_recipients",
        "denied_recipients",
        "max_value_per_tx",
        "max_value_per_day",
        "allow_contract_creation",
    ] {
        assert!(help.contains(field), "help lacks {field}");
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
    let item = &root.data["openapi"]["paths"]["/policies/{name}/{chain}"];
    assert_eq!(item["x-vault-createSupported"], json!(true));
    let props = &item["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"];
    for field in [
        "allowed_chain_ids",
        "allowed_recipients",
        "denied_recipients",
        "max_value_per_tx",
        "max_value_per_day",
        "allow_contract_creation",
    ] {
        let desc = props[field]["description"].as_str().unwrap_or("");
        assert!(desc.ends_with('.'), "{field} lacks a sentence: {desc:?}");
    }
}

fn legacy_tx(chain_id: u64) -> Value {
    json!({
        "chain_id": chain_id, "nonce": 0, "gas_limit": 21000,
        "to": ETH_A, "value": "1", "gas_price": "1000000000",
    })
}

#[tokio::test]
async fn a_hot_wallet_signs_without_storage_reads_and_policy_changes_apply_at_once() {
    let t = with_wallet().await;
    let sign = "wallets/w/ethereum/sign-transaction";
    t.write_ok(sign, legacy_tx(1)).await;
    t.storage.take_reads();
    // Hot: wallet, derived key and the absent policy all come from memory.
    t.write_ok(sign, legacy_tx(1)).await;
    t.write_ok("wallets/w/ethereum/sign-message", json!({"message": "hi"}))
        .await;
    assert_eq!(t.storage.take_reads(), Vec::<String>::new());
    // Our own policy write is enforced on the next signature...
    t.write_ok("policies/w/ethereum", json!({"allowed_chain_ids": [5]}))
        .await;
    let err = t.write(sign, legacy_tx(1)).await.expect_err("refused");
    assert!(
        matches!(&err, LogicalError::PermissionDenied(m) if m.contains("allowed_chain_ids")),
        "{err:?}"
    );
    t.write_ok(sign, legacy_tx(5)).await;
    // ...and so is its deletion.
    t.call(Operation::Delete, "policies/w/ethereum", Value::Null)
        .await
        .expect("deleted");
    t.write_ok(sign, legacy_tx(1)).await;
}

#[tokio::test]
async fn a_policy_written_on_another_node_applies_after_the_hosts_invalidation() {
    let active = with_wallet().await;
    let standby = TestBackend::with_storage(std::sync::Arc::clone(&active.storage));
    let sign = "wallets/w/ethereum/sign-transaction";
    standby.write_ok(sign, legacy_tx(1)).await;
    active
        .write_ok("policies/w/ethereum", json!({"allowed_chain_ids": [5]}))
        .await;
    // The standby cached "no policy" and keeps signing from that cache
    // (the storage is shared: forget what the active node's write read)...
    standby.storage.take_reads();
    standby.write_ok(sign, legacy_tx(1)).await;
    assert!(
        standby
            .storage
            .take_reads()
            .iter()
            .all(|k| !k.starts_with("policy/"))
    );
    // ...until the host's InvalidateKey of the policy key (sent on
    // replication) makes it read the new one.
    standby
        .backend
        .invalidate(&keys::policy("w", "ethereum"))
        .await;
    let err = standby
        .write(sign, legacy_tx(1))
        .await
        .expect_err("refused");
    assert!(matches!(err, LogicalError::PermissionDenied(_)), "{err:?}");
    // A wallet key's invalidation leaves cached policies alone.
    let cached = standby.backend.state().store.cached_policies();
    standby.backend.invalidate(&keys::wallet("w")).await;
    assert_eq!(standby.backend.state().store.cached_policies(), cached);
}
