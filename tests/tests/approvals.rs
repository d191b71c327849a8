//! M-of-N approvals through a real server: userpass logins (two approvers,
//! a requester, an outsider), an identity group of the two approvers, the
//! shipped ACL roles (`docs/acl/signer.hcl`, `docs/acl/approver.hcl`), and
//! the signature checked with alloy against exactly the stored transaction.

use std::str::FromStr;
use std::time::Duration;

use alloy_consensus::{Transaction, TxEnvelope};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{Address, TxKind, U256};
use integration_tests::{DevServer, Reply, workspace_root};
use serde_json::{Value, json};

const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon \
                       abandon abandon abandon about";
/// m/44'/60'/0'/0/0 of the abandon mnemonic.
const ETH0: &str = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94";
const TO: &str = "0x3535353535353535353535353535353535353535";
const SIGN_TX: &str = "crypto/wallets/app1/ethereum/sign-transaction";
const ONE_ETH: &str = "1000000000000000000";

fn acl(name: &str) -> String {
    let path = workspace_root()
        .join("docs/acl")
        .join(format!("{name}.hcl"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A user logged in through userpass: its token and its entity.
struct User {
    token: String,
    entity_id: String,
}

fn login(s: &DevServer, name: &str, policies: &[&str]) -> User {
    s.write(
        &format!("auth/userpass/users/{name}"),
        json!({"password": "pw-of-test", "token_policies": policies, "token_no_default_policy": true}),
    )
    .expect_status(204);
    let r = s.request_as(
        "",
        "POST",
        &format!("auth/userpass/login/{name}"),
        Some(json!({"password": "pw-of-test"})),
    );
    r.expect_status(200);
    User {
        token: r.body["auth"]["client_token"]
            .as_str()
            .expect("client_token")
            .to_string(),
        entity_id: r.body["auth"]["entity_id"]
            .as_str()
            .filter(|e| !e.is_empty())
            .expect("an entity is created at first login")
            .to_string(),
    }
}

impl User {
    fn req(&self, s: &DevServer, method: &str, path: &str, body: Option<Value>) -> Reply {
        s.request_as(&self.token, method, path, body)
    }
}

fn tx(value: &str, nonce: u64) -> Value {
    json!({"chain_id": 1, "nonce": nonce, "gas_limit": 21000, "gas_price": "1000000000",
           "to": TO, "value": value})
}

#[track_caller]
fn status(r: &Reply, want: u16, contains: &str) {
    assert_eq!(r.status, want, "{}", r.body);
    assert!(
        r.errors().contains(contains) || r.body.to_string().contains(contains),
        "{contains:?} not in {}",
        r.body
    );
}

/// A pending request made by `who`: its id.
#[track_caller]
fn pending(s: &DevServer, who: &User, body: Value) -> String {
    let r = who.req(s, "POST", SIGN_TX, Some(body));
    r.expect_status(200);
    let d = r.data();
    assert_eq!(d["status"], json!("pending"), "{d}");
    assert!(d.get("signed_transaction").is_none(), "{d}");
    assert_eq!(d["required"], json!(2));
    assert_eq!(d["requester_entity_id"], json!(who.entity_id));
    d["approval_id"].as_str().expect("approval_id").to_string()
}

#[test]
fn two_approvers_of_a_group_release_exactly_the_stored_transaction_once() {
    let s = DevServer::with_plugin();
    s.write("sys/auth/userpass", json!({"type": "userpass"}))
        .expect_status(204);
    for role in ["signer", "approver"] {
        s.write(
            &format!("sys/policies/acl/{role}"),
            json!({"policy": acl(role)}),
        )
        .expect_status(204);
    }
    let alice = login(&s, "alice", &["approver"]);
    let bob = login(&s, "bob", &["approver"]);
    // The requester may reach approve (both roles) so that the engine's own
    // refusal is what is tested; the outsider is an approver of no group.
    let rita = login(&s, "rita", &["signer", "approver"]);
    let oscar = login(&s, "oscar", &["approver"]);
    s.write(
        "identity/group",
        json!({"name": "finance", "member_entity_ids": [alice.entity_id, bob.entity_id]}),
    )
    .expect_status(200);

    s.write(
        "crypto/wallets/app1",
        json!({"mnemonic": ABANDON, "deletion_allowed": true}),
    )
    .expect_status(200);
    s.write(
        "crypto/policies/app1/ethereum",
        json!({"approvals_required": 2, "approver_group": "finance",
               "approval_above": "100000000000000000"}),
    )
    .expect_status(200);

    // Below the threshold nothing waits.
    let r = rita.req(&s, "POST", SIGN_TX, Some(tx("1000", 0)));
    r.expect_status(200);
    assert!(r.data()["signed_transaction"].is_string(), "{}", r.body);
    // A root token cannot be the requester of a request that must wait.
    status(
        &s.write(SIGN_TX, tx(ONE_ETH, 1)),
        403,
        "policy approvals_required",
    );

    let id = pending(&s, &rita, tx(ONE_ETH, 1));
    let approve = format!("crypto/approvals/{id}/approve");
    let sign = format!("crypto/approvals/{id}/sign");
    let listed = alice.req(&s, "LIST", "crypto/approvals/", None);
    listed.expect_status(200);
    assert_eq!(listed.data()["keys"], json!([id]));
    assert_eq!(listed.data()["key_info"][&id]["wallet"], json!("app1"));

    status(&oscar.req(&s, "POST", &approve, None), 403, "not a member");
    status(&rita.req(&s, "POST", &approve, None), 403, "requester");
    status(&s.write(&approve, json!({})), 403, "root token");

    alice.req(&s, "POST", &approve, None).expect_status(200);
    status(&rita.req(&s, "POST", &sign, None), 403, "1 of 2");
    let again = alice.req(&s, "POST", &approve, None);
    again.expect_status(200);
    assert_eq!(again.data()["approvals"].as_array().map(Vec::len), Some(1));
    assert_eq!(again.data()["status"], json!("pending"));
    let r = bob.req(&s, "POST", &approve, None);
    r.expect_status(200);
    assert_eq!(r.data()["status"], json!("approved"));

    // Only the requester collects it, and once.
    status(&bob.req(&s, "POST", &sign, None), 403, "permission denied");
    let read = rita.req(&s, "GET", &format!("crypto/approvals/{id}"), None);
    read.expect_status(200);
    let stored_intent = read.data()["intent"].clone();
    assert_eq!(
        read.data()["approvals"][0]["entity_id"],
        json!(alice.entity_id)
    );
    let signed = rita.req(&s, "POST", &sign, None);
    signed.expect_status(200);
    let d = signed.data();
    assert_eq!(d["status"], json!("signed"));
    assert_eq!(d["intent"], stored_intent);
    let raw = hex::decode(
        d["signed_transaction"]
            .as_str()
            .expect("tx")
            .trim_start_matches("0x"),
    )
    .expect("hex");
    let env = TxEnvelope::decode_2718_exact(&raw).expect("alloy decodes the transaction");
    let TxEnvelope::Legacy(signed_tx) = &env else {
        panic!("not legacy: {env:?}")
    };
    assert_eq!(
        signed_tx.recover_signer().expect("recover"),
        Address::from_str(ETH0).expect("address")
    );
    assert_eq!(env.chain_id(), Some(1));
    assert_eq!(env.nonce(), 1);
    assert_eq!(env.gas_limit(), 21000);
    assert_eq!(env.gas_price(), Some(1_000_000_000));
    assert_eq!(env.kind(), TxKind::Call(Address::from_str(TO).expect("to")));
    assert_eq!(env.value(), U256::from_str(ONE_ETH).expect("value"));
    status(&rita.req(&s, "POST", &sign, None), 400, "signed");
    let r = alice.req(&s, "GET", &format!("crypto/approvals/{id}"), None);
    assert_eq!(r.data()["status"], json!("signed"));
    assert!(r.data().get("request").is_none());

    // A rejection ends a request.
    let id = pending(&s, &rita, tx(ONE_ETH, 2));
    let r = bob.req(&s, "POST", &format!("crypto/approvals/{id}/reject"), None);
    r.expect_status(200);
    assert_eq!(r.data()["status"], json!("rejected"));
    status(
        &alice.req(&s, "POST", &format!("crypto/approvals/{id}/approve"), None),
        400,
        "rejected",
    );

    // Expiry ends one.
    s.write(
        "crypto/policies/app1/ethereum",
        json!({"approval_ttl": "1s"}),
    )
    .expect_status(200);
    let id = pending(&s, &rita, tx(ONE_ETH, 3));
    std::thread::sleep(Duration::from_millis(2100));
    let r = rita.req(&s, "GET", &format!("crypto/approvals/{id}"), None);
    assert_eq!(r.data()["status"], json!("expired"));
    status(
        &alice.req(&s, "POST", &format!("crypto/approvals/{id}/approve"), None),
        400,
        "expired",
    );

    // Deleting the wallet ends one, even if it is created again.
    s.write(
        "crypto/policies/app1/ethereum",
        json!({"approval_ttl": "1h"}),
    )
    .expect_status(200);
    let id = pending(&s, &rita, tx(ONE_ETH, 4));
    for e in [&alice, &bob] {
        e.req(&s, "POST", &format!("crypto/approvals/{id}/approve"), None)
            .expect_status(200);
    }
    s.delete("crypto/wallets/app1").expect_status(204);
    s.write("crypto/wallets/app1", json!({"mnemonic": ABANDON}))
        .expect_status(200);
    let r = rita.req(&s, "GET", &format!("crypto/approvals/{id}"), None);
    assert_eq!(r.data()["status"], json!("wallet_deleted"));
    status(
        &rita.req(&s, "POST", &format!("crypto/approvals/{id}/sign"), None),
        400,
        "deleted",
    );
    let listed = alice.req(&s, "LIST", "crypto/approvals/", None);
    assert!(
        listed.status == 404 || listed.data()["keys"] == json!([]),
        "{}",
        listed.body
    );
}
