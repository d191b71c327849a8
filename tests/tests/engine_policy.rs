//! `wallets/:name/policy/:chain` and its enforcement through a real server
//! (docs/api.md "Policies"): every rule's 403 names the rule, requests within
//! the limits succeed, daily limits add up across requests, hold under
//! concurrency and survive a plugin reload.

mod engine_common;

use std::collections::BTreeSet;
use std::time::Duration;

use alloy_primitives::U256;
use engine_common::{
    ABANDON, Engine, PsbtBuilder, abandon_fp, expect_400_naming, expect_403_naming,
    foreign_address, num, seed,
};
use integration_tests::{PLUGIN_NAME, wait_until};
use serde_json::{Value, json};

/// EIP-55 checksummed recipients (the checksums computed by alloy in
/// `addresses_are_what_alloy_checksums`).
const A: &str = "0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe";
const B: &str = "0xBB9bc244D798123fDe783fCc1C72d3Bb8C189413";

#[test]
fn addresses_are_what_alloy_checksums() {
    for a in [A, B] {
        let parsed: alloy_primitives::Address = a.parse().expect("address");
        assert_eq!(parsed.to_checksum(None), a);
    }
}

fn tx(chain_id: u64, to: Option<&str>, value: u64) -> Value {
    let mut b = json!({"chain_id": chain_id, "nonce": 0, "gas_limit": 21000,
                       "gas_price": 1, "value": value.to_string()});
    if let Some(t) = to {
        b["to"] = json!(t);
    }
    b
}

fn sign_tx(e: &Engine, w: &str, body: Value) -> integration_tests::Reply {
    e.write(
        &format!("crypto/wallets/{w}/ethereum/sign-transaction"),
        body,
    )
}

fn mail(chain_id: u64) -> Value {
    json!({
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}],
            "Note": [{"name": "text", "type": "string"}]
        },
        "primaryType": "Note",
        "domain": {"name": "Policy test", "chainId": chain_id},
        "message": {"text": "hello"}
    })
}

fn policies(e: &Engine, w: &str) -> BTreeSet<String> {
    let r = e.get(&format!("crypto/wallets/{w}"));
    r.expect_status(200);
    r.data()["policies"]
        .as_array()
        .unwrap_or_else(|| panic!("no policies list: {}", r.body))
        .iter()
        .map(|v| v.as_str().expect("chain").to_string())
        .collect()
}

#[test]
fn policies_are_written_read_listed_on_the_wallet_and_deleted() {
    let payee = foreign_address(0);
    let e = Engine::start();
    e.abandon("a", json!({}));
    let w = e.write(
        "crypto/policies/a/ethereum",
        json!({
            "allowed_chain_ids": [1, 5],
            "allowed_recipients": [A],
            "denied_recipients": [B],
            "max_value_per_tx": "1000000000000000000000",
            "max_value_per_day": "0x3635c9adc5dea00000",
            "allow_contract_creation": false,
        }),
    );
    assert!(matches!(w.status, 200 | 204), "{}", w.body);
    let r = e.get("crypto/policies/a/ethereum");
    r.expect_status(200);
    let d = r.data();
    assert_eq!(d["allowed_chain_ids"], json!([1, 5]));
    assert_eq!(d["allowed_recipients"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        d["allowed_recipients"][0].as_str().map(str::to_lowercase),
        Some(A.to_lowercase())
    );
    assert_eq!(
        d["denied_recipients"][0].as_str().map(str::to_lowercase),
        Some(B.to_lowercase())
    );
    let thousand_eth = U256::from(10u64).pow(U256::from(21));
    assert_eq!(num(&d["max_value_per_tx"]), thousand_eth);
    assert_eq!(num(&d["max_value_per_day"]), thousand_eth);
    assert!(
        d["max_value_per_tx"].is_string(),
        "wei must be a decimal string: {d}"
    );
    assert_eq!(d["max_value_per_tx"], "1000000000000000000000");
    assert_eq!(d["allow_contract_creation"], false);
    let w = e.write(
        "crypto/policies/a/bitcoin",
        json!({"max_value_per_tx": 50000, "allowed_recipients": [payee]}),
    );
    assert!(matches!(w.status, 200 | 204), "{}", w.body);
    let r = e.get("crypto/policies/a/bitcoin");
    r.expect_status(200);
    assert_eq!(num(&r.data()["max_value_per_tx"]), U256::from(50000));
    assert_eq!(r.data()["allowed_recipients"], json!([payee]));
    assert_eq!(
        policies(&e, "a"),
        ["bitcoin", "ethereum"].map(String::from).into()
    );
    let d = e.delete("crypto/policies/a/ethereum");
    assert!(matches!(d.status, 200 | 204), "{}", d.body);
    e.get("crypto/policies/a/ethereum").expect_status(404);
    assert_eq!(policies(&e, "a"), ["bitcoin"].map(String::from).into());
    // Without a policy nothing is limited.
    sign_tx(&e, "a", tx(999, None, 10u64.pow(18))).expect_status(200);
}

#[test]
fn malformed_policies_are_400s_naming_the_field() {
    let e = Engine::start();
    e.abandon("a", json!({}));
    let eth = "crypto/policies/a/ethereum";
    let btc = "crypto/policies/a/bitcoin";
    for (path, body, field) in [
        (eth, json!({"max_value_per_tx": "-5"}), "max_value_per_tx"),
        (
            eth,
            json!({"max_value_per_day": "lots"}),
            "max_value_per_day",
        ),
        (
            eth,
            json!({"allowed_chain_ids": ["one"]}),
            "allowed_chain_ids",
        ),
        (
            eth,
            json!({"allowed_recipients": ["0x1234"]}),
            "allowed_recipients",
        ),
        (
            eth,
            json!({"denied_recipients": ["nope"]}),
            "denied_recipients",
        ),
        (btc, json!({"allowed_chain_ids": [1]}), "allowed_chain_ids"),
        (
            btc,
            json!({"allow_contract_creation": false}),
            "allow_contract_creation",
        ),
        (btc, json!({"max_value_per_tx": "1.5"}), "max_value_per_tx"),
        (
            btc,
            json!({"allowed_recipients": ["not-an-address"]}),
            "allowed_recipients",
        ),
    ] {
        expect_400_naming(&e.write(path, body), field);
    }
    expect_400_naming(
        &e.write(
            "crypto/policies/a/dogecoin",
            json!({"max_value_per_tx": 1}),
        ),
        "chain",
    );
    assert!(policies(&e, "a").is_empty());
}

#[test]
fn each_ethereum_rule_refuses_with_a_403_naming_it_and_allows_what_is_within_it() {
    let e = Engine::start();
    for w in ["ids", "allow", "deny", "pertx", "create"] {
        e.abandon(w, json!({}));
    }
    let set = |w: &str, p: Value| {
        let r = e.write(&format!("crypto/policies/{w}/ethereum"), p);
        assert!(matches!(r.status, 200 | 204), "{}", r.body);
    };
    set(
        "ids",
        json!({"allowed_chain_ids": [1], "allow_arbitrary_typed_data": true}),
    );
    set("allow", json!({"allowed_recipients": [A]}));
    set("deny", json!({"denied_recipients": [B]}));
    set("pertx", json!({"max_value_per_tx": "1000"}));
    set("create", json!({"allow_contract_creation": false}));

    expect_403_naming(&sign_tx(&e, "ids", tx(5, Some(A), 1)), "allowed_chain_ids");
    sign_tx(&e, "ids", tx(1, Some(A), 1)).expect_status(200);
    let td = |w: &str, c: u64| {
        e.write(
            &format!("crypto/wallets/{w}/ethereum/sign-typed-data"),
            json!({"typed_data": mail(c)}),
        )
    };
    expect_403_naming(&td("ids", 5), "allowed_chain_ids");
    td("ids", 1).expect_status(200);
    // Messages are not value transfers and carry no chain id.
    e.write(
        "crypto/wallets/ids/ethereum/sign-message",
        json!({"message": "hi"}),
    )
    .expect_status(200);

    expect_403_naming(
        &sign_tx(&e, "allow", tx(1, Some(B), 1)),
        "allowed_recipients",
    );
    // Case-insensitive on ethereum.
    sign_tx(
        &e,
        "allow",
        tx(1, Some(&A.to_uppercase().replace("0X", "0x")), 1),
    )
    .expect_status(200);
    sign_tx(&e, "allow", tx(1, Some(A), 1)).expect_status(200);

    expect_403_naming(
        &sign_tx(&e, "deny", tx(1, Some(&B.to_lowercase()), 1)),
        "denied_recipients",
    );
    sign_tx(&e, "deny", tx(1, Some(A), 1)).expect_status(200);

    expect_403_naming(
        &sign_tx(&e, "pertx", tx(1, Some(A), 1001)),
        "max_value_per_tx",
    );
    sign_tx(&e, "pertx", tx(1, Some(A), 1000)).expect_status(200);

    expect_403_naming(
        &sign_tx(&e, "create", tx(1, None, 0)),
        "allow_contract_creation",
    );
    sign_tx(&e, "create", tx(1, Some(A), 0)).expect_status(200);

    // The rules apply to every transaction type.
    let mut t = tx(1, Some(A), 1001);
    t["max_fee_per_gas"] = json!(10);
    t["max_priority_fee_per_gas"] = json!(1);
    t.as_object_mut().expect("obj").remove("gas_price");
    expect_403_naming(&sign_tx(&e, "pertx", t), "max_value_per_tx");
}

fn reload_plugin(e: &Engine) {
    let before = e.s.plugin_pids();
    e.write("sys/plugins/reload/backend", json!({"plugin": PLUGIN_NAME}))
        .expect_status(200);
    let after = wait_until(Duration::from_secs(30), || {
        let p = e.s.plugin_pids();
        (p.len() == 1 && !before.contains(&p[0])).then_some(())
    });
    assert!(
        after.is_some(),
        "the plugin was not restarted: {:?}",
        e.s.plugin_pids()
    );
}

#[test]
fn max_value_per_day_adds_up_per_chain_id_and_survives_a_plugin_reload() {
    let e = Engine::start();
    e.abandon("a", json!({}));
    e.write(
        "crypto/policies/a/ethereum",
        json!({"max_value_per_day": "1000", "allowed_chain_ids": [1, 5]}),
    );
    sign_tx(&e, "a", tx(1, Some(A), 400)).expect_status(200);
    sign_tx(&e, "a", tx(1, Some(A), 400)).expect_status(200);
    expect_403_naming(&sign_tx(&e, "a", tx(1, Some(A), 300)), "max_value_per_day");
    // A refused amount is not counted: 800 + 200 is exactly the limit.
    sign_tx(&e, "a", tx(1, Some(A), 200)).expect_status(200);
    expect_403_naming(&sign_tx(&e, "a", tx(1, Some(A), 1)), "max_value_per_day");
    // Another chain id has its own counter.
    sign_tx(&e, "a", tx(5, Some(A), 400)).expect_status(200);
    // A zero-value transaction is always within the limit.
    sign_tx(&e, "a", tx(1, Some(A), 0)).expect_status(200);

    reload_plugin(&e);
    expect_403_naming(&sign_tx(&e, "a", tx(1, Some(A), 1)), "max_value_per_day");
    sign_tx(&e, "a", tx(5, Some(A), 600)).expect_status(200);
    expect_403_naming(&sign_tx(&e, "a", tx(5, Some(A), 1)), "max_value_per_day");
}

#[test]
fn concurrent_requests_never_sign_more_than_the_daily_limit() {
    let e = Engine::start();
    e.abandon("a", json!({}));
    e.write(
        "crypto/policies/a/ethereum",
        json!({"max_value_per_day": "1000", "allowed_chain_ids": [1, 5]}),
    );
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| sign_tx(&e, "a", tx(1, Some(A), 300)).status))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let ok = statuses.iter().filter(|&&s| s == 200).count();
    let refused = statuses.iter().filter(|&&s| s == 403).count();
    assert_eq!((ok, refused), (3, 5), "statuses: {statuses:?}");
}

#[test]
fn each_bitcoin_rule_refuses_with_a_403_naming_it_and_change_is_not_counted() {
    let payee = foreign_address(0);
    let other = foreign_address(1);
    let e = Engine::start();
    for w in ["pertx", "allow", "deny", "day"] {
        e.abandon(w, json!({}));
    }
    let set = |w: &str, p: Value| {
        let r = e.write(&format!("crypto/policies/{w}/bitcoin"), p);
        assert!(matches!(r.status, 200 | 204), "{}", r.body);
    };
    // Every PSBT below pays a fee of 1000 sats, which counts as spent value.
    const FEE: u64 = 1000;
    set("pertx", json!({"max_value_per_tx": "51000"}));
    set("allow", json!({"allowed_recipients": [payee.as_str()]}));
    set("deny", json!({"denied_recipients": [other.as_str()]}));
    set("day", json!({"max_value_per_day": 100000}));
    let s = seed(ABANDON, "");
    let psbt = |pays: &[(&str, u64)]| {
        let mut b =
            PsbtBuilder::new().input("p2wpkh", &s, abandon_fp(), "m/84'/0'/0'/0/0", 200_000);
        let mut spent = FEE;
        for (a, v) in pays {
            b = b.pay(a, *v);
            spent += v;
        }
        b = b.change("p2wpkh", &s, abandon_fp(), "m/84'/0'/0'/1/0", 200_000 - spent);
        b.base64()
    };
    let sign = |w: &str, p: String| {
        e.write(
            &format!("crypto/wallets/{w}/bitcoin/sign-psbt"),
            json!({"psbt": p}),
        )
    };
    expect_403_naming(
        &sign("pertx", psbt(&[(payee.as_str(), 50_001)])),
        "max_value_per_tx",
    );
    expect_403_naming(
        &sign(
            "pertx",
            psbt(&[(payee.as_str(), 30_000), (other.as_str(), 30_000)]),
        ),
        "max_value_per_tx",
    );
    // 50 000 sats plus the fee is the limit; the change to the wallet itself
    // does not count.
    let ok = sign("pertx", psbt(&[(payee.as_str(), 50_000)]));
    ok.expect_status(200);
    assert_eq!(ok.data()["intent"]["fee"], json!("1000"), "{}", ok.body);
    assert_eq!(ok.data()["intent"]["spent"], json!("51000"), "{}", ok.body);

    expect_403_naming(
        &sign(
            "allow",
            psbt(&[(payee.as_str(), 1000), (other.as_str(), 1000)]),
        ),
        "allowed_recipients",
    );
    sign("allow", psbt(&[(payee.as_str(), 1000)])).expect_status(200);

    expect_403_naming(
        &sign("deny", psbt(&[(other.as_str(), 1000)])),
        "denied_recipients",
    );
    sign("deny", psbt(&[(payee.as_str(), 1000)])).expect_status(200);

    // 61 000, then 61 000 more would be 122 000 > 100 000; 39 000 brings the
    // day to exactly 100 000.
    sign("day", psbt(&[(payee.as_str(), 60_000)])).expect_status(200);
    expect_403_naming(
        &sign("day", psbt(&[(payee.as_str(), 60_000)])),
        "max_value_per_day",
    );
    sign("day", psbt(&[(payee.as_str(), 38_000)])).expect_status(200);
    expect_403_naming(
        &sign("day", psbt(&[(other.as_str(), 1)])),
        "max_value_per_day",
    );
    reload_plugin(&e);
    expect_403_naming(
        &sign("day", psbt(&[(other.as_str(), 1)])),
        "max_value_per_day",
    );
}

#[test]
fn deleting_a_wallet_removes_its_policies_and_counters() {
    let e = Engine::start();
    e.abandon("a", json!({"deletion_allowed": true}));
    e.write(
        "crypto/policies/a/ethereum",
        json!({"max_value_per_day": "100", "allowed_chain_ids": [1]}),
    );
    sign_tx(&e, "a", tx(1, Some(A), 100)).expect_status(200);
    expect_403_naming(&sign_tx(&e, "a", tx(1, Some(A), 1)), "max_value_per_day");
    e.delete("crypto/wallets/a").expect_status(204);
    e.abandon("a", json!({}));
    assert!(policies(&e, "a").is_empty());
    e.get("crypto/policies/a/ethereum").expect_status(404);
    // A fresh policy starts from a zero counter.
    e.write(
        "crypto/policies/a/ethereum",
        json!({"max_value_per_day": "100", "allowed_chain_ids": [1]}),
    );
    sign_tx(&e, "a", tx(1, Some(A), 100)).expect_status(200);
}
