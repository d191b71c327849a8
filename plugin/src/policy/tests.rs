//! In-process tests of `enforce`: every rule, their order, the rolling
//! window with an injected clock, persistence and concurrency.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use ruint::aliases::U256;
use serde_json::{Value, json};

use super::*;
use crate::backend::testing::TestBackend;
use crate::logical::memory::{MemoryStorage, READONLY_ERROR};
use crate::logical::{StorageError, StorageValue};
use crate::store::keys;

const TO: &str = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
const OTHER: &str = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359";
const BTC_A: &str = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4";
const BTC_B: &str = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2";
/// A multiple of `SLOT_SECS`, so that `T0 + a few seconds` shares T0's slot.
const T0: u64 = 1_700_000_100;

async fn backend_with(chain: &str, policy: Value) -> TestBackend {
    let t = TestBackend::new();
    t.write_ok("wallets/w", json!({"deletion_allowed": true}))
        .await;
    t.write_ok(&format!("policies/w/{chain}"), policy).await;
    t
}

fn eth(chain_id: u64, to: Option<&str>, value: u64) -> Intent {
    Intent::EthereumTransaction(intent::EthTransaction {
        blobs: None,
        authorizations: Vec::new(),
        chain_id,
        to: to.map(|a| wallet_core::ethereum::Address::parse_field(a, "to").expect("test address")),
        value: U256::from(value),
        max_fee: U256::ZERO,
        tx_type: "legacy",
        call: Ok(wallet_core::ethereum::intent::CallIntent::Plain),
    })
}

fn typed(chain_id: Option<u64>) -> Intent {
    Intent::EthereumTypedData(intent::EthTypedData {
        chain_id,
        primary_type: "Note".into(),
        decoded: wallet_core::ethereum::intent::TypedIntent::Other {
            primary_type: "Note".into(),
            verifying_contract: None,
        },
    })
}

/// Outputs that are not change, given as addresses (of any network); the
/// network argument is what a request would name and changes nothing.
fn btc(_network: &str, recipients: &[(&str, u64)]) -> Intent {
    Intent::BitcoinTransaction(intent::BtcTransaction {
        inputs: Vec::new(),
        outputs: recipients
            .iter()
            .enumerate()
            .map(|(index, (a, v))| intent::BtcOutput {
                index,
                script_pubkey: wallet_core::bitcoin::script_from_address(a)
                    .expect("test address")
                    .0,
                address: Some(a.to_string()),
                value: *v,
                is_change: false,
            })
            .collect(),
        fee: Some(0),
        amounts_proven: true,
        estimated_vsize: 100,
    })
}

async fn check(t: &TestBackend, intent: &Intent, now: u64) -> Result<(), LogicalError> {
    enforce_at(t.backend.state(), t.storage.as_ref(), "w", intent, now)
        .await
        .map(|_| ())
}

/// The 403's message, which must name `rule`.
async fn refused(t: &TestBackend, intent: &Intent, now: u64, rule: &str) -> String {
    match check(t, intent, now).await {
        Err(LogicalError::PermissionDenied(m)) => {
            assert!(
                m.starts_with(&format!("policy {rule}: ")),
                "expected a refusal by {rule}, got {m:?}"
            );
            m
        }
        other => panic!("expected a refusal by {rule}, got {other:?}"),
    }
}

async fn allowed(t: &TestBackend, intent: &Intent, now: u64) {
    if let Err(e) = check(t, intent, now).await {
        panic!("expected {intent:?} to be allowed, got {e:?}");
    }
}

fn counter(storage: &MemoryStorage, chain: &str, scope: &str) -> CounterEntry {
    let raw = storage
        .raw(&keys::counter("w", chain, scope))
        .expect("counter stored");
    crate::store::entry::decode::<CounterEntry>(&raw)
        .expect("decodes")
        .value
}

#[tokio::test]
async fn without_a_policy_everything_is_allowed_and_nothing_is_written() {
    let t = TestBackend::new();
    t.write_ok("wallets/w", json!({})).await;
    let before = t.storage.keys();
    allowed(&t, &eth(1, None, u64::MAX), T0).await;
    allowed(&t, &btc("bitcoin", &[(BTC_A, u64::MAX)]), T0).await;
    allowed(&t, &typed(None), T0).await;
    assert_eq!(t.storage.keys(), before);
    // The public entry point uses the real clock.
    enforce(
        t.backend.state(),
        t.storage.as_ref(),
        "w",
        &Intent::SolanaMessage(crate::policy::intent::MessageIntent::new(
            "raw",
            "addr".into(),
            b"hi",
        )),
    )
    .await
    .expect("solana");
}

#[tokio::test]
async fn allowed_chain_ids_refuses_other_chains_for_transactions_and_typed_data() {
    let t = backend_with(
        "ethereum",
        json!({"allowed_chain_ids": [1, 137], "allow_arbitrary_typed_data": true}),
    )
    .await;
    allowed(&t, &eth(1, Some(TO), 1), T0).await;
    allowed(&t, &eth(137, Some(TO), 1), T0).await;
    let m = refused(&t, &eth(5, Some(TO), 1), T0, "allowed_chain_ids").await;
    assert!(m.contains("chain id 5"), "{m}");
    allowed(&t, &typed(Some(1)), T0).await;
    refused(&t, &typed(Some(5)), T0, "allowed_chain_ids").await;
    let m = refused(&t, &typed(None), T0, "allowed_chain_ids").await;
    assert!(m.contains("chainId"), "{m}");
    // personal_sign has no chain id: allowed_chain_ids cannot apply.
    allowed(&t, &eth_message(), T0).await;
}

#[tokio::test]
async fn typed_data_without_a_chain_id_is_allowed_when_no_chain_ids_are_listed() {
    let t = backend_with(
        "ethereum",
        json!({"max_value_per_tx": 0, "allow_arbitrary_typed_data": true}),
    )
    .await;
    allowed(&t, &typed(None), T0).await;
    // Without allow_arbitrary_typed_data, undecoded typed data is refused.
    t.write_ok(
        "policies/w/ethereum",
        json!({"allow_arbitrary_typed_data": false}),
    )
    .await;
    refused(&t, &typed(None), T0, "allowed_typed_data").await;
}

#[tokio::test]
async fn allow_contract_creation_false_refuses_a_transaction_without_to() {
    let t = backend_with("ethereum", json!({})).await;
    allowed(&t, &eth(1, None, 0), T0).await;
    t.write_ok(
        "policies/w/ethereum",
        json!({"allow_contract_creation": false}),
    )
    .await;
    refused(&t, &eth(1, None, 0), T0, "allow_contract_creation").await;
    allowed(&t, &eth(1, Some(TO), 0), T0).await;
}

#[tokio::test]
async fn ethereum_recipients_compare_case_insensitively() {
    let t = backend_with(
        "ethereum",
        json!({"denied_recipients": [TO.to_uppercase().replace("0X", "0x")]}),
    )
    .await;
    for form in [TO.to_string(), TO.to_lowercase(), TO.to_uppercase()] {
        let m = refused(&t, &eth(1, Some(&form), 1), T0, "denied_recipients").await;
        assert!(m.contains(TO), "{m}");
    }
    allowed(&t, &eth(1, Some(OTHER), 1), T0).await;

    let t = backend_with(
        "ethereum",
        json!({"allowed_recipients": [TO.to_lowercase()]}),
    )
    .await;
    allowed(&t, &eth(1, Some(TO), 1), T0).await;
    allowed(
        &t,
        &eth(1, Some(&TO.to_uppercase().replace("0X", "0x")), 1),
        T0,
    )
    .await;
    refused(&t, &eth(1, Some(OTHER), 1), T0, "allowed_recipients").await;
    // An allow-list means "only to these": a new contract is not listed.
    refused(&t, &eth(1, None, 0), T0, "allowed_recipients").await;
}

#[tokio::test]
async fn bitcoin_recipients_compare_as_scripts_and_every_output_must_be_allowed() {
    let t = backend_with(
        "bitcoin",
        json!({"allowed_recipients": [BTC_A], "denied_recipients": [BTC_B]}),
    )
    .await;
    allowed(&t, &btc("bitcoin", &[(BTC_A, 5)]), T0).await;
    // All outputs are change: nothing leaves the wallet.
    allowed(&t, &btc("bitcoin", &[]), T0).await;
    let m = refused(
        &t,
        &btc("bitcoin", &[(BTC_A, 5), (BTC_B, 1)]),
        T0,
        "denied_recipients",
    )
    .await;
    assert!(m.contains(BTC_B), "{m}");
    let other = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy";
    let m = refused(
        &t,
        &btc("bitcoin", &[(BTC_A, 5), (other, 1)]),
        T0,
        "allowed_recipients",
    )
    .await;
    assert!(m.contains(other), "{m}");
    // Compared as output scripts: the upper-case form of a bech32 address and
    // the same program on another network are the same recipient.
    allowed(&t, &btc("bitcoin", &[(&BTC_A.to_uppercase(), 5)]), T0).await;
    allowed(
        &t,
        &btc(
            "testnet",
            &[("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", 5)],
        ),
        T0,
    )
    .await;
}

#[tokio::test]
async fn max_value_per_tx_allows_the_limit_and_refuses_one_more() {
    let t = backend_with("ethereum", json!({"max_value_per_tx": "1000"})).await;
    allowed(&t, &eth(1, Some(TO), 1000), T0).await;
    let m = refused(&t, &eth(1, Some(TO), 1001), T0, "max_value_per_tx").await;
    assert!(m.contains("1001") && m.contains("1000"), "{m}");
    // Bitcoin: the sum of the outputs that are not change.
    let t = backend_with("bitcoin", json!({"max_value_per_tx": 100})).await;
    allowed(&t, &btc("bitcoin", &[(BTC_A, 60), (BTC_B, 40)]), T0).await;
    refused(
        &t,
        &btc("bitcoin", &[(BTC_A, 60), (BTC_B, 41)]),
        T0,
        "max_value_per_tx",
    )
    .await;
    // Sums beyond u64 do not wrap around.
    refused(
        &t,
        &btc("bitcoin", &[(BTC_A, u64::MAX), (BTC_B, u64::MAX)]),
        T0,
        "max_value_per_tx",
    )
    .await;
}

#[tokio::test]
async fn rules_are_checked_in_their_documented_order() {
    let t = backend_with(
        "ethereum",
        json!({
            "allowed_chain_ids": [1],
            "allow_contract_creation": false,
            "denied_recipients": [OTHER],
            "allowed_recipients": [TO],
            "max_value_per_tx": 10,
            "max_value_per_day": 15,
        }),
    )
    .await;
    // Each intent breaks every rule from one point on; the first one names itself.
    refused(&t, &eth(5, None, 100), T0, "allowed_chain_ids").await;
    refused(&t, &eth(1, None, 100), T0, "allow_contract_creation").await;
    refused(&t, &eth(1, Some(OTHER), 100), T0, "denied_recipients").await;
    let third = "0x0000000000000000000000000000000000000001";
    refused(&t, &eth(1, Some(third), 100), T0, "allowed_recipients").await;
    refused(&t, &eth(1, Some(TO), 100), T0, "max_value_per_tx").await;
    allowed(&t, &eth(1, Some(TO), 10), T0).await;
    refused(&t, &eth(1, Some(TO), 10), T0, "max_value_per_day").await;
    // A refusal by an earlier rule records nothing.
    assert_eq!(
        counter(&t.storage, "ethereum", "1").spent(T0),
        U256::from(10u8)
    );
}

#[tokio::test]
async fn the_daily_limit_is_a_rolling_24_hour_window() {
    let t = backend_with(
        "ethereum",
        json!({"max_value_per_day": 100, "allowed_chain_ids": [1]}),
    )
    .await;
    allowed(&t, &eth(1, Some(TO), 60), T0).await;
    let m = refused(&t, &eth(1, Some(TO), 50), T0 + 10, "max_value_per_day").await;
    assert!(
        m.contains("chain id 1") && m.contains("already spent: 60"),
        "{m}"
    );
    allowed(&t, &eth(1, Some(TO), 40), T0 + 10).await;
    // Exactly at the limit: nothing more, not even 1 wei, until it expires.
    refused(&t, &eth(1, Some(TO), 1), T0 + 3600, "max_value_per_day").await;
    // The latest spend of the slot was at T0 + 10: until then it counts.
    refused(
        &t,
        &eth(1, Some(TO), 1),
        T0 + 10 + WINDOW_SECS - 1,
        "max_value_per_day",
    )
    .await;
    allowed(&t, &eth(1, Some(TO), 100), T0 + 10 + WINDOW_SECS).await;
    // A zero-value transaction (a token call) never exceeds the limit.
    allowed(&t, &eth(1, Some(TO), 0), T0 + 10 + WINDOW_SECS).await;
}

#[tokio::test]
async fn spends_in_different_hours_expire_separately() {
    let t = backend_with("bitcoin", json!({"max_value_per_day": 100})).await;
    allowed(&t, &btc("bitcoin", &[(BTC_A, 70)]), T0).await;
    allowed(&t, &btc("bitcoin", &[(BTC_A, 30)]), T0 + 3600).await;
    refused(
        &t,
        &btc("bitcoin", &[(BTC_A, 1)]),
        T0 + WINDOW_SECS - 1,
        "max_value_per_day",
    )
    .await;
    // The first spend left the window, the second has not.
    allowed(&t, &btc("bitcoin", &[(BTC_A, 70)]), T0 + WINDOW_SECS).await;
    let m = refused(
        &t,
        &btc("bitcoin", &[(BTC_A, 1)]),
        T0 + WINDOW_SECS,
        "max_value_per_day",
    )
    .await;
    assert!(m.contains("of bitcoin"), "{m}");
    let c = counter(&t.storage, "bitcoin", "all");
    assert_eq!(c.spends.len(), 2, "the expired record was pruned: {c:?}");
}

#[tokio::test]
async fn daily_limits_count_per_chain_id_and_once_per_bitcoin_wallet() {
    let t = backend_with(
        "ethereum",
        json!({"max_value_per_day": 10, "allowed_chain_ids": [1, 137]}),
    )
    .await;
    allowed(&t, &eth(1, Some(TO), 10), T0).await;
    refused(&t, &eth(1, Some(TO), 1), T0, "max_value_per_day").await;
    allowed(&t, &eth(137, Some(TO), 10), T0).await;
    t.write_ok("policies/w/bitcoin", json!({"max_value_per_day": 10}))
        .await;
    allowed(&t, &btc("bitcoin", &[(BTC_A, 10)]), T0).await;
    // The network a request names does not open a new counter.
    refused(&t, &btc("testnet", &[(BTC_A, 1)]), T0, "max_value_per_day").await;
    refused(&t, &btc("regtest", &[(BTC_A, 1)]), T0, "max_value_per_day").await;
    let mut keys = t.storage.keys();
    keys.retain(|k| k.starts_with(keys::COUNTER_PREFIX));
    assert_eq!(
        keys,
        [
            "counters/w/bitcoin/all",
            "counters/w/ethereum/1",
            "counters/w/ethereum/137",
        ]
    );
}

#[tokio::test]
async fn an_ethereum_daily_limit_without_chain_ids_is_refused_at_write_and_at_signing() {
    let t = backend_with("ethereum", json!({})).await;
    let e = t
        .call(
            crate::logical::Operation::Update,
            "policies/w/ethereum",
            json!({"max_value_per_day": 10}),
        )
        .await
        .expect_err("needs chain ids");
    assert!(e.to_string().contains("allowed_chain_ids"), "{e}");
    // A stored version-1 policy (written before the rule) fails closed.
    let v1 = json!({"version": 1, "max_value_per_day": "10"});
    crate::logical::Storage::put(
        t.storage.as_ref(),
        &keys::policy("w", "ethereum"),
        zeroize::Zeroizing::new(serde_json::to_vec(&v1).expect("json")),
    )
    .await
    .expect("put");
    t.backend
        .state()
        .store
        .invalidate(&keys::policy("w", "ethereum"));
    let m = refused(&t, &eth(1, Some(TO), 1), T0, "max_value_per_day").await;
    assert!(m.contains("allowed_chain_ids"), "{m}");
}

#[tokio::test]
async fn thousands_of_small_spends_keep_the_counter_bounded() {
    let t = backend_with(
        "ethereum",
        json!({"max_value_per_day": u64::MAX, "allowed_chain_ids": [1]}),
    )
    .await;
    // One spend every 30 seconds for 30 hours.
    let spends = 30 * 3600 / 30;
    for i in 0..spends {
        allowed(&t, &eth(1, Some(TO), 1), T0 + i * 30).await;
    }
    let now = T0 + (spends - 1) * 30;
    let c = counter(&t.storage, "ethereum", "1");
    let bound = usize::try_from(WINDOW_SECS / SLOT_SECS + 1).expect("small");
    assert!(c.spends.len() <= bound, "{} records", c.spends.len());
    // Conservative: never less than the exact 24-hour total, at most one slot more.
    let exact = WINDOW_SECS / 30;
    let spent = c.spent(now);
    assert!(spent >= U256::from(exact), "{spent} < {exact}");
    assert!(spent <= U256::from(exact + SLOT_SECS / 30), "{spent}");
    let raw = t
        .storage
        .raw(&keys::counter("w", "ethereum", "1"))
        .expect("stored");
    assert!(raw.len() < 32 * 1024, "{} bytes", raw.len());
}

#[tokio::test]
async fn counters_are_versioned_entries_that_survive_a_restart() {
    let t = backend_with(
        "ethereum",
        json!({"max_value_per_day": 100, "allowed_chain_ids": [1]}),
    )
    .await;
    allowed(&t, &eth(1, Some(TO), 80), T0).await;
    let raw = t
        .storage
        .raw(&keys::counter("w", "ethereum", "1"))
        .expect("stored");
    let stored: Value = serde_json::from_slice(&raw).expect("json");
    assert_eq!(stored["version"], json!(1));
    assert_eq!(
        stored["spends"],
        json!([{"time": T0, "amount": "80"}]),
        "amounts are decimal strings"
    );
    // A fresh plugin process over the same storage.
    let fresh = TestBackend::with_storage(Arc::clone(&t.storage));
    refused(&fresh, &eth(1, Some(TO), 21), T0 + 60, "max_value_per_day").await;
    allowed(&fresh, &eth(1, Some(TO), 20), T0 + 60).await;
}

#[tokio::test]
async fn deleting_a_policy_keeps_the_counters() {
    let t = backend_with(
        "ethereum",
        json!({"max_value_per_day": 100, "allowed_chain_ids": [1]}),
    )
    .await;
    allowed(&t, &eth(1, Some(TO), 100), T0).await;
    t.call(
        crate::logical::Operation::Delete,
        "policies/w/ethereum",
        Value::Null,
    )
    .await
    .expect("delete");
    allowed(&t, &eth(1, Some(TO), 1000), T0).await;
    // Re-creating the policy within 24 hours does not reset what was spent.
    t.write_ok(
        "policies/w/ethereum",
        json!({"max_value_per_day": 100, "allowed_chain_ids": [1]}),
    )
    .await;
    refused(&t, &eth(1, Some(TO), 1), T0 + 1, "max_value_per_day").await;
}

#[tokio::test]
async fn a_read_only_storage_error_is_returned_verbatim() {
    let t = backend_with(
        "ethereum",
        json!({"max_value_per_day": 100, "allowed_chain_ids": [1]}),
    )
    .await;
    t.storage.set_read_only(true);
    match check(&t, &eth(1, Some(TO), 1), T0).await {
        Err(e @ LogicalError::Storage(_)) => assert_eq!(e.to_string(), READONLY_ERROR),
        other => panic!("expected the host's storage error, got {other:?}"),
    }
    // Rules that need no write still work on a read-only node, and a
    // refusal is still a refusal there.
    allowed(&t, &eth(1, Some(TO), 0), T0).await;
    refused(&t, &eth(1, Some(TO), 101), T0, "max_value_per_day").await;
}

/// Storage that yields to the scheduler around every operation, so that
/// concurrent requests interleave between the counter's read and write.
struct YieldingStorage(Arc<MemoryStorage>);

#[async_trait]
impl Storage for YieldingStorage {
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        tokio::task::yield_now().await;
        self.0.list(prefix).await
    }
    async fn get(&self, key: &str) -> Result<Option<StorageValue>, StorageError> {
        tokio::task::yield_now().await;
        let v = self.0.get(key).await;
        tokio::task::yield_now().await;
        v
    }
    async fn put(&self, key: &str, value: StorageValue) -> Result<(), StorageError> {
        tokio::task::yield_now().await;
        self.0.put(key, value).await
    }
    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        tokio::task::yield_now().await;
        self.0.delete(key).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_spends_never_exceed_the_daily_limit() {
    const N: usize = 50;
    const K: u64 = 7;
    const AMOUNT: u64 = 1_000;
    let t = backend_with(
        "ethereum",
        json!({"max_value_per_day": K * AMOUNT, "allowed_chain_ids": [1]}),
    )
    .await;
    let state = Arc::clone(t.backend.state());
    let storage: Arc<dyn Storage> = Arc::new(YieldingStorage(Arc::clone(&t.storage)));
    let start = Arc::new(tokio::sync::Barrier::new(N));
    let tasks: Vec<_> = (0..N)
        .map(|_| {
            let (state, storage, start) =
                (Arc::clone(&state), Arc::clone(&storage), Arc::clone(&start));
            tokio::spawn(async move {
                start.wait().await;
                enforce_at(&state, storage.as_ref(), "w", &eth(1, Some(TO), AMOUNT), T0).await
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(_) => ok += 1,
            Err(LogicalError::PermissionDenied(m)) => {
                assert!(m.starts_with("policy max_value_per_day: "), "{m}")
            }
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!(ok, K);
    assert_eq!(
        counter(&t.storage, "ethereum", "1").spent(T0),
        U256::from(K * AMOUNT)
    );
}

#[tokio::test]
async fn a_wallet_without_a_daily_limit_does_not_take_the_wallet_lock() {
    let t = backend_with("ethereum", json!({"max_value_per_tx": 100})).await;
    let held = t.backend.state().store.lock("w").await;
    tokio::time::timeout(Duration::from_secs(5), check(&t, &eth(1, Some(TO), 5), T0))
        .await
        .expect("not blocked by the held lock")
        .expect("allowed");
    drop(held);
    // Positive control: with a daily limit the same call waits for the lock.
    t.write_ok(
        "policies/w/ethereum",
        json!({"max_value_per_day": 100, "allowed_chain_ids": [1]}),
    )
    .await;
    let held = t.backend.state().store.lock("w").await;
    let waited = tokio::time::timeout(
        Duration::from_millis(200),
        check(&t, &eth(1, Some(TO), 5), T0),
    )
    .await;
    assert!(waited.is_err(), "a daily limit is checked under the lock");
    // A zero-value transaction adds nothing and does not wait either.
    tokio::time::timeout(Duration::from_secs(5), check(&t, &eth(1, Some(TO), 0), T0))
        .await
        .expect("not blocked by the held lock")
        .expect("allowed");
    drop(held);
    allowed(&t, &eth(1, Some(TO), 5), T0).await;
}

#[test]
fn counter_records_merge_within_a_slot_and_never_expire_early() {
    let mut c = CounterEntry::new();
    c.record(T0, U256::from(1u8));
    c.record(T0 + 299, U256::from(2u8));
    assert_eq!(c.spends.len(), 1);
    assert_eq!(c.spends[0].time, T0 + 299);
    c.record(T0 + 300, U256::from(4u8));
    assert_eq!(c.spends.len(), 2);
    // A clock that went back merges into the latest record, keeping its time.
    c.record(T0 + 5, U256::from(8u8));
    assert_eq!(c.spends.len(), 2);
    assert_eq!(c.spends[1].time, T0 + 300);
    assert_eq!(c.spent(T0 + 300), U256::from(15u8));
    assert_eq!(c.spent(T0 + 299 + WINDOW_SECS), U256::from(12u8));
    c.prune(T0 + 300 + WINDOW_SECS);
    assert!(c.spends.is_empty());
}

#[test]
fn stored_policies_refuse_a_newer_version() {
    let newer =
        crate::store::entry::decode::<PolicyEntry>(br#"{"version":3}"#).expect_err("newer version");
    assert!(
        newer.to_string().contains("newer than this plugin"),
        "{newer}"
    );
    let p = crate::store::entry::decode::<PolicyEntry>(
        br#"{"version":1,"max_value_per_day":"18446744073709551616"}"#,
    )
    .expect("decodes")
    .value;
    assert_eq!(
        p.max_value_per_day,
        Some(U256::from(u64::MAX) + U256::from(1u8))
    );
    assert!(p.allows_contract_creation());
    assert!(
        crate::store::entry::decode::<PolicyEntry>(br#"{"version":1,"max_value_per_day":7}"#)
            .is_err(),
        "amounts are stored as strings only"
    );
}

#[tokio::test]
async fn a_batch_takes_the_wallet_lock_once_and_counts_each_item() {
    let t = backend_with(
        "ethereum",
        json!({"max_value_per_day": 250, "allowed_chain_ids": [1]}),
    )
    .await;
    let store = &t.backend.state().store;
    let before = store.lock_acquisitions();
    let outcomes = crate::logical::batch::scope(async {
        let mut out = Vec::new();
        for value in [100, 100, 100, 50] {
            out.push(check(&t, &eth(1, Some(TO), value), T0).await.is_ok());
        }
        out
    })
    .await;
    // The third item would bring the day to 300: it alone is refused, and
    // the fourth still fits (250).
    assert_eq!(outcomes, [true, true, false, true]);
    assert_eq!(store.lock_acquisitions() - before, 1, "one acquisition");
    assert_eq!(
        counter(&t.storage, "ethereum", "1").spent(T0),
        U256::from(250u16)
    );
    // The lock is released when the batch ends.
    tokio::time::timeout(Duration::from_secs(5), store.lock("w"))
        .await
        .expect("released after the batch");
    // Positive control: outside a batch, each call takes the lock.
    let before = store.lock_acquisitions();
    refused(&t, &eth(1, Some(TO), 1), T0, "max_value_per_day").await;
    refused(&t, &eth(1, Some(TO), 1), T0, "max_value_per_day").await;
    assert_eq!(store.lock_acquisitions() - before, 2);
}

#[tokio::test]
async fn a_storage_error_fails_the_whole_batch_so_the_host_can_forward_it() {
    let t = backend_with(
        "ethereum",
        json!({"max_value_per_day": 100, "allowed_chain_ids": [1]}),
    )
    .await;
    let item = json!({"chain_id": 1, "nonce": 0, "gas_limit": 21000, "gas_price": 1,
                      "to": TO, "value": "1"});
    let body = json!({"batch_input": [item.clone(), item]});
    // Positive control: on a writable node both items are signed.
    let ok = t
        .write_ok("wallets/w/ethereum/sign-transaction", body.clone())
        .await;
    let results = ok.data["batch_results"].as_array().expect("batch_results");
    assert_eq!(results.len(), 2);
    assert!(
        results.iter().all(|r| r["signed_transaction"].is_string()),
        "{results:?}"
    );
    t.storage.set_read_only(true);
    match t.write("wallets/w/ethereum/sign-transaction", body).await {
        Err(e @ LogicalError::Storage(_)) => assert_eq!(e.to_string(), READONLY_ERROR),
        Ok(r) => panic!(
            "expected the host's storage error, got {:?}",
            r.map(|r| r.data)
        ),
        Err(e) => panic!("expected the host's storage error, got {e:?}"),
    }
}

/// Attack: a handler panics in a batch item after an earlier item took the
/// wallet's lock (kept in the batch's scope). The bridge catches the panic
/// around the request's future (`bridge::isolated`); the lock must go with
/// the unwound future, or the wallet would hang for every later request.
#[tokio::test]
async fn a_panic_in_a_batch_item_releases_the_wallet_lock() {
    use futures_util::FutureExt as _;
    let t = backend_with(
        "ethereum",
        json!({"max_value_per_day": 250, "allowed_chain_ids": [1]}),
    )
    .await;
    let store = &t.backend.state().store;
    let before = store.lock_acquisitions();
    let caught = std::panic::AssertUnwindSafe(crate::logical::batch::scope(async {
        assert!(check(&t, &eth(1, Some(TO), 100), T0).await.is_ok());
        // A wallet-lock holder now exists in the scope.
        if store.lock_acquisitions() > before {
            panic!("a handler bug in the second item");
        }
    }))
    .catch_unwind()
    .await;
    assert!(caught.is_err(), "the item panicked while the lock was held");
    tokio::time::timeout(Duration::from_secs(5), store.lock("w"))
        .await
        .expect("the wallet's lock is released by the unwind");
    // The next request on the wallet proceeds and still counts.
    assert!(check(&t, &eth(1, Some(TO), 100), T0).await.is_ok());
    refused(&t, &eth(1, Some(TO), 100), T0, "max_value_per_day").await;
}

/// An ethereum personal_sign message intent.
fn eth_message() -> Intent {
    Intent::EthereumMessage(crate::policy::intent::MessageIntent::new(
        "personal_sign",
        "0x0000000000000000000000000000000000000001".into(),
        b"hello",
    ))
}
