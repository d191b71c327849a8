//! The SDK's approval flow against a real `bao` dev server: userpass logins, an identity
//! group of two approvers, `request_transaction` → `Pending`, two approvals, `sign` once.

use std::time::Duration;

use integration_tests::DevServer;
use serde_json::json;
use vault_crypto_sdk::approvals::Signing;
use vault_crypto_sdk::ethereum::{SignTransaction, SignedTransaction};
use vault_crypto_sdk::{Client, Config};

const MNEMONIC: &str = "abandon abandon abandon abandon abandon abandon abandon abandon \
                        abandon abandon abandon about";

/// A client logged in as `name` through userpass, and its entity id.
fn login(s: &DevServer, name: &str, policy: &str) -> (Client, String) {
    s.write(
        &format!("auth/userpass/users/{name}"),
        json!({"password": "pw-of-test", "token_policies": [policy]}),
    )
    .expect_status(204);
    let r = s.request_as(
        "",
        "POST",
        &format!("auth/userpass/login/{name}"),
        Some(json!({"password": "pw-of-test"})),
    );
    r.expect_status(200);
    let token = r.body["auth"]["client_token"].as_str().expect("token");
    let entity = r.body["auth"]["entity_id"].as_str().expect("entity");
    let c = Client::new(
        Config::new([s.addr.clone()])
            .with_token(token)
            .with_timeout(Duration::from_secs(60)),
    )
    .expect("client");
    (c, entity.to_string())
}

#[tokio::test]
async fn request_approve_twice_and_sign_once() {
    let s = DevServer::with_plugin();
    s.write("sys/auth/userpass", json!({"type": "userpass"}))
        .expect_status(204);
    s.write(
        "sys/policies/acl/all-crypto",
        json!({"policy": "path \"crypto/*\" { capabilities = [\"create\", \"read\", \"update\", \"list\"] }"}),
    )
    .expect_status(204);
    let (rita, _) = login(&s, "rita", "all-crypto");
    let (alice, a) = login(&s, "alice", "all-crypto");
    let (bob, b) = login(&s, "bob", "all-crypto");
    s.write(
        "identity/group",
        json!({"name": "finance", "member_entity_ids": [a, b]}),
    )
    .expect_status(200);
    s.write("crypto/wallets/treasury", json!({"mnemonic": MNEMONIC}))
        .expect_status(200);
    s.write(
        "crypto/policies/treasury/ethereum",
        json!({"approvals_required": 2, "approver_group": "finance", "approval_above": "1000"}),
    )
    .expect_status(200);

    let small = SignTransaction::legacy(1, 0, 21_000, 1u64)
        .to("0x000000000000000000000000000000000000dEaD")
        .value(1u64);
    // 21 000 wei of fee plus 1: above 1000.
    let Signing::Pending(p) = rita
        .ethereum()
        .request_transaction("treasury", &small)
        .await
        .expect("request")
    else {
        panic!("a request above the threshold must wait")
    };
    assert_eq!(p.required, 2);
    assert_eq!(
        rita.approvals().list(Some("treasury")).await.expect("list"),
        vec![p.approval_id.clone()]
    );
    assert!(
        rita.approvals()
            .list(Some("other"))
            .await
            .expect("list")
            .is_empty()
    );
    let e = rita
        .approvals()
        .approve(&p.approval_id)
        .await
        .expect_err("the requester cannot approve");
    assert_eq!(e.status(), Some(403));
    assert_eq!(
        alice
            .approvals()
            .approve(&p.approval_id)
            .await
            .expect("approve")
            .status,
        "pending"
    );
    let a = bob
        .approvals()
        .approve(&p.approval_id)
        .await
        .expect("approve");
    assert_eq!(a.status, "approved");
    assert_eq!(a.approvals.len(), 2);
    let signed: SignedTransaction = rita.approvals().sign(&p.approval_id).await.expect("sign");
    assert_eq!(signed.from, "0x9858EfFD232B4033E47d90003D41EC34EcaEda94");
    let e = rita
        .approvals()
        .sign::<SignedTransaction>(&p.approval_id)
        .await
        .expect_err("one signature per request");
    assert_eq!(e.status(), Some(400));
    let read = alice.approvals().read(&p.approval_id).await.expect("read");
    assert_eq!(read.status, "signed");
    assert!(read.signed_at.is_some());

    let id = match rita
        .ethereum()
        .request_transaction("treasury", &small)
        .await
        .expect("request")
    {
        Signing::Pending(p) => p.approval_id,
        other => panic!("expected pending, got {other:?}"),
    };
    let r = bob.approvals().reject(&id).await.expect("reject");
    assert_eq!(r.status, "rejected");
    assert!(rita.approvals().list(None).await.expect("list").is_empty());
    assert!(rita.approvals().read("nope").await.is_err());
}
