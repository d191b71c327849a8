//! M-of-N approvals over in-memory storage and an in-memory identity
//! store: the gate, the flow, and what ends a request.

use serde_json::{Value, json};

use super::{ABANDON, backend, bad_field, forbidden, read_data, update, update_data};
use crate::backend::testing::{TestBackend, bad_request};
use crate::logical::Operation;

const TX: &str = "wallets/w/ethereum/sign-transaction";
const TO: &str = "0x3535353535353535353535353535353535353535";

fn tx(value: &str) -> Value {
    json!({"chain_id": 1, "nonce": 7, "gas_limit": 21000, "gas_price": "1000000000",
           "to": TO, "value": value})
}

/// `w` with a policy of 2 approvals from `finance` above 0.1 ETH, and the
/// entities: two approvers, the requester, an outsider.
async fn setup(extra: Value) -> TestBackend {
    let t = backend().await;
    t.identity.add("e-a", "alice", &["finance"]);
    t.identity.add("e-b", "bob", &["finance", "ops"]);
    t.identity.add("e-req", "rita", &["traders"]);
    t.identity.add("e-out", "oscar", &["ops"]);
    let mut policy = json!({"approvals_required": 2, "approver_group": "finance",
                            "approval_above": "100000000000000000"});
    if let (Some(p), Some(e)) = (policy.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    t.write_ok("policies/w/ethereum", policy).await;
    t
}

/// Sends a request as `entity`.
async fn as_entity(
    t: &TestBackend,
    entity: &str,
    path: &str,
    data: Value,
) -> Result<Option<crate::logical::Response>, crate::logical::LogicalError> {
    t.act_as(entity);
    let r = update(t, path, data).await;
    t.act_as("");
    r
}

async fn pending(t: &TestBackend, data: Value) -> String {
    t.act_as("e-req");
    let r = update_data(t, TX, data).await;
    t.act_as("");
    assert_eq!(r["status"], json!("pending"), "{r:?}");
    assert!(r.get("signed_transaction").is_none());
    assert_eq!(r["required"], json!(2));
    assert!(r["expires_at"].as_str().is_some_and(|s| s.ends_with('Z')));
    assert_eq!(r["intent"]["to"], json!(TO));
    r["approval_id"].as_str().expect("approval_id").to_string()
}

#[tokio::test]
async fn a_request_over_the_threshold_waits_for_two_distinct_approvers_then_signs_once() {
    let t = setup(json!({})).await;
    let id = pending(&t, tx("1000000000000000000")).await;
    let approve = format!("approvals/{id}/approve");
    let sign = format!("approvals/{id}/sign");

    // Nobody but a member of the group, and never the requester or a root token.
    let m = forbidden(as_entity(&t, "e-out", &approve, json!({})).await);
    assert!(m.contains("not a member") && m.contains("finance"), "{m}");
    let m = forbidden(as_entity(&t, "e-req", &approve, json!({})).await);
    assert!(m.contains("requester"), "{m}");
    let m = forbidden(as_entity(&t, "", &approve, json!({})).await);
    assert!(m.contains("root token"), "{m}");

    // One approval is not enough; the same approver twice counts once.
    let r = as_entity(&t, "e-a", &approve, json!({}))
        .await
        .expect("ok")
        .expect("ok");
    assert_eq!(r.data["status"], json!("pending"));
    let m = forbidden(as_entity(&t, "e-req", &sign, json!({})).await);
    assert!(m.contains("1 of 2"), "{m}");
    let r = as_entity(&t, "e-a", &approve, json!({}))
        .await
        .expect("ok")
        .expect("ok");
    assert_eq!(r.data["approvals"].as_array().map(Vec::len), Some(1));
    assert!(r.warnings.iter().any(|w| w.contains("counts once")));
    let r = as_entity(&t, "e-b", &approve, json!({}))
        .await
        .expect("ok")
        .expect("ok");
    assert_eq!(r.data["status"], json!("approved"));
    assert_eq!(r.data["approvals"][1]["entity_name"], json!("bob"));

    // Only the requester collects the signature.
    let m = forbidden(as_entity(&t, "e-b", &sign, json!({})).await);
    assert!(m.contains("requester"), "{m}");
    let signed = as_entity(&t, "e-req", &sign, json!({}))
        .await
        .expect("ok")
        .expect("ok");
    assert_eq!(signed.data["status"], json!("signed"));
    assert_eq!(signed.data["approval_id"], json!(id));

    // Exactly the stored transaction: the same wallet without a policy
    // signs the same bytes (RFC 6979 signatures are deterministic).
    let plain = update_data(
        &t,
        "wallets/plain/ethereum/sign-transaction",
        tx("1000000000000000000"),
    )
    .await;
    assert_eq!(
        signed.data["signed_transaction"],
        plain["signed_transaction"]
    );

    let msg = bad_request(as_entity(&t, "e-req", &sign, json!({})).await);
    assert!(msg.contains("signed"), "{msg}");
    let r = read_data(&t, &format!("approvals/{id}"), json!({})).await;
    assert_eq!(r["status"], json!("signed"));
    assert!(r.get("request").is_none());
    assert!(t.list_ok("approvals/").await.is_empty());
}

#[tokio::test]
async fn below_the_threshold_nothing_waits_and_refused_requests_are_never_queued() {
    let t =
        setup(json!({"denied_recipients": ["0x1111111111111111111111111111111111111111"]})).await;
    t.act_as("e-req");
    let r = update_data(&t, TX, tx("1000")).await;
    assert!(r.get("signed_transaction").is_some());
    let mut denied = tx("1000000000000000000");
    denied["to"] = json!("0x1111111111111111111111111111111111111111");
    let m = forbidden(update(&t, TX, denied).await);
    assert!(m.starts_with("policy denied_recipients"), "{m}");
    t.act_as("");
    assert!(t.list_ok("approvals/").await.is_empty());
    // A root token (no entity) cannot be a requester.
    let m = forbidden(update(&t, TX, tx("1000000000000000000")).await);
    assert!(m.starts_with("policy approvals_required"), "{m}");
}

#[tokio::test]
async fn daily_limits_count_when_signed_not_when_pending() {
    let t = setup(json!({"allowed_chain_ids": ["1"], "max_value_per_day": "1500000000000000000"}))
        .await;
    let a = pending(&t, tx("1000000000000000000")).await;
    let b = pending(&t, tx("1000000000000000000")).await;
    for id in [&a, &b] {
        for e in ["e-a", "e-b"] {
            as_entity(&t, e, &format!("approvals/{id}/approve"), json!({}))
                .await
                .expect("ok");
        }
    }
    as_entity(&t, "e-req", &format!("approvals/{a}/sign"), json!({}))
        .await
        .expect("ok");
    let m = forbidden(as_entity(&t, "e-req", &format!("approvals/{b}/sign"), json!({})).await);
    assert!(m.starts_with("policy max_value_per_day"), "{m}");
    let r = read_data(&t, &format!("approvals/{b}"), json!({})).await;
    assert_eq!(r["status"], json!("approved"));
}

#[tokio::test]
async fn rejection_expiry_and_wallet_deletion_end_requests() {
    let t = setup(json!({})).await;
    let id = pending(&t, tx("1000000000000000000")).await;
    let r = as_entity(&t, "e-b", &format!("approvals/{id}/reject"), json!({}))
        .await
        .expect("ok")
        .expect("ok");
    assert_eq!(r.data["status"], json!("rejected"));
    assert_eq!(r.data["rejected_by"]["entity_id"], json!("e-b"));
    let m = bad_request(as_entity(&t, "e-a", &format!("approvals/{id}/approve"), json!({})).await);
    assert!(m.contains("rejected"), "{m}");

    t.write_ok("policies/w/ethereum", json!({"approval_ttl": "1s"}))
        .await;
    let id = pending(&t, tx("1000000000000000000")).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let m = bad_request(as_entity(&t, "e-a", &format!("approvals/{id}/approve"), json!({})).await);
    assert!(m.contains("expired"), "{m}");

    // A wallet deleted (and created again under the same name) ends it.
    t.write_ok(
        "wallets/d",
        json!({"mnemonic": ABANDON, "deletion_allowed": true}),
    )
    .await;
    t.write_ok(
        "policies/d/ethereum",
        json!({"approvals_required": 1, "approver_group": "finance"}),
    )
    .await;
    t.act_as("e-req");
    let r = update_data(
        &t,
        "wallets/d/ethereum/sign-message",
        json!({"message": "hi"}),
    )
    .await;
    t.act_as("");
    let id = r["approval_id"].as_str().expect("ok").to_string();
    assert_eq!(t.list_ok("approvals/").await, vec![id.clone()]);
    t.call(Operation::Delete, "wallets/d", json!({}))
        .await
        .expect("ok");
    t.write_ok("wallets/d", json!({"mnemonic": ABANDON})).await;
    let r = read_data(&t, &format!("approvals/{id}"), json!({})).await;
    assert_eq!(r["status"], json!("wallet_deleted"));
    let m = bad_request(as_entity(&t, "e-req", &format!("approvals/{id}/sign"), json!({})).await);
    assert!(m.contains("deleted"), "{m}");
}

#[tokio::test]
async fn the_approval_fields_are_validated() {
    let t = backend().await;
    let p = "policies/w/ethereum";
    bad_field(
        t.write(p, json!({"approvals_required": 1})).await,
        "approver_group",
    );
    bad_field(
        t.write(p, json!({"approvals_required": 33, "approver_group": "g"}))
            .await,
        "approvals_required",
    );
    bad_field(
        t.write(p, json!({"approval_ttl": "8d"})).await,
        "approval_ttl",
    );
    bad_field(
        t.write(p, json!({"approval_ttl": "0"})).await,
        "approval_ttl",
    );
    bad_field(
        t.write(p, json!({"approval_ttl": "1w"})).await,
        "approval_ttl",
    );
    bad_field(
        t.write(p, json!({"approval_above": "-1"})).await,
        "approval_above",
    );
    let r = t
        .write_ok(
            p,
            json!({"approvals_required": 2, "approver_group": "g", "approval_ttl": "7d"}),
        )
        .await;
    assert_eq!(r.data["approval_ttl"], json!(604800));
    assert_eq!(r.data["approvals_required"], json!(2));
    bad_field(
        t.write(p, json!({"approver_group": ""})).await,
        "approver_group",
    );
    bad_field(read_data_err(&t, "approvals/XYZ").await, "id");
}

async fn read_data_err(
    t: &TestBackend,
    path: &str,
) -> Result<Option<crate::logical::Response>, crate::logical::LogicalError> {
    t.call(Operation::Read, path, json!({})).await
}

#[tokio::test]
async fn two_concurrent_signs_give_one_signature() {
    let t = setup(json!({})).await;
    let id = pending(&t, tx("1000000000000000000")).await;
    for e in ["e-a", "e-b"] {
        as_entity(&t, e, &format!("approvals/{id}/approve"), json!({}))
            .await
            .expect("ok");
    }
    t.act_as("e-req");
    let path = format!("approvals/{id}/sign");
    let (a, b) = tokio::join!(update(&t, &path, json!({})), update(&t, &path, json!({})));
    t.act_as("");
    let ok = [&a, &b].iter().filter(|r| matches!(r, Ok(Some(_)))).count();
    assert_eq!(ok, 1, "{a:?} {b:?}");
    let refused = if a.is_ok() { b } else { a };
    assert!(bad_request(refused).contains("signed"));
}

#[tokio::test]
async fn a_changed_approver_group_applies_to_waiting_requests() {
    let t = setup(json!({})).await;
    let id = pending(&t, tx("1000000000000000000")).await;
    t.write_ok("policies/w/ethereum", json!({"approver_group": "ops"}))
        .await;
    let m = forbidden(as_entity(&t, "e-a", &format!("approvals/{id}/approve"), json!({})).await);
    assert!(m.contains("\"ops\""), "{m}");
    // bob is in ops too.
    as_entity(&t, "e-b", &format!("approvals/{id}/approve"), json!({}))
        .await
        .expect("ok");
}

#[tokio::test]
async fn a_standby_refuses_to_sign_until_the_status_is_written() {
    let t = setup(json!({})).await;
    let id = pending(&t, tx("1000000000000000000")).await;
    for e in ["e-a", "e-b"] {
        as_entity(&t, e, &format!("approvals/{id}/approve"), json!({}))
            .await
            .expect("ok");
    }
    // A standby's storage refuses writes: no signature leaves, and the
    // host forwards the request (the error text is kept verbatim).
    t.storage.set_read_only(true);
    let r = as_entity(&t, "e-req", &format!("approvals/{id}/sign"), json!({})).await;
    t.storage.set_read_only(false);
    match r {
        Err(crate::logical::LogicalError::Storage(e)) => {
            assert!(e.0.contains(crate::logical::memory::READONLY_ERROR), "{e}")
        }
        other => panic!("expected the readonly storage error, got {other:?}"),
    }
    let r = read_data(&t, &format!("approvals/{id}"), json!({})).await;
    assert_eq!(r["status"], json!("approved"));
    let signed = as_entity(&t, "e-req", &format!("approvals/{id}/sign"), json!({}))
        .await
        .expect("ok")
        .expect("some");
    assert!(signed.data["signed_transaction"].is_string());
}

#[tokio::test]
async fn the_dry_run_says_whether_a_request_would_wait() {
    let t = setup(json!({})).await;
    let check = |value: &str| {
        let mut b = tx(value);
        b["operation"] = json!("sign-transaction");
        b
    };
    let r = t
        .write_ok("policies/w/ethereum/check", check("1000000000000000000"))
        .await;
    assert_eq!(r.data["allowed"], json!(true));
    assert_eq!(r.data["approvals_required"], json!(2));
    let r = t.write_ok("policies/w/ethereum/check", check("1")).await;
    assert_eq!(r.data["approvals_required"], json!(0));
    // Nothing was stored.
    assert!(t.list_ok("approvals/").await.is_empty());
}

/// Approves `id` by alice and collects it as the requester.
async fn approve_and_sign(t: &TestBackend, id: &str) -> serde_json::Map<String, Value> {
    as_entity(t, "e-a", &format!("approvals/{id}/approve"), json!({}))
        .await
        .expect("approve");
    as_entity(t, "e-req", &format!("approvals/{id}/sign"), json!({}))
        .await
        .expect("sign")
        .expect("a response")
        .data
}

#[tokio::test]
async fn bitcoin_and_solana_requests_wait_and_sign_exactly_what_was_stored() {
    let t = setup(json!({})).await;
    let one = json!({"approvals_required": 1, "approver_group": "finance"});
    t.write_ok("policies/w/bitcoin", one.clone()).await;
    t.write_ok("policies/w/solana", one).await;

    let psbt = super::bitcoin::p2wpkh_psbt(&t, super::bitcoin::FP).await;
    t.act_as("e-req");
    let r = update_data(&t, "wallets/w/bitcoin/sign-psbt", json!({"psbt": psbt})).await;
    t.act_as("");
    assert_eq!(r["status"], json!("pending"));
    assert_eq!(r["operation"], json!("bitcoin/sign-psbt"));
    assert!(r.get("psbt").is_none());
    let signed = approve_and_sign(&t, r["approval_id"].as_str().expect("id")).await;
    let plain = update_data(&t, "wallets/plain/bitcoin/sign-psbt", json!({"psbt": psbt})).await;
    assert_eq!(signed["psbt"], plain["psbt"]);
    assert_eq!(signed["signed_inputs"], json!([0]));

    let msg = json!({"message": "aGVsbG8gYXBwcm92ZXJz"});
    t.act_as("e-req");
    let r = update_data(&t, "wallets/w/solana/sign-message", msg.clone()).await;
    t.act_as("");
    assert_eq!(r["status"], json!("pending"));
    let signed = approve_and_sign(&t, r["approval_id"].as_str().expect("id")).await;
    let plain = update_data(&t, "wallets/plain/solana/sign-message", msg).await;
    assert_eq!(signed["signature"], plain["signature"]);
    assert!(signed["signature"].is_string());
}

#[tokio::test]
async fn authorizations_messages_and_batch_items_wait_and_sign_exactly_what_was_stored() {
    let t = setup(json!({"allowed_delegates": [TO]})).await;
    let one = json!({"approvals_required": 1, "approver_group": "finance",
                     "allow_message_signing": true});
    t.write_ok("policies/w/bitcoin", one.clone()).await;
    t.write_ok("policies/w/solana", one).await;

    // An EIP-7702 authorization moves no amount the engine can total: it
    // waits even under approval_above.
    let auth = json!({"chain_id": 1, "address": TO, "nonce": 3});
    t.act_as("e-req");
    let r = update_data(&t, "wallets/w/ethereum/sign-authorization", auth.clone()).await;
    t.act_as("");
    assert_eq!(r["status"], json!("pending"), "{r:?}");
    assert!(r.get("signature").is_none());
    let id = r["approval_id"].as_str().expect("id");
    as_entity(&t, "e-b", &format!("approvals/{id}/approve"), json!({}))
        .await
        .expect("approve");
    let signed = approve_and_sign(&t, id).await;
    let plain = update_data(&t, "wallets/plain/ethereum/sign-authorization", auth).await;
    assert_eq!(signed["signature"], plain["signature"]);
    assert!(signed["signature"].is_string());

    // A BIP-322 message (P2WPKH: deterministic ECDSA, so the same bytes).
    let msg = json!({"message": "proof of address", "address_type": "p2wpkh"});
    t.act_as("e-req");
    let r = update_data(&t, "wallets/w/bitcoin/sign-message", msg.clone()).await;
    t.act_as("");
    assert_eq!(r["status"], json!("pending"), "{r:?}");
    let signed = approve_and_sign(&t, r["approval_id"].as_str().expect("id")).await;
    let plain = update_data(&t, "wallets/plain/bitcoin/sign-message", msg).await;
    assert_eq!(signed["signature"], plain["signature"]);
    assert!(signed["signature"].is_string());

    // Each item of a batch waits on its own, and its approval signs that
    // item only (the stored request is the item, not the batch).
    let items = json!({"format": "offchain", "batch_input": [
        {"message": "Zmlyc3Q="}, {"message": "c2Vjb25k"}]});
    t.act_as("e-req");
    let r = update_data(&t, "wallets/w/solana/sign-message", items).await;
    t.act_as("");
    let results = r["batch_results"].as_array().expect("batch_results");
    assert_eq!(results.len(), 2, "{r:?}");
    let ids: Vec<String> = results
        .iter()
        .map(|i| {
            assert_eq!(i["status"], json!("pending"), "{i:?}");
            assert!(i.get("signature").is_none());
            i["approval_id"].as_str().expect("id").to_string()
        })
        .collect();
    assert_ne!(ids[0], ids[1]);
    let signed = approve_and_sign(&t, &ids[1]).await;
    let plain = update_data(
        &t,
        "wallets/plain/solana/sign-message",
        json!({"format": "offchain", "message": "c2Vjb25k"}),
    )
    .await;
    assert_eq!(signed["signature"], plain["signature"]);
    assert_eq!(signed["envelope"], plain["envelope"]);
    // The other item is still waiting.
    let other = read_data(&t, &format!("approvals/{}", ids[0]), json!({})).await;
    assert_eq!(other["status"], json!("pending"));
}

/// Attack: approvals given by members of the group in force then still
/// counted after the operator changed the group (or removed a member): the
/// requester collected a signature no member of the current group approved.
#[tokio::test]
async fn approvals_of_a_replaced_group_or_a_removed_member_do_not_sign() {
    let t = setup(json!({})).await;
    t.identity.add("e-c", "carol", &["finance"]);
    let id = pending(&t, tx("1000000000000000000")).await;
    for who in ["e-a", "e-c"] {
        as_entity(&t, who, &format!("approvals/{id}/approve"), json!({}))
            .await
            .expect("approve");
    }
    // The operator replaces the approvers: neither alice nor carol is in ops.
    t.write_ok("policies/w/ethereum", json!({"approver_group": "ops"}))
        .await;
    let m = forbidden(as_entity(&t, "e-req", &format!("approvals/{id}/sign"), json!({})).await);
    assert!(m.contains("approvals_required"), "{m}");
    // bob (ops) approves: one valid approval of two is still not enough.
    as_entity(&t, "e-b", &format!("approvals/{id}/approve"), json!({}))
        .await
        .expect("approve");
    forbidden(as_entity(&t, "e-req", &format!("approvals/{id}/sign"), json!({})).await);

    // A member removed from the group after approving no longer counts.
    let t = setup(json!({})).await;
    let id = pending(&t, tx("1000000000000000000")).await;
    for who in ["e-a", "e-b"] {
        as_entity(&t, who, &format!("approvals/{id}/approve"), json!({}))
            .await
            .expect("approve");
    }
    t.identity.add("e-a", "alice", &["ops"]);
    forbidden(as_entity(&t, "e-req", &format!("approvals/{id}/sign"), json!({})).await);
    // Still intact: with both members in place the request signs.
    t.identity.add("e-a", "alice", &["finance"]);
    let r = as_entity(&t, "e-req", &format!("approvals/{id}/sign"), json!({}))
        .await
        .expect("sign")
        .expect("response");
    assert_eq!(r.data["status"], json!("signed"));
    assert!(r.data["signed_transaction"].is_string());
}

/// Attack: a batch mixing items below and above the threshold. Each item
/// above it waits alone, under its own id; approving one signs exactly
/// that item, never its neighbour; a batch_input cannot ride along on
/// `approvals/{id}/sign`; and the shared fields cannot override an item
/// after the policy saw it (the shared value loses to the item's own).
#[tokio::test]
async fn batch_items_above_the_threshold_each_wait_alone_and_sign_only_themselves() {
    let t = setup(json!({})).await;
    let items = json!([
        tx("1000"),
        tx("1000000000000000000"),
        tx("2000000000000000000")
    ]);
    t.act_as("e-req");
    let r = update_data(
        &t,
        TX,
        json!({"value": "9000000000000000000", "batch_input": items}),
    )
    .await;
    t.act_as("");
    let results = r["batch_results"].as_array().expect("results");
    assert_eq!(results.len(), 3);
    assert!(results[0]["signed_transaction"].is_string(), "{results:?}");
    assert_eq!(results[0]["intent"]["value"], json!("1000"));
    let ids: Vec<&str> = results[1..]
        .iter()
        .map(|r| {
            assert_eq!(r["status"], json!("pending"), "{r:?}");
            r["approval_id"].as_str().expect("id")
        })
        .collect();
    assert_ne!(ids[0], ids[1]);
    assert_eq!(results[2]["intent"]["value"], json!("2000000000000000000"));

    let sign = format!("approvals/{}/sign", ids[0]);
    for who in ["e-a", "e-b"] {
        as_entity(&t, who, &format!("approvals/{}/approve", ids[0]), json!({}))
            .await
            .expect("approve");
    }
    // Smuggling a batch (or any field) into the collection is refused.
    let smuggled = as_entity(&t, "e-req", &sign, json!({"batch_input": [tx("5")]})).await;
    assert!(bad_request(smuggled).contains("batch_input"));
    let signed = as_entity(&t, "e-req", &sign, json!({}))
        .await
        .expect("sign")
        .expect("response")
        .data;
    assert_eq!(signed["intent"]["value"], json!("1000000000000000000"));
    let plain = update_data(
        &t,
        "wallets/plain/ethereum/sign-transaction",
        tx("1000000000000000000"),
    )
    .await;
    assert_eq!(signed["signed_transaction"], plain["signed_transaction"]);
    // The neighbour still waits: no approval of its own, no signature.
    let m = forbidden(
        as_entity(
            &t,
            "e-req",
            &format!("approvals/{}/sign", ids[1]),
            json!({}),
        )
        .await,
    );
    assert!(m.contains("0 of 2"), "{m}");
}

/// Attack: an ethereum sign-message that waits for approvals showed its
/// approvers `{"chain":"ethereum","kind":"message"}` and nothing else:
/// two different messages were the same request to them (bitcoin and
/// solana messages show their signer, length and SHA-256).
#[tokio::test]
async fn an_ethereum_message_waiting_for_approvals_shows_what_will_be_signed() {
    let t = setup(json!({})).await;
    // Every request waits (no approval_above).
    t.write_ok(
        "policies/plain/ethereum",
        json!({"approvals_required": 1, "approver_group": "finance"}),
    )
    .await;
    let mut intents = Vec::new();
    for msg in ["log in to example.org", "sell 1000 ETH at 1 USD"] {
        t.act_as("e-req");
        let r = update_data(
            &t,
            "wallets/plain/ethereum/sign-message",
            json!({"message": msg}),
        )
        .await;
        t.act_as("");
        assert_eq!(r["status"], json!("pending"), "{r:?}");
        let id = r["approval_id"].as_str().expect("id").to_string();
        let shown = read_data(&t, &format!("approvals/{id}"), json!({})).await;
        let intent = shown["intent"].clone();
        use sha2::Digest as _;
        assert_eq!(
            intent["message_sha256"],
            json!(hex::encode(sha2::Sha256::digest(msg.as_bytes()))),
            "{intent}"
        );
        assert_eq!(intent["message_length"], json!(msg.len()));
        assert!(
            intent["address"]
                .as_str()
                .is_some_and(|a| a.starts_with("0x"))
        );
        intents.push(intent);
    }
    assert_ne!(intents[0], intents[1]);
}

#[tokio::test]
async fn a_set_code_transaction_waits_even_below_the_threshold() {
    let t = setup(json!({"allowed_delegates": [TO]})).await;
    // A tuple signed by the wallet without a policy (any signer will do).
    let auth = update_data(
        &t,
        "wallets/plain/ethereum/sign-authorization",
        json!({"chain_id": 1, "address": TO, "nonce": 0}),
    )
    .await;
    let tuple = json!({"chain_id": auth["chain_id"], "address": auth["address"],
        "nonce": auth["nonce"], "y_parity": auth["y_parity"], "r": auth["r"], "s": auth["s"]});
    let tx = json!({"type": "eip7702", "chain_id": 1, "nonce": 0, "gas_limit": 60000,
        "max_fee_per_gas": "1000000000", "max_priority_fee_per_gas": "1",
        "to": TO, "value": "1", "authorization_list": [tuple]});
    // The same transaction without the list is far below the threshold.
    let mut plain = tx.clone();
    plain["type"] = json!("eip1559");
    plain
        .as_object_mut()
        .map(|o| o.remove("authorization_list"));
    t.act_as("e-req");
    let r = update_data(&t, TX, plain).await;
    assert!(r["signed_transaction"].is_string(), "{r:?}");
    let r = update_data(&t, TX, tx).await;
    t.act_as("");
    assert_eq!(r["status"], json!("pending"), "{r:?}");
    assert!(r.get("signed_transaction").is_none());
}
